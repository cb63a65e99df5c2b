//! The simulated store's answers, in the store's shapes and with its
//! quirks (shared reference snapstore-maas §1.2 and Addendum): kebab-case
//! keys in the channel map, snake_case in the release history, bare risks
//! in the trees of release and close answers, `info: "tracking"` rows
//! without `revision`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

use super::store::{Placed, SnapDef, Store};
use crate::snapstore::channel::Channel;

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn opt_time(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| json!(time(t)))
}

/// A channel-map row. `quirks`: the snake_case key some rows carry.
fn map_row(channel: &Channel, arch: &str, p: &Placed, share: Option<u8>, quirks: bool) -> Value {
    let current = match (p.percentage, share) {
        (Some(pct), _) => f64::from(pct),
        (None, Some(other)) => 100.0 - f64::from(other),
        (None, None) => 100.0,
    };
    let mut row = json!({
        "architecture": arch, "channel": channel.to_string(), "revision": p.revision,
        "progressive": {"paused": p.percentage.map(|_| false), "percentage": p.percentage,
                        "current-percentage": current},
        "when": time(p.when),
    });
    let key = if quirks && p.percentage.is_some() {
        "expiration_date"
    } else {
        "expiration-date"
    };
    row[key] = opt_time(p.expires);
    row
}

fn revision_json(st: &Store, snap: &str, revision: u64, snake: bool) -> Option<Value> {
    let r = st.rev(snap, revision)?;
    let (build, created) = if snake {
        ("build_url", "created_at")
    } else {
        ("build-url", "created-at")
    };
    let mut v = json!({
        "revision": r.revision, "version": r.version, "architectures": [r.arch],
        "confinement": "classic", "grade": "stable", "base": "core24",
        "epoch": {"read": [0], "write": [0]}, "status": "Published",
    });
    v[build] = Value::Null;
    v[created] = json!(time(r.created));
    Some(v)
}

/// `GET /api/v2/snaps/{name}/channel-map`.
pub(super) fn channel_map(st: &Store, snap: &SnapDef, quirks: bool) -> Value {
    let mut rows = Vec::new();
    let mut revisions: Vec<u64> = Vec::new();
    for ((s, channel, arch), slot) in &st.map {
        if s != &snap.name {
            continue;
        }
        let share = slot.progressive.as_ref().and_then(|p| p.percentage);
        for p in slot.placed() {
            rows.push(map_row(
                channel,
                arch,
                p,
                share.filter(|_| p.percentage.is_none()),
                quirks,
            ));
            revisions.push(p.revision);
        }
    }
    if quirks {
        rows.extend(tracking_rows(st, snap));
    }
    revisions.sort_unstable();
    revisions.dedup();
    let revisions: Vec<Value> = revisions
        .iter()
        .filter_map(|r| revision_json(st, &snap.name, *r, false))
        .collect();
    json!({"channel-map": rows, "revisions": revisions, "snap": snap_json(st, snap)})
}

/// Rows for risks that hold nothing but follow one that does: the first
/// without a `revision` key, the rest with `"revision": null`.
fn tracking_rows(st: &Store, snap: &SnapDef) -> Vec<Value> {
    let mut rows = Vec::new();
    for track in &snap.tracks {
        for arch in st.arches(&snap.name) {
            let mut below = false;
            for channel in Store::risks(track) {
                let held = st.slot(&snap.name, &channel, &arch).is_some();
                if !held && below {
                    let mut row = json!({"architecture": arch, "channel": channel.to_string(),
                        "expiration-date": null, "progressive": {"paused": null, "percentage": null}});
                    if !rows.is_empty() {
                        row["revision"] = Value::Null;
                    }
                    rows.push(row);
                }
                below |= held;
            }
        }
    }
    rows
}

fn snap_json(st: &Store, snap: &SnapDef) -> Value {
    let mut channels = Vec::new();
    for track in &snap.tracks {
        for c in Store::risks(track)
            .into_iter()
            .chain(st.branches(&snap.name, track))
        {
            channels.push(json!({
                "name": c.to_string(), "track": c.track(), "risk": c.risk().as_str(),
                "branch": c.branch(), "fallback": c.fallback().map(|f| f.to_string()),
            }));
        }
    }
    let tracks: Vec<Value> = snap
        .tracks
        .iter()
        .map(|t| json!({"name": t, "status": "active", "creation-date": null, "version-pattern": null}))
        .collect();
    json!({"name": snap.name, "channels": channels, "tracks": tracks, "default-track": snap.default_track})
}

/// One page of `GET /api/v2/snaps/{name}/releases`, newest first.
pub(super) fn releases(st: &Store, snap: &str, page: usize, size: usize) -> Value {
    let events: Vec<_> = st.history.iter().rev().filter(|e| e.snap == snap).collect();
    let page: Vec<_> = events
        .into_iter()
        .skip(page.saturating_sub(1) * size)
        .take(size)
        .collect();
    let mut revisions: Vec<u64> = page.iter().filter_map(|e| e.revision).collect();
    revisions.sort_unstable();
    revisions.dedup();
    let releases: Vec<Value> = page
        .iter()
        .map(|e| json!({
            "architecture": e.arch, "channel": e.channel.to_string(), "track": e.channel.track(),
            "risk": e.channel.risk().as_str(), "branch": e.channel.branch(), "revision": e.revision,
            "when": time(e.when), "expiration-date": opt_time(e.expires),
            "progressive": {"paused": e.percentage.map(|_| false), "percentage": e.percentage,
                            "current-percentage": null},
        }))
        .collect();
    let revisions: Vec<Value> = revisions
        .iter()
        .filter_map(|r| revision_json(st, snap, *r, true))
        .collect();
    json!({"releases": releases, "revisions": revisions})
}

/// The v1 tree of one track and architecture: bare risks, `info` none,
/// specific, tracking (no revision key) or branch.
pub(super) fn tree(st: &Store, snap: &str, track: &str, arch: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut below = false;
    for channel in Store::risks(track) {
        let name = channel.risk().as_str();
        match st
            .slot(snap, &channel, arch)
            .and_then(|s| s.current.as_ref())
        {
            Some(p) => {
                below = true;
                let version = st.rev(snap, p.revision).map(|r| r.version.clone());
                out.push(json!({"channel": name, "info": "specific", "revision": p.revision, "version": version}));
            }
            None if below => out.push(json!({"channel": name, "info": "tracking"})),
            None => out.push(json!({"channel": name, "info": "none"})),
        }
    }
    for branch in st.branches(snap, track) {
        if let Some(p) = st
            .slot(snap, &branch, arch)
            .and_then(|s| s.current.as_ref())
        {
            let name = format!("{}/{}", branch.risk(), branch.branch().unwrap_or_default());
            let version = st.rev(snap, p.revision).map(|r| r.version.clone());
            out.push(
                json!({"channel": name, "info": "branch", "revision": p.revision,
                            "version": version, "expires_at": opt_time(p.expires)}),
            );
        }
    }
    out
}

/// `GET /dev/api/account`: the account's snaps by series and name.
pub(super) fn account(st: &Store) -> Value {
    let mut snaps = Map::new();
    for s in &st.snaps {
        snaps.insert(
            s.name.clone(),
            json!({"snap-id": s.snap_id, "status": "Approved", "private": false,
                   "since": "2016-07-04T12:00:00Z"}),
        );
    }
    json!({"account_id": "sim-account", "username": "shepherd-bot", "snaps": {"16": snaps}})
}
