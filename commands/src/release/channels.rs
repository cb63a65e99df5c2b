//! Snap channel changes → the channels that `!watch snap` it: what a
//! `poll_channels` job announces after diffing two reads of the channel
//! map (the Snap Store has no webhook for this). Pure: the bot reads and
//! stores the maps.

use std::collections::BTreeMap;

use super::view::SnapChannels;
use crate::plan::{Action, PlanDraft, StepDraft};
use crate::Subscription;

/// A branch this close to expiring is announced (once, on crossing).
pub const EXPIRY_WARNING_MS: i64 = 7 * 24 * 3600 * 1000;

/// What changed between two reads, one line each.
pub fn changes(
    snap: &str,
    before: &SnapChannels,
    after: &SnapChannels,
    before_ms: i64,
    now_ms: i64,
) -> Vec<String> {
    let mut lines = Vec::new();
    // Channel → (arch → revision) released, grouped so one line says it.
    let mut released: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    // What each (channel, arch) holds for everyone: a progressive release's
    // extra row is not news until it completes (it would repeat each poll).
    let mut keys: Vec<(&str, &str)> = after
        .entries
        .iter()
        .map(|e| (e.channel.as_str(), e.arch.as_str()))
        .collect();
    keys.dedup();
    for e in keys.iter().filter_map(|(c, a)| after.holds(c, a)) {
        let was = before.holds(&e.channel, &e.arch).map(|b| b.revision);
        if was != Some(e.revision) {
            let version = after.version_of(e.revision).unwrap_or("?");
            released
                .entry(e.channel.as_str())
                .or_default()
                .push(format!("{} → r{} ({version})", e.arch, e.revision));
        }
    }
    for (channel, arches) in released {
        lines.push(format!("{snap} {channel} {}", arches.join(", ")));
    }
    let mut gone: BTreeMap<(&str, bool), Vec<&str>> = BTreeMap::new();
    for e in before.entries.iter().filter(|e| !e.progressive) {
        if after.holds(&e.channel, &e.arch).is_none() {
            let expired = after
                .expired
                .iter()
                .any(|(c, a)| *c == e.channel && *a == e.arch);
            gone.entry((e.channel.as_str(), expired))
                .or_default()
                .push(&e.arch);
        }
    }
    for ((channel, expired), arches) in gone {
        let how = if expired { "expired" } else { "closed" };
        lines.push(format!("{snap} {channel} {how} ({})", arches.join(", ")));
    }
    let mut expiring: BTreeMap<&str, i64> = BTreeMap::new();
    for e in &after.entries {
        let Some(end) = e.expires_at_ms else { continue };
        let crossed = end - before_ms > EXPIRY_WARNING_MS && end - now_ms <= EXPIRY_WARNING_MS;
        if crossed && end > now_ms {
            expiring.insert(&e.channel, end);
        }
    }
    for (channel, end) in expiring {
        let days = (end - now_ms) / (24 * 3600 * 1000);
        lines.push(format!(
            "{snap} {channel} expires in {days} day{} — release to it again to keep it",
            if days == 1 { "" } else { "s" }
        ));
    }
    lines
}

/// One message per channel watching `snap`, keyed per channel.
pub fn poll_announcements(
    snap: &str,
    lines: &[String],
    subs: &[Subscription],
    step_key: &(dyn for<'k> Fn(&'k str) -> String + Sync),
) -> Option<PlanDraft> {
    if lines.is_empty() {
        return None;
    }
    let mut channels: Vec<&str> = subs
        .iter()
        .filter(|s| s.kind == "snap" && s.target == snap)
        .map(|s| s.channel.as_str())
        .collect();
    channels.sort_unstable();
    channels.dedup();
    if channels.is_empty() {
        return None;
    }
    let text = format!("[{snap} channels]\n{}", lines.join("\n"));
    let steps = channels
        .iter()
        .map(|c| StepDraft {
            key: step_key(c),
            action: Action::Announce {
                channel: c.to_string(),
                text: text.clone(),
                thread: None,
            },
        })
        .collect();
    Some(PlanDraft {
        summary: format!("{snap} channel changes for {} channel(s)", channels.len()),
        steps,
        confirm_reason: None,
        notes: Vec::new(),
        parallel: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::view::{ChannelEntry, SnapRevision};

    const DAY: i64 = 24 * 3600 * 1000;

    fn entry(channel: &str, arch: &str, revision: u64, expires: Option<i64>) -> ChannelEntry {
        ChannelEntry {
            channel: channel.into(),
            arch: arch.into(),
            revision,
            expires_at_ms: expires,
            progressive: false,
        }
    }

    fn map(entries: Vec<ChannelEntry>, expired: &[(&str, &str)]) -> SnapChannels {
        let revisions = entries
            .iter()
            .map(|e| SnapRevision {
                revision: e.revision,
                version: format!("3.6.2~rc1-{}", e.revision),
                arches: vec![e.arch.clone()],
            })
            .collect();
        SnapChannels {
            default_track: Some("3.6".into()),
            entries,
            revisions,
            expired: expired
                .iter()
                .map(|(c, a)| (c.to_string(), a.to_string()))
                .collect(),
        }
    }

    /// (before, after, expected lines) — read at day 20, then day 24.
    #[test]
    fn channel_changes_table() {
        let prep = "3.6/beta/release-prep";
        let cases: Vec<(SnapChannels, SnapChannels, Vec<&str>)> = vec![
            (map(vec![], &[]), map(vec![], &[]), vec![]),
            (
                map(vec![entry("3.6/candidate", "amd64", 1, None)], &[]),
                map(vec![entry("3.6/candidate", "amd64", 1, None)], &[]),
                vec![],
            ),
            (
                map(vec![entry("3.6/candidate", "amd64", 1, None)], &[]),
                map(vec![entry("3.6/candidate", "amd64", 41650, None), entry("3.6/candidate", "arm64", 41651, None)], &[]),
                vec!["maas 3.6/candidate amd64 → r41650 (3.6.2~rc1-41650), arm64 → r41651 (3.6.2~rc1-41651)"],
            ),
            (
                map(vec![entry("3.6/beta", "amd64", 1, None), entry(prep, "amd64", 2, Some(20 * DAY))], &[]),
                map(vec![], &[(prep, "amd64")]),
                vec!["maas 3.6/beta closed (amd64)", "maas 3.6/beta/release-prep expired (amd64)"],
            ),
            (
                map(vec![entry(prep, "amd64", 2, Some(30 * DAY))], &[]),
                map(vec![entry(prep, "amd64", 2, Some(30 * DAY))], &[]),
                vec!["maas 3.6/beta/release-prep expires in 6 days — release to it again to keep it"],
            ),
            (
                map(vec![entry(prep, "amd64", 2, Some(26 * DAY))], &[]),
                map(vec![entry(prep, "amd64", 2, Some(26 * DAY))], &[]),
                vec![],
            ),
        ];
        for (before, after, want) in cases {
            assert_eq!(
                changes("maas", &before, &after, 20 * DAY, 24 * DAY),
                want,
                "{before:?} → {after:?}"
            );
        }
    }

    #[test]
    fn announced_to_the_snaps_watchers_only() {
        let sub = |c: &str, kind: &str, t: &str| Subscription {
            channel: c.into(),
            kind: kind.into(),
            target: t.into(),
            created_by: "alice".into(),
        };
        let subs = [
            sub("#maas", "snap", "maas"),
            sub("#other", "snap", "lxd"),
            sub("#pkg", "package", "maas"),
        ];
        let lines = vec!["maas 3.6/beta closed (amd64)".to_string()];
        let key = |c: &str| format!("k/{c}");
        let d = poll_announcements("maas", &lines, &subs, &key).unwrap();
        assert_eq!(d.steps.len(), 1);
        assert_eq!(d.steps[0].key, "k/#maas");
        assert!(poll_announcements("maas", &[], &subs, &key).is_none());
        assert!(poll_announcements("snapd", &lines, &subs, &key).is_none());
    }
}
