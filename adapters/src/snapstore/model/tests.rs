use serde_json::json;

use super::*;

fn ch(s: &str) -> Channel {
    Channel::parse(s).unwrap()
}

/// The reference's shape with every documented quirk at once.
fn quirky() -> Value {
    json!({
        "channel-map": [
            {"architecture": "amd64", "channel": "3.6/beta/release-prep", "revision": 41649,
             "expiration-date": "2026-09-20T10:00:00Z",
             "progressive": {"paused": null, "percentage": null, "current-percentage": 100.0},
             "when": "2026-08-21T10:00:00Z"},
            // A progressive release: two rows for one (channel, arch).
            {"architecture": "amd64", "channel": "3.6/candidate", "revision": "41600",
             "expiration-date": null, "progressive": {"paused": null, "percentage": null, "current-percentage": 70.0}},
            {"architecture": "amd64", "channel": "3.6/candidate", "revision": 41649,
             "expiration_date": null, "progressive": {"paused": false, "percentage": 30, "current_percentage": 30.0}},
            {"architecture": "amd64", "channel": "3.6/stable", "revision": 41500, "progressive": null},
            // Tracking rows: no revision key, or a null one.
            {"architecture": "amd64", "channel": "3.6/beta", "progressive": {"paused": null, "percentage": null}},
            {"architecture": "amd64", "channel": "3.6/edge", "revision": null, "expiration-date": null,
             "progressive": {"paused": null, "percentage": null}, "extra-key": [1]}
        ],
        "revisions": [
            {"revision": 41649, "version": "3.6.0~beta1-17580-g.1a2b3c4d5", "architectures": ["amd64"],
             "build_url": null, "created_at": "2026-08-20T10:00:00.123456"},
            {"revision": "41600", "version": null, "architectures": null}
        ],
        "snap": {
            "name": "maas",
            "channels": [
                {"name": "3.6/stable", "track": "3.6", "risk": "stable", "branch": null, "fallback": null},
                {"name": "3.6/candidate", "track": "3.6", "risk": "candidate", "branch": null, "fallback": "3.6/stable"},
                {"name": "3.6/beta", "track": "3.6", "risk": "beta", "branch": null, "fallback": "3.6/candidate"},
                {"name": "3.6/edge", "track": "3.6", "risk": "edge", "branch": null, "fallback": "3.6/beta"}
            ],
            "tracks": [{"name": "3.6", "status": "active", "creation-date": null, "version_pattern": "3\\.6\\..*"}],
            "default_track": "3.6"
        }
    })
}

#[test]
fn the_quirks_are_tolerated() {
    let map: ChannelMap = decode("channel map", quirky()).unwrap();
    assert_eq!(map.entries.len(), 6);
    assert_eq!(map.default_track(), Some("3.6"));
    let prep = map.current(&ch("3.6/beta/release-prep"), "amd64").unwrap();
    assert_eq!(prep.revision, Some(41649));
    assert_eq!(
        prep.expiration_date.unwrap().to_rfc3339(),
        "2026-09-20T10:00:00+00:00"
    );

    let candidate = ch("3.6/candidate");
    assert_eq!(map.entries_for(&candidate, "amd64").count(), 2);
    assert_eq!(
        map.revision(&candidate, "amd64"),
        Some(41600),
        "the non-progressive row"
    );
    let p = map.progressive(&candidate, "amd64").unwrap();
    assert_eq!(
        (p.revision, p.progressive.percentage),
        (Some(41649), Some(30.0))
    );
    assert_eq!(p.progressive.current_percentage, Some(30.0));

    assert_eq!(map.revision(&ch("3.6/beta"), "amd64"), None);
    assert_eq!(
        map.resolve(&ch("3.6/edge"), "amd64"),
        Some((candidate.clone(), 41600))
    );
    assert_eq!(map.resolve(&ch("3.6/edge"), "s390x"), None);

    let r = map.revision_info(41649).unwrap();
    assert_eq!(r.version.as_deref(), Some("3.6.0~beta1-17580-g.1a2b3c4d5"));
    assert!(r.created_at.is_some(), "a zone-less time reads as UTC");
    assert_eq!(
        map.revision_info(41600).unwrap().architectures,
        Vec::<String>::new()
    );
    assert_eq!(
        map.snap.tracks[0].version_pattern.as_deref(),
        Some("3\\.6\\..*")
    );
}

#[test]
fn an_unqualified_or_broken_channel_is_an_error() {
    let mut v = quirky();
    v["channel-map"][0]["channel"] = json!("beta");
    let e = decode::<ChannelMap>("channel map", v)
        .unwrap_err()
        .to_string();
    assert!(e.contains("TRACK/beta"), "{e}");
    let mut v = quirky();
    v["snap"] = Value::Null;
    assert!(decode::<ChannelMap>("channel map", v).is_err());
}

#[test]
fn history_reads_closes_and_both_key_styles() {
    let h: ReleaseHistory = decode(
        "releases",
        json!({
            "releases": [
                {"architecture": "amd64", "channel": "3.6/candidate", "track": "3.6", "risk": "candidate",
                 "branch": null, "revision": null, "when": "2026-11-02T10:00:00Z",
                 "progressive": {"paused": null, "percentage": null, "current-percentage": null}},
                {"architecture": "amd64", "channel": "3.6/beta/release-prep", "revision": 41649,
                 "expiration-date": "2026-12-02T10:00:00Z", "when": "2026-11-02T10:00:00Z", "progressive": null}
            ],
            "revisions": [{"revision": 41649, "version": "3.6.0", "architectures": ["amd64"],
                           "status": "Published", "build_url": "https://x", "created_at": "2026-11-01T00:00:00Z"}]
        }),
    )
    .unwrap();
    assert!(h.releases[0].is_close());
    assert_eq!(h.releases[1].revision, Some(41649));
    assert!(h.releases[1].expiration_date.is_some());
    let r = h.revision_info(41649).unwrap();
    assert_eq!(
        (r.status.as_deref(), r.build_url.as_deref()),
        (Some("Published"), Some("https://x"))
    );
}
