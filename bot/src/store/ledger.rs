//! The store as the commands crate's read-only `Ledger` (`!jobs`, `!show`, `!audit`).

use async_trait::async_trait;
use shepherd_commands::{
    AuditEntry, Ledger, LedgerError, PlanDetail, PlanState, PlanSummary, StepState, StepView,
};

use super::{corrupt, Store, StoreError};

const SUMMARY_COLUMNS: &str = "p.id, p.command, p.requested_by, p.summary, p.state, p.created_at,
    (SELECT COUNT(*) FROM steps s WHERE s.plan_id = p.id),
    (SELECT COUNT(*) FROM steps s WHERE s.plan_id = p.id AND s.state = 'done')";

type SummaryRow = (i64, String, String, String, String, i64, i64, i64);

fn summary(row: SummaryRow) -> Result<PlanSummary, StoreError> {
    let (id, command, requested_by, summary, state, created_at_ms, total, done) = row;
    Ok(PlanSummary {
        id,
        command,
        requested_by,
        summary,
        state: PlanState::parse(&state).ok_or_else(|| corrupt(format!("plan state `{state}`")))?,
        steps_total: total as u32,
        steps_done: done as u32,
        created_at_ms,
    })
}

fn unavailable(e: StoreError) -> LedgerError {
    tracing::error!(error = %e, "reading the ledger failed");
    LedgerError(e.to_string())
}

impl Store {
    async fn recent(&self, limit: u32) -> Result<Vec<PlanSummary>, StoreError> {
        let sql = format!("SELECT {SUMMARY_COLUMNS} FROM plans p ORDER BY p.id DESC LIMIT $1");
        let rows: Vec<SummaryRow> = sqlx::query_as(&sql)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(summary).collect()
    }

    async fn detail(&self, id: i64) -> Result<Option<PlanDetail>, StoreError> {
        let sql = format!("SELECT {SUMMARY_COLUMNS} FROM plans p WHERE p.id = $1");
        let Some(row) = sqlx::query_as::<_, SummaryRow>(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let (confirmed_by, expires_at_ms): (Option<String>, Option<i64>) =
            sqlx::query_as("SELECT confirmed_by, expires_at FROM plans WHERE id = $1")
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
        let steps: Vec<(
            i64,
            String,
            String,
            String,
            i64,
            Option<String>,
            Option<String>,
        )> = sqlx::query_as(
            "SELECT seq, idem_key, action, state, attempts, result, error
                 FROM steps WHERE plan_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let steps = steps
            .into_iter()
            .map(|(seq, key, action, state, attempts, result, error)| {
                Ok(StepView {
                    seq: seq as u32,
                    key,
                    action: serde_json::from_str(&action).map_err(corrupt)?,
                    state: StepState::parse(&state)
                        .ok_or_else(|| corrupt(format!("step state `{state}`")))?,
                    attempts: attempts as u32,
                    result,
                    error,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Some(PlanDetail {
            plan: summary(row)?,
            steps,
            confirmed_by,
            expires_at_ms,
        }))
    }

    async fn audit_tail(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let rows: Vec<(
            i64,
            i64,
            String,
            String,
            String,
            Option<i64>,
            String,
            String,
        )> = sqlx::query_as(
            "SELECT id, at, actor, channel, action, plan_id, outcome, detail
                 FROM audit ORDER BY id DESC LIMIT $1",
        )
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, at_ms, actor, channel, action, plan_id, outcome, detail)| AuditEntry {
                    id,
                    at_ms,
                    actor,
                    channel,
                    action,
                    plan_id,
                    outcome,
                    detail,
                },
            )
            .collect())
    }
}

#[async_trait]
impl Ledger for Store {
    async fn recent_plans(&self, limit: u32) -> Result<Vec<PlanSummary>, LedgerError> {
        self.recent(limit).await.map_err(unavailable)
    }

    async fn plan_detail(&self, id: i64) -> Result<Option<PlanDetail>, LedgerError> {
        self.detail(id).await.map_err(unavailable)
    }

    async fn audit_entries(&self, limit: u32) -> Result<Vec<AuditEntry>, LedgerError> {
        self.audit_tail(limit).await.map_err(unavailable)
    }

    async fn subscriptions(&self, channel: &str) -> Result<Vec<(String, String)>, LedgerError> {
        let subs = Store::subscriptions(self, Some(channel))
            .await
            .map_err(unavailable)?;
        Ok(subs.into_iter().map(|s| (s.kind, s.target)).collect())
    }
}
