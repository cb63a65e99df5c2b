-- The webhook whose secret verified a delivery: its announcements go to
-- that hook's channels only. NULL: verified by the catch-all secret.
ALTER TABLE deliveries ADD COLUMN hook_target TEXT;
