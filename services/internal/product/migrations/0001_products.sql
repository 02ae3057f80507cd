-- +goose Up
CREATE TABLE products (
    id          uuid        PRIMARY KEY,
    sku         text        NOT NULL UNIQUE,
    name        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    price_cents bigint      NOT NULL CHECK (price_cents >= 0),
    currency    text        NOT NULL DEFAULT 'USD',
    -- The CHECK is the last line of defence: stock never goes below zero
    -- whatever the code does.
    stock       integer     NOT NULL DEFAULT 0 CHECK (stock >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    search      tsvector    GENERATED ALWAYS AS (to_tsvector('simple', name || ' ' || description || ' ' || sku)) STORED
);
CREATE INDEX products_search_idx ON products USING gin (search);
CREATE INDEX products_created_idx ON products (created_at DESC, id DESC);

-- The outcome of each order's reservation, for audit and support.
CREATE TABLE stock_reservations (
    order_id   uuid        PRIMARY KEY,
    status     text        NOT NULL CHECK (status IN ('reserved', 'rejected')),
    reason     text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
