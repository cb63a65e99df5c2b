//! The audit log: every request, refusal, confirmation and outcome, appended.

use super::{Store, StoreError};

/// One entry to append.
#[derive(Debug, Clone)]
pub struct AuditRecord<'a> {
    pub actor: &'a str,
    pub channel: &'a str,
    /// What was asked, e.g. the command line as typed (truncated).
    pub action: &'a str,
    pub plan_id: Option<i64>,
    /// `ok`, `refused`, `malformed`, `dry-run`, `queued`, `parked`,
    /// `confirmed`, `cancelled`, `expired`, `done`, `failed`, `error`.
    pub outcome: &'a str,
    pub detail: &'a str,
}

impl Store {
    pub async fn audit(&self, r: AuditRecord<'_>, now: i64) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let action: String = r.action.chars().take(300).collect();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO audit (at, actor, channel, action, plan_id, outcome, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(now)
        .bind(r.actor)
        .bind(r.channel)
        .bind(action)
        .bind(r.plan_id)
        .bind(r.outcome)
        .bind(r.detail)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }
}
