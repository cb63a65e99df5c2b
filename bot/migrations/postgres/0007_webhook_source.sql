-- Which service a registered webhook belongs to (the `source` its
-- deliveries are stored under): the runtime routes by it and names no
-- service. Every webhook registered before this was a Launchpad one.
ALTER TABLE webhook_secrets ADD COLUMN source TEXT NOT NULL DEFAULT 'launchpad';
