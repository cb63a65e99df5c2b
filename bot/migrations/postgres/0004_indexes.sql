-- Webhook processing asks, per batch, whether any `!rebuild` was planned
-- recently (to follow builds up in its thread): without this index that is
-- a scan of every plan ever made.
CREATE INDEX plans_by_command ON plans (command, created_at);

-- The executor claims the first runnable step in (not_before, plan, seq)
-- order. With only (state, not_before) indexed, every claim sorted all the
-- steps that share a not_before (all new ones: 0) — a full sort per claim
-- with thousands queued. This index gives the order, so a claim stops at
-- the first step that may run.
DROP INDEX steps_runnable;
CREATE INDEX steps_runnable ON steps (state, not_before, plan_id, seq);
