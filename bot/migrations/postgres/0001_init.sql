-- Shepherd's records. Times are Unix milliseconds (BIGINT on PostgreSQL);
-- JSON is stored as TEXT so both backends read it the same way.

-- One row per request that produced a plan; request_key makes a redelivered
-- chat message, webhook or schedule slot produce one plan, not two.
CREATE TABLE plans (
    id               BIGSERIAL PRIMARY KEY,
    request_key      TEXT    NOT NULL UNIQUE,
    command          TEXT    NOT NULL,
    requested_by     TEXT    NOT NULL,
    origin_kind      TEXT    NOT NULL,
    origin_channel   TEXT    NOT NULL,
    origin_thread    TEXT,
    summary          TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    needs_role       TEXT,
    confirm_reason   TEXT,
    confirmed_by     TEXT,
    expires_at       BIGINT,
    progress_message TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX plans_by_state ON plans (state);

CREATE TABLE steps (
    id         BIGSERIAL PRIMARY KEY,
    plan_id    BIGINT NOT NULL REFERENCES plans (id),
    seq        BIGINT NOT NULL,
    idem_key   TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    state      TEXT    NOT NULL,
    attempts   BIGINT NOT NULL DEFAULT 0,
    not_before BIGINT NOT NULL DEFAULT 0,
    result     TEXT,
    error      TEXT,
    updated_at BIGINT NOT NULL,
    UNIQUE (plan_id, seq)
);
CREATE INDEX steps_by_key ON steps (idem_key, state);
CREATE INDEX steps_runnable ON steps (state, not_before);

CREATE TABLE step_attempts (
    id          BIGSERIAL PRIMARY KEY,
    step_id     BIGINT NOT NULL REFERENCES steps (id),
    attempt     BIGINT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT,
    outcome     TEXT    NOT NULL,
    detail      TEXT
);
CREATE INDEX step_attempts_by_step ON step_attempts (step_id);

CREATE TABLE audit (
    id      BIGSERIAL PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT    NOT NULL,
    channel TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    plan_id BIGINT,
    outcome TEXT    NOT NULL,
    detail  TEXT    NOT NULL
);

-- Webhook deliveries, unique by the sender's delivery id: a retried
-- delivery finds its row and has no second effect.
CREATE TABLE deliveries (
    delivery_id  TEXT    PRIMARY KEY,
    source       TEXT    NOT NULL,
    event_type   TEXT    NOT NULL,
    received_at  BIGINT NOT NULL,
    body         BYTEA    NOT NULL,
    processed_at BIGINT,
    result       TEXT
);

-- Polled documents (excuses, channel maps), kept to diff the next poll against.
CREATE TABLE snapshots (
    id            BIGSERIAL PRIMARY KEY,
    source        TEXT    NOT NULL,
    fetched_at    BIGINT NOT NULL,
    etag          TEXT,
    last_modified TEXT,
    body          BYTEA    NOT NULL
);
CREATE INDEX snapshots_by_source ON snapshots (source, id);

CREATE TABLE subscriptions (
    id         BIGSERIAL PRIMARY KEY,
    channel    TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (channel, kind, target)
);

-- The last cron slot each job fired for: a restart neither skips nor repeats one.
CREATE TABLE schedule_state (
    job         TEXT    PRIMARY KEY,
    last_slot   BIGINT NOT NULL,
    last_run_at BIGINT NOT NULL,
    last_result TEXT
);
