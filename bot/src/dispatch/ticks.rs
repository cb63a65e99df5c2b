//! What a cron slot does: post a configured announcement, or ask a
//! service's poller what changed and announce it to the channels watching.
//! A poll asked for in chat (the sandbox's `!poll`) takes the same path.

use shepherd_commands::{Action, PlanDraft, StepDraft, UserError};

use crate::config::ScheduleConfig;
use crate::dispatch::{Dispatcher, Request};
use crate::events::{poll_step_key, schedule_step_key};
use crate::metrics::{EventSource, Metrics};
use crate::store::{now_ms, Inserted, NewPlan, Origin, StoreError};

/// A step key for one channel's announcement.
type StepKey<'a> = &'a (dyn for<'k> Fn(&'k str) -> String + Sync);

impl Dispatcher {
    /// Plans a cron slot of a configured job. Config is the approval, so
    /// scheduled plans run without `!confirm`. Returns the plan, if any.
    pub async fn handle_tick(
        &self,
        schedule: &ScheduleConfig,
        slot_ms: i64,
        key: &str,
    ) -> Result<Option<i64>, StoreError> {
        self.metrics.events(EventSource::Schedule, 1);
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
            let step_key = |channel: &str| schedule_step_key(job, slot_ms, Some(channel));
            match self.poll(poller_job, arg, slot_ms, &step_key).await? {
                Ok(Some(draft)) => (draft, "(watchers)".to_string()),
                Ok(None) => return Ok(None),
                Err(e) => {
                    // The next slot tries again; a failed poll never replaces the last good state.
                    tracing::warn!(job, error = %e, "poll failed");
                    return Ok(None);
                }
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

    /// Asks the poller serving `poller_job` what changed and drafts one
    /// announcement per watching channel, keyed by `step_key`. `Ok(None)`
    /// = nothing to say; the inner `Err` = the poll failed (or nothing here
    /// serves that job).
    async fn poll(
        &self,
        poller_job: &str,
        arg: Option<&str>,
        slot_ms: i64,
        step_key: StepKey<'_>,
    ) -> Result<Result<Option<PlanDraft>, UserError>, StoreError> {
        let Some(poller) = self.pollers.iter().find(|p| p.job() == poller_job) else {
            return Ok(Err(UserError(format!(
                "no service is configured for `{poller_job}`"
            ))));
        };
        let subs = self.store.subscriptions(None).await?;
        Ok(poller.poll(arg, slot_ms, &subs, step_key).await)
    }

    /// A poll asked for in chat (the sandbox's `!poll`): the poller runs
    /// now and its announcements are planned as a cron slot's are, keyed
    /// by the request, so a redelivered message makes no second plan.
    pub(crate) async fn poll_now(
        &self,
        req: &Request<'_>,
        poller_job: &str,
        arg: Option<&str>,
    ) -> Result<String, StoreError> {
        let step_key = |channel: &str| poll_step_key(&req.key, channel);
        let draft = match self.poll(poller_job, arg, now_ms(), &step_key).await? {
            Ok(Some(draft)) => draft,
            Ok(None) => {
                self.audit(req, None, "nothing new", "").await?;
                return Ok("polled: nothing to announce — nothing changed since the last poll, or no channel watches what did".into());
            }
            Err(e) => {
                self.audit(req, None, "failed", &e.0).await?;
                return Ok(format!("the poll failed: {e} — nothing announced"));
            }
        };
        let mut channels: Vec<&str> = draft
            .steps
            .iter()
            .filter_map(|s| match &s.action {
                Action::Announce { channel, .. } => Some(channel.as_str()),
                _ => None,
            })
            .collect();
        channels.dedup();
        let origin = Origin {
            kind: "chat".into(),
            channel: req.msg.channel.clone(),
            // No thread: like a cron slot's, the plan speaks only through its announcements.
            thread: None,
        };
        let id = self
            .insert_released_plan(&req.key, "poll", &req.msg.actor, &origin, &draft)
            .await?;
        self.audit(req, Some(id), "queued", "").await?;
        Ok(format!(
            "polled: plan #{id} announces the changes in {}",
            channels.join(", ")
        ))
    }
}
