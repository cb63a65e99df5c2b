//! Proposed-migration changes → the channels that watch them, one
//! coalesced message per channel per poll (TRANSCRIPTS.md: "announcements
//! only say what changed").

use crate::links::Links;
use std::collections::BTreeMap;

use shepherd_adapters::britney::{Change, Leaving, Transition};

use crate::{Action, PlanDraft, StepDraft, Subscription};

/// Does this subscription cover this transition?
fn covers(sub: &Subscription, t: &Transition, teams: &BTreeMap<String, Vec<String>>) -> bool {
    match sub.kind.as_str() {
        "package" => sub.target == t.source,
        "maintainer" => t
            .maintainer
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case(&sub.target)),
        "team" => teams
            .get(&sub.target)
            .is_some_and(|pkgs| pkgs.contains(&t.source)),
        _ => false,
    }
}

/// Channel → the transitions it watches, in the order they came.
pub fn route<'t>(
    transitions: &'t [Transition],
    subs: &[Subscription],
    teams: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, Vec<&'t Transition>> {
    let mut out: BTreeMap<String, Vec<&Transition>> = BTreeMap::new();
    for t in transitions {
        let mut channels: Vec<&str> = subs
            .iter()
            .filter(|s| covers(s, t, teams))
            .map(|s| s.channel.as_str())
            .collect();
        channels.sort_unstable();
        channels.dedup();
        for c in channels {
            out.entry(c.to_string()).or_default().push(t);
        }
    }
    out
}

/// The heading each kind of change is listed under, in display order.
fn heading(c: &Change) -> (u8, &'static str) {
    match c {
        Change::Left {
            how: Leaving::Migrated,
            ..
        } => (0, "migrated"),
        Change::Left {
            how: Leaving::Superseded { .. },
            ..
        } => (1, "superseded"),
        Change::Left {
            how: Leaving::Unknown,
            ..
        } => (2, "left -proposed (migrated or removed)"),
        Change::NewRegression { .. } => (3, "new regression"),
        Change::RegressionCleared { .. } => (4, "cleared"),
        Change::Blocked { .. } => (5, "blocked"),
        Change::Unblocked { .. } => (6, "unblocked"),
        Change::BecameCandidate => (7, "now a valid candidate"),
        Change::VerdictChanged { .. } => (8, "verdict changed"),
        Change::AgeReached { .. } => (9, "old enough"),
        Change::NewVersion { .. } => (10, "new upload"),
        Change::Appeared { .. } => (11, "entered -proposed"),
    }
}

fn phrase(t: &Transition, links: &Links) -> String {
    let s = &t.source;
    match &t.change {
        Change::Left {
            version,
            how: Leaving::Superseded { by },
        } => format!("{s} {version} (by {by})"),
        Change::Left { version, .. } => format!("{s} {version}"),
        Change::NewRegression {
            test,
            arch,
            log_url,
        } => {
            let log = log_url
                .as_deref()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default();
            format!("{s} → breaks {test} on {arch}{log}")
        }
        Change::RegressionCleared { test, arch, now } => {
            let now = now
                .as_ref()
                .map(|n| format!(", now {}", n.as_str()))
                .unwrap_or_default();
            format!("{test} on {arch} ({s}{now})")
        }
        Change::Blocked { bug } => format!("{s} by LP: #{bug} (block-proposed) {}", links.bug(bug)),
        Change::Unblocked { bug } => {
            format!("{s} (LP: #{bug} no longer blocks) {}", links.bug(bug))
        }
        Change::BecameCandidate => s.clone(),
        Change::VerdictChanged { from, to } => format!("{s} {from} → {to}"),
        Change::AgeReached { days, required } => format!("{s} ({days:.1} of {required} days)"),
        Change::NewVersion { from, to } => format!("{s} {from} → {to}"),
        Change::Appeared { version } => format!("{s} {version}"),
    }
}

/// One message for one channel: a heading line, then one line per kind of change.
pub fn render(series: &str, when: &str, transitions: &[&Transition], links: &Links) -> String {
    let mut groups: BTreeMap<(u8, &str), Vec<String>> = BTreeMap::new();
    for t in transitions {
        groups
            .entry(heading(&t.change))
            .or_default()
            .push(phrase(t, links));
    }
    let mut out = format!("[proposed-migration · {series}, {when} run]");
    for ((_, title), items) in groups {
        out.push_str(&format!("\n{title}: {}", items.join(", ")));
    }
    out
}

/// A poll's announcements: one message per watching channel, as a plan
/// keyed per channel by `step_key(channel)`. `None` = nobody to tell.
pub fn poll_announcements(
    series: &str,
    slot_ms: i64,
    transitions: &[Transition],
    subs: &[Subscription],
    teams: &BTreeMap<String, Vec<String>>,
    links: &Links,
    step_key: &(dyn Fn(&str) -> String + Sync),
) -> Option<PlanDraft> {
    let routed = route(transitions, subs, teams);
    if routed.is_empty() {
        return None;
    }
    let when = chrono::DateTime::from_timestamp_millis(slot_ms)
        .map(|d| d.format("%H:%M").to_string())
        .unwrap_or_default();
    let steps = routed
        .iter()
        .map(|(channel, ts)| StepDraft {
            key: step_key(channel),
            action: Action::Announce {
                channel: channel.clone(),
                text: render(series, &when, ts, links),
                thread: None,
            },
        })
        .collect();
    Some(PlanDraft {
        summary: format!("{series} excuses changes for {} channel(s)", routed.len()),
        steps,
        confirm_reason: None,
        notes: Vec::new(),
        parallel: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use shepherd_adapters::britney::Status;

    fn t(source: &str, change: Change) -> Transition {
        Transition {
            item: source.into(),
            source: source.into(),
            maintainer: Some("Ubuntu Developers".into()),
            change,
        }
    }

    fn sub(channel: &str, kind: &str, target: &str) -> Subscription {
        Subscription {
            channel: channel.into(),
            kind: kind.into(),
            target: target.into(),
            created_by: "x".into(),
        }
    }

    #[test]
    fn routes_by_package_maintainer_and_team_once_per_channel() {
        let ts = vec![
            t(
                "glibc",
                Change::Left {
                    version: "2.41-1ubuntu2".into(),
                    how: Leaving::Migrated,
                },
            ),
            t(
                "python3.13",
                Change::NewRegression {
                    test: "pytest-xdist".into(),
                    arch: "arm64".into(),
                    log_url: None,
                },
            ),
        ];
        let subs = vec![
            sub("#a", "package", "glibc"),
            sub("#a", "maintainer", "ubuntu developers"),
            sub("#b", "team", "foundations"),
            sub("#c", "package", "other"),
        ];
        let teams = BTreeMap::from([("foundations".to_string(), vec!["python3.13".to_string()])]);
        let r = route(&ts, &subs, &teams);
        assert_eq!(
            r["#a"].len(),
            2,
            "glibc once, though two subscriptions match"
        );
        assert_eq!(r["#b"].len(), 1);
        assert!(!r.contains_key("#c"));
    }

    #[test]
    fn renders_one_coalesced_message() {
        let ts = [
            t(
                "glibc",
                Change::Left {
                    version: "2.41-1ubuntu2".into(),
                    how: Leaving::Migrated,
                },
            ),
            t(
                "systemd",
                Change::Left {
                    version: "257.2-3ubuntu1".into(),
                    how: Leaving::Migrated,
                },
            ),
            t(
                "python3.13",
                Change::NewRegression {
                    test: "pytest-xdist".into(),
                    arch: "arm64".into(),
                    log_url: None,
                },
            ),
            t(
                "libsepol",
                Change::RegressionCleared {
                    test: "refpolicy".into(),
                    arch: "amd64".into(),
                    now: Some(Status::Pass),
                },
            ),
            t("libsepol", Change::BecameCandidate),
        ];
        let refs: Vec<&Transition> = ts.iter().collect();
        assert_eq!(
            render("plucky", "14:05", &refs, &Links::default()),
            "[proposed-migration · plucky, 14:05 run]\n\
             migrated: glibc 2.41-1ubuntu2, systemd 257.2-3ubuntu1\n\
             new regression: python3.13 → breaks pytest-xdist on arm64\n\
             cleared: refpolicy on amd64 (libsepol, now PASS)\n\
             now a valid candidate: libsepol"
        );
    }

    /// A poll's plan: one step per watching channel, keyed per channel;
    /// nobody watching = no plan.
    #[test]
    fn poll_announcements_table() {
        let migrated = t(
            "glibc",
            Change::Left {
                version: "2.41-1ubuntu2".into(),
                how: Leaving::Migrated,
            },
        );
        let teams = BTreeMap::new();
        let key = |c: &str| format!("k/{c}");
        let cases: Vec<(Vec<Subscription>, Option<(&str, Vec<&str>)>)> = vec![
            (vec![], None),
            (vec![sub("#a", "package", "other")], None),
            (
                vec![
                    sub("#b", "package", "glibc"),
                    sub("#a", "maintainer", "Ubuntu Developers"),
                ],
                Some((
                    "plucky excuses changes for 2 channel(s)",
                    vec!["k/#a", "k/#b"],
                )),
            ),
        ];
        for (subs, want) in cases {
            let got = poll_announcements(
                "plucky",
                0,
                std::slice::from_ref(&migrated),
                &subs,
                &teams,
                &Links::default(),
                &key,
            );
            let got = got.map(|d| {
                let text = match &d.steps[0].action {
                    Action::Announce { text, .. } => text.clone(),
                    other => panic!("{other:?}"),
                };
                assert_eq!(
                    text,
                    "[proposed-migration · plucky, 00:00 run]\nmigrated: glibc 2.41-1ubuntu2"
                );
                (
                    d.summary,
                    d.steps.into_iter().map(|s| s.key).collect::<Vec<_>>(),
                )
            });
            let want =
                want.map(|(s, k)| (s.to_string(), k.iter().map(|k| k.to_string()).collect()));
            assert_eq!(got, want, "{subs:?}");
        }
    }
}
