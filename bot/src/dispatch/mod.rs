//! Dispatch: an event in, at most one plan and one reply out.
//!
//! Chat text is parsed, permission-checked and planned by its command; the
//! resulting plan is stored (dry run, parked for `!confirm`, or released to
//! the executor) and the answer goes back to the thread it came from.
//! Every refusal, mistake and decision about a plan lands in the audit log.

mod confirm;
mod deliveries;
pub mod flood;
mod ticks;
mod watch;

use std::sync::Arc;

use shepherd_adapters::chat::{Chat, Incoming, ThreadRef};
use shepherd_commands::format::expires_in;
use shepherd_commands::{
    parse, Context, Outcome, Parsed, PlanDraft, PlanState, Policy, Registry, StepDraft,
};
use tokio::sync::Notify;
use tracing::Instrument;

use crate::config::ConfirmConfig;
use crate::events::Event;
use crate::metrics::{EventSource, Metrics};
use crate::permissions::{Caller, Permissions, Refusal};
use crate::redaction::Redactor;
use crate::store::{now_ms, AuditRecord, Inserted, NewPlan, Origin, Store, StoreError};
use crate::views::Views;
use flood::{FloodLimit, Verdict};
use shepherd_commands::links::Links;
use shepherd_commands::polls::Poller;

pub use deliveries::WebhookService;
pub(crate) use shepherd_commands::format::plural;

/// How many steps a preview lists before summarising the rest.
const PREVIEW_STEPS: usize = 10;

pub struct Dispatcher {
    pub store: Store,
    pub registry: Arc<Registry>,
    pub permissions: Arc<Permissions>,
    pub chat: Arc<dyn Chat>,
    pub confirm: ConfirmConfig,
    /// Wakes the executor when a plan is released.
    pub wake: Arc<Notify>,
    pub metrics: Arc<Metrics>,
    /// What planners read; only the executor holds write-capable clients.
    pub views: Views,
    /// One per service that posts webhooks.
    pub webhooks: Vec<WebhookService>,
    /// One per kind of scheduled poll.
    pub pollers: Vec<Arc<dyn Poller>>,
    /// Steps of a bulk plan (`PlanDraft::parallel`) in flight at once.
    pub bulk_concurrency: u32,
    /// Scrubs secrets from what is written to the audit log.
    pub redactor: Arc<Redactor>,
    /// Commands per person per minute, when limited.
    pub flood: Option<FloodLimit>,
    pub links: Arc<Links>,
}

/// A request being answered: who, where, and the reply target.
pub(crate) struct Request<'a> {
    pub(crate) msg: &'a Incoming,
    pub(crate) key: String,
    pub(crate) thread: ThreadRef,
}

impl Dispatcher {
    pub async fn handle(&self, event: Event) {
        let key = event.request_key(self.chat.platform());
        // Everything logged while this event is handled carries its key.
        let span = tracing::info_span!("event", key = %key);
        self.handle_keyed(event, key).instrument(span).await
    }

    async fn handle_keyed(&self, event: Event, key: String) {
        match event {
            Event::Chat(msg) => self.handle_chat(&msg, key).await,
            Event::Tick { job, slot_ms } => {
                if let Err(e) = self.handle_tick(&job, slot_ms, &key).await {
                    tracing::error!(error = %e, job = job.name, "scheduled job could not be planned");
                }
            }
            Event::Webhook(d) => {
                if let Err(e) = self.handle_delivery(&d).await {
                    // Left unprocessed: it is replayed at the next start.
                    tracing::error!(error = %e, delivery = d.delivery_id, "webhook delivery not processed");
                }
            }
        }
    }

    async fn handle_chat(&self, msg: &Incoming, key: String) {
        Metrics::bump(&self.metrics.messages_total);
        self.metrics.events(EventSource::Chat, 1);
        let req = Request {
            msg,
            key,
            thread: ThreadRef {
                channel: msg.channel.clone(),
                thread: msg.thread.clone(),
            },
        };
        let text = match self.answer(&req).await {
            Ok(Some(text)) => text,
            Ok(None) => return,
            Err(e) => {
                let reference = format!("{:08x}", fastrand::u32(..));
                tracing::error!(error = %e, reference, actor = msg.actor, "request failed");
                format!("something went wrong on my side (ref {reference}); an operator can find it in the log")
            }
        };
        if let Err(e) = self.chat.reply(&req.thread, &text).await {
            tracing::warn!(error = %e, "could not reply");
        }
    }

    /// The reply to a chat message, if it was a command.
    async fn answer(&self, req: &Request<'_>) -> Result<Option<String>, StoreError> {
        let msg = req.msg;
        let parsed = parse(&msg.text, &self.registry);
        let cost = match &parsed {
            Parsed::NotACommand => return Ok(None),
            Parsed::Command(_) => 1,
            Parsed::Unknown { .. } | Parsed::Malformed { .. } => 2,
        };
        if let Some(answer) = self.flood_check(req, cost).await? {
            return Ok(answer);
        }
        let inv = match parsed {
            Parsed::NotACommand => return Ok(None),
            Parsed::Unknown { name, suggestion } => {
                Metrics::bump(&self.metrics.commands_total);
                return Ok(Some(match suggestion {
                    Some(s) => format!("no command !{name} — did you mean !{s}?"),
                    None => format!("no command !{name} — `!help` lists what I can do"),
                }));
            }
            Parsed::Malformed {
                position,
                reason,
                usage,
            } => {
                Metrics::bump(&self.metrics.commands_total);
                let detail = format!("{reason} at column {}", position + 1);
                self.audit(req, None, "malformed", &detail).await?;
                return Ok(Some(format!("usage: {usage} — {detail}")));
            }
            Parsed::Command(inv) => inv,
        };
        Metrics::bump(&self.metrics.commands_total);
        let Some(command) = self.registry.command(&inv.name) else {
            return Ok(None);
        };
        let spec = command.spec();
        // A read-only use of a writing command (`!bugs list`) needs no
        // role — but still the command's channels.
        let read_only = command.reads(&inv);
        match self.permissions.check(Caller::from(msg), spec) {
            Err(Refusal::NeedsRole { .. } | Refusal::NoOneHolds { .. }) if read_only => {}
            Err(refusal) => {
                Metrics::bump(&self.metrics.refusals_total);
                self.audit(req, None, "refused", &refusal.audit_detail())
                    .await?;
                let mut text = refusal.message(spec.name);
                // A DM carries no server roles: a role held through one
                // looks missing there.
                if msg.direct
                    && matches!(refusal, Refusal::NeedsRole { .. })
                    && msg.groups.is_empty()
                {
                    text.push_str(
                        " (in a direct message I cannot see your server roles: ask in a channel)",
                    );
                }
                return Ok(Some(text));
            }
            Ok(()) => {}
        }
        let now = now_ms();
        let cx = Context {
            actor: &msg.actor,
            request_id: &req.key,
            channel: &msg.channel,
            now_ms: now,
            registry: &self.registry,
            ledger: &self.store,
            policy: self.permissions.as_ref(),
            migration: self.views.migration.as_ref(),
            launchpad: self.views.launchpad.as_ref(),
            release: self.views.release.as_ref(),
            links: &self.links,
        };
        let outcome = match command.plan(&inv, &cx).await {
            Ok(o) => o,
            Err(e) => {
                if spec.writes {
                    self.audit(req, None, "rejected", &e.0).await?;
                }
                return Ok(Some(e.0));
            }
        };
        if read_only && !matches!(outcome, Outcome::Reply(_)) {
            return Ok(Some(format!(
                "!{} planned a change from a read; refused",
                spec.name
            )));
        }
        Ok(Some(match outcome {
            Outcome::Reply(text) => text,
            Outcome::Plan(draft) => {
                let role = self.permissions.required_role(spec);
                let forced = self.permissions.forces_confirm(spec);
                self.store_plan(req, spec.name, draft, inv.dry_run(), role, forced)
                    .await?
            }
            Outcome::Confirm(id) => self.confirm(req, id).await?,
            Outcome::Cancel(id) => self.cancel(req, id).await?,
            Outcome::Watch { kind, name } => self.watch(req, kind, &name, true).await?,
            Outcome::Unwatch { kind, name } => self.watch(req, kind, &name, false).await?,
            Outcome::Poll { job, arg } => self.poll_now(req, &job, arg.as_deref()).await?,
        }))
    }

    /// `None`: go on. Otherwise the answer to a message over the flood
    /// limit (itself `None`: already told, say nothing).
    async fn flood_check(
        &self,
        req: &Request<'_>,
        cost: u32,
    ) -> Result<Option<Option<String>>, StoreError> {
        let Some(flood) = &self.flood else {
            return Ok(None);
        };
        Ok(match flood.admit(&req.msg.actor, cost, now_ms()) {
            Verdict::Admit => None,
            Verdict::Ignore => Some(None),
            Verdict::SlowDown { wait_s } => {
                Metrics::bump(&self.metrics.refusals_total);
                self.audit(req, None, "refused", "flood limit").await?;
                Some(Some(format!(
                    "slow down, {} — more than {} commands in a minute; I'll read yours again in {wait_s} s",
                    req.msg.display_name,
                    flood.per_minute()
                )))
            }
        })
    }

    async fn store_plan(
        &self,
        req: &Request<'_>,
        command: &str,
        draft: PlanDraft,
        dry_run: bool,
        role: Option<String>,
        forced: bool,
    ) -> Result<String, StoreError> {
        if draft.steps.is_empty() {
            return Ok(format!("nothing to do: {}", draft.summary));
        }
        if let Some(id) = self.store.plan_for_request(&req.key).await? {
            return Ok(already(id));
        }
        let mut draft = draft;
        if let Some(nothing_new) = self.leave_out_taken(&mut draft).await? {
            return Ok(nothing_new);
        }
        let max = self.confirm.max_unconfirmed_steps;
        let rules = self.confirm.danger_rules();
        let reason = draft
            .danger(&rules)
            .or_else(|| forced.then(|| format!("!{command} always asks here")))
            .or_else(|| {
                (draft.steps.len() > max)
                    .then(|| format!("{} steps, more than {max}", draft.steps.len()))
            });
        let now = now_ms();
        let expires_at = now + (self.confirm.expiry_minutes * 60_000) as i64;
        let state = match (&reason, dry_run) {
            (_, true) => PlanState::DryRun,
            (Some(_), false) => PlanState::AwaitingConfirmation,
            (None, false) => PlanState::Pending,
        };
        let origin = Origin {
            kind: "chat".into(),
            channel: req.msg.channel.clone(),
            thread: Some(req.msg.thread.clone()),
        };
        let inserted = self
            .store
            .insert_plan(
                NewPlan {
                    request_key: &req.key,
                    command,
                    requested_by: &req.msg.actor,
                    origin: &origin,
                    draft: &draft,
                    state,
                    needs_role: role.as_deref(),
                    confirm_reason: reason.as_deref(),
                    expires_at: (state == PlanState::AwaitingConfirmation).then_some(expires_at),
                    audit: Some(AuditRecord {
                        actor: &req.msg.actor,
                        channel: &req.msg.channel,
                        action: req.msg.text.trim(),
                        plan_id: None,
                        outcome: match state {
                            PlanState::DryRun => "dry-run",
                            PlanState::AwaitingConfirmation => "parked",
                            _ => "queued",
                        },
                        detail: "",
                    }),
                    width: if draft.parallel {
                        self.bulk_concurrency
                    } else {
                        1
                    },
                },
                now,
            )
            .await?;
        let id = match inserted {
            Inserted::Existing(id) => return Ok(already(id)),
            Inserted::New(id) => id,
        };
        Metrics::bump(&self.metrics.plans_created_total);
        if state == PlanState::Pending {
            self.wake.notify_one();
        }
        let expiry = expires_in(now, expires_at);
        let reason = reason.as_deref().unwrap_or("confirmation required");
        Ok(stored_reply(
            id,
            state,
            &draft,
            reason,
            role.as_deref(),
            &expiry,
        ))
    }

    /// One effect per request: steps another plan already did (or is about
    /// to do) are left out of `draft` and named in its notes, not sent
    /// twice. `Some(reply)` when nothing is left.
    async fn leave_out_taken(&self, draft: &mut PlanDraft) -> Result<Option<String>, StoreError> {
        let keys: Vec<String> = draft.steps.iter().map(|s| s.key.clone()).collect();
        let taken = self.store.keys_taken(&keys).await?;
        if taken.is_empty() {
            return Ok(None);
        }
        let mut plans: Vec<i64> = taken.iter().map(|(_, p)| *p).collect();
        plans.sort_unstable();
        plans.dedup();
        let by = plans
            .iter()
            .map(|p| format!("#{p}"))
            .collect::<Vec<_>>()
            .join(", ");
        draft
            .steps
            .retain(|s| !taken.iter().any(|(k, _)| *k == s.key));
        if draft.steps.is_empty() {
            return Ok(Some(format!(
                "nothing new: already requested by plan {by} — `!show {}`",
                plans[plans.len() - 1]
            )));
        }
        draft.notes.push(format!(
            "({} step{} left out: already requested by plan {by})",
            taken.len(),
            plural(taken.len())
        ));
        Ok(None)
    }

    pub(crate) async fn audit(
        &self,
        req: &Request<'_>,
        plan_id: Option<i64>,
        outcome: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        let detail = self.redactor.redact(detail);
        let action = self.redactor.redact(req.msg.text.trim());
        let record = AuditRecord {
            actor: &req.msg.actor,
            channel: &req.msg.channel,
            action: &action,
            plan_id,
            outcome,
            detail: &detail,
        };
        self.store.audit(record, now_ms()).await.map(|_| ())
    }
}

/// What the requester hears about a newly stored plan.
fn stored_reply(
    id: i64,
    state: PlanState,
    draft: &PlanDraft,
    reason: &str,
    role: Option<&str>,
    expiry: &str,
) -> String {
    let n = draft.steps.len();
    let steps = preview(&draft.steps);
    let notes: String = draft.notes.iter().map(|n| format!("\n{n}")).collect();
    match state {
        PlanState::DryRun => format!(
            "plan #{id} (dry run, nothing sent) — {n} step{}: {}{steps}{notes}",
            plural(n),
            draft.summary
        ),
        PlanState::AwaitingConfirmation => {
            let who = role.map(|r| format!(" ({r})")).unwrap_or_default();
            format!(
                "plan #{id} needs confirmation ({reason}) — expires {expiry}:{steps}{notes}\n`!confirm {id}`{who} · `!cancel {id}`"
            )
        }
        _ => format!(
            "plan #{id} · {n} step{} queued ✓ — {}. I'll report here.{notes}",
            plural(n),
            draft.summary
        ),
    }
}

fn already(id: i64) -> String {
    format!("that request is already plan #{id} — `!show {id}`")
}

fn preview(steps: &[StepDraft]) -> String {
    let mut out = String::new();
    for s in steps.iter().take(PREVIEW_STEPS) {
        out.push_str(&format!("\n  · {}", s.action.describe()));
    }
    if steps.len() > PREVIEW_STEPS {
        out.push_str(&format!(
            "\n  · … and {} more (`!show` lists all)",
            steps.len() - PREVIEW_STEPS
        ));
    }
    out
}
