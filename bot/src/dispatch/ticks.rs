//! What a cron slot does: post a configured announcement, or poll a
//! series' excuses and announce the changes to the channels watching them.

use shepherd_commands::{Action, PlanDraft, StepDraft};

use crate::config::ScheduleConfig;
use crate::dispatch::Dispatcher;
use crate::metrics::Metrics;
use crate::store::{now_ms, Inserted, NewPlan, Origin, StoreError};
use shepherd_commands::proposed_migration::announce::{render, route};

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
                    key: format!("schedule/{job}/{slot_ms}"),
                    action: Action::Announce {
                        channel: announce.channel.clone(),
                        text: announce.text.clone(),
                        thread: None,
                    },
                }],
                confirm_reason: None,
                notes: Vec::new(),
            };
            (draft, announce.channel.clone())
        } else if let Some(poll) = &schedule.poll_excuses {
            match self
                .poll_excuses(job, poll.series.as_deref(), slot_ms)
                .await?
            {
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

    /// Fetches the excuses (if changed) and drafts one announcement per
    /// watching channel. `None` = nothing to say.
    async fn poll_excuses(
        &self,
        job: &str,
        series: Option<&str>,
        slot_ms: i64,
    ) -> Result<Option<PlanDraft>, StoreError> {
        let Some(proposed) = &self.proposed else {
            tracing::warn!(job, "poll_excuses job without [proposed_migration]");
            return Ok(None);
        };
        let series = series.unwrap_or(proposed.default_series_name()).to_string();
        let transitions = match proposed.poll(&series).await {
            Ok(Some(t)) => t,
            Ok(None) => {
                tracing::debug!(job, series, "excuses not modified");
                return Ok(None);
            }
            Err(e) => {
                // The next slot tries again; a failed fetch never replaces the last good snapshot.
                tracing::warn!(job, series, error = %e, "excuses poll failed");
                return Ok(None);
            }
        };
        let subs = self.store.subscriptions(None).await?;
        let routed = route(&transitions, &subs, proposed.teams());
        tracing::info!(
            job,
            series,
            transitions = transitions.len(),
            channels = routed.len(),
            "excuses changed"
        );
        if routed.is_empty() {
            return Ok(None);
        }
        let when = chrono::DateTime::from_timestamp_millis(slot_ms)
            .map(|d| d.format("%H:%M").to_string())
            .unwrap_or_default();
        let steps = routed
            .iter()
            .map(|(channel, ts)| StepDraft {
                key: format!("poll/{series}/{slot_ms}/{channel}"),
                action: Action::Announce {
                    channel: channel.clone(),
                    text: render(&series, &when, ts),
                    thread: None,
                },
            })
            .collect();
        Ok(Some(PlanDraft {
            summary: format!("{series} excuses changes for {} channel(s)", routed.len()),
            steps,
            confirm_reason: None,
            notes: Vec::new(),
        }))
    }
}
