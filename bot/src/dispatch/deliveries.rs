//! What a stored Launchpad webhook delivery does: announcements, planned
//! like everything else, keyed by the delivery id so a replayed or
//! redelivered delivery has one effect (shared reference launchpad-api, §7).

use serde_json::Value;
use shepherd_adapters::launchpad::payload::{migration_tag, Bug, SnapBuild};
use shepherd_adapters::launchpad::target::{delivery_target, hears};
use shepherd_commands::{Action, PlanDraft, StepDraft};

use crate::config::LaunchpadHook;
use crate::dispatch::Dispatcher;
use crate::store::{now_ms, Delivery, Inserted, NewPlan, Origin, StoreError};

const WEB: &str = "https://launchpad.net";

/// Where a delivery is announced: the channel of the webhook whose secret
/// verified it — never those of other objects the payload mentions, nor
/// of other hooks that hear the same target (Launchpad sends each of them
/// its own delivery). Verified by the catch-all secret: the hooks on the
/// delivery's own target, else those that hear it.
fn channels_for<'h>(
    d: &Delivery,
    target: Option<&str>,
    hooks: &'h [LaunchpadHook],
) -> Vec<&'h str> {
    let same = |a: &str, b: &str| a.trim_end_matches('/') == b.trim_end_matches('/');
    let chosen: Vec<&LaunchpadHook> = match (&d.hook_target, target) {
        (Some(hook), _) => hooks.iter().filter(|h| same(&h.target, hook)).collect(),
        (None, Some(t)) => {
            let exact: Vec<_> = hooks.iter().filter(|h| same(&h.target, t)).collect();
            if exact.is_empty() {
                hooks
                    .iter()
                    .filter(|h| hears(&h.target, &d.event_type, t))
                    .collect()
            } else {
                exact
            }
        }
        (None, None) => Vec::new(),
    };
    let mut out: Vec<&str> = chosen.iter().filter_map(|h| h.channel.as_deref()).collect();
    out.sort_unstable();
    out.dedup();
    out
}

impl Dispatcher {
    /// Turns a stored delivery into its announcements and marks it processed.
    pub async fn handle_delivery(&self, d: &Delivery) -> Result<(), StoreError> {
        self.handle_deliveries(std::slice::from_ref(d)).await
    }

    /// Handles a batch, then marks them all processed in one transaction.
    /// What every delivery of the batch consults is read once.
    pub async fn handle_deliveries(&self, batch: &[Delivery]) -> Result<(), StoreError> {
        let registered: Vec<LaunchpadHook> = self
            .store
            .registered_hooks()
            .await?
            .into_iter()
            .map(|h| LaunchpadHook {
                target: h.target,
                secret: h.secret,
                channel: h.channel,
            })
            .collect();
        let since = now_ms() - 2 * 24 * 3600 * 1000;
        let rebuilds = self.store.rebuild_plans_since(since).await?;
        let mut drafts = Vec::with_capacity(batch.len());
        for d in batch {
            drafts.push(self.react(d, &registered, rebuilds > 0, since).await?);
        }
        // The plans and the processed marks of the whole batch: one commit.
        let plans: Vec<(String, Option<NewPlan<'_>>)> = batch
            .iter()
            .zip(&drafts)
            .map(|(d, draft)| {
                let plan = draft.as_ref().map(|(key, origin, draft)| {
                    NewPlan::released(key, "webhook", "launchpad", origin, draft)
                });
                (d.delivery_id.clone(), plan)
            })
            .collect();
        let inserted = self.store.finish_deliveries(&plans, now_ms()).await?;
        let new = inserted
            .iter()
            .filter(|i| matches!(i, Some(Inserted::New(_))))
            .count();
        if new > 0 {
            self.metrics
                .plans_created_total
                .fetch_add(new as u64, std::sync::atomic::Ordering::Relaxed);
            self.wake.notify_one();
        }
        Ok(())
    }

    /// What a delivery should announce: its plan's request key, origin and
    /// draft, or `None` when it is only recorded.
    async fn react(
        &self,
        d: &Delivery,
        registered: &[LaunchpadHook],
        rebuilds: bool,
        since: i64,
    ) -> Result<Option<(String, Origin, PlanDraft)>, StoreError> {
        let payload: Value = serde_json::from_slice(&d.body).unwrap_or(Value::Null);
        let mut messages: Vec<(String, String)> = Vec::new();
        // (channel, thread, text): follow-ups in the threads that asked for the work.
        let mut follow_ups: Vec<(String, String, String)> = Vec::new();
        let target = delivery_target(&d.event_type, &payload);
        let mut configured = channels_for(d, target.as_deref(), &self.hooks);
        configured.extend(channels_for(d, target.as_deref(), registered));
        configured.sort_unstable();
        configured.dedup();
        let say = |text: String, messages: &mut Vec<(String, String)>| {
            for c in &configured {
                messages.push((c.to_string(), text.clone()));
            }
        };
        match d.event_type.as_str() {
            "snap:build:0.1" => {
                if let Ok(b) = serde_json::from_value::<SnapBuild>(payload.clone()) {
                    let link = format!("{WEB}{}", b.snap_build);
                    if b.build_failed() {
                        let status = b.status.as_deref().unwrap_or("failed");
                        say(
                            format!(
                                "{} snap build {} failed ({status}) · {link} — `!rebuild {}`",
                                b.snap_name(),
                                b.build_id(),
                                b.snap_name()
                            ),
                            &mut messages,
                        );
                    } else if b.upload_failed() {
                        let status = b.store_upload_status.as_deref().unwrap_or("failed");
                        say(format!("{} snap build {} built, but the store upload failed ({status}) · {link}", b.snap_name(), b.build_id()), &mut messages);
                    }
                    if rebuilds {
                        follow_ups.extend(self.rebuild_follow_ups(&b, &link, since).await?);
                    }
                }
            }
            "bug:0.1" | "bug:comment:0.1" => {
                if let Ok(bug) = serde_json::from_value::<Bug>(payload.clone()) {
                    self.bug_messages(&bug, &configured, &mut messages).await?;
                }
            }
            "git:push:0.1" => {
                let repo = payload
                    .get("git_repository_path")
                    .and_then(Value::as_str)
                    .unwrap_or("a repository");
                let refs: Vec<String> = payload
                    .get("ref_changes")
                    .and_then(Value::as_object)
                    .map(|m| {
                        m.keys()
                            .map(|k| k.trim_start_matches("refs/heads/").to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                say(
                    format!("push to {repo}: {}", refs.join(", ")),
                    &mut messages,
                );
            }
            "merge-proposal:0.1" => {
                let mp = payload
                    .get("merge_proposal")
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                let action = payload
                    .get("action")
                    .and_then(Value::as_str)
                    .unwrap_or("changed");
                say(format!("merge proposal {action}: {WEB}{mp}"), &mut messages);
            }
            "livefs:build:0.1" | "ci:build:0.1" => {
                let build = ["livefs_build", "build"]
                    .iter()
                    .find_map(|k| payload.get(*k))
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                let status = payload.get("status").and_then(Value::as_str).unwrap_or("?");
                say(
                    format!(
                        "{} {status} · {WEB}{build}",
                        d.event_type.trim_end_matches(":0.1")
                    ),
                    &mut messages,
                );
            }
            // ping and event types we only record.
            _ => {}
        }
        Ok((!messages.is_empty() || !follow_ups.is_empty())
            .then(|| announcements(d, messages, follow_ups)))
    }

    /// A finished build (or store upload) of a snap someone asked `!rebuild`
    /// for in the last two days: said in that request's thread.
    async fn rebuild_follow_ups(
        &self,
        b: &SnapBuild,
        link: &str,
        since: i64,
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        let status = b.status.as_deref().unwrap_or("");
        let upload = b.store_upload_status.as_deref().unwrap_or("");
        let settled = b.build_failed()
            || b.upload_failed()
            || (status == "Successfully built" && upload != "Pending");
        let Some(owner) = b.owner() else {
            return Ok(Vec::new());
        };
        if !settled {
            return Ok(Vec::new());
        }
        let threads = self
            .store
            .rebuild_threads(owner.trim_start_matches('~'), b.snap_name(), since)
            .await?;
        let store = if upload.is_empty() {
            String::new()
        } else {
            format!(", store: {upload}")
        };
        let text = format!(
            "Launchpad: {} build {} is {status}{store} · {link}",
            b.snap_name(),
            b.build_id()
        );
        Ok(threads
            .into_iter()
            .map(|(c, t)| (c, t, text.clone()))
            .collect())
    }

    /// block-proposed / update-excuse tags added or removed → the package's watchers.
    async fn bug_messages(
        &self,
        bug: &Bug,
        configured: &[&str],
        out: &mut Vec<(String, String)>,
    ) -> Result<(), StoreError> {
        let pkg = bug.source_package();
        let mut lines = Vec::new();
        for t in bug.added_tags().into_iter().filter(|t| migration_tag(t)) {
            let what = if t == "update-excuse" {
                "now explains"
            } else {
                "now holds"
            };
            lines.push(format!(
                "LP: #{} {} tagged {t}: it {what} {} in -proposed",
                bug.number(),
                pkg.unwrap_or("?"),
                pkg.unwrap_or("the package")
            ));
        }
        for t in bug.removed_tags().into_iter().filter(|t| migration_tag(t)) {
            lines.push(format!(
                "LP: #{} {}: {t} removed",
                bug.number(),
                pkg.unwrap_or("?")
            ));
        }
        if lines.is_empty() {
            return Ok(());
        }
        let mut channels: Vec<String> = configured.iter().map(|c| c.to_string()).collect();
        if let Some(pkg) = pkg {
            for s in self.store.subscriptions(None).await? {
                if s.kind == "package" && s.target == pkg {
                    channels.push(s.channel);
                }
            }
        }
        channels.sort();
        channels.dedup();
        for c in channels {
            for l in &lines {
                out.push((
                    c.clone(),
                    format!("{l} · https://bugs.launchpad.net/bugs/{}", bug.number()),
                ));
            }
        }
        Ok(())
    }
}

/// One plan for a delivery's announcements, keyed by its delivery id.
fn announcements(
    d: &Delivery,
    messages: Vec<(String, String)>,
    follow_ups: Vec<(String, String, String)>,
) -> (String, Origin, PlanDraft) {
    let first_channel = messages
        .first()
        .map(|m| m.0.clone())
        .or_else(|| follow_ups.first().map(|f| f.0.clone()))
        .unwrap_or_default();
    let steps = messages
        .into_iter()
        .map(|(channel, text)| (channel, None, text))
        .chain(
            follow_ups
                .into_iter()
                .map(|(c, t, text)| (c, Some(t), text)),
        )
        .enumerate()
        .map(|(i, (channel, thread, text))| StepDraft {
            key: format!("webhook/launchpad/{}/{i}", d.delivery_id),
            action: Action::Announce {
                channel,
                text,
                thread,
            },
        })
        .collect();
    let draft = PlanDraft {
        summary: format!("Launchpad {} (delivery {})", d.event_type, d.delivery_id),
        steps,
        confirm_reason: None,
        notes: Vec::new(),
    };
    let origin = Origin {
        kind: "webhook".into(),
        channel: first_channel,
        thread: None,
    };
    let key = format!("webhook:launchpad:{}", d.delivery_id);
    (key, origin, draft)
}
