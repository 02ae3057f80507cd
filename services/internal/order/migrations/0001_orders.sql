-- +goose Up
CREATE TABLE orders (
    id              uuid        PRIMARY KEY,
    user_id         uuid        NOT NULL,
    idempotency_key text        NOT NULL,
    -- SHA-256 of the normalised request: a reused key with a different
    -- request is refused instead of silently returning the first order.
    request_hash    bytea       NOT NULL,
    status          text        NOT NULL CHECK (status IN ('placed', 'cancelled')),
    cancel_reason   text        NOT NULL DEFAULT '',
    total_cents     bigint      NOT NULL,
    currency        text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- One order per key per user, whatever the concurrency.
    UNIQUE (user_id, idempotency_key)
);
CREATE INDEX orders_user_created_idx ON orders (user_id, created_at DESC, id DESC);

CREATE TABLE order_items (
    order_id         uuid    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id       uuid    NOT NULL,
    quantity         integer NOT NULL CHECK (quantity > 0),
    unit_price_cents bigint  NOT NULL CHECK (unit_price_cents >= 0),
    PRIMARY KEY (order_id, product_id)
);
