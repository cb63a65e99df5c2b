//! The store: Shepherd's durable memory, on sqlx's `Any` driver.
//!
//! SQLite (WAL) is the embedded default; PostgreSQL (`store.url`) lets
//! several replicas share one database. Both run the same queries (`$N`
//! parameters, `RETURNING`, `ON CONFLICT`, no backend-only functions); the
//! few places that differ — how a writer takes its lock, `FOR UPDATE SKIP
//! LOCKED` when claiming, leadership — ask [`Backend`]. Migrations are
//! embedded in the binary, one folder per backend with the same numbering,
//! and run on open.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Connection};
use thiserror::Error;

mod audit;
mod claims;
mod credentials;
mod deliveries;
mod leader;
mod ledger;
mod plan_insert;
mod plan_lifecycle;
mod plans;
mod schedule_state;
mod snapshots;
mod statistics;
mod steps;
mod subscriptions;
#[doc(hidden)]
pub mod testing;
mod turns;
mod webhooks;
mod write_tx;

pub use audit::AuditRecord;
pub use deliveries::Delivery;
pub use leader::{Leadership, Role};
pub use plan_lifecycle::PlanControl;
pub use plans::{Inserted, NewPlan, Origin, PlanProgress};
pub use snapshots::Snapshot;
pub use steps::{ClaimedStep, StepOutcome};
pub use subscriptions::Subscription;
pub use webhooks::RegisteredHook;

// Causes are part of the message, not also `source()`: a chain printed
// whole would say them twice (sqlx's own errors already repeat theirs).
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    #[error("stored record is unreadable: {0}")]
    Corrupt(String),
    /// The database file could not be opened or created.
    #[error("cannot open the store {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    /// The PostgreSQL server could not be reached or refused us (the URL's
    /// user and password are not repeated).
    #[error("cannot connect to the PostgreSQL store at {0}")]
    Connect(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Migrate(e)
    }
}

/// Which database the store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One process owns the file: nothing to share, nothing to lease.
    Sqlite,
    /// Several replicas may share the database.
    Postgres,
}

/// How a query that picks rows to change locks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowLock<'a> {
    /// Wait for the row (a plan being settled by another replica).
    Wait,
    /// Pass over rows another replica is claiming; `Some(alias)` names
    /// which table of a join (`FOR UPDATE OF alias`).
    Skip(Option<&'a str>),
}

impl Backend {
    /// The clause a `SELECT` ends with to lock the rows it picks: nothing
    /// on SQLite, whose one writer at a time already excludes the others.
    pub(crate) fn row_lock(self, lock: RowLock<'_>) -> String {
        match (self, lock) {
            (Backend::Sqlite, _) => String::new(),
            (Backend::Postgres, RowLock::Wait) => "FOR UPDATE".into(),
            (Backend::Postgres, RowLock::Skip(None)) => "FOR UPDATE SKIP LOCKED".into(),
            (Backend::Postgres, RowLock::Skip(Some(of))) => {
                format!("FOR UPDATE OF {of} SKIP LOCKED")
            }
        }
    }
}

/// How long a claim (a step being applied, a delivery being handled)
/// belongs to its replica unless renewed: a replica that dies without a
/// word loses its claims this long after its last renewal.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// Connections for writes a webhook sender waits on (PostgreSQL).
const URGENT_CONNECTIONS: u32 = 2;

/// A handle on the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// PostgreSQL: connections kept for urgent writes (see `write_urgent`).
    urgent: Option<AnyPool>,
    backend: Backend,
    /// This process's name in `claimed_by` (see [`Store::with_replica`]).
    replica: Arc<str>,
    lease_ms: i64,
    /// The PostgreSQL URL, for the leader's own connection.
    url: Option<Arc<str>>,
    faults: Arc<Faults>,
    /// SQLite writers queue here before taking its one write lock.
    turns: Arc<turns::Turns>,
    /// PostgreSQL: what changed since the planner's statistics were
    /// renewed and the delivery queue vacuumed.
    upkeep: Arc<statistics::Upkeep>,
}

/// Fault injection for tests of a full disk: a page limit applied to every
/// connection as it is handed out (`PRAGMA max_page_count` is per
/// connection). 0 = no limit was ever set, so production pays one atomic load.
#[derive(Default)]
struct Faults {
    max_pages: AtomicI64,
}

impl Store {
    /// Opens (creating if needed) the SQLite file and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        // `mode=rwc`: create the file if missing. The other settings are
        // per connection and not expressible in the URL: `after_connect`.
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let options = AnyConnectOptions::from_str(&url)?;
        let faults = Arc::new(Faults::default());
        let (f, g) = (faults.clone(), faults.clone());
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            // Pooled connections and fresh ones alike.
            .before_acquire(move |conn, _| {
                let limit = f.max_pages.load(Ordering::Relaxed);
                Box::pin(async move {
                    apply_page_limit(conn, limit).await?;
                    Ok(true)
                })
            })
            .after_connect(move |conn, _| {
                let limit = g.max_pages.load(Ordering::Relaxed);
                Box::pin(async move {
                    sqlite_settings(conn).await?;
                    apply_page_limit(conn, limit).await
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Open {
                path: path.to_path_buf(),
                reason: open_reason(&e),
            })?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self::new(pool, Backend::Sqlite, None, faults))
    }

    /// Connects to PostgreSQL (`postgres://…`) and brings its schema up to
    /// date; replicas starting together take turns (the migrator holds an
    /// advisory lock).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let failed = |e: sqlx::Error| {
            StoreError::Connect(format!("{}: {}", server(url), connect_reason(&e)))
        };
        let options = AnyConnectOptions::from_str(url).map_err(failed)?;
        // One connection first: the pool would retry a refused connection
        // until its timeout and then say only "timed out".
        sqlx::AnyConnection::connect_with(&options)
            .await
            .map_err(failed)?
            .close()
            .await
            .map_err(failed)?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await
            .map_err(failed)?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        // Writes a webhook sender waits on get connections of their own:
        // with every worker in a transaction, they would otherwise queue
        // for the shared pool behind background work.
        let urgent = AnyPoolOptions::new()
            .max_connections(URGENT_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(10))
            .connect_lazy_with(options);
        let mut store = Self::new(pool, Backend::Postgres, Some(url.into()), Arc::default());
        store.urgent = Some(urgent);
        Ok(store)
    }

    fn new(pool: AnyPool, backend: Backend, url: Option<Arc<str>>, faults: Arc<Faults>) -> Self {
        Self {
            pool,
            urgent: None,
            backend,
            replica: default_replica_name().into(),
            lease_ms: DEFAULT_LEASE.as_millis() as i64,
            url,
            faults,
            turns: Arc::default(),
            upkeep: Arc::default(),
        }
    }

    /// Names this process in the claims it takes (default: host and pid).
    /// A replica restarted under the same name takes its interrupted
    /// claims back at once instead of waiting for their lease to run out.
    pub fn with_replica(mut self, name: &str) -> Self {
        self.replica = name.into();
        self
    }

    /// How long claims last unless renewed (tests shorten it).
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease_ms = (lease.as_millis() as i64).max(1);
        self
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn replica(&self) -> &str {
        &self.replica
    }

    pub fn lease(&self) -> Duration {
        Duration::from_millis(self.lease_ms as u64)
    }

    /// Test hook: make the database "full" once it has `extra` more pages
    /// than now (`Some`), or lift the limit (`None`). Real disks fill the
    /// same way (SQLITE_FULL), but need root to shrink. SQLite only.
    #[doc(hidden)]
    pub async fn limit_pages_for_tests(&self, extra: Option<i64>) -> Result<(), StoreError> {
        let limit = match extra {
            Some(extra) => {
                let (pages,): (i64,) = sqlx::query_as("PRAGMA page_count")
                    .fetch_one(&self.pool)
                    .await?;
                pages + extra.max(1)
            }
            None => -1,
        };
        self.faults.max_pages.store(limit, Ordering::Relaxed);
        Ok(())
    }

    /// Closes every connection (used before a restart in tests and on shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
        if let Some(urgent) = &self.urgent {
            urgent.close().await;
        }
    }
}

/// `host-pid`: unique among live replicas, readable in the database.
fn default_replica_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "shepherd".into());
    format!("{host}-{}", std::process::id())
}

/// `host:port/database` of a PostgreSQL URL: where, without who or the password.
fn server(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!(
            "{}:{}{}",
            u.host_str().unwrap_or("localhost"),
            u.port().unwrap_or(5432),
            u.path()
        ),
        Err(_) => "(unparsable store.url)".into(),
    }
}

/// Why PostgreSQL could not be reached, without the URL (it may hold a
/// password).
fn connect_reason(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_string(),
        sqlx::Error::Configuration(c) => format!("bad store.url: {c}"),
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::PoolTimedOut => "timed out".into(),
        other => other.to_string(),
    }
}

/// What every SQLite connection is opened with. FULL: a webhook is
/// acknowledged only after its row is on disk.
async fn sqlite_settings(conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
    for pragma in [
        "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = FULL",
        "PRAGMA busy_timeout = 10000",
        "PRAGMA foreign_keys = ON",
    ] {
        sqlx::query(pragma).execute(&mut *conn).await?;
    }
    Ok(())
}

/// The test hook's page limit on one connection (0: never set).
async fn apply_page_limit(conn: &mut sqlx::AnyConnection, limit: i64) -> Result<(), sqlx::Error> {
    if limit != 0 {
        // Negative = lifted: SQLite clamps to its maximum.
        let pages = if limit > 0 {
            limit
        } else {
            i64::from(u32::MAX)
        };
        sqlx::query(&format!("PRAGMA max_page_count = {pages}"))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// SQLite's own words ("unable to open database file"), without sqlx's
/// framing around them.
fn open_reason(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    }
}

/// Milliseconds since the Unix epoch: the store's one time unit.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `$1, $2, … $n`: the parameters of an `IN (…)` list.
fn parameters(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "replica_tests.rs"]
mod replica_tests;
