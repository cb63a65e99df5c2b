//! The real Launchpad client against the simulator over loopback HTTP.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use secrecy::SecretString;

use super::*;
use crate::launchpad::archive::ppa_path;
use crate::launchpad::{LaunchpadClient, LpError, OAuth};

pub(super) fn world() -> LpWorld {
    let mut w = LpWorld::default();
    w.tokens.insert("bot-token".into(), "shepherd-bot".into());
    w.tokens.insert("guest-token".into(), "guest".into());
    w.ppa_writers
        .insert("ppa-owner/next".into(), vec!["shepherd-bot".into()]);
    w.ppa_writers
        .insert("ppa-owner/stable".into(), vec!["shepherd-bot".into()]);
    for series in ["noble", "jammy"] {
        w.publications.push(Publication {
            archive: "ppa-owner/next".into(),
            name: "hello".into(),
            version: "2.10-5".into(),
            series: series.into(),
            status: "Published".into(),
        });
    }
    w.publications.push(Publication {
        archive: "ppa-owner/next".into(),
        name: "hello-extra".into(),
        version: "1".into(),
        series: "noble".into(),
        status: "Published".into(),
    });
    w.snaps.push(SnapDef {
        owner: "maas-committers".into(),
        name: "maas".into(),
        series: "jammy".into(),
        processors: vec!["amd64".into(), "arm64".into(), "ppc64el".into()],
        failing: vec!["ppc64el".into()],
        failing_uploads: Vec::new(),
        store_upload: true,
        channels: None,
    });
    w
}

pub(super) fn client(sim: &LaunchpadSim, token: Option<&str>) -> LaunchpadClient {
    let auth = token.map(|t| OAuth {
        consumer_key: "shepherd".into(),
        token: SecretString::from(t.to_string()),
        token_secret: SecretString::from("s3cret".to_string()),
    });
    LaunchpadClient::new(&sim.service_root(), auth, Duration::from_secs(5))
        .unwrap()
        .with_retry_delays(vec![Duration::from_millis(5); 3])
}

#[tokio::test]
async fn exact_match_and_pagination() {
    let mut w = world();
    for i in 0..120 {
        w.publications.push(Publication {
            archive: "ppa-owner/next".into(),
            name: "many".into(),
            version: format!("1.{i}"),
            series: "noble".into(),
            status: "Published".into(),
        });
    }
    let sim = LaunchpadSim::start(w).await.unwrap();
    let c = client(&sim, None);
    let next = ppa_path("ppa-owner/next").unwrap();
    let hello = c
        .published_sources(&next, "hello", None, None)
        .await
        .unwrap();
    assert_eq!(hello.len(), 2, "exact_match: hello-extra is not hello");
    assert_eq!(hello[0].series(), Some("noble"));
    let noble = c
        .published_sources(&next, "hello", Some("2.10-5"), Some("jammy"))
        .await
        .unwrap();
    assert_eq!(noble.len(), 1);
    let many = c
        .published_sources(&next, "many", None, None)
        .await
        .unwrap();
    assert_eq!(many.len(), 120, "three pages followed");
    assert_eq!(many[119].source_package_version, "1.119");
}

#[tokio::test]
async fn a_copy_is_queued_then_published_and_a_duplicate_fails_silently() {
    let sim = LaunchpadSim::start(world()).await.unwrap();
    let c = client(&sim, Some("bot-token"));
    let (from, to) = (
        ppa_path("ppa-owner/next").unwrap(),
        ppa_path("ppa-owner/stable").unwrap(),
    );
    c.copy_package(&to, "hello", "2.10-5", &from, "noble", true)
        .await
        .unwrap();
    let states: Vec<String> = {
        let mut seen = Vec::new();
        for _ in 0..3 {
            let p = c
                .published_sources(&to, "hello", Some("2.10-5"), Some("noble"))
                .await
                .unwrap();
            seen.push(p.first().map_or("absent".to_string(), |p| p.status.clone()));
        }
        seen
    };
    assert_eq!(states, ["Pending", "Published", "Published"]);
    c.copy_package(&to, "hello", "2.10-5", &from, "noble", true)
        .await
        .unwrap();
    c.published_sources(&to, "hello", None, None).await.unwrap();
    assert_eq!(
        sim.copy_failures().len(),
        1,
        "same version again: fails only asynchronously"
    );
    assert_eq!(sim.writes().copies.len(), 2);
}

#[tokio::test]
async fn errors_keep_launchpads_words() {
    let sim = LaunchpadSim::start(world()).await.unwrap();
    let (from, to) = (
        ppa_path("ppa-owner/next").unwrap(),
        ppa_path("ppa-owner/stable").unwrap(),
    );
    let anon = client(&sim, None)
        .copy_package(&to, "hello", "2.10-5", &from, "noble", true)
        .await
        .unwrap_err();
    assert!(matches!(anon, LpError::Unauthorized { .. }), "{anon}");
    let e = client(&sim, Some("nope"))
        .snap("maas-committers", "maas")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, LpError::Unauthorized { body, .. } if body == "Unknown access token (nope)."),
        "{e}"
    );
    let e = client(&sim, Some("guest-token"))
        .copy_package(&to, "hello", "2.10-5", &from, "noble", true)
        .await
        .unwrap_err();
    assert!(
        matches!(e, LpError::Forbidden { ref body, .. } if body.contains("not allowed to upload")),
        "{e}"
    );
    let c = client(&sim, Some("bot-token"));
    let e = c
        .copy_package(&to, "hello", "9.9", &from, "noble", true)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, LpError::BadRequest { body, .. } if body == "hello 9.9 in noble not found in ppa:ppa-owner/next."),
        "{e}"
    );
    let e = c
        .published_sources("/~nobody/+archive/ubuntu/x", "hello", None, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, LpError::NotFound { body, .. } if body == "No such ppa: 'x'."),
        "{e}"
    );
    assert!(sim.writes().copies.is_empty());
}

#[tokio::test]
async fn transient_failures_are_retried() {
    let sim = LaunchpadSim::start(world()).await.unwrap();
    sim.fail_next(2, 503);
    let snap = client(&sim, None)
        .snap("maas-committers", "maas")
        .await
        .unwrap();
    assert_eq!(snap.name, "maas");
    sim.fail_next(9, 502);
    let e = client(&sim, None)
        .snap("maas-committers", "maas")
        .await
        .unwrap_err();
    assert!(e.is_transient(), "{e}");
}

#[tokio::test]
async fn snap_builds_are_requested_once_and_progress() {
    let sim = LaunchpadSim::start(world()).await.unwrap();
    let c = client(&sim, Some("bot-token"));
    let snap = c.snap("maas-committers", "maas").await.unwrap();
    assert_eq!(snap.auto_build_pocket.as_deref(), Some("Updates"));
    let archive = snap.auto_build_archive_link.clone().unwrap();
    let series = snap.distro_series_link.clone().unwrap();
    let arm64 = format!("{series}/arm64");
    let url = c
        .request_snap_build(&snap, &arm64, &archive, "Updates", None)
        .await
        .unwrap();
    let e = c
        .request_snap_build(&snap, &arm64, &archive, "Updates", None)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, LpError::BadRequest { body, .. } if body == "An identical build of this snap package is already pending."),
        "{e}"
    );
    assert_eq!(c.pending_snap_builds(&snap).await.unwrap().len(), 1);
    let mut states = Vec::new();
    loop {
        let b = c.snap_build(&url).await.unwrap();
        states.push(b.buildstate.clone());
        if b.is_final() {
            assert_eq!(b.arch(), "arm64");
            break;
        }
    }
    assert_eq!(states, ["Currently building", "Successfully built"]);
    let fail = c
        .request_snap_build(
            &snap,
            &format!("{series}/ppc64el"),
            &archive,
            "Updates",
            None,
        )
        .await
        .unwrap();
    while !c.snap_build(&fail).await.unwrap().is_final() {}
    assert_eq!(
        c.snap_build(&fail).await.unwrap().buildstate,
        "Failed to build"
    );
    assert_eq!(c.snap_builds(&snap, 10).await.unwrap().len(), 2);
    assert_eq!(sim.writes().builds.len(), 2);
}

#[tokio::test]
async fn patch_sends_if_match_and_retries_once_after_a_412() {
    let sim = LaunchpadSim::start(world()).await.unwrap();
    let c = client(&sim, Some("bot-token"));
    let calls = AtomicUsize::new(0);
    let path = "/~maas-committers/+snap/maas";
    let updated = c
        .patch(path, |entry| {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                // Someone else edits between our read and our write.
                sim.touch_snap("maas-committers", "maas", vec!["3.6/beta".into()]);
            }
            let mut channels: Vec<serde_json::Value> = entry["store_channels"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            channels.push("3.6/edge".into());
            serde_json::json!({ "store_channels": channels })
        })
        .await
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2, "re-read after the 412");
    assert_eq!(
        updated["store_channels"],
        serde_json::json!(["3.6/beta", "3.6/edge"]),
        "applied to fresh data"
    );
    assert_eq!(sim.writes().patches, 1);
    let e = c
        .patch(path, |_| serde_json::json!({"web_link": "x"}))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, LpError::BadRequest { body, .. } if body == "web_link: You tried to modify a read-only attribute."),
        "{e}"
    );
}

fn registry_world() -> LpWorld {
    let mut w = world();
    w.projects.push(ProjectDef {
        name: "maas".into(),
        series: vec!["3.6".into()],
        drivers: vec!["shepherd-bot".into()],
    });
    let task = |status: &str, milestone: Option<&str>| TaskDef {
        project: "maas".into(),
        status: status.into(),
        importance: "High".into(),
        milestone: milestone.map(str::to_string),
    };
    w.bugs.push(BugDef {
        id: 101,
        title: "done".into(),
        tags: vec!["foo".into()],
        tasks: vec![task("Fix Committed", Some("3.6.0"))],
    });
    w.bugs.push(BugDef {
        id: 102,
        title: "open".into(),
        tags: vec![],
        tasks: vec![task("New", None)],
    });
    w.bugs.push(BugDef {
        id: 103,
        title: "old".into(),
        tags: vec![],
        tasks: vec![task("Fix Released", Some("3.6.0"))],
    });
    w.binaries.push((
        "ppa-owner/next".into(),
        "hello".into(),
        "2.10-5".into(),
        "amd64".into(),
        "Published".into(),
    ));
    w
}

#[tokio::test]
async fn milestones_are_created_released_and_deactivated() {
    use crate::launchpad::milestones::Milestone;
    let sim = LaunchpadSim::start(registry_world()).await.unwrap();
    let c = client(&sim, Some("bot-token"));
    assert_eq!(c.milestone("maas", "3.6.0").await.unwrap(), None);
    let url = c
        .new_milestone("maas", "3.6", "3.6.0", Some("2026-12-01"))
        .await
        .unwrap();
    assert!(url.ends_with("/maas/+milestone/3.6.0"), "{url}");
    let m: Milestone = c.milestone("maas", "3.6.0").await.unwrap().unwrap();
    assert!(m.is_active && m.release_link.is_none());
    let e = c
        .new_milestone("maas", "3.6", "3.6.0", None)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, LpError::BadRequest { body, .. } if body == "name: The name 3.6.0 is already used by a milestone in maas."),
        "{e}"
    );
    let e = c
        .create_product_release(&url, "2026-11-22T10:00:00+02:00")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, LpError::BadRequest { body, .. } if body == "date_released: Time not in UTC."),
        "{e}"
    );
    let release = c
        .create_product_release(&url, "2026-11-22T10:00:00Z")
        .await
        .unwrap();
    assert!(release.ends_with("/maas/3.6/3.6.0"), "{release}");
    let e = c
        .create_product_release(&url, "2026-11-22T10:00:00Z")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, LpError::BadRequest { body, .. } if body == "A milestone can only have one ProductRelease."),
        "{e}"
    );
    assert!(!c.set_milestone_active(&url, false).await.unwrap().is_active);
    let e = client(&sim, Some("guest-token"))
        .new_milestone("maas", "3.6", "3.6.1", None)
        .await
        .unwrap_err();
    assert!(matches!(e, LpError::Unauthorized { .. }), "{e}");
}

#[tokio::test]
async fn bug_tasks_are_found_moved_and_retagged() {
    let sim = LaunchpadSim::start(registry_world()).await.unwrap();
    let c = client(&sim, Some("bot-token"));
    let open = c.search_tasks("/maas", &[], &[], None).await.unwrap();
    assert_eq!(open.len(), 2, "no status = unresolved only: {open:?}");
    let done = c
        .search_tasks(
            "/maas",
            &["Fix Committed"],
            &[],
            Some("/maas/+milestone/3.6.0"),
        )
        .await
        .unwrap();
    assert_eq!(done.len(), 1);
    let moved = c
        .update_task(
            &done[0].self_link,
            Some("Fix Released"),
            Some("/maas/+milestone/3.6.1"),
        )
        .await
        .unwrap();
    assert_eq!(moved.status, "Fix Released");
    assert!(moved.milestone_link.unwrap().ends_with("/+milestone/3.6.1"));
    let tags = c
        .retag_bug("/bugs/101", &["block-proposed"], &["foo"])
        .await
        .unwrap();
    assert_eq!(tags, ["block-proposed"]);
    let e = c
        .retag_bug("/bugs/101", &["Bad Tag"], &[])
        .await
        .unwrap_err();
    assert!(matches!(e, LpError::BadRequest { .. }), "{e}");
    assert_eq!(
        c.search_tasks("/maas", &[], &["block-proposed"], None)
            .await
            .unwrap()
            .len(),
        0,
        "101 is resolved now"
    );
}

#[tokio::test]
async fn request_builds_makes_one_build_per_arch_and_binaries_are_listed() {
    let sim = LaunchpadSim::start(registry_world()).await.unwrap();
    let c = client(&sim, Some("bot-token"));
    let snap = c.snap("maas-committers", "maas").await.unwrap();
    let archive = snap.auto_build_archive_link.clone().unwrap();
    let req = c
        .request_snap_builds(&snap, &archive, "Updates", None)
        .await
        .unwrap();
    assert_eq!(
        c.snap_build_request(&req).await.unwrap()["status"],
        "Completed"
    );
    let builds = c.snap_build_request_builds(&req).await.unwrap();
    let arches: Vec<&str> = builds.iter().map(|b| b.arch()).collect();
    assert_eq!(arches, ["amd64", "arm64", "ppc64el"]);
    let bins = c
        .published_binaries(&ppa_path("ppa-owner/next").unwrap(), "hello", None)
        .await
        .unwrap();
    assert_eq!(bins.len(), 1);
    assert_eq!(bins[0]["binary_package_version"], "2.10-5");
}

#[tokio::test]
async fn people_ppas_and_sync_sources() {
    let sim = LaunchpadSim::start(world()).await.unwrap();
    let c = client(&sim, Some("bot-token"));
    assert_eq!(c.person("ppa-owner").await.unwrap()["name"], "ppa-owner");
    assert!(matches!(
        c.person("nobody-at-all").await.unwrap_err(),
        LpError::NotFound { .. }
    ));
    assert_eq!(c.ppa("ppa-owner/stable").await.unwrap()["name"], "stable");
    let (from, to) = (
        ppa_path("ppa-owner/next").unwrap(),
        ppa_path("ppa-owner/stable").unwrap(),
    );
    c.sync_sources(&to, &["hello".into()], &from, "jammy", true)
        .await
        .unwrap();
    assert_eq!(
        sim.writes().copies,
        vec![(
            "ppa-owner/stable".into(),
            "hello".into(),
            "2.10-5".into(),
            "jammy".into()
        )]
    );
}

#[tokio::test]
async fn a_slow_launchpad_times_out_as_a_transient_error() {
    let sim = LaunchpadSim::start(world()).await.unwrap();
    sim.set_latency(Duration::from_millis(400));
    let c = LaunchpadClient::new(&sim.service_root(), None, Duration::from_millis(100))
        .unwrap()
        .with_retry_delays(vec![]);
    let e = c.snap("maas-committers", "maas").await.unwrap_err();
    assert!(
        matches!(e, LpError::Network { .. }) && e.is_transient(),
        "{e}"
    );
    sim.set_latency(Duration::ZERO);
    assert_eq!(
        c.snap("maas-committers", "maas").await.unwrap().name,
        "maas"
    );
}
