//! The real client against the simulator over loopback HTTP: reading the
//! channel map, releasing, closing, branch expiry, history pages, retries
//! and the store's typed errors. Authentication: `auth_tests.rs`.

use super::seed::{ARCHES, BETA1_VERSION, MAAS_SNAP_ID};
use super::*;
use crate::snapstore::{ChannelMap, SnapStoreClient, StoreError};

fn ch(s: &str) -> Channel {
    Channel::parse(s).unwrap()
}

async fn maas() -> (SnapStoreSim, SnapStoreClient) {
    let sim = SnapStoreSim::start_maas().await.unwrap();
    let client = sim.client().unwrap();
    (sim, client)
}

async fn map(c: &SnapStoreClient) -> ChannelMap {
    c.channel_map("maas").await.unwrap()
}

#[tokio::test]
async fn the_seed_reads_as_a_typed_channel_map() {
    let (sim, c) = maas().await;
    let m = map(&c).await;
    assert_eq!(m.default_track(), Some("3.6"));
    assert_eq!(m.architectures(), ARCHES);
    let prep = ch("3.6/beta/release-prep");
    for (rev, arch) in (41650..).zip(ARCHES) {
        let row = m.current(&prep, arch).unwrap();
        assert_eq!(row.revision, Some(rev), "{arch}");
        assert!(
            row.expiration_date.unwrap() > sim.now(),
            "a branch row says when it expires"
        );
        assert_eq!(
            m.revision_info(rev).unwrap().version.as_deref(),
            Some(BETA1_VERSION)
        );
        assert_eq!(
            m.revision(&ch("3.5/stable"), arch),
            Some(41000 + rev - 41650)
        );
    }
    assert_eq!(
        m.resolve(&ch("3.6/beta"), "amd64"),
        None,
        "nothing stable-wards in 3.6"
    );
    assert_eq!(m.revision(&ch("3.6/edge"), "amd64"), Some(41700));
    assert!(m
        .snap
        .channels
        .iter()
        .any(|i| i.channel == prep && i.fallback == Some(ch("3.6/beta"))));
    let r = sim.requests();
    assert!(
        r.iter().all(|r| r.authorized),
        "every request carries the macaroons"
    );
}

#[tokio::test]
async fn a_build_set_is_one_release_call_per_architecture() {
    let (sim, c) = maas().await;
    let beta = [ch("3.6/beta")];
    for rev in 41650..=41653 {
        c.release("maas", rev, &beta).await.unwrap();
    }
    let calls = sim.release_calls();
    let arches: Vec<&str> = calls.iter().map(|c| c.architecture.as_str()).collect();
    assert_eq!(arches, ARCHES, "exactly one call per architecture");
    assert_eq!(
        calls[0].revision,
        serde_json::json!("41650"),
        "revision sent as a string"
    );
    assert_eq!(calls[0].channels, ["3.6/beta"], "fully qualified");
    let m = map(&c).await;
    for (rev, arch) in (41650..).zip(ARCHES) {
        assert_eq!(m.revision(&beta[0], arch), Some(rev));
        assert_eq!(m.current(&beta[0], arch).unwrap().expiration_date, None);
    }
    // Releasing again changes nothing but the row's time.
    c.release("maas", 41650, &beta).await.unwrap();
    let again = map(&c).await;
    assert_eq!(again.entries.len(), m.entries.len());
    assert_eq!(again.revision(&beta[0], "amd64"), Some(41650));
}

#[tokio::test]
async fn progressive_releases_show_two_rows_and_tracking_rows_no_revision() {
    let (sim, c) = maas().await;
    let candidate = [ch("3.6/candidate")];
    c.release("maas", 41650, &candidate).await.unwrap();
    c.release_progressive("maas", 41700, &candidate, 30)
        .await
        .unwrap();
    let m = map(&c).await;
    assert_eq!(m.entries_for(&candidate[0], "amd64").count(), 2);
    assert_eq!(m.revision(&candidate[0], "amd64"), Some(41650));
    let p = m.progressive(&candidate[0], "amd64").unwrap();
    assert_eq!(
        (p.revision, p.progressive.percentage),
        (Some(41700), Some(30.0))
    );
    let sent = sim
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.path == "/dev/api/snap-release/")
        .unwrap();
    assert_eq!(
        sent.body.unwrap()["progressive"],
        serde_json::json!({"percentage": 30, "paused": false})
    );

    sim.set_quirks(true);
    let m = map(&c).await;
    let edge = ch("3.6/edge");
    let tracking: Vec<_> = m.entries.iter().filter(|e| e.revision.is_none()).collect();
    assert!(tracking
        .iter()
        .any(|e| e.channel == ch("3.6/beta") && e.architecture == "amd64"));
    assert_eq!(
        m.resolve(&ch("3.6/beta"), "amd64"),
        Some((candidate[0].clone(), 41650))
    );
    assert_eq!(m.resolve(&edge, "amd64"), Some((edge.clone(), 41700)));

    c.release("maas", 41700, &candidate).await.unwrap();
    let m = map(&c).await;
    assert_eq!(
        m.entries_for(&candidate[0], "amd64").count(),
        1,
        "a plain release finishes it"
    );
    assert_eq!(m.revision(&candidate[0], "amd64"), Some(41700));
}

#[tokio::test]
async fn a_closed_risk_follows_the_next_more_stable_one() {
    let (sim, c) = maas().await;
    let (stable, candidate) = (ch("3.6/stable"), ch("3.6/candidate"));
    c.release("maas", 41650, &[stable.clone(), candidate.clone()])
        .await
        .unwrap();
    assert_eq!(sim.release_calls().len(), 1, "two channels, one call");
    let closed = c
        .close_by_name("maas", std::slice::from_ref(&candidate))
        .await
        .unwrap();
    assert_eq!(closed.closed_channels, ["3.6/candidate"]);
    let m = map(&c).await;
    assert_eq!(m.revision(&candidate, "amd64"), None, "the row is gone");
    assert_eq!(m.fallback(&candidate), Some(stable.clone()));
    assert_eq!(m.resolve(&candidate, "amd64"), Some((stable, 41650)));
    assert_eq!(sim.revision_in("maas", "3.6/candidate", "amd64"), None);

    c.close(MAAS_SNAP_ID, &[ch("3.6/edge")]).await.unwrap();
    c.close_by_name("maas", &[ch("3.6/beta/release-prep")])
        .await
        .unwrap();
    assert_eq!(
        sim.count("GET", "/dev/api/account"),
        1,
        "the snap-id is cached"
    );
    let h = c.releases("maas").await.unwrap();
    assert!(h.releases[0].is_close() && h.releases[0].channel == ch("3.6/beta/release-prep"));
    let e = c
        .close_by_name("no-such-snap", &[ch("3.6/edge")])
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e}");
}

#[tokio::test]
async fn a_branch_expires_thirty_days_after_its_last_release() {
    let (sim, c) = maas().await;
    let prep = ch("3.6/beta/release-prep");
    let expires = map(&c)
        .await
        .current(&prep, "amd64")
        .unwrap()
        .expiration_date
        .unwrap();
    let days_left = (expires - sim.now()).num_days();
    assert!((1..=30).contains(&days_left), "{days_left}");
    sim.advance_days(days_left - 1);
    assert_eq!(map(&c).await.revision(&prep, "s390x"), Some(41653));
    // Releasing one architecture again restarts that one's 30 days only.
    c.release("maas", 41650, std::slice::from_ref(&prep))
        .await
        .unwrap();
    sim.advance_days(1);
    let m = map(&c).await;
    assert_eq!(m.revision(&prep, "s390x"), None, "expired");
    assert_eq!(
        m.resolve(&prep, "s390x"),
        None,
        "and falls back to an empty 3.6/beta"
    );
    assert_eq!(
        m.revision(&prep, "amd64"),
        Some(41650),
        "released again, still open"
    );
    sim.advance_days(29);
    let m = map(&c).await;
    assert!(m.entries_for(&prep, "amd64").next().is_none());
    assert!(
        !m.snap.channels.iter().any(|i| i.channel == prep),
        "gone from snap.channels too"
    );
    let h = c.releases("maas").await.unwrap();
    let closes = h
        .releases
        .iter()
        .filter(|e| e.channel == prep && e.is_close())
        .count();
    assert_eq!(closes, 4, "each expiry is a close in the history");
}

#[tokio::test]
async fn history_is_read_page_by_page() {
    let sim = SnapStoreSim::start_maas().await.unwrap();
    let c = sim.client().unwrap().with_page_size(5);
    let h = c.releases("maas").await.unwrap();
    assert_eq!(h.releases.len(), 9, "4 stable, 4 release-prep, 1 edge");
    assert_eq!(h.releases[0].revision, Some(41700), "newest first");
    assert_eq!(h.revisions.len(), 9);
    let pages: Vec<String> = sim
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v2/snaps/maas/releases")
        .map(|r| r.query)
        .collect();
    assert_eq!(pages, ["page=1&size=5", "page=2&size=5"]);
}

#[tokio::test]
async fn transient_failures_are_retried_and_then_reported() {
    let (sim, c) = maas().await;
    sim.fail_next(2);
    map(&c).await;
    assert_eq!(sim.count("GET", "/api/v2/snaps/maas/channel-map"), 3);
    sim.fail_next(1);
    c.release("maas", 41650, &[ch("3.6/beta")]).await.unwrap();
    assert_eq!(
        sim.release_calls().len(),
        1,
        "the faulted POST was not applied"
    );
    assert_eq!(
        sim.count("POST", "/dev/api/snap-release/"),
        2,
        "and was sent again"
    );
    // A gateway error may come after the store acted: not sent again
    // here (the step reads the channel map before it tries again).
    sim.fail_next_with(502, "{}");
    let e = c
        .release("maas", 41651, &[ch("3.6/beta")])
        .await
        .unwrap_err();
    assert!(e.is_transient(), "{e}");
    assert_eq!(sim.count("POST", "/dev/api/snap-release/"), 3);
    sim.fail_next(4);
    let e = c.channel_map("maas").await.unwrap_err();
    assert!(e.is_transient(), "{e}");
    assert!(matches!(e, StoreError::Server { status: 503, .. }), "{e}");
    assert!(
        e.to_string().starts_with(&format!(
            "GET {}/api/v2/snaps/maas/channel-map: ",
            sim.dashboard_url()
        )),
        "{e}"
    );
    sim.fail_next_with(429, "");
    map(&c).await;
}

#[tokio::test]
async fn the_stores_errors_are_typed() {
    let (sim, c) = maas().await;
    let e = c.release("maas", 99, &[ch("3.6/beta")]).await.unwrap_err();
    assert!(
        matches!(e, StoreError::Rejected { status: 400, .. }) && e.has_code("invalid-field"),
        "{e}"
    );
    let e = c
        .release("maas", 41650, &[ch("9.9/beta")])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("Track '9.9' does not exist"), "{e}");
    let e = c.channel_map("nothing-here").await.unwrap_err();
    assert!(
        matches!(e, StoreError::NotFound { .. }) && e.has_code("resource-not-found"),
        "{e}"
    );
    assert!(!e.is_transient());

    sim.deny_channel("maas", "3.6/stable");
    let e = c
        .release("maas", 41650, &[ch("3.6/beta"), ch("3.6/stable")])
        .await
        .unwrap_err();
    match &e {
        StoreError::PermissionRequired {
            permission,
            channels,
            ..
        } => {
            assert_eq!(permission.as_deref(), Some("package_release"));
            assert_eq!(channels, &["3.6/stable"]);
        }
        other => panic!("{other:?}"),
    }
    sim.deny_permission("maas-test-db", "package_access");
    let e = c.channel_map("maas-test-db").await.unwrap_err();
    assert!(e.to_string().contains("lack `package_access`"), "{e}");
    assert_eq!(sim.release_calls().len(), 0);

    sim.fail_next_with(
        400,
        r#"{"success": false, "errors": {"channels": ["Not a valid channel: alpha"]}}"#,
    );
    let e = c
        .release("maas", 41650, &[ch("3.6/beta")])
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("channels: Not a valid channel: alpha"),
        "{e}"
    );
    let e = c.release("maas", 41650, &[]).await.unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e}");
    let e = c.channel_map("../account").await.unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e}");
}
