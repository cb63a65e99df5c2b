-- Claims with a lease. A step being applied, or a webhook delivery being
-- handled, belongs to the replica named in `claimed_by` until
-- `lease_until` (Unix ms); the replica renews the lease while it works.
-- A replica that dies stops renewing, and once the lease has run out
-- another one takes the claim over. (One SQLite file has one process, but
-- the schema is the same on both backends.)
ALTER TABLE steps ADD COLUMN claimed_by TEXT;
ALTER TABLE steps ADD COLUMN lease_until BIGINT;
ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE deliveries ADD COLUMN lease_until BIGINT;
-- Never two steps with one idempotency key applied at once, whichever
-- replicas claim them: the database refuses the second claim, where a
-- check before the claim could race.
CREATE UNIQUE INDEX steps_one_running_per_key ON steps (idem_key) WHERE state = 'running';
CREATE INDEX steps_by_lease ON steps (state, lease_until);
