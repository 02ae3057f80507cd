-- +goose Up
CREATE TABLE users (
    id            uuid        PRIMARY KEY,
    email         text        NOT NULL,
    password_hash text        NOT NULL,
    role          text        NOT NULL DEFAULT 'customer',
    created_at    timestamptz NOT NULL DEFAULT now()
);
-- Emails are stored lower-cased; the index makes them unique.
CREATE UNIQUE INDEX users_email_key ON users (email);

-- Refresh tokens are stored hashed: a database leak does not leak sessions.
-- A family is one login's chain of rotated tokens; reusing a rotated token
-- revokes the whole family (the token was probably stolen).
CREATE TABLE refresh_tokens (
    token_hash bytea       PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id  uuid        NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
