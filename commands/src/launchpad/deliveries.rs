//! Who hears a Launchpad delivery, and the plan that tells them: the
//! channel of the webhook whose secret verified it, the channels watching
//! the package it is about, and the threads of recent `!rebuild`s of the
//! snap whose build settled. Pure; what it says is `reactions`.

use crate::links::Links;
use serde_json::Value;
use shepherd_adapters::launchpad::webhooks::target::{delivery_target, hears};

use super::reactions::react;
use crate::deliveries::{Announcements, DeliveryReactions, Hook, StoredDelivery, Surroundings};
use crate::{Action, PlanDraft, StepDraft};

/// Launchpad's webhook deliveries (shared reference launchpad-api, §7).
/// Launchpad's deliveries in words, with links to `links`' Launchpad.
#[derive(Default)]
pub struct LaunchpadDeliveries {
    pub links: Links,
}

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
        let reaction = react(d.event_type, &payload, &self.links);
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
                parallel: false,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deliveries::PlanThread;
    use crate::Subscription;

    const FAILED: &str = r#"{"snap_build": "/~maas-committers/+snap/maas/+build/7", "snap": "/~maas-committers/+snap/maas", "status": "Failed to build", "store_upload_status": "Unscheduled"}"#;
    const BUILT: &str = r#"{"snap_build": "/~maas-committers/+snap/maas/+build/9", "snap": "/~maas-committers/+snap/maas", "status": "Successfully built", "store_upload_status": "Uploaded"}"#;
    const TAGGED: &str = r#"{"target": "/ubuntu/+source/glibc", "bug": "/bugs/5", "new": {"tags": ["block-proposed"]}, "old": {"tags": []}}"#;

    fn hook(target: &str, channel: Option<&str>) -> Hook {
        Hook {
            target: target.into(),
            channel: channel.map(str::to_string),
        }
    }

    fn around() -> Surroundings {
        Surroundings {
            hooks: vec![
                hook("/~maas-committers/+snap/maas", Some("#maas")),
                hook("/~maas-committers/+snap/maas/", Some("#maas-builds")),
                hook("/~maas-committers", Some("#team")),
                hook("/ubuntu", Some("#ubuntu")),
                hook("/~quiet/+snap/q", None),
            ],
            subscriptions: vec![Subscription {
                channel: "#glibc-watchers".into(),
                kind: "package".into(),
                target: "glibc".into(),
                created_by: "alice".into(),
            }],
            recent: vec![
                PlanThread {
                    channel: "#release".into(),
                    thread: "t-1".into(),
                    action: Action::RequestSnapBuild {
                        owner: "maas-committers".into(),
                        snap: "maas".into(),
                        arch: "amd64".into(),
                        after_build: None,
                        series: None,
                    },
                },
                PlanThread {
                    channel: "#release".into(),
                    thread: "t-2".into(),
                    action: Action::RequestSnapBuild {
                        owner: "someone-else".into(),
                        snap: "maas".into(),
                        arch: "amd64".into(),
                        after_build: None,
                        series: None,
                    },
                },
            ],
        }
    }

    /// (event, body, verifying hook) → (channel, thread) of each announcement.
    #[test]
    fn who_hears_a_delivery() {
        type Case<'a> = (
            &'a str,
            &'a str,
            Option<&'a str>,
            Vec<(&'a str, Option<&'a str>)>,
        );
        let cases: Vec<Case> = vec![
            // The verifying hook's channels only (trailing slash is the same
            // target, the owner's hook is another webhook), then the thread of
            // the matching `!rebuild`, not another owner's.
            (
                "snap:build:0.1",
                FAILED,
                Some("/~maas-committers/+snap/maas"),
                vec![
                    ("#maas", None),
                    ("#maas-builds", None),
                    ("#release", Some("t-1")),
                ],
            ),
            // A catch-all secret: the hooks on the delivery's own target.
            (
                "snap:build:0.1",
                FAILED,
                None,
                vec![
                    ("#maas", None),
                    ("#maas-builds", None),
                    ("#release", Some("t-1")),
                ],
            ),
            // A hook without a channel announces nowhere itself.
            (
                "snap:build:0.1",
                FAILED,
                Some("/~quiet/+snap/q"),
                vec![("#release", Some("t-1"))],
            ),
            // A successful build says nothing in channels; it follows up in the thread.
            (
                "snap:build:0.1",
                BUILT,
                Some("/~maas-committers/+snap/maas"),
                vec![("#release", Some("t-1"))],
            ),
            // A bug on a package: the distribution's hook, and the package's watchers.
            (
                "bug:0.1",
                TAGGED,
                Some("/ubuntu"),
                vec![("#glibc-watchers", None), ("#ubuntu", None)],
            ),
            (
                "bug:0.1",
                TAGGED,
                None,
                vec![("#glibc-watchers", None), ("#ubuntu", None)],
            ),
            ("ping", r#"{"ping": true}"#, Some("/ubuntu"), vec![]),
            ("snap:build:0.1", "not json", None, vec![]),
        ];
        for (event, body, verified_by, want) in cases {
            let d = StoredDelivery {
                id: "d-1",
                event_type: event,
                body: body.as_bytes(),
                hook_target: verified_by,
            };
            let got = LaunchpadDeliveries::default().react(&d, &around(), &|i| format!("k/{i}"));
            let heard: Vec<(String, Option<String>)> = got
                .as_ref()
                .map(|a| {
                    a.draft
                        .steps
                        .iter()
                        .map(|s| match &s.action {
                            Action::Announce {
                                channel, thread, ..
                            } => (channel.clone(), thread.clone()),
                            other => panic!("{other:?}"),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let want: Vec<(String, Option<String>)> = want
                .iter()
                .map(|(c, t)| (c.to_string(), t.map(str::to_string)))
                .collect();
            assert_eq!(heard, want, "{event} {body} verified by {verified_by:?}");
            if let Some(a) = got {
                assert_eq!(a.channel, want[0].0);
                assert_eq!(a.draft.steps[0].key, "k/0");
            }
        }
    }
}
