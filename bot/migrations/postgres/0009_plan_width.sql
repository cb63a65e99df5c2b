-- How many of a plan's steps may be in flight at once: 1 (in order) for
-- most plans; more for bulk plans of independent steps (bug tasks).
ALTER TABLE plans ADD COLUMN width BIGINT NOT NULL DEFAULT 1;

-- Is a step its plan's first unsent one, and how many of its plan's steps
-- are being sent? Both are one seek here, however long the plan.
CREATE INDEX steps_by_plan_state ON steps (plan_id, state, seq);
