-- +goose Up
-- An order ends: placed -> confirmed (stock reserved) or cancelled (with a
-- reason). The reconciler re-drives an order still placed after
-- ORDER_REDRIVE_AFTER and cancels it after ORDER_CANCEL_AFTER.
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('placed', 'confirmed', 'cancelled'));
ALTER TABLE orders ADD COLUMN redrive_count integer NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN redriven_at timestamptz;
-- The reconciler's and the stuck-order metric's scan: only placed orders.
CREATE INDEX orders_placed_idx ON orders (created_at) WHERE status = 'placed';
