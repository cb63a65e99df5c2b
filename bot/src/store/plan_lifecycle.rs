//! Plans people act on after they are made: looking one up for `!confirm`
//! / `!cancel`, releasing it, ending it, and finding parked plans whose
//! confirmation window has closed.

use shepherd_commands::PlanState;

use super::plans::plan_state;
use super::{Store, StoreError};

/// What `!confirm` / `!cancel` need to decide.
#[derive(Debug, Clone)]
pub struct PlanControl {
    pub id: i64,
    pub command: String,
    pub state: PlanState,
    pub requested_by: String,
    pub needs_role: Option<String>,
    pub expires_at: Option<i64>,
    pub steps: u32,
}

impl Store {
    pub async fn plan_control(&self, id: i64) -> Result<Option<PlanControl>, StoreError> {
        let row: Option<(String, String, String, Option<String>, Option<i64>, i64)> =
            sqlx::query_as(
                "SELECT command, state, requested_by, needs_role, expires_at,
                    (SELECT COUNT(*) FROM steps s WHERE s.plan_id = plans.id)
             FROM plans WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(
            |(command, state, requested_by, needs_role, expires_at, steps)| {
                Ok(PlanControl {
                    id,
                    command,
                    state: plan_state(&state)?,
                    requested_by,
                    needs_role,
                    expires_at,
                    steps: steps as u32,
                })
            },
        )
        .transpose()
    }

    /// Releases a parked plan; false if it was no longer waiting.
    pub async fn confirm_plan(&self, id: i64, by: &str, now: i64) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let r = sqlx::query(
            "UPDATE plans SET state = 'pending', confirmed_by = $2, updated_at = $3
             WHERE id = $1 AND state = 'awaiting-confirmation' AND (expires_at IS NULL OR expires_at > $3)",
        )
        .bind(id)
        .bind(by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(r.rows_affected() == 1)
    }

    /// Ends a plan that has not finished; its unapplied steps are skipped.
    /// A step already running finishes, but nothing after it starts.
    pub async fn end_plan(&self, id: i64, state: PlanState, now: i64) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let r = sqlx::query(
            "UPDATE plans SET state = $2, updated_at = $3
             WHERE id = $1 AND state IN ('awaiting-confirmation', 'pending', 'running')",
        )
        .bind(id)
        .bind(state.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE steps SET state = 'skipped', updated_at = $2 WHERE plan_id = $1 AND state IN ('pending', 'waiting')")
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(r.rows_affected() == 1)
    }

    /// Parked plans whose confirmation window has closed.
    pub async fn overdue_parked(&self, now: i64) -> Result<Vec<i64>, StoreError> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT id FROM plans WHERE state = 'awaiting-confirmation' AND expires_at <= $1",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }
}
