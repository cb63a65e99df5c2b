//! The scheduler: cron jobs from config, fired once per slot.
//!
//! Each job's last fired slot is stored. After a restart, a slot missed
//! while the bot was down fires once (the latest one: a poll job gains
//! nothing from replaying a week of slots), and a slot already fired never
//! fires again — the plan's request key (`schedule:JOB:SLOT`) is unique, so
//! even a crash between planning and recording the slot cannot double-fire.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use tokio_util::sync::CancellationToken;

use crate::config::{parse_cron, Cron, ScheduleConfig};
use crate::dispatch::Dispatcher;
use crate::events::Event;
use crate::metrics::Metrics;
use crate::store::{now_ms, Leadership, Role, StoreError};
use crate::supervise::catch_panic;

/// Longest sleep between checks, so a changed clock is noticed.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// The latest slot `s` with `last < s <= now`, if any (all in Unix ms).
pub fn due_slot(schedule: &Cron, last_ms: i64, now_ms: i64) -> Option<i64> {
    let mut t = Utc.timestamp_millis_opt(last_ms).single()?;
    let mut due = None;
    while let Some(n) = schedule.next_after(&t) {
        if n.timestamp_millis() > now_ms {
            break;
        }
        due = Some(n.timestamp_millis());
        t = n;
    }
    due
}

/// The next slot strictly after `now`.
pub fn next_slot(schedule: &Cron, now_ms: i64) -> Option<i64> {
    let now: DateTime<Utc> = Utc.timestamp_millis_opt(now_ms).single()?;
    schedule.next_after(&now).map(|t| t.timestamp_millis())
}

pub struct Scheduler {
    jobs: Vec<(ScheduleConfig, Cron)>,
    dispatcher: Arc<Dispatcher>,
    /// Replicas sharing a database fire each slot on one of them.
    leadership: Leadership,
}

impl Scheduler {
    /// Jobs were validated with the config, so a bad expression here is skipped with an error.
    pub fn new(configs: &[ScheduleConfig], dispatcher: Arc<Dispatcher>) -> Self {
        let jobs = configs
            .iter()
            .filter_map(|c| match parse_cron(&c.cron) {
                Ok(s) => Some((c.clone(), s)),
                Err(e) => {
                    tracing::error!(job = c.name, error = e, "skipping job");
                    None
                }
            })
            .collect();
        let leadership = Leadership::new(&dispatcher.store, Role::Schedules);
        Self {
            jobs,
            dispatcher,
            leadership,
        }
    }

    /// Fires every job whose slot came due; returns the (job, slot) pairs fired.
    pub async fn run_due(&self, now: i64) -> Result<Vec<(String, i64)>, StoreError> {
        let store = &self.dispatcher.store;
        let mut fired = Vec::new();
        for (config, schedule) in &self.jobs {
            let job = &config.name;
            let Some(last) = store.last_slot(job).await? else {
                // First start: begin from now rather than replaying history.
                store.set_last_slot(job, now, "first start", now).await?;
                continue;
            };
            let Some(slot) = due_slot(schedule, last, now) else {
                continue;
            };
            let key = Event::Tick {
                job: config.clone(),
                slot_ms: slot,
            }
            .request_key("");
            let run = self.dispatcher.handle_tick(config, slot, &key);
            let context = format!("job {job}, slot {slot}");
            let metrics = &self.dispatcher.metrics;
            // A panic fails this slot only; the job fires again at its next one.
            let result = match catch_panic(metrics, "scheduler", &context, run).await {
                Ok(plan) => plan?.map_or("no plan".to_string(), |id| format!("plan #{id}")),
                Err(panic) => format!("failed: internal error: {panic}"),
            };
            store.set_last_slot(job, slot, &result, now).await?;
            Metrics::bump(&self.dispatcher.metrics.schedule_fires_total);
            tracing::info!(job, slot, result, "schedule fired");
            fired.push((job.clone(), slot));
        }
        Ok(fired)
    }

    pub async fn run(self, shutdown: CancellationToken) {
        if self.jobs.is_empty() {
            return;
        }
        while !shutdown.is_cancelled() {
            let now = now_ms();
            // Asked at every slot: a leader that died is replaced at the
            // first slot after its death. The slots fired are in the store,
            // so the new leader neither repeats nor skips one.
            if self.leadership.check().await {
                if let Err(e) = self.run_due(now).await {
                    tracing::error!(error = %e, "scheduler could not reach the store");
                }
            }
            let next = self
                .jobs
                .iter()
                .filter_map(|(_, s)| next_slot(s, now))
                .min()
                .map(|at| Duration::from_millis((at - now_ms()).max(0) as u64 + 5))
                .unwrap_or(MAX_SLEEP)
                .min(MAX_SLEEP);
            tokio::select! {
                _ = tokio::time::sleep(next) => {}
                _ = shutdown.cancelled() => {}
            }
        }
        self.leadership.release().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32, m: u32) -> i64 {
        Utc.with_ymd_and_hms(2026, 3, 2, h, m, 0)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn due_slot_is_the_latest_slot_since_last() {
        let every_15 = parse_cron("*/15 * * * *").unwrap();
        assert_eq!(due_slot(&every_15, at(10, 0), at(10, 14)), None);
        assert_eq!(due_slot(&every_15, at(10, 0), at(10, 15)), Some(at(10, 15)));
        // Down for an hour: one catch-up, the latest missed slot.
        assert_eq!(due_slot(&every_15, at(10, 0), at(11, 7)), Some(at(11, 0)));
        // Already fired for 11:00: nothing more until 11:15.
        assert_eq!(due_slot(&every_15, at(11, 0), at(11, 7)), None);
        assert_eq!(next_slot(&every_15, at(11, 7)), Some(at(11, 15)));
    }
}
