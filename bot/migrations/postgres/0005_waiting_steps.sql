-- Steps that wait on the world (a copy being published, a build and its
-- store upload) release their worker: state 'waiting', looked at again at
-- not_before. `followed_since`: when the step's request was sent and it
-- began to be followed (so a restart follows it rather than sending again);
-- `first_applied_at`: when it was first applied (timeouts count from then,
-- across restarts); `follow_ref`: what the step follows (e.g. the URL of the
-- build it requested), so later looks go straight to it.
ALTER TABLE steps ADD COLUMN first_applied_at BIGINT;
ALTER TABLE steps ADD COLUMN followed_since BIGINT;
ALTER TABLE steps ADD COLUMN follow_ref TEXT;
