//! What a cron slot does: post a configured announcement, or ask a
//! service's poller what changed and announce it to the channels watching.

use shepherd_commands::{Action, PlanDraft, StepDraft};

use crate::config::ScheduleConfig;
use crate::dispatch::Dispatcher;
use crate::events::schedule_step_key;
use crate::metrics::Metrics;
use crate::store::{now_ms, Inserted, NewPlan, Origin, StoreError};

impl Dispatcher {
    /// Plans a cron slot of a configured job. Config is the approval, so
    /// scheduled plans run without `!confirm`. Returns the plan, if any.
    pub async fn handle_tick(
        &self,
        schedule: &ScheduleConfig,
        slot_ms: i64,
        key: &str,
    ) -> Result<Option<i64>, StoreError> {
        let job = &schedule.name;
        let (draft, channel) = if let Some(announce) = &schedule.announce {
            let draft = PlanDraft {
                summary: format!("scheduled `{job}`"),
                steps: vec![StepDraft {
                    key: schedule_step_key(job, slot_ms, None),
                    action: Action::Announce {
                        channel: announce.channel.clone(),
                        text: announce.text.clone(),
                        thread: None,
                    },
                }],
                confirm_reason: None,
                notes: Vec::new(),
                parallel: false,
            };
            (draft, announce.channel.clone())
        } else if let Some((poller_job, arg)) = schedule.poll() {
            match self.poll(job, poller_job, arg, slot_ms).await? {
                Some(draft) => (draft, "(watchers)".to_string()),
                None => return Ok(None),
            }
        } else {
            return Ok(None);
        };
        let origin = Origin {
            kind: "schedule".into(),
            channel,
            thread: None,
        };
        let requested_by = format!("schedule:{job}");
        self.insert_released_plan(key, "schedule", &requested_by, &origin, &draft)
            .await
            .map(Some)
    }

    /// Stores a plan that needs no person to release it (configured
    /// schedules, verified webhooks) and wakes the executor. The request
    /// key makes a repeated slot or redelivery find its existing plan.
    pub async fn insert_released_plan(
        &self,
        request_key: &str,
        command: &str,
        requested_by: &str,
        origin: &Origin,
        draft: &PlanDraft,
    ) -> Result<i64, StoreError> {
        let inserted = self
            .store
            .insert_plan(
                NewPlan::released(request_key, command, requested_by, origin, draft),
                now_ms(),
            )
            .await?;
        if let Inserted::New(_) = inserted {
            Metrics::bump(&self.metrics.plans_created_total);
            self.wake.notify_one();
        }
        Ok(inserted.id())
    }

    /// Asks the job's poller what changed and drafts one announcement per
    /// watching channel. `None` = nothing to say.
    async fn poll(
        &self,
        job: &str,
        poller_job: &str,
        arg: Option<&str>,
        slot_ms: i64,
    ) -> Result<Option<PlanDraft>, StoreError> {
        let Some(poller) = self.pollers.iter().find(|p| p.job() == poller_job) else {
            tracing::warn!(job, poller_job, "no service configured for this job");
            return Ok(None);
        };
        let subs = self.store.subscriptions(None).await?;
        let step_key = |channel: &str| schedule_step_key(job, slot_ms, Some(channel));
        match poller.poll(arg, slot_ms, &subs, &step_key).await {
            Ok(draft) => Ok(draft),
            Err(e) => {
                // The next slot tries again; a failed poll never replaces the last good state.
                tracing::warn!(job, error = %e, "poll failed");
                Ok(None)
            }
        }
    }
}
