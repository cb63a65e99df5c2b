//! `!why` and `!retry` end to end: the bot's real autopkgtest client against
//! the simulator over loopback, excuses from the real plucky file.

use std::sync::Arc;

use secrecy::SecretString;
use shepherd::config::{AutopkgtestConfig, MigrationConfig};
use shepherd_adapters::autopkgtest::sim::{AutopkgtestSim, Job, SimWorld};
use shepherd_tests::{config_text, load_config, temp_store, Harness};

const KEY: &str = "bot:secret-key";

fn plucky_bytes() -> Vec<u8> {
    let root = env!("CARGO_MANIFEST_DIR");
    std::fs::read(format!(
        "{root}/fixtures/excuses/production/plucky-2025-03-14.update_excuses.yaml.xz"
    ))
    .unwrap()
}

async fn sim() -> AutopkgtestSim {
    let mut w = SimWorld::default();
    let arches = [
        "amd64", "arm64", "armhf", "i386", "ppc64el", "riscv64", "s390x",
    ];
    w.releases.push((
        "plucky".into(),
        arches.iter().map(|a| a.to_string()).collect(),
    ));
    for (src, ver) in [("libsepol", "3.8-1"), ("libselinux", "3.8-1")] {
        w.published
            .insert(("plucky".into(), src.into(), ver.into()));
    }
    w.users.insert(KEY.into(), "shepherd-bot".into());
    w.uploaders.insert("shepherd-bot".into());
    AutopkgtestSim::start(w).await.unwrap()
}

async fn bot(sim: &AutopkgtestSim) -> (tempfile::TempDir, Harness) {
    let (dir, path) = temp_store();
    let mut config = load_config(&config_text(&path));
    config.confirm.max_unconfirmed_steps = 20;
    config.autopkgtest = Some(AutopkgtestConfig {
        request_url: sim.request_url().parse().unwrap(),
        api_key: Some(SecretString::from(KEY.to_string())),
        session_cookie: None,
    });
    config.proposed_migration = Some(MigrationConfig {
        series: "plucky".into(),
        excuses_url: "http://127.0.0.1:9/unused".into(),
        output_url: None,
        series_urls: Default::default(),
        teams: Default::default(),
    });
    let h = Harness::start(&config, None).await;
    let proposed: Arc<_> = h.bot.handles.proposed.clone().unwrap();
    proposed
        .ingest("plucky", plucky_bytes(), (None, None), None)
        .await
        .unwrap();
    (dir, h)
}

#[tokio::test]
async fn why_then_retry_sends_each_request_exactly_once() {
    let sim = sim().await;
    let (_d, mut h) = bot(&sim).await;
    let why = h.ask("!why libsepol", "next:").await;
    assert!(
        why.starts_with("libsepol 3.7-1 → 3.8-1 · blocked by autopkgtest"),
        "{why}"
    );

    let dry = h
        .ask("!retry libsepol --dry-run", "dry run, nothing sent")
        .await;
    assert!(dry.contains("6 requests to 127.0.0.1"), "{dry}");
    assert!(sim.accepted().is_empty(), "a dry run sends nothing");

    let t = h.say("!retry libsepol --trigger libselinux/3.8-1").await;
    h.expect(&t, "plan #2 · 6 steps queued ✓").await;
    h.expect(&t, "plan #2 · ▰▰▰▰▰▰ 6/6 — done ✓").await;
    let jobs = sim.accepted();
    assert_eq!(jobs.len(), 6);
    assert!(jobs
        .iter()
        .all(|j| j.package == "refpolicy" && j.triggers == ["libsepol/3.8-1", "libselinux/3.8-1"]));
    assert!(jobs.iter().all(|j| j.requester == "shepherd-bot"));

    // Asking again finds the same requests queued upstream, and sends nothing.
    h.ask(
        "!retry libsepol --trigger libselinux/3.8-1",
        "nothing sent — 6 skipped, already running or queued: refpolicy on amd64 arm64 armhf i386 ppc64el s390x",
    )
    .await;
    // Once they have run, the same retry of the same failures is still one request each.
    sim.advance();
    sim.advance();
    h.ask(
        "!retry libsepol --trigger libselinux/3.8-1",
        "nothing new: already requested by plan #2",
    )
    .await;
    let show = h.ask("!show 2", "6. ✓").await;
    assert!(
        show.contains("→ queued ✓ (requester shepherd-bot) · http://127.0.0.1:"),
        "{show}"
    );
    // A queued retry links autopkgtest-cloud's running page.
    assert!(show.contains("/running#pkg-"), "{show}");
    h.finish().await;
    assert_eq!(sim.accepted().len(), 6, "still exactly once");
}

#[tokio::test]
async fn tests_already_running_are_skipped_and_said_so() {
    let sim = sim().await;
    sim.add_running(Job {
        release: "plucky".into(),
        arch: "s390x".into(),
        package: "refpolicy".into(),
        triggers: vec!["libsepol/3.8-1".into()],
        all_proposed: false,
        ppas: vec![],
        requester: "someone-else".into(),
    });
    let (_d, mut h) = bot(&sim).await;
    let t = h.say("!retry libsepol").await;
    let reply = h.expect(&t, "queued ✓").await;
    assert!(reply.contains("plan #1 · 5 steps queued"), "{reply}");
    assert!(
        reply.contains(
            "(1 skipped, already running or queued: refpolicy on s390x · trigger libsepol/3.8-1)"
        ),
        "{reply}"
    );
    h.expect(&t, "— done ✓").await;
    assert_eq!(sim.accepted().len(), 5);
    assert!(sim.accepted().iter().all(|j| j.arch != "s390x"));
}

#[tokio::test]
async fn transient_failures_retry_and_refusals_explain() {
    let sim = sim().await;
    sim.fail_next(2, 503);
    let (_d, mut h) = bot(&sim).await;
    let t = h.say("!retry libsepol --arch amd64").await;
    h.expect(&t, "temporary error").await;
    h.expect(&t, "— done ✓").await;
    assert_eq!(sim.accepted().len(), 1, "503s were retried, then sent once");

    let e = h
        .ask(
            "!retry libsepol --reference --all-proposed",
            "not compatible",
        )
        .await;
    assert_eq!(e.lines().count(), 1);
    h.ask(
        "!retry libsepol --trigger nonsense",
        "trigger `nonsense` must be SOURCE/VERSION",
    )
    .await;
    h.ask(
        "!retry libsepol --state RUNNING",
        "nothing to retry: libsepol 3.8-1 has no RUNNING results",
    )
    .await;
    h.ask("!retry libsepl", "did you mean libsepol?").await;
    h.ask(
        "bob> !retry libsepol",
        "you need the release-team role for !retry",
    )
    .await;
    let t = h
        .say("!retry libsepol --arch arm64 --trigger libsepol/9.9-1")
        .await;
    h.expect(
        &t,
        "— failed at step 1: libsepol/9.9-1 is not published in plucky",
    )
    .await;
}
