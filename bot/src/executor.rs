//! The executor: the one place that changes the world.
//!
//! It claims runnable steps from the store, applies each through an
//! [`Applier`], and records every attempt. Transient failures are retried
//! with capped exponential backoff and jitter; a step whose idempotency key
//! is already done (in any plan) is never applied again. On start it puts
//! back steps a crash left half-done, so every unfinished plan resumes.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use shepherd_adapters::autopkgtest::queues::find;
use shepherd_adapters::autopkgtest::{AutopkgtestClient, ClientError, TestRequest};
use shepherd_adapters::chat::{nonce_for, Chat, SentMessage, ThreadRef};
use shepherd_commands::format::progress;
use shepherd_commands::{Action, PlanState};
use thiserror::Error;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::config::ExecutorConfig;
use crate::launchpad::LaunchpadService;
use crate::metrics::Metrics;
use crate::secrets::Redactor;
use crate::store::{
    now_ms, AuditRecord, ClaimedStep, PlanProgress, StepOutcome, Store, StoreError,
};
use crate::supervise::catch_panic;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ApplyError {
    /// Worth another try later (timeouts, 5xx, rate limits).
    #[error("{0}")]
    Transient(String),
    /// Retrying will not help (refused, not found, bad request).
    #[error("{0}")]
    Permanent(String),
}

/// Applies one action to the world. Implementations should read before they
/// write: a step interrupted by a crash is applied again with the same key.
#[async_trait]
pub trait Applier: Send + Sync {
    /// Returns a one-line result for the plan record.
    async fn apply(&self, key: &str, action: &Action) -> Result<String, ApplyError>;
}

/// Delay before attempt `attempt + 1`: base·2^(attempt−1), capped, ±25% jitter.
pub fn backoff_ms(attempt: u32, base_ms: u64, cap_ms: u64) -> u64 {
    let exp = base_ms.saturating_mul(1u64 << attempt.saturating_sub(1).min(32));
    let capped = exp.min(cap_ms);
    let jitter = 0.75 + fastrand::f64() * 0.5;
    ((capped as f64) * jitter) as u64
}

pub struct Executor {
    store: Store,
    applier: Arc<dyn Applier>,
    chat: Option<Arc<dyn Chat>>,
    config: ExecutorConfig,
    wake: Arc<Notify>,
    metrics: Arc<Metrics>,
    redactor: Arc<Redactor>,
}

impl Executor {
    pub fn new(
        store: Store,
        applier: Arc<dyn Applier>,
        chat: Option<Arc<dyn Chat>>,
        config: ExecutorConfig,
        wake: Arc<Notify>,
        metrics: Arc<Metrics>,
        redactor: Arc<Redactor>,
    ) -> Self {
        Self {
            store,
            applier,
            chat,
            config,
            wake,
            metrics,
            redactor,
        }
    }

    /// Puts back the steps the last stop interrupted; call once, before `run`.
    pub async fn resume(&self) -> Result<u64, StoreError> {
        let resumed = self.store.requeue_interrupted(now_ms()).await?;
        if resumed > 0 {
            tracing::info!(resumed, "resuming steps interrupted by the last stop");
        }
        Ok(resumed)
    }

    /// One worker: runs until `shutdown`; a step being applied then is
    /// finished first. Several workers may share an executor: claiming a
    /// step is atomic, and a plan's steps still run in order.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) -> Result<(), StoreError> {
        let poll = Duration::from_millis(self.config.poll_interval_ms.max(10));
        while !shutdown.is_cancelled() {
            let worked = match self.tick().await {
                Ok(worked) => worked,
                Err(e) => {
                    tracing::error!(error = %e, "executor could not reach the store; retrying");
                    false
                }
            };
            if worked {
                continue;
            }
            let wait = match self.store.next_retry_at().await {
                Ok(Some(at)) => Duration::from_millis((at - now_ms()).max(0) as u64).min(poll),
                _ => poll,
            };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.cancelled() => {}
            }
        }
        Ok(())
    }

    /// One unit of work: expire overdue parked plans, then apply one step.
    /// Returns whether a step was applied.
    pub async fn tick(&self) -> Result<bool, StoreError> {
        self.expire_parked().await?;
        let Some(step) = self.store.claim_next(now_ms()).await? else {
            return Ok(false);
        };
        let outcome = self.apply(&step).await?;
        let progress = self.store.finish_step(&step, &outcome, now_ms()).await?;
        self.report(&step, &outcome, &progress).await;
        Ok(true)
    }

    async fn apply(&self, step: &ClaimedStep) -> Result<StepOutcome, StoreError> {
        if let Some(plan) = self.store.key_done_by(&step.key, step.step_id).await? {
            return Ok(StepOutcome::Done(format!(
                "already done by plan #{plan}; not repeated"
            )));
        }
        let applied = catch_panic(
            &self.metrics,
            "executor",
            &format!("step {} of plan #{}", step.seq, step.plan_id),
            self.applier.apply(&step.key, &step.action),
        )
        .await
        .unwrap_or_else(|panic| {
            Err(ApplyError::Permanent(format!(
                "internal error (a bug in Shepherd, logged): {panic}"
            )))
        });
        // Results and errors are stored, shown and audited: no secret in them.
        let result = match applied {
            Ok(r) => Ok(self.redactor.redact(&r).into_owned()),
            Err(ApplyError::Transient(e)) => {
                Err(ApplyError::Transient(self.redactor.redact(&e).into_owned()))
            }
            Err(ApplyError::Permanent(e)) => {
                Err(ApplyError::Permanent(self.redactor.redact(&e).into_owned()))
            }
        };
        Ok(match result {
            Ok(r) => {
                Metrics::bump(&self.metrics.steps_applied_total);
                StepOutcome::Done(r)
            }
            Err(ApplyError::Transient(e)) if step.attempts < self.config.max_attempts => {
                Metrics::bump(&self.metrics.step_retries_total);
                let delay = backoff_ms(
                    step.attempts,
                    self.config.backoff_base_ms,
                    self.config.backoff_cap_ms,
                );
                tracing::warn!(step = step.step_id, attempt = step.attempts, delay_ms = delay, error = %e, "transient failure; will retry");
                StepOutcome::Retry {
                    error: e,
                    not_before: now_ms() + delay as i64,
                }
            }
            Err(ApplyError::Transient(e)) => {
                Metrics::bump(&self.metrics.step_failures_total);
                StepOutcome::Failed(format!("{e} (gave up after {} attempts)", step.attempts))
            }
            Err(ApplyError::Permanent(e)) => {
                Metrics::bump(&self.metrics.step_failures_total);
                StepOutcome::Failed(e)
            }
        })
    }

    async fn expire_parked(&self) -> Result<(), StoreError> {
        let now = now_ms();
        for id in self.store.overdue_parked(now).await? {
            if !self.store.end_plan(id, PlanState::Expired, now).await? {
                continue;
            }
            let progress = self.store.plan_progress(id).await?;
            self.audit_end(&progress, "expired", "no confirmation in time")
                .await;
            let text = format!("plan #{id} expired without a `!confirm`; nothing was sent. Ask again to start over.");
            self.say(&progress, &text, true).await;
        }
        Ok(())
    }

    /// Tells the request's thread how its plan is going: one progress
    /// message edited in place, and a fresh reply when it fails.
    async fn report(&self, step: &ClaimedStep, outcome: &StepOutcome, p: &PlanProgress) {
        let id = p.plan_id;
        let (text, fresh) = match (p.state, outcome) {
            (PlanState::Done, _) => {
                self.audit_end(p, "done", "").await;
                (
                    format!(
                        "plan #{id} done ✓ {} — {}",
                        progress(p.done, p.total),
                        p.summary
                    ),
                    false,
                )
            }
            (PlanState::Failed, StepOutcome::Failed(e)) => {
                self.audit_end(p, "failed", e).await;
                (
                    format!(
                        "plan #{id} failed at step {}: {e} — `!show {id}` for details",
                        step.seq
                    ),
                    true,
                )
            }
            (_, StepOutcome::Retry { error, not_before }) => {
                let secs = ((not_before - now_ms()).max(0) + 999) / 1000;
                (format!("plan #{id} · step {} hit a temporary error ({error}); retrying in {secs} s", step.seq), false)
            }
            _ if p.total > 1 => (
                format!("plan #{id} · {} {}", progress(p.done, p.total), p.summary),
                false,
            ),
            _ => return,
        };
        self.say(p, &text, fresh).await;
    }

    async fn audit_end(&self, p: &PlanProgress, outcome: &str, detail: &str) {
        let record = AuditRecord {
            actor: "shepherd",
            channel: &p.origin.channel,
            action: &p.summary,
            plan_id: Some(p.plan_id),
            outcome,
            detail,
        };
        if let Err(e) = self.store.audit(record, now_ms()).await {
            tracing::error!(error = %e, plan = p.plan_id, "could not write the audit log");
        }
    }

    /// Posts to the plan's thread: edits its progress message unless `fresh`.
    async fn say(&self, p: &PlanProgress, text: &str, fresh: bool) {
        let (Some(chat), Some(thread)) = (&self.chat, &p.origin.thread) else {
            return;
        };
        let existing: Option<SentMessage> = p
            .progress_message
            .as_deref()
            .and_then(|m| serde_json::from_str(m).ok());
        let sent = match existing {
            Some(m) if !fresh => chat.edit(&m, text).await.map(|_| None),
            _ => {
                let to = ThreadRef {
                    channel: p.origin.channel.clone(),
                    thread: thread.clone(),
                };
                chat.reply(&to, text).await.map(Some)
            }
        };
        match sent {
            Ok(Some(m)) if !fresh => {
                let json = serde_json::to_string(&m).unwrap_or_default();
                if let Err(e) = self.store.set_progress_message(p.plan_id, &json).await {
                    tracing::warn!(error = %e, "could not remember the progress message");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, plan = p.plan_id, "could not report progress"),
        }
    }
}

/// The production applier: routes each action to the adapter that owns it.
pub struct WorldApplier {
    pub chat: Arc<dyn Chat>,
    pub autopkgtest: Option<AutopkgtestClient>,
    pub launchpad: Option<Arc<LaunchpadService>>,
}

#[async_trait]
impl Applier for WorldApplier {
    async fn apply(&self, key: &str, action: &Action) -> Result<String, ApplyError> {
        match action {
            // The attempt is recorded (claimed) before this runs; the nonce
            // lets a platform that supports it drop a re-send after a crash.
            Action::Announce {
                channel,
                text,
                thread,
            } => match self
                .chat
                .post_once(channel, thread.as_deref(), text, &nonce_for(key))
                .await
            {
                Ok(m) => Ok(format!("posted to {} ({})", m.channel, m.id)),
                Err(e) if e.is_transient() => Err(ApplyError::Transient(e.to_string())),
                Err(e) => Err(ApplyError::Permanent(e.to_string())),
            },
            Action::RequestAutopkgtest {
                release,
                arch,
                package,
                triggers,
                all_proposed,
                ppas,
            } => {
                let Some(client) = &self.autopkgtest else {
                    return Err(ApplyError::Permanent(
                        "autopkgtest-cloud is not configured".into(),
                    ));
                };
                let request = TestRequest {
                    release: release.clone(),
                    arches: vec![arch.clone()],
                    package: package.clone(),
                    triggers: triggers.clone(),
                    all_proposed: *all_proposed,
                    ppas: ppas.clone(),
                };
                request_test(client, &request).await
            }
            Action::CopyPackage {
                name,
                version,
                from,
                to,
                series,
                include_binaries,
            } => {
                self.lp()?
                    .copy_and_follow(name, version, from, to, series, *include_binaries)
                    .await
            }
            Action::RequestSnapBuild {
                owner,
                snap,
                arch,
                after_build,
                series,
            } => {
                self.lp()?
                    .build_and_follow(owner, snap, arch, *after_build, series.as_deref())
                    .await
            }
            Action::RegisterWebhook {
                target,
                events,
                channel,
            } => {
                self.lp()?
                    .register_webhook(target, events, channel.as_deref())
                    .await
            }
        }
    }
}

impl WorldApplier {
    fn lp(&self) -> Result<&LaunchpadService, ApplyError> {
        self.launchpad
            .as_deref()
            .ok_or_else(|| ApplyError::Permanent("Launchpad is not configured".into()))
    }
}

/// Reads before it writes: a test already queued or running (say, after a
/// crash between sending and recording) is not requested a second time.
async fn request_test(client: &AutopkgtestClient, r: &TestRequest) -> Result<String, ApplyError> {
    let classify = |e: ClientError| {
        if e.is_transient() {
            ApplyError::Transient(e.to_string())
        } else {
            ApplyError::Permanent(e.to_string())
        }
    };
    let in_flight = client.in_flight().await.map_err(classify)?;
    if let Some(f) = find(
        &in_flight,
        &r.release,
        &r.arches[0],
        &r.package,
        &r.sorted_triggers(),
        r.all_proposed,
    ) {
        return Ok(format!(
            "already {:?} on autopkgtest-cloud; not requested again",
            f.state
        )
        .to_lowercase());
    }
    match client.request(r).await {
        Ok(s) => Ok(format!(
            "queued ✓ (requester {})",
            s.field("requester").unwrap_or("?")
        )),
        Err(ClientError::Refused(e)) if e.is_duplicate() => {
            Ok(format!("{e} on autopkgtest-cloud; not sent twice"))
        }
        Err(e) => Err(classify(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered() {
        for _ in 0..200 {
            let first = backoff_ms(1, 1_000, 60_000);
            assert!((750..=1_250).contains(&first), "{first}");
            let third = backoff_ms(3, 1_000, 60_000);
            assert!((3_000..=5_000).contains(&third), "{third}");
            let late = backoff_ms(40, 1_000, 60_000);
            assert!((45_000..=75_000).contains(&late), "{late}");
        }
        let spread: std::collections::HashSet<u64> =
            (0..50).map(|_| backoff_ms(2, 1_000, 60_000)).collect();
        assert!(spread.len() > 10, "jitter spreads retries apart");
    }
}
