-- +goose Up
-- Every change bumps version; it is the product's ETag, and a write with a
-- stale If-Match gets 412 instead of overwriting what happened in between.
ALTER TABLE products ADD COLUMN version bigint NOT NULL DEFAULT 1;

-- A reservation can now be released (its order was cancelled after stock was
-- taken) or pre-empted (the order was cancelled before its order.placed
-- arrived, so a late order.placed must not take stock). The lines are kept
-- so a release gives back exactly what was taken.
ALTER TABLE stock_reservations DROP CONSTRAINT stock_reservations_status_check;
ALTER TABLE stock_reservations ADD CONSTRAINT stock_reservations_status_check
    CHECK (status IN ('reserved', 'rejected', 'released', 'cancelled'));
ALTER TABLE stock_reservations ADD COLUMN items jsonb NOT NULL DEFAULT '[]';
ALTER TABLE stock_reservations ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- Admin stock changes are adjustments, recorded with who made them and why.
CREATE TABLE stock_adjustments (
    id         bigserial   PRIMARY KEY,
    product_id uuid        NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    delta      integer     NOT NULL,
    reason     text        NOT NULL DEFAULT '',
    actor      text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
