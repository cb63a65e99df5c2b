-- A step that may only be sent once every earlier step of its plan is
-- done, not merely sent and waiting (a channel closed only after the
-- releases that replace it are visible).
ALTER TABLE steps ADD COLUMN after_done BIGINT NOT NULL DEFAULT 0;
