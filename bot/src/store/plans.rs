//! Plans: inserting one (with its steps and audit record, once per
//! request key), which step keys live plans already hold, and a plan's
//! progress. Claiming and finishing steps is in `steps`.

use shepherd_commands::deliveries::PlanThread;
use shepherd_commands::{PlanDraft, PlanState};

use super::plan_insert::insert_plan_on;
use super::{corrupt, AuditRecord, Store, StoreError};

/// Where a plan came from, so its results go back there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `chat`, `webhook` or `schedule`.
    pub kind: String,
    pub channel: String,
    /// The chat thread to reply in, if any.
    pub thread: Option<String>,
}

pub struct NewPlan<'a> {
    /// Unique per request: the same request never makes two plans.
    pub request_key: &'a str,
    pub command: &'a str,
    pub requested_by: &'a str,
    pub origin: &'a Origin,
    pub draft: &'a PlanDraft,
    pub state: PlanState,
    /// Who may confirm or cancel it besides the requester.
    pub needs_role: Option<&'a str>,
    pub confirm_reason: Option<&'a str>,
    pub expires_at: Option<i64>,
    /// Written with the plan, in the same transaction, so the log never
    /// shows a plan's outcome before the request that made it.
    pub audit: Option<AuditRecord<'a>>,
    /// Steps in flight at once (1: one after another).
    pub width: u32,
}

impl<'a> NewPlan<'a> {
    /// A plan nobody has to confirm (schedules, verified webhooks), released
    /// to the executor as soon as it is stored.
    pub fn released(
        request_key: &'a str,
        command: &'a str,
        requested_by: &'a str,
        origin: &'a Origin,
        draft: &'a PlanDraft,
    ) -> Self {
        Self {
            request_key,
            command,
            requested_by,
            origin,
            draft,
            state: PlanState::Pending,
            needs_role: None,
            confirm_reason: None,
            expires_at: None,
            audit: None,
            width: 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New(i64),
    /// The request was seen before; this is its plan.
    Existing(i64),
}

impl Inserted {
    pub fn id(self) -> i64 {
        match self {
            Inserted::New(id) | Inserted::Existing(id) => id,
        }
    }
}

/// A plan's state after one of its steps finished.
#[derive(Debug, Clone)]
pub struct PlanProgress {
    pub plan_id: i64,
    pub state: PlanState,
    pub done: u32,
    pub total: u32,
    pub summary: String,
    pub origin: Origin,
    pub progress_message: Option<String>,
}

pub(super) fn plan_state(s: &str) -> Result<PlanState, StoreError> {
    PlanState::parse(s).ok_or_else(|| corrupt(format!("plan state `{s}`")))
}

impl Store {
    pub async fn insert_plan(&self, p: NewPlan<'_>, now: i64) -> Result<Inserted, StoreError> {
        let mut tx = self.write().await?;
        let inserted = insert_plan_on(&mut tx, &p, now).await?;
        tx.commit().await?;
        if matches!(inserted, Inserted::New(_)) {
            self.steps_added(p.draft.steps.len());
        }
        Ok(inserted)
    }

    /// The plan a request already made, if any.
    pub async fn plan_for_request(&self, request_key: &str) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM plans WHERE request_key = $1")
            .bind(request_key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(id,)| id))
    }

    /// For each key already applied, or waiting in a live plan: the plan.
    pub async fn keys_taken(&self, keys: &[String]) -> Result<Vec<(String, i64)>, StoreError> {
        let mut taken = Vec::new();
        for key in keys {
            let row: Option<(i64,)> = sqlx::query_as(
                "SELECT s.plan_id FROM steps s JOIN plans p ON p.id = s.plan_id
                 WHERE s.idem_key = $1 AND (s.state = 'done' OR (s.state IN ('pending', 'running', 'waiting')
                   AND p.state IN ('pending', 'running', 'awaiting-confirmation', 'failed')))
                 ORDER BY s.plan_id DESC LIMIT 1",
            )
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
            if let Some((plan,)) = row {
                taken.push((key.clone(), plan));
            }
        }
        Ok(taken)
    }

    pub(super) async fn progress_in(
        &self,
        tx: &mut sqlx::AnyConnection,
        plan_id: i64,
    ) -> Result<PlanProgress, StoreError> {
        let row: (
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            i64,
            i64,
        ) = sqlx::query_as(
            "SELECT p.state, p.summary, p.origin_kind, p.origin_channel, p.origin_thread,
                        p.progress_message,
                        (SELECT COUNT(*) FROM steps s WHERE s.plan_id = p.id AND s.state = 'done'),
                        (SELECT COUNT(*) FROM steps s WHERE s.plan_id = p.id)
                 FROM plans p WHERE p.id = $1",
        )
        .bind(plan_id)
        .fetch_one(&mut *tx)
        .await?;
        let (state, summary, kind, channel, thread, progress_message, done, total) = row;
        Ok(PlanProgress {
            plan_id,
            state: plan_state(&state)?,
            done: done as u32,
            total: total as u32,
            summary,
            origin: Origin {
                kind,
                channel,
                thread,
            },
            progress_message,
        })
    }

    pub async fn plan_progress(&self, plan_id: i64) -> Result<PlanProgress, StoreError> {
        let mut conn = self.pool.acquire().await?;
        self.progress_in(&mut conn, plan_id).await
    }

    pub async fn set_progress_message(
        &self,
        plan_id: i64,
        message: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE plans SET progress_message = $2 WHERE id = $1")
            .bind(plan_id)
            .bind(message)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Steps that will still run without anyone's confirmation.
    pub async fn open_step_count(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM steps s JOIN plans p ON p.id = s.plan_id
             WHERE s.state IN ('pending', 'running', 'waiting')
               AND p.state IN ('pending', 'running', 'failed')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(n)
    }

    /// How many plans are in each state (states with none are left out).
    pub async fn plan_counts_by_state(&self) -> Result<Vec<(PlanState, i64)>, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM plans GROUP BY state")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(state, n)| Ok((plan_state(&state)?, n)))
            .collect()
    }

    /// The steps of recent plans of these commands that came from a chat
    /// thread: deliveries about what they asked for follow up there.
    pub async fn recent_plan_threads(
        &self,
        commands: &[&str],
        since: i64,
    ) -> Result<Vec<PlanThread>, StoreError> {
        let mut out = Vec::new();
        for command in commands {
            // Recent plans of one command are few (indexed by command and time).
            let rows: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT p.origin_channel, p.origin_thread, s.action FROM plans p JOIN steps s ON s.plan_id = p.id
                 WHERE p.command = $1 AND p.created_at >= $2 AND p.state <> 'dry-run'
                   AND p.origin_thread IS NOT NULL
                 ORDER BY p.origin_channel, p.origin_thread, s.seq",
            )
            .bind(command)
            .bind(since)
            .fetch_all(&self.pool)
            .await?;
            out.extend(rows.into_iter().filter_map(|(channel, thread, action)| {
                Some(PlanThread {
                    channel,
                    thread,
                    // A step this version cannot read follows up nowhere.
                    action: serde_json::from_str(&action).ok()?,
                })
            }));
        }
        Ok(out)
    }
}
