//! PostgreSQL upkeep that cannot wait for autovacuum: the planner's
//! statistics kept up with bursts of new steps, and the delivery queue's
//! dead row versions cleared as they pile up.
//!
//! **Statistics.** The claim query walks the runnable steps in order and
//! stops at the first one that may run — when the planner knows there are
//! many. Its statistics come from `ANALYZE`, which autovacuum runs only
//! after a share of the table has changed and at most once a minute; until
//! then a burst of thousands of pending steps in a table whose statistics
//! say "pending is rare" gets a plan that joins and sorts every candidate
//! and checks each against every other: 4.5 s a claim with 4,000 pending
//! in the webhook bench, 0.2 ms after `ANALYZE`. Every burst starts that
//! way (autovacuum analyzes in the quiet after the last one, when nothing
//! is pending), and the cost grows with the square of the steps pending:
//! at 1,000 steps a renewal came too late (claims of 0.2–1.5 s while the
//! first thousand waited). So the store asks for one itself once a hundred
//! steps were added (a hundred pending cost a claim a few milliseconds).
//!
//! **Deliveries.** Each delivery is written three times (stored, claimed,
//! processed), and until a `VACUUM` the versions it leaves stay in the
//! index of unprocessed deliveries: every claim visits them all. After a
//! burst of 20,000 that was 47,000 dead entries and 6 ms a claim, half the
//! database's time in the webhook bench. So the store vacuums the table
//! itself once a few thousand deliveries were processed. Index cleanup is
//! asked for explicitly: PostgreSQL skips it when few of a big table's
//! pages changed, which is exactly when those entries are what claims read.
//!
//! Both run in the background, and each is spaced by what it took last
//! time, so that each kind takes at most a fiftieth of a replica's time
//! however big the tables grow. Only a role that owns the tables may run
//! them (PostgreSQL would answer others with a warning each time): the
//! first run asks, and a role that does not own them leaves the upkeep to
//! autovacuum.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use super::{now_ms, Backend, Store};

/// New steps that make the statistics worth renewing.
const STEPS: u64 = 100;
/// Processed deliveries that make the queue worth vacuuming.
const DELIVERIES: u64 = 2_000;
/// Least time between the starts of two runs of one kind by one replica…
const AT_LEAST_MS: i64 = 1_000;
/// …and at least this many times what the last one took…
const SPACING: i64 = 50;
/// …but never more than this: a run slowed by a lock once must not put
/// the next one off for good.
const AT_MOST_MS: i64 = 60_000;

/// The tables upkeep touches, all owned by the role that migrated them.
const TABLES: &str = "'steps', 'plans', 'deliveries'";

/// One kind of upkeep: what has changed since it last ran, and when that was.
#[derive(Default)]
pub(super) struct Renewal {
    changed: AtomicU64,
    running: AtomicBool,
    /// When the last run started, and how long it took (Unix ms, ms).
    last_ms: AtomicI64,
    took_ms: AtomicI64,
}

#[derive(Default)]
pub(super) struct Upkeep {
    statistics: Arc<Renewal>,
    deliveries: Arc<Renewal>,
    /// Whether this role may run upkeep, once asked.
    allowed: tokio::sync::OnceCell<bool>,
}

impl Store {
    /// `n` steps were committed: renews the statistics of `steps` and
    /// `plans` (PostgreSQL) when enough were.
    pub(super) fn steps_added(&self, n: usize) {
        let renewal = &self.upkeep.statistics;
        self.renew(renewal, n, STEPS, "ANALYZE steps, plans");
    }

    /// `n` deliveries were marked processed: clears the dead versions
    /// from the delivery queue (PostgreSQL) when enough were.
    pub(super) fn deliveries_processed(&self, n: usize) {
        let renewal = &self.upkeep.deliveries;
        self.renew(
            renewal,
            n,
            DELIVERIES,
            "VACUUM (INDEX_CLEANUP TRUE) deliveries",
        );
    }

    fn renew(&self, r: &Arc<Renewal>, n: usize, enough: u64, sql: &'static str) {
        if self.backend != Backend::Postgres || n == 0 {
            return;
        }
        let changed = r.changed.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        let now = now_ms();
        let spacing = (SPACING * r.took_ms.load(Ordering::Relaxed)).clamp(AT_LEAST_MS, AT_MOST_MS);
        let since = now - r.last_ms.load(Ordering::Relaxed);
        // (A clock set back counts as time enough.)
        if changed < enough || (0..spacing).contains(&since) {
            return;
        }
        if r.running.swap(true, Ordering::AcqRel) {
            return;
        }
        r.changed.store(0, Ordering::Relaxed);
        r.last_ms.store(now, Ordering::Relaxed);
        let (pool, r, upkeep) = (self.pool.clone(), Arc::clone(r), Arc::clone(&self.upkeep));
        tokio::spawn(async move {
            match run(&pool, &upkeep, sql).await {
                Ok(Some(took)) => r.took_ms.store(took, Ordering::Relaxed),
                Ok(None) => {}
                Err(e) => {
                    tracing::debug!(error = %e, sql, "store upkeep failed; autovacuum will do it")
                }
            }
            r.running.store(false, Ordering::Release);
        });
    }
}

/// Runs `sql` if this role may, on a connection of its own; how long it
/// took, timed once the connection is had (waiting for one is not upkeep).
async fn run(
    pool: &sqlx::AnyPool,
    upkeep: &Upkeep,
    sql: &'static str,
) -> Result<Option<i64>, sqlx::Error> {
    let allowed = upkeep
        .allowed
        .get_or_try_init(|| async {
            let (owns,): (bool,) = sqlx::query_as(&format!(
                "SELECT COALESCE(bool_and(pg_has_role(relowner, 'USAGE')), FALSE)
                   FROM pg_class WHERE relkind = 'r' AND relname IN ({TABLES})
                    AND relnamespace = to_regnamespace(current_schema())"
            ))
            .fetch_one(pool)
            .await?;
            if !owns {
                tracing::info!("this role does not own the store's tables: their statistics and vacuuming are left to autovacuum");
            }
            Ok::<_, sqlx::Error>(owns)
        })
        .await?;
    if !*allowed {
        return Ok(None);
    }
    let mut conn = pool.acquire().await?;
    let started = now_ms();
    sqlx::query(sql)
        .persistent(false)
        .execute(&mut *conn)
        .await?;
    Ok(Some(now_ms() - started))
}
