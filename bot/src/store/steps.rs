//! Steps: what a claimed step is, recording how it ended and moving its
//! plan along, and what steps made. Claiming them is `claims`.

use shepherd_commands::{Action, StepState};

use super::plans::PlanProgress;
use super::{Backend, RowLock, Store, StoreError};

#[derive(Debug, Clone)]
pub struct ClaimedStep {
    pub step_id: i64,
    pub plan_id: i64,
    pub seq: u32,
    pub key: String,
    pub action: Action,
    /// Sends so far, including this one (looks at a waiting step are not counted).
    pub attempts: u32,
    /// When the step was first applied (Unix ms), across restarts.
    pub first_applied_at: i64,
    /// Its request was sent already: this is a look at what became of it.
    pub following: bool,
    /// What the step said last time (a waiting step's progress note).
    pub last_result: Option<String>,
    /// What a followed step follows (e.g. its build's URL).
    pub follow_ref: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    Done(String),
    /// Sent; look again at `not_before` (the worker is free meanwhile).
    /// `follow_ref`: what to look at then, if the applier named it.
    Waiting {
        note: String,
        not_before: i64,
        follow_ref: Option<String>,
    },
    /// Transient failure: try again at `not_before`.
    Retry {
        error: String,
        not_before: i64,
    },
    Failed(String),
}

impl Store {
    /// The plan that already applied this idempotency key, if any.
    pub async fn key_done_by(
        &self,
        key: &str,
        except_step: i64,
    ) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT plan_id FROM steps WHERE idem_key = $1 AND state = 'done' AND id <> $2 LIMIT 1",
        )
        .bind(key)
        .bind(except_step)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(p,)| p))
    }

    /// Records how a claimed step ended and moves its plan along.
    pub async fn finish_step(
        &self,
        step: &ClaimedStep,
        outcome: &StepOutcome,
        now: i64,
    ) -> Result<PlanProgress, StoreError> {
        Ok(self.finish_and_claim(step, outcome, now, false).await?.0)
    }

    /// Records a step's outcome and (with `claim`) claims the next step,
    /// in one commit: a busy worker pays one synchronous commit per step,
    /// not two.
    pub async fn finish_and_claim(
        &self,
        step: &ClaimedStep,
        outcome: &StepOutcome,
        now: i64,
        claim: bool,
    ) -> Result<(PlanProgress, Option<ClaimedStep>), StoreError> {
        let mut tx = self.write().await?;
        // A followed step that hits a transient error stays followed.
        let unsent = if step.following {
            StepState::Waiting
        } else {
            StepState::Pending
        };
        let (state, attempt_outcome, result, error, not_before) = match outcome {
            StepOutcome::Done(r) => (StepState::Done, "done", Some(r.as_str()), None, 0),
            StepOutcome::Waiting {
                note, not_before, ..
            } => (
                StepState::Waiting,
                "sent",
                Some(note.as_str()),
                None,
                *not_before,
            ),
            StepOutcome::Retry { error, not_before } => (
                unsent,
                "transient",
                step.last_result.as_deref(),
                Some(error.as_str()),
                *not_before,
            ),
            StepOutcome::Failed(e) => (StepState::Failed, "failed", None, Some(e.as_str()), 0),
        };
        let (followed, follow_ref) = match outcome {
            StepOutcome::Waiting { follow_ref, .. } => (Some(now), follow_ref.as_deref()),
            _ => (None, None),
        };
        // Only while the claim is still ours: a replica whose lease ran out
        // (it stalled, the step was taken over) must not write over the
        // replica that has the step now.
        let recorded = sqlx::query(
            "UPDATE steps SET state = $2, result = $3, error = $4, not_before = $5, updated_at = $6,
                followed_since = COALESCE(followed_since, $7), follow_ref = COALESCE($8, follow_ref),
                claimed_by = NULL, lease_until = NULL
             WHERE id = $1 AND state = 'running' AND claimed_by = $9",
        )
        .bind(step.step_id)
        .bind(state.as_str())
        .bind(result)
        .bind(error)
        .bind(not_before)
        .bind(now)
        .bind(followed)
        .bind(follow_ref)
        .bind(&*self.replica)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !recorded {
            tracing::warn!(
                step = step.step_id,
                plan = step.plan_id,
                "a step's claim was taken over before its outcome was recorded; the outcome is dropped"
            );
            let progress = self.progress_in(&mut tx, step.plan_id).await?;
            tx.commit().await?;
            return Ok((progress, None));
        }
        // The attempt that sent the request ends here; later looks are not attempts.
        sqlx::query(
            "UPDATE step_attempts SET finished_at = $3, outcome = $4, detail = $5
             WHERE step_id = $1 AND attempt = $2 AND finished_at IS NULL",
        )
        .bind(step.step_id)
        .bind(step.attempts as i64)
        .bind(now)
        .bind(attempt_outcome)
        .bind(result.or(error))
        .execute(&mut *tx)
        .await?;
        let failed = matches!(outcome, StepOutcome::Failed(_));
        settle_plan(&mut tx, self.backend, step.plan_id, failed, now).await?;
        let progress = self.progress_in(&mut tx, step.plan_id).await?;
        let next = match (claim, self.backend) {
            (true, Backend::Sqlite) => self.claim_in(&mut tx, now).await?,
            _ => None,
        };
        tx.commit().await?;
        // On PostgreSQL the next claim is a transaction of its own: it
        // would otherwise hold this plan's row while waiting for another
        // plan's (a deadlock with a replica doing the opposite), and
        // commits there cost no fsync wait of ours.
        let next = match (claim, self.backend) {
            (true, Backend::Postgres) => self.claim_next(now).await?,
            _ => next,
        };
        Ok((progress, next))
    }

    /// What each of a plan's first `limit` steps made (done ones, in order).
    pub async fn step_results(&self, plan_id: i64, limit: u32) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT result FROM steps
              WHERE plan_id = $1 AND state = 'done' AND result IS NOT NULL
              ORDER BY seq LIMIT $2",
        )
        .bind(plan_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(r,)| r).collect())
    }

    /// How many of a plan's steps failed, and the first `limit` of them
    /// (seq and error), in order.
    pub async fn step_failures(
        &self,
        plan_id: i64,
        limit: u32,
    ) -> Result<(u32, Vec<(u32, String)>), StoreError> {
        let rows: Vec<(i64, Option<String>)> = sqlx::query_as(
            "SELECT seq, error FROM steps WHERE plan_id = $1 AND state = 'failed' ORDER BY seq",
        )
        .bind(plan_id)
        .fetch_all(&self.pool)
        .await?;
        let first = rows
            .iter()
            .take(limit as usize)
            .map(|(seq, e)| (*seq as u32, e.clone().unwrap_or_default()))
            .collect();
        Ok((rows.len() as u32, first))
    }
}

/// After a step ends: a failed step fails its plan (steps not yet begun
/// are skipped) — except in a bulk plan (width > 1) of independent steps,
/// where the others go on and the plan ends failed once all are through.
/// A plan with no open step left is done (or failed, if a step failed).
///
/// On PostgreSQL the plan's row is locked first: replicas finishing a
/// plan's last two steps at once would otherwise each count the other's
/// step as still open, and neither would end the plan.
async fn settle_plan(
    tx: &mut sqlx::AnyConnection,
    backend: Backend,
    plan_id: i64,
    failed: bool,
    now: i64,
) -> Result<(), StoreError> {
    let lock = backend.row_lock(RowLock::Wait);
    let (width,): (i64,) = sqlx::query_as(&format!("SELECT width FROM plans WHERE id = $1 {lock}"))
        .bind(plan_id)
        .fetch_one(&mut *tx)
        .await?;
    if failed && width <= 1 {
        sqlx::query("UPDATE steps SET state = 'skipped', updated_at = $2 WHERE plan_id = $1 AND state = 'pending'")
            .bind(plan_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE plans SET state = 'failed', updated_at = $2 WHERE id = $1 AND state = 'running'")
            .bind(plan_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    // One statement asks whether a step is still open and ends the plan
    // if none is. It starts after the lock above was had, so on
    // PostgreSQL it sees the other replica's committed step.
    sqlx::query(
        "UPDATE plans SET updated_at = $2, state = CASE WHEN EXISTS
            (SELECT 1 FROM steps WHERE plan_id = $1 AND state = 'failed') THEN 'failed' ELSE 'done' END
         WHERE id = $1 AND state = 'running' AND NOT EXISTS (SELECT 1 FROM steps
            WHERE plan_id = $1 AND state IN ('pending', 'running', 'waiting'))",
    )
    .bind(plan_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
