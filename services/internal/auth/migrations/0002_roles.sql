-- +goose Up
-- Roles live here, granted and revoked through the admin API; the bootstrap
-- admins come from ADMIN_EMAILS and are checked at every token issue, so
-- they are not stored. users.role went: it made admin whoever first
-- registered an ADMIN_EMAILS address, for good.
CREATE TABLE role_grants (
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text        NOT NULL CHECK (role IN ('admin')),
    granted_by text        NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, role)
);

-- Every grant and revoke, who did it and when (also in the log).
CREATE TABLE role_audit (
    id      bigserial   PRIMARY KEY,
    actor   text        NOT NULL,
    action  text        NOT NULL CHECK (action IN ('grant', 'revoke')),
    user_id uuid        NOT NULL,
    role    text        NOT NULL,
    at      timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE users DROP COLUMN role;

-- For the pruner: expired refresh tokens go after EXPIRED_REFRESH_TOKEN_RETENTION.
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);
