//! The executor: the one place that changes the world.
//!
//! It claims runnable steps from the store, applies each through an
//! [`Applier`], and records every attempt. An applier answers Done, an
//! error (transient: retried with capped exponential backoff and jitter;
//! permanent: the plan fails), or Waiting: the step's request is out and
//! the world has not finished (a copy being published, a build) — the step
//! releases its worker and is looked at again later, only reading. A step
//! whose idempotency key is already done (in any plan) is never applied
//! again. On start it puts back steps a stop left half-done, so every
//! unfinished plan resumes and every followed step is followed again.

pub mod apply;
mod backoff;
mod progress;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

use async_trait::async_trait;
use shepherd_adapters::chat::Chat;
use shepherd_commands::{Action, PlanState};
use thiserror::Error;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

pub use apply::WorldApplier;
pub use backoff::backoff_ms;

use crate::config::ExecutorConfig;
use crate::metrics::Metrics;
use crate::redaction::Redactor;
use crate::store::{now_ms, ClaimedStep, StepOutcome, Store, StoreError};
use crate::supervise::catch_panic;

/// How long a stop lets a step being applied finish; past this it is left
/// to be applied again at the next start (appliers read before they write).
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// How many times (a second apart) a step's outcome is offered to a store
/// that refuses writes before the worker gives up on it; the step is then
/// applied again at the next start.
const RECORD_TRIES: u32 = 120;

/// How long a worker that found nothing to claim waits, at least.
const CONTENDED: Duration = Duration::from_millis(10);

/// Workers claiming or recording steps at once. Applying a step (waiting
/// on a service) takes no place, so bulk plans keep their width; but a
/// dozen workers each driving a database connection flat out would take
/// the CPU from what the sender of a webhook waits on (on PostgreSQL every
/// connection is a server process, and the scheduler shares the cores
/// among processes, not among our tasks). A worker that finds no place
/// free to claim waits as when it finds nothing to claim.
const BOOKKEEPING: usize = 2;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ApplyError {
    /// Worth another try later (timeouts, 5xx, rate limits).
    #[error("{0}")]
    Transient(String),
    /// Retrying will not help (refused, not found, bad request).
    #[error("{0}")]
    Permanent(String),
}

impl ApplyError {
    /// A service's error: transient if the service's client says so.
    pub fn from_service(e: impl std::fmt::Display, transient: bool) -> Self {
        if transient {
            ApplyError::Transient(e.to_string())
        } else {
            ApplyError::Permanent(e.to_string())
        }
    }
}

/// What applying a step achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Finished; a one-line result for the plan record.
    Done(String),
    /// Sent, and the world is not finished with it: look again after
    /// `recheck_in` (only reading then). `note` says where it stands;
    /// `follow_ref` what to look at (kept with the step, across restarts).
    Waiting {
        note: String,
        recheck_in: Duration,
        follow_ref: Option<String>,
    },
}

/// The step being applied, as an applier sees it.
#[derive(Debug, Clone, Copy)]
pub struct StepCall<'a> {
    pub key: &'a str,
    pub action: &'a Action,
    /// The step's request was sent already (it answered Waiting before):
    /// read what became of it, never send again.
    pub following: bool,
    /// When the step was first applied (Unix ms), across restarts: the
    /// start of any timeout.
    pub first_applied_at: i64,
    /// What an earlier apply said to follow (e.g. the build it requested).
    pub follow_ref: Option<&'a str>,
    /// An earlier attempt may have reached the service (it failed, timed
    /// out, or was cut off by a crash): what the applier reads before it
    /// writes must be read now, not remembered from before that attempt.
    pub retried: bool,
}

/// Applies one action to the world. Implementations should read before they
/// write: a step interrupted by a crash is applied again with the same key.
#[async_trait]
pub trait Applier: Send + Sync {
    async fn apply(&self, step: &StepCall<'_>) -> Result<Applied, ApplyError>;
}

pub struct Executor {
    store: Store,
    applier: Arc<dyn Applier>,
    chat: Option<Arc<dyn Chat>>,
    config: ExecutorConfig,
    wake: Arc<Notify>,
    metrics: Arc<Metrics>,
    redactor: Arc<Redactor>,
    /// Places for claiming and recording (see [`BOOKKEEPING`]).
    bookkeeping: Semaphore,
    /// When overdue parked plans were last looked for (Unix ms): once a
    /// poll interval is enough, not once per worker per tick.
    expiry_checked: AtomicI64,
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
            bookkeeping: Semaphore::new(BOOKKEEPING),
            expiry_checked: AtomicI64::new(0),
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

    /// One worker: runs until `shutdown`; a step being applied then gets
    /// [`STOP_GRACE`] to finish (cut off, it is applied again at the next
    /// start). Several workers may share an executor: claiming a step is
    /// atomic, and a plan's steps are sent in order.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) -> Result<(), StoreError> {
        let poll = Duration::from_millis(self.config.poll_interval_ms.max(10));
        // A step claimed with the last one's result (one commit for both).
        let mut carried: Option<ClaimedStep> = None;
        while !shutdown.is_cancelled() {
            // A panic anywhere in a tick (claiming, reporting, recording)
            // is caught and counted; the worker goes on.
            let tick = catch_panic(
                &self.metrics,
                "executor",
                "tick",
                self.tick(carried.take(), &shutdown),
            );
            tokio::pin!(tick);
            let ticked = tokio::select! {
                r = &mut tick => r,
                _ = shutdown.cancelled() => match tokio::time::timeout(STOP_GRACE, &mut tick).await {
                    Ok(r) => r,
                    Err(_) => {
                        tracing::warn!("a step was still being applied at stop; it resumes at the next start");
                        return Ok(());
                    }
                },
            };
            let worked = match ticked {
                Ok(Ok((worked, next))) => {
                    carried = next;
                    worked
                }
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "executor could not reach the store; retrying");
                    false
                }
                Err(_) => false,
            };
            if worked {
                continue;
            }
            // Every place busy: others are claiming and recording, so
            // there is work; look again shortly without asking the store
            // (idle workers asking it each time took a share of the
            // database from the busy ones).
            if self.bookkeeping.available_permits() == 0 {
                tokio::select! {
                    _ = tokio::time::sleep(CONTENDED) => {}
                    _ = shutdown.cancelled() => {}
                }
                continue;
            }
            // A step due now that this worker could not claim is being
            // claimed elsewhere (another worker's or replica's transaction
            // holds it): look again shortly, not at once — every idle
            // worker spinning on it would starve the busy ones.
            let wait = match self.store.next_retry_at().await {
                Ok(Some(at)) => Duration::from_millis((at - now_ms()).max(0) as u64)
                    .max(CONTENDED)
                    .min(poll),
                _ => poll,
            };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.cancelled() => {}
            }
        }
        // Claimed but never started: give it back rather than count an attempt.
        if let Some(step) = carried {
            if let Err(e) = self.store.unclaim(&step, now_ms()).await {
                tracing::warn!(error = %e, "a claimed step is put back at the next start instead");
            }
        }
        Ok(())
    }

    /// One unit of work: expire overdue parked plans, then apply one step
    /// (`carried`, or the next one claimed). Returns whether a step was
    /// applied, and the next step, claimed with this one's result unless
    /// the worker is stopping.
    pub async fn tick(
        &self,
        carried: Option<ClaimedStep>,
        shutdown: &CancellationToken,
    ) -> Result<(bool, Option<ClaimedStep>), StoreError> {
        self.expire_parked().await?;
        let step = match carried {
            Some(s) => s,
            None => {
                // Recording goes first: a worker looking for work does not
                // queue for a place (idle workers polling would stand in
                // front of those finishing steps); it looks again shortly.
                let Ok(_place) = self.bookkeeping.try_acquire() else {
                    return Ok((false, None));
                };
                match self.store.claim_next(now_ms()).await? {
                    Some(s) => s,
                    None => return Ok((false, None)),
                }
            }
        };
        let outcome = self.apply(&step).await?;
        let (progress, next) = self
            .record(&step, &outcome, !shutdown.is_cancelled())
            .await?;
        self.report(&step, &outcome, &progress).await;
        Ok((true, next))
    }

    async fn record(
        &self,
        step: &ClaimedStep,
        outcome: &StepOutcome,
        claim: bool,
    ) -> Result<(crate::store::PlanProgress, Option<ClaimedStep>), StoreError> {
        let mut tries = 0;
        loop {
            // A place per attempt: one not taken while waiting to try again.
            let place = self.bookkeeping.acquire().await;
            let recorded = self
                .store
                .finish_and_claim(step, outcome, now_ms(), claim)
                .await;
            drop(place);
            match recorded {
                Ok(p) => return Ok(p),
                Err(e) if tries < RECORD_TRIES => {
                    tries += 1;
                    tracing::warn!(error = %e, step = step.step_id, "cannot record a step's outcome yet; trying again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn apply(&self, step: &ClaimedStep) -> Result<StepOutcome, StoreError> {
        // Asked once the claim has committed, not read with it: on
        // PostgreSQL the claim statement reads from the snapshot it started
        // with, and another replica could end a step of this key as done
        // while it ran; after the commit no step of this key can run.
        if let Some(plan) = self.store.key_done_by(&step.key, step.step_id).await? {
            return Ok(StepOutcome::Done(format!(
                "already done by plan #{plan}; not repeated"
            )));
        }
        let call = StepCall {
            key: &step.key,
            action: &step.action,
            following: step.following,
            first_applied_at: step.first_applied_at,
            follow_ref: step.follow_ref.as_deref(),
            retried: step.attempts > 1,
        };
        // Everything logged while the step is applied names it.
        let span =
            tracing::info_span!("step", plan = step.plan_id, seq = step.seq, key = %step.key);
        let started = std::time::Instant::now();
        let applied = catch_panic(
            &self.metrics,
            "executor",
            &format!("step {} of plan #{}", step.seq, step.plan_id),
            self.applier.apply(&call).instrument(span),
        )
        .await
        .unwrap_or_else(|panic| {
            Err(ApplyError::Permanent(format!(
                "internal error (a bug in Shepherd, logged): {panic}"
            )))
        });
        self.metrics
            .step_took(step.action.kind(), started.elapsed());
        // Results and errors are stored, shown and audited: no secret in them.
        let redact = |s: &str| self.redactor.redact(s).into_owned();
        Ok(match applied {
            Ok(Applied::Done(r)) => {
                Metrics::bump(&self.metrics.steps_applied_total);
                StepOutcome::Done(redact(&r))
            }
            Ok(Applied::Waiting {
                note,
                recheck_in,
                follow_ref,
            }) => StepOutcome::Waiting {
                note: redact(&note),
                not_before: now_ms() + recheck_in.as_millis() as i64,
                follow_ref,
            },
            // A followed step's looks may fail for a while (the service is
            // down): it stays followed, is looked at again at a steady pace
            // without using up attempts, and its own timeout ends it. This is
            // the one place that decides it, for every applier.
            Err(ApplyError::Transient(e)) if step.following => StepOutcome::Retry {
                not_before: now_ms()
                    + backoff_ms(2, self.config.backoff_base_ms, self.config.backoff_cap_ms) as i64,
                error: redact(&e),
            },
            Err(ApplyError::Transient(e)) if step.attempts < self.config.max_attempts => {
                Metrics::bump(&self.metrics.step_retries_total);
                let delay = backoff_ms(
                    step.attempts,
                    self.config.backoff_base_ms,
                    self.config.backoff_cap_ms,
                );
                let e = redact(&e);
                tracing::warn!(step = step.step_id, attempt = step.attempts, delay_ms = delay, error = %e, "transient failure; will retry");
                StepOutcome::Retry {
                    error: e,
                    not_before: now_ms() + delay as i64,
                }
            }
            Err(ApplyError::Transient(e)) => {
                Metrics::bump(&self.metrics.step_failures_total);
                StepOutcome::Failed(format!(
                    "{} (gave up after {} attempts)",
                    redact(&e),
                    step.attempts
                ))
            }
            Err(ApplyError::Permanent(e)) => {
                Metrics::bump(&self.metrics.step_failures_total);
                StepOutcome::Failed(redact(&e))
            }
        })
    }

    async fn expire_parked(&self) -> Result<(), StoreError> {
        let now = now_ms();
        let every = self.config.poll_interval_ms.max(10) as i64;
        let last = self.expiry_checked.load(Ordering::Relaxed);
        // (A clock set back counts as time enough.)
        if (0..every).contains(&(now - last))
            || self
                .expiry_checked
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return Ok(());
        }
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
}
