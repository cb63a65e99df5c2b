-- Credentials a service renewed (the Snap Store's discharge macaroon is
-- refreshed about daily): kept so the next start uses the fresh one. The
-- configured credentials stay the source of truth for which account.
CREATE TABLE service_credentials (
    service TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
