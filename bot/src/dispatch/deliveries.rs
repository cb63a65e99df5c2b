//! What a stored Launchpad webhook delivery does: announcements, planned
//! like everything else, keyed by the delivery id so a replayed or
//! redelivered delivery has one effect (shared reference launchpad-api, §7).

use serde_json::Value;
use shepherd_adapters::launchpad::target::{delivery_target, hears};
use shepherd_commands::launchpad::reactions::react;
use shepherd_commands::{Action, PlanDraft, StepDraft};

use crate::config::LaunchpadHook;
use crate::dispatch::Dispatcher;
use crate::store::{now_ms, Delivery, Inserted, NewPlan, Origin, StoreError};

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
        // Every hook, configured or registered by `!webhook register`.
        let mut hooks = self.hooks.clone();
        hooks.extend(
            self.store
                .registered_hooks()
                .await?
                .into_iter()
                .map(|h| LaunchpadHook {
                    target: h.target,
                    secret: h.secret,
                    channel: h.channel,
                }),
        );
        let since = now_ms() - 2 * 24 * 3600 * 1000;
        let rebuilds = self.store.rebuild_plans_since(since).await?;
        let mut drafts = Vec::with_capacity(batch.len());
        for d in batch {
            drafts.push(self.react(d, &hooks, rebuilds > 0, since).await?);
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

    /// What a delivery should announce (see `commands::launchpad::reactions`)
    /// and who hears it: the verifying hook's channels, a package's
    /// watchers, the threads of recent `!rebuild`s. Its plan's request key,
    /// origin and draft, or `None` when it is only recorded.
    async fn react(
        &self,
        d: &Delivery,
        hooks: &[LaunchpadHook],
        rebuilds: bool,
        since: i64,
    ) -> Result<Option<(String, Origin, PlanDraft)>, StoreError> {
        let payload: Value = serde_json::from_slice(&d.body).unwrap_or(Value::Null);
        let reaction = react(&d.event_type, &payload);
        if reaction.is_empty() {
            return Ok(None);
        }
        let target = delivery_target(&d.event_type, &payload);
        let mut channels: Vec<String> = channels_for(d, target.as_deref(), hooks)
            .into_iter()
            .map(str::to_string)
            .collect();
        if let Some(pkg) = &reaction.package {
            for s in self.store.subscriptions(None).await? {
                if s.kind == "package" && &s.target == pkg {
                    channels.push(s.channel);
                }
            }
        }
        channels.sort();
        channels.dedup();
        let messages: Vec<(String, String)> = channels
            .iter()
            .flat_map(|c| reaction.lines.iter().map(move |l| (c.clone(), l.clone())))
            .collect();
        let mut follow_ups: Vec<(String, String, String)> = Vec::new();
        if let (Some(f), true) = (&reaction.rebuild_follow_up, rebuilds) {
            for (c, t) in self.store.rebuild_threads(&f.owner, &f.snap, since).await? {
                follow_ups.push((c, t, f.text.clone()));
            }
        }
        Ok((!messages.is_empty() || !follow_ups.is_empty())
            .then(|| announcements(d, messages, follow_ups)))
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
