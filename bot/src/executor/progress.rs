//! What the executor tells a request's thread: one progress message,
//! edited as steps are sent, waited on and finished; a fresh reply when
//! the plan fails; the plan's outcome in the audit log.

use shepherd_adapters::chat::{SentMessage, ThreadRef};
use shepherd_commands::format::progress;
use shepherd_commands::PlanState;

use super::Executor;
use crate::store::{now_ms, AuditRecord, ClaimedStep, PlanProgress, StepOutcome};

impl Executor {
    /// Tells the request's thread how its plan is going: one progress
    /// message edited in place, and a fresh reply when it fails.
    pub(super) async fn report(&self, step: &ClaimedStep, outcome: &StepOutcome, p: &PlanProgress) {
        let id = p.plan_id;
        // Every line about a plan has one shape: `plan #2 · ▰▱ 1/2 — …`.
        let head = format!("plan #{id} · {} —", progress(p.done, p.total));
        let (text, fresh) = match (p.state, outcome) {
            (PlanState::Done, _) => {
                self.audit_end(p, "done", "").await;
                // No thread to say it in (a webhook's plan): nothing to list.
                if self.chat.is_none() || p.origin.thread.is_none() {
                    return;
                }
                let made = self.what_was_made(p).await;
                (format!("{head} done ✓ {}{made}", p.summary), false)
            }
            // A bulk plan's steps go on past a failure; it ends failed
            // when the last one is through, whichever that is, and says
            // each that failed.
            (PlanState::Failed, outcome) => match (outcome, self.failures(p).await) {
                (StepOutcome::Failed(e), (1, _)) => {
                    self.audit_end(p, "failed", e).await;
                    (
                        format!(
                            "{head} failed at step {}: {e} — `!show {id}` for details",
                            step.seq
                        ),
                        true,
                    )
                }
                (_, (_, text)) => {
                    self.audit_end(p, "failed", &text).await;
                    (format!("{head} {text} — `!show {id}` for details"), true)
                }
            },
            // A followed step says where it stands — when that changed.
            (_, StepOutcome::Waiting { note, .. }) => {
                if step.last_result.as_deref() == Some(note.as_str()) {
                    return;
                }
                (format!("{head} step {}: {note}", step.seq), false)
            }
            // A followed step's end is news (a test's result, a build
            // done): its own line, once — in plans small enough to read.
            (_, StepOutcome::Done(result)) if step.following && p.total <= SAID_EACH => {
                (format!("{head} step {}: {result}", step.seq), true)
            }
            // A look at a followed step failing for a while is no news:
            // its last note stands, and its own time limit ends it.
            (_, StepOutcome::Retry { .. }) if step.following => return,
            (_, StepOutcome::Retry { error, not_before }) => {
                let secs = ((not_before - now_ms()).max(0) + 999) / 1000;
                (
                    format!(
                        "{head} step {} hit a temporary error ({error}); retrying in {secs} s",
                        step.seq
                    ),
                    false,
                )
            }
            // One edit per cell of the bar, not per step: a 1,000-task plan
            // edits its message ten times, not a thousand (chat platforms
            // rate-limit edits).
            _ if p.total > 1 && bar(p.done, p.total) != bar(p.done.saturating_sub(1), p.total) => {
                (format!("{head} {}", p.summary), false)
            }
            _ => return,
        };
        self.say(p, &text, fresh).await;
    }

    /// The final line's list of what each step made (a build and its
    /// link, a published version and its page) — for plans short enough
    /// to list; longer ones point at `!show`.
    async fn what_was_made(&self, p: &PlanProgress) -> String {
        if p.total > MADE_LISTED {
            return format!("\n  · each step's result: `!show {}`", p.plan_id);
        }
        match self.store.step_results(p.plan_id, MADE_LISTED).await {
            Ok(results) => results.iter().map(|r| format!("\n  · {r}")).collect(),
            Err(e) => {
                tracing::warn!(error = %e, plan = p.plan_id, "could not read the plan's results");
                String::new()
            }
        }
    }

    /// How many steps failed, and "3 of 200 steps failed: step 8: …;
    /// step 71: …; step 171: …".
    async fn failures(&self, p: &PlanProgress) -> (u32, String) {
        match self.store.step_failures(p.plan_id, FAILURES_LISTED).await {
            Ok((count, first)) => {
                let listed: Vec<String> = first
                    .iter()
                    .map(|(seq, e)| format!("step {seq}: {e}"))
                    .collect();
                let more = if count as usize > first.len() {
                    "; …"
                } else {
                    ""
                };
                let text = format!(
                    "{count} of {} steps failed: {}{more}",
                    p.total,
                    listed.join("; ")
                );
                (count, text)
            }
            Err(e) => {
                tracing::warn!(error = %e, plan = p.plan_id, "could not read the plan's failures");
                (0, "failed".into())
            }
        }
    }

    pub(super) async fn audit_end(&self, p: &PlanProgress, outcome: &str, detail: &str) {
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
    pub(super) async fn say(&self, p: &PlanProgress, text: &str, fresh: bool) {
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

/// Plans with at most this many steps list each step's result when done.
const MADE_LISTED: u32 = 5;
/// Plans with at most this many steps say each followed step's end.
const SAID_EACH: u32 = 10;
/// Failed steps a bulk plan's last line names (the rest: `!show`).
const FAILURES_LISTED: u32 = 3;

/// The bar of a progress line, without its count.
fn bar(done: u32, total: u32) -> String {
    progress(done, total)
        .split(' ')
        .next()
        .unwrap_or_default()
        .to_string()
}
