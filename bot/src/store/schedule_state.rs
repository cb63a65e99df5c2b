//! The last slot each cron job fired for: a restart never fires a slot
//! twice, and a missed slot fires once.

use super::{Store, StoreError};

impl Store {
    /// The last slot (Unix ms) this job fired for.
    pub async fn last_slot(&self, job: &str) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT last_slot FROM schedule_state WHERE job = $1")
                .bind(job)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(s,)| s))
    }

    /// Records a fired slot; never moves a job's slot backwards.
    pub async fn set_last_slot(
        &self,
        job: &str,
        slot: i64,
        result: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO schedule_state (job, last_slot, last_run_at, last_result) VALUES ($1, $2, $3, $4)
             ON CONFLICT (job) DO UPDATE SET last_slot = excluded.last_slot,
                last_run_at = excluded.last_run_at, last_result = excluded.last_result
             WHERE schedule_state.last_slot < excluded.last_slot",
        )
        .bind(job)
        .bind(slot)
        .bind(now)
        .bind(result)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
