-- Shepherd's records. Times are Unix milliseconds (BIGINT on PostgreSQL);
-- JSON is stored as TEXT so both backends read it the same way.

-- One row per request that produced a plan; request_key makes a redelivered
-- chat message, webhook or schedule slot produce one plan, not two.
CREATE TABLE plans (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
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
    expires_at       INTEGER,
    progress_message TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX plans_by_state ON plans (state);

CREATE TABLE steps (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id    INTEGER NOT NULL REFERENCES plans (id),
    seq        INTEGER NOT NULL,
    idem_key   TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    state      TEXT    NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    not_before INTEGER NOT NULL DEFAULT 0,
    result     TEXT,
    error      TEXT,
    updated_at INTEGER NOT NULL,
    UNIQUE (plan_id, seq)
);
CREATE INDEX steps_by_key ON steps (idem_key, state);
CREATE INDEX steps_runnable ON steps (state, not_before);

CREATE TABLE step_attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    step_id     INTEGER NOT NULL REFERENCES steps (id),
    attempt     INTEGER NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    outcome     TEXT    NOT NULL,
    detail      TEXT
);
CREATE INDEX step_attempts_by_step ON step_attempts (step_id);

CREATE TABLE audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   TEXT    NOT NULL,
    channel TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    plan_id INTEGER,
    outcome TEXT    NOT NULL,
    detail  TEXT    NOT NULL
);

-- Webhook deliveries, unique by the sender's delivery id: a retried
-- delivery finds its row and has no second effect.
CREATE TABLE deliveries (
    delivery_id  TEXT    PRIMARY KEY,
    source       TEXT    NOT NULL,
    event_type   TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    body         BLOB    NOT NULL,
    processed_at INTEGER,
    result       TEXT
);

-- Polled documents (excuses, channel maps), kept to diff the next poll against.
CREATE TABLE snapshots (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    source        TEXT    NOT NULL,
    fetched_at    INTEGER NOT NULL,
    etag          TEXT,
    last_modified TEXT,
    body          BLOB    NOT NULL
);
CREATE INDEX snapshots_by_source ON snapshots (source, id);

CREATE TABLE subscriptions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    channel    TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (channel, kind, target)
);

-- The last cron slot each job fired for: a restart neither skips nor repeats one.
CREATE TABLE schedule_state (
    job         TEXT    PRIMARY KEY,
    last_slot   INTEGER NOT NULL,
    last_run_at INTEGER NOT NULL,
    last_result TEXT
);
