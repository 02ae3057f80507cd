-- +goose Up
-- The pruner deletes old rows in small batches; these keep each batch an
-- index range scan instead of a scan of the whole table.
CREATE INDEX IF NOT EXISTS processed_messages_processed_at_idx ON processed_messages (processed_at);
CREATE INDEX IF NOT EXISTS outbox_published_at_idx ON outbox (published_at) WHERE published_at IS NOT NULL;
