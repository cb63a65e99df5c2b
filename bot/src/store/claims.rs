//! Claims on steps: picking and claiming the next one due (one statement,
//! so two claimers never take the same step; on PostgreSQL replicas skip
//! each other's rows), giving one back, the leases that keep a replica's
//! claims its own, and putting back what a stop or a dead replica left
//! running.

use super::steps::ClaimedStep;
use super::{corrupt, Backend, RowLock, Store, StoreError};

/// A step not yet sent may run once every earlier step of its plan has
/// been sent (done, or waiting on the world); a waiting step is looked at
/// again even after its plan failed (its result is still reported). Never
/// two steps with one key at once.
/// A step may be sent when it is its plan's first unsent step and fewer
/// than the plan's `width` earlier steps are being sent (width 1: the
/// previous one is done, or waiting on the world). In a bulk plan, a step
/// waiting to be retried does not hold up the ones after it. Both are index seeks
/// (`steps_by_plan_state`), so a long bulk plan costs no scan per claim.
const READY_TO_SEND: &str = "s.state = 'pending' AND p.state IN ('pending', 'running')
    AND NOT EXISTS (SELECT 1 FROM steps e WHERE e.plan_id = s.plan_id AND e.state = 'pending'
                    AND e.seq < s.seq AND (p.width = 1 OR e.attempts = 0))
    AND (SELECT COUNT(*) FROM steps e WHERE e.plan_id = s.plan_id AND e.state = 'running'
                    AND e.followed_since IS NULL AND e.seq < s.seq) < p.width
    AND (s.after_done = 0 OR NOT EXISTS (SELECT 1 FROM steps e WHERE e.plan_id = s.plan_id
                    AND e.seq < s.seq AND e.state IN ('pending', 'running', 'waiting')))
    AND NOT EXISTS (SELECT 1 FROM steps r WHERE r.idem_key = s.idem_key AND r.state = 'running')";
const READY_TO_CHECK: &str = "s.state = 'waiting' AND p.state IN ('pending', 'running', 'failed')
    AND NOT EXISTS (SELECT 1 FROM steps r WHERE r.idem_key = s.idem_key AND r.state = 'running')";

/// The next step due at `$1` (or, without the time bound, the earliest one
/// due at all): the first of each kind in claim order — each walks the
/// `steps_runnable` index and stops at its first match — then the earlier.
#[cfg(test)]
pub(super) fn next_due_for_tests() -> String {
    next_due(true, "")
}

/// `lock`: PostgreSQL's `FOR UPDATE OF s SKIP LOCKED` when claiming, so
/// replicas claiming at once pass over each other's candidates instead of
/// queueing behind them.
fn next_due(due_by_now: bool, lock: &str) -> String {
    let bound = if due_by_now {
        "AND s.not_before <= $1"
    } else {
        ""
    };
    let first = |ready: &str, name: &str| {
        format!(
            "SELECT id, nb, pid, sq FROM (SELECT s.id AS id, s.not_before AS nb, s.plan_id AS pid,
                    s.seq AS sq FROM steps s JOIN plans p ON p.id = s.plan_id
             WHERE {ready} {bound} ORDER BY s.not_before, s.plan_id, s.seq LIMIT 1 {lock}) {name}"
        )
    };
    format!(
        "SELECT id, nb FROM ({} UNION ALL {}) due ORDER BY nb, pid, sq LIMIT 1",
        first(READY_TO_SEND, "send"),
        first(READY_TO_CHECK, "look")
    )
}

/// Who claims, and for how long.
struct Claimer<'a> {
    backend: Backend,
    replica: &'a str,
    lease_ms: i64,
}

impl Store {
    /// Claims the next runnable step, marking it running and opening an attempt.
    pub async fn claim_next(&self, now: i64) -> Result<Option<ClaimedStep>, StoreError> {
        if self.backend == Backend::Postgres {
            return claim_on_postgres(&self.pool, &self.claimer(), now).await;
        }
        let mut tx = self.write().await?;
        let claimed = claim_in(&mut tx, &self.claimer(), now).await?;
        // Also when nothing changed: ending the transaction keeps the
        // connection pooled.
        tx.commit().await?;
        Ok(claimed)
    }

    /// Gives back a step claimed but never applied (a worker stopping):
    /// as if the claim had not happened, attempt and all.
    pub async fn unclaim(&self, step: &ClaimedStep, now: i64) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE steps SET updated_at = $2,
                state = CASE WHEN followed_since IS NULL THEN 'pending' ELSE 'waiting' END,
                attempts = attempts - (CASE WHEN followed_since IS NULL THEN 1 ELSE 0 END),
                claimed_by = NULL, lease_until = NULL
             WHERE id = $1 AND state = 'running' AND claimed_by = $3",
        )
        .bind(step.step_id)
        .bind(now)
        .bind(&*self.replica)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM step_attempts WHERE step_id = $1 AND attempt = $2 AND outcome = 'running'",
        )
        .bind(step.step_id)
        .bind(step.attempts as i64)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// At start: steps left `running` by this process's last run were
    /// interrupted mid-apply, so they go back to pending and run again
    /// (adapters check before acting, so a re-run of a call that did land
    /// is harmless). On SQLite every running step is ours (one process
    /// owns the file); on PostgreSQL only those claimed under this
    /// replica's name, and those whose lease has run out — never a live
    /// replica's. Returns how many.
    pub async fn requeue_interrupted(&self, now: i64) -> Result<u64, StoreError> {
        let whose = match self.backend {
            Backend::Sqlite => "TRUE",
            Backend::Postgres => "(claimed_by = $2 OR lease_until IS NULL OR lease_until < $1)",
        };
        self.requeue_where(whose, now).await
    }

    /// Takes back the claims of other replicas that stopped renewing them
    /// (they died): their steps run again here or elsewhere. This
    /// replica's own claims are never taken back while it runs, even if a
    /// renewal failed: its workers may still be applying them. Returns how many.
    pub async fn requeue_expired(&self, now: i64) -> Result<u64, StoreError> {
        self.requeue_where("lease_until < $1 AND claimed_by <> $2", now)
            .await
    }

    async fn requeue_where(&self, whose: &str, now: i64) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let running = format!("SELECT id FROM steps WHERE state = 'running' AND {whose}");
        sqlx::query(&format!(
            "UPDATE step_attempts SET outcome = 'interrupted', finished_at = $1
             WHERE outcome = 'running' AND step_id IN ({running})"
        ))
        .bind(now)
        .bind(&*self.replica)
        .execute(&mut *tx)
        .await?;
        // A step already followed goes back to being followed, not sent again.
        let n = sqlx::query(&format!(
            "UPDATE steps SET updated_at = $1, claimed_by = NULL, lease_until = NULL,
                state = CASE WHEN followed_since IS NULL THEN 'pending' ELSE 'waiting' END
             WHERE state = 'running' AND {whose}"
        ))
        .bind(now)
        .bind(&*self.replica)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    /// Renews the lease on every step this replica is applying and every
    /// delivery it is handling; called well within the lease.
    pub async fn renew_leases(&self, now: i64) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE steps SET lease_until = $1 WHERE state = 'running' AND claimed_by = $2",
        )
        .bind(now + self.lease_ms)
        .bind(&*self.replica)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE deliveries SET lease_until = $1 WHERE processed_at IS NULL AND claimed_by = $2",
        )
        .bind(now + self.lease_ms)
        .bind(&*self.replica)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The earliest `not_before` of a waiting retry, so the executor can sleep until then.
    pub async fn next_retry_at(&self) -> Result<Option<i64>, StoreError> {
        // ORDER BY … LIMIT 1 walks the index and stops at the first step
        // that may run; MIN() over the same condition would visit them all.
        let at: Option<(i64, i64)> = sqlx::query_as(&next_due(false, ""))
            .fetch_optional(&self.pool)
            .await?;
        Ok(at.map(|(_, t)| t))
    }

    /// Claims the next runnable step inside the caller's transaction (a
    /// step's end and the next claim in one commit), on SQLite.
    pub(super) async fn claim_in(
        &self,
        tx: &mut sqlx::AnyConnection,
        now: i64,
    ) -> Result<Option<ClaimedStep>, StoreError> {
        claim_in(tx, &self.claimer(), now).await
    }

    fn claimer(&self) -> Claimer<'_> {
        Claimer {
            backend: self.backend,
            replica: &self.replica,
            lease_ms: self.lease_ms,
        }
    }
}

/// The claim's UPDATE: the next step due becomes running, ours until the
/// lease runs out. A look at a waiting step is not an attempt: only sends
/// count against the retry budget.
fn claim_update(lock: &str) -> String {
    format!(
        "UPDATE steps SET state = 'running', claimed_by = $2, lease_until = $3,
            attempts = attempts + (CASE WHEN followed_since IS NULL THEN 1 ELSE 0 END),
            first_applied_at = COALESCE(first_applied_at, $1), updated_at = $1
         WHERE id = (SELECT id FROM ({}) next)
         RETURNING {CLAIMED}",
        next_due(true, lock)
    )
}

const CLAIMED: &str =
    "id, plan_id, seq, idem_key, action, attempts, first_applied_at, followed_since, result, follow_ref";

type ClaimRow = (
    i64,
    i64,
    i64,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
);

/// PostgreSQL: the claim, its plan started and its attempt opened, in one
/// statement (one round trip, atomic without a transaction); replicas
/// skip the rows others are claiming. Another replica may claim a step
/// with the same idempotency key at this very moment: the unique index on
/// running keys refuses the later claim, and the step stays for a later
/// round.
async fn claim_on_postgres(
    pool: &sqlx::AnyPool,
    by: &Claimer<'_>,
    now: i64,
) -> Result<Option<ClaimedStep>, StoreError> {
    let lock = by.backend.row_lock(RowLock::Skip(Some("s")));
    let sql = format!(
        "WITH claimed AS ({}),
         started AS (UPDATE plans SET state = 'running', updated_at = $1
                     WHERE id IN (SELECT plan_id FROM claimed) AND state = 'pending'),
         opened AS (INSERT INTO step_attempts (step_id, attempt, started_at, outcome)
                    SELECT id, attempts, $1, 'running' FROM claimed WHERE followed_since IS NULL)
         SELECT {CLAIMED} FROM claimed",
        claim_update(&lock)
    );
    let claim = sqlx::query_as::<_, ClaimRow>(&sql)
        .bind(now)
        .bind(by.replica)
        .bind(now + by.lease_ms)
        .fetch_optional(pool)
        .await;
    match claim {
        Ok(row) => row.map(claimed).transpose(),
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// SQLite: picks and claims the next runnable step inside the caller's
/// transaction (one statement picks and claims: two claimers can never
/// take the same step), then starts its plan and opens its attempt.
async fn claim_in(
    tx: &mut sqlx::AnyConnection,
    by: &Claimer<'_>,
    now: i64,
) -> Result<Option<ClaimedStep>, StoreError> {
    let lock = by.backend.row_lock(RowLock::Skip(Some("s")));
    let row: Option<ClaimRow> = sqlx::query_as(&claim_update(&lock))
        .bind(now)
        .bind(by.replica)
        .bind(now + by.lease_ms)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let step = claimed(row)?;
    sqlx::query(
        "UPDATE plans SET state = 'running', updated_at = $2 WHERE id = $1 AND state = 'pending'",
    )
    .bind(step.plan_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if !step.following {
        sqlx::query(
            "INSERT INTO step_attempts (step_id, attempt, started_at, outcome) VALUES ($1, $2, $3, 'running')",
        )
        .bind(step.step_id)
        .bind(i64::from(step.attempts))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    Ok(Some(step))
}

fn claimed(row: ClaimRow) -> Result<ClaimedStep, StoreError> {
    let (step_id, plan_id, seq, key, action, attempts, first, followed, last, follow_ref) = row;
    let action =
        serde_json::from_str(&action).map_err(|e| corrupt(format!("step {step_id}: {e}")))?;
    Ok(ClaimedStep {
        step_id,
        plan_id,
        seq: seq as u32,
        key,
        action,
        attempts: attempts as u32,
        first_applied_at: first,
        following: followed.is_some(),
        last_result: last,
        follow_ref,
    })
}
