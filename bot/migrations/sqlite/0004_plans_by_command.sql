-- Webhook processing asks, per batch, whether any `!rebuild` was planned
-- recently (to follow builds up in its thread): without this index that is
-- a scan of every plan ever made.
CREATE INDEX plans_by_command ON plans (command, created_at);
