//! PostgreSQL's planner statistics kept up with bursts of new steps.
//!
//! The claim query walks the runnable steps in order and stops at the
//! first one that may run — when the planner knows there are many. Its
//! statistics come from `ANALYZE`, which autovacuum runs only after a
//! share of the table has changed and at most once a minute; until then a
//! burst of thousands of pending steps in a table whose statistics say
//! "pending is rare" gets a plan that joins and sorts every candidate and
//! checks each against every other: 4.5 s a claim with 4,000 pending in
//! the webhook bench, 0.2 ms after `ANALYZE`. So the store asks for one
//! itself once enough steps were added, at most every few seconds, in the
//! background.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use super::{now_ms, Backend, Store};

/// New steps that make the statistics worth renewing.
const STEPS: u64 = 1_000;
/// Least time between two renewals by one replica.
const EVERY_MS: i64 = 10_000;

#[derive(Default)]
pub(super) struct Freshness {
    added: AtomicU64,
    running: AtomicBool,
    last_ms: AtomicI64,
}

impl Store {
    /// `n` steps were committed: renews the statistics of `steps` and
    /// `plans` (PostgreSQL) when enough were.
    pub(super) fn steps_added(&self, n: usize) {
        if self.backend != Backend::Postgres || n == 0 {
            return;
        }
        let f = &self.freshness;
        let added = f.added.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        let now = now_ms();
        if added < STEPS || now - f.last_ms.load(Ordering::Relaxed) < EVERY_MS {
            return;
        }
        if f.running.swap(true, Ordering::AcqRel) {
            return;
        }
        f.added.store(0, Ordering::Relaxed);
        f.last_ms.store(now, Ordering::Relaxed);
        let (pool, f) = (self.pool.clone(), Arc::clone(&self.freshness));
        tokio::spawn(async move {
            if let Err(e) = sqlx::query("ANALYZE steps, plans").execute(&pool).await {
                tracing::debug!(error = %e, "ANALYZE after a burst of steps failed; autovacuum will");
            }
            f.running.store(false, Ordering::Release);
        });
    }
}
