//! Who hears a Launchpad delivery, and the plan that tells them: the
//! channel of the webhook whose secret verified it, the channels watching
//! the package it is about, and the threads of recent `!rebuild`s of the
//! snap whose build settled. Pure; what it says is `reactions`.

use serde_json::Value;
use shepherd_adapters::launchpad::target::{delivery_target, hears};

use super::reactions::react;
use crate::webhooks::{Announcements, DeliveryReactions, Hook, StoredDelivery, Surroundings};
use crate::{Action, PlanDraft, StepDraft};

/// Launchpad's webhook deliveries (shared reference launchpad-api, §7).
pub struct LaunchpadDeliveries;

impl DeliveryReactions for LaunchpadDeliveries {
    fn source(&self) -> &'static str {
        "launchpad"
    }

    fn follows_up(&self) -> &'static [&'static str] {
        &["rebuild"]
    }

    fn react(
        &self,
        d: &StoredDelivery<'_>,
        around: &Surroundings,
        step_key: &dyn Fn(usize) -> String,
    ) -> Option<Announcements> {
        let payload: Value = serde_json::from_slice(d.body).unwrap_or(Value::Null);
        let reaction = react(d.event_type, &payload);
        if reaction.is_empty() {
            return None;
        }
        let target = delivery_target(d.event_type, &payload);
        let mut channels: Vec<String> = channels_for(d, target.as_deref(), &around.hooks)
            .into_iter()
            .map(str::to_string)
            .collect();
        if let Some(pkg) = &reaction.package {
            channels.extend(
                around
                    .subscriptions
                    .iter()
                    .filter(|s| s.kind == "package" && &s.target == pkg)
                    .map(|s| s.channel.clone()),
            );
        }
        channels.sort();
        channels.dedup();
        let mut steps: Vec<(String, Option<String>, String)> = channels
            .iter()
            .flat_map(|c| {
                reaction
                    .lines
                    .iter()
                    .map(move |l| (c.clone(), None, l.clone()))
            })
            .collect();
        if let Some(f) = &reaction.rebuild_follow_up {
            let mut threads: Vec<(&str, &str)> = around
                .recent
                .iter()
                .filter(|p| matches!(&p.action, Action::RequestSnapBuild { owner, snap, .. } if *owner == f.owner && *snap == f.snap))
                .map(|p| (p.channel.as_str(), p.thread.as_str()))
                .collect();
            threads.sort_unstable();
            threads.dedup();
            for (c, t) in threads {
                steps.push((c.to_string(), Some(t.to_string()), f.text.clone()));
            }
        }
        let channel = steps.first()?.0.clone();
        let steps = steps
            .into_iter()
            .enumerate()
            .map(|(i, (channel, thread, text))| StepDraft {
                key: step_key(i),
                action: Action::Announce {
                    channel,
                    text,
                    thread,
                },
            })
            .collect();
        Some(Announcements {
            channel,
            draft: PlanDraft {
                summary: format!("Launchpad {} (delivery {})", d.event_type, d.id),
                steps,
                confirm_reason: None,
                notes: Vec::new(),
            },
        })
    }
}

/// Where a delivery is announced: the channel of the webhook whose secret
/// verified it — never those of other objects the payload mentions, nor
/// of other hooks that hear the same target (Launchpad sends each of them
/// its own delivery). Verified by the catch-all secret: the hooks on the
/// delivery's own target, else those that hear it.
fn channels_for<'h>(
    d: &StoredDelivery<'_>,
    target: Option<&str>,
    hooks: &'h [Hook],
) -> Vec<&'h str> {
    let same = |a: &str, b: &str| a.trim_end_matches('/') == b.trim_end_matches('/');
    let chosen: Vec<&Hook> = match (d.hook_target, target) {
        (Some(hook), _) => hooks.iter().filter(|h| same(&h.target, hook)).collect(),
        (None, Some(t)) => {
            let exact: Vec<_> = hooks.iter().filter(|h| same(&h.target, t)).collect();
            if exact.is_empty() {
                hooks
                    .iter()
                    .filter(|h| hears(&h.target, d.event_type, t))
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
