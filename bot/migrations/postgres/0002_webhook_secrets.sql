-- Webhooks Shepherd registered on Launchpad (`!webhook register`): the
-- secret it generated (deliveries are verified with it) and where the
-- target's events are announced.
CREATE TABLE webhook_secrets (
    target       TEXT    PRIMARY KEY,
    secret       TEXT    NOT NULL,
    channel      TEXT,
    webhook_link TEXT,
    created_by   TEXT    NOT NULL,
    created_at   BIGINT NOT NULL
);
