-- +goose Up
-- Events waiting for the relay. A row is written in the same transaction as
-- the domain change it describes, so an event exists if and only if the
-- change committed.
CREATE TABLE IF NOT EXISTS outbox (
    id           bigserial   PRIMARY KEY,
    event_id     uuid        NOT NULL UNIQUE,
    event_type   text        NOT NULL,
    payload      jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_pending_idx ON outbox (id) WHERE published_at IS NULL;

-- Events this service has already handled, so a redelivered message has no
-- second effect.
CREATE TABLE IF NOT EXISTS processed_messages (
    event_id     uuid        PRIMARY KEY,
    event_type   text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
