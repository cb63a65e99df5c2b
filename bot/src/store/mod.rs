//! The store: Shepherd's durable memory, on sqlx.
//!
//! SQLite (WAL) is the embedded default. Queries keep to SQL that PostgreSQL
//! also speaks (`$N` parameters, `RETURNING`, no SQLite-only functions), so
//! the scale-out issue can add a PostgreSQL pool beside this one without
//! rewriting them. Migrations are embedded in the binary and run on open.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use thiserror::Error;

mod audit;
mod credentials;
mod deliveries;
mod ledger;
mod plan_lifecycle;
mod plans;
mod schedule_state;
mod snapshots;
mod steps;
mod subscriptions;
mod turns;
mod webhooks;
mod write_tx;

pub use audit::AuditRecord;
pub use deliveries::Delivery;
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

/// A handle on the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
    faults: Arc<Faults>,
    /// Writers queue here before taking SQLite's write lock.
    turns: Arc<turns::Turns>,
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
        let url = format!("sqlite://{}", path.display());
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a webhook is acknowledged only after its row is on disk.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let faults = Arc::new(Faults::default());
        let (f, g) = (faults.clone(), faults.clone());
        let pool = SqlitePoolOptions::new()
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
                Box::pin(async move { apply_page_limit(conn, limit).await })
            })
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Open {
                path: path.to_path_buf(),
                reason: open_reason(&e),
            })?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self {
            pool,
            faults,
            turns: Arc::default(),
        })
    }

    /// Test hook: make the database "full" once it has `extra` more pages
    /// than now (`Some`), or lift the limit (`None`). Real disks fill the
    /// same way (SQLITE_FULL), but need root to shrink.
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
    }
}

/// The test hook's page limit on one connection (0: never set).
async fn apply_page_limit(
    conn: &mut sqlx::SqliteConnection,
    limit: i64,
) -> Result<(), sqlx::Error> {
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

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
