//! `!why` and `!retry` end to end: the bot's real autopkgtest client against
//! the simulator over loopback, excuses from the real plucky file.

use std::sync::Arc;

use secrecy::SecretString;
use shepherd::config::{AutopkgtestConfig, Config, MigrationConfig};
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
    bot_waiting(sim, 0).await
}

/// A bot that waits `result_wait_mins` for a finished test's result to
/// show in the excuses (0: it ends at "finished running").
async fn bot_waiting(sim: &AutopkgtestSim, result_wait_mins: u64) -> (tempfile::TempDir, Harness) {
    bot_with(sim, result_wait_mins, |_| {}).await
}

/// The same, with `edit` applied to the configuration last.
async fn bot_with(
    sim: &AutopkgtestSim,
    result_wait_mins: u64,
    edit: impl FnOnce(&mut Config),
) -> (tempfile::TempDir, Harness) {
    let (dir, path) = temp_store();
    let mut config = load_config(&config_text(&path));
    config.confirm.max_unconfirmed_steps = 20;
    config.autopkgtest = Some(AutopkgtestConfig {
        request_url: sim.request_url().parse().unwrap(),
        api_key: Some(SecretString::from(KEY.to_string())),
        session_cookie: None,
        follow_interval_ms: 20,
        result_wait_mins,
    });
    config.proposed_migration = Some(MigrationConfig {
        series: "plucky".into(),
        excuses_url: "http://127.0.0.1:9/unused".into(),
        output_url: None,
        series_urls: Default::default(),
        teams: Default::default(),
    });
    edit(&mut config);
    let h = Harness::start(&config, None).await;
    let proposed: Arc<_> = h.bot.handles.proposed.clone().unwrap();
    proposed
        .ingest("plucky", plucky_bytes(), (None, None), None)
        .await
        .unwrap();
    (dir, h)
}

/// The simulator's accepted jobs, once there are `n` (the plan's steps
/// are sent one after another after its reply).
async fn all_accepted(sim: &AutopkgtestSim, n: usize) -> Vec<Job> {
    let deadline = tokio::time::Instant::now() + shepherd_tests::PATIENCE;
    while sim.accepted().len() < n && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let jobs = sim.accepted();
    assert_eq!(jobs.len(), n, "{jobs:?}");
    jobs
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
    // Each test is followed: queued, with autopkgtest-cloud's running page.
    let queued = h
        .expect(
            &t,
            "refpolicy on amd64: queued ✓ (requester shepherd-bot) · http://127.0.0.1:",
        )
        .await;
    assert!(queued.contains("/running#pkg-refpolicy"), "{queued}");
    let jobs = all_accepted(&sim, 6).await;
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
    // They run, then finish; with no wait for the excuses configured, the
    // plan ends pointing at each test's history.
    sim.advance();
    h.expect(&t, ": running · http://127.0.0.1:").await;
    sim.advance();
    h.expect(&t, "plan #2 · ▰▰▰▰▰▰ 6/6 — done ✓").await;
    // Once they have run, the same retry of the same failures is still one request each.
    h.ask(
        "!retry libsepol --trigger libselinux/3.8-1",
        "nothing new: already requested by plan #2",
    )
    .await;
    let show = h.ask("!show 2", "6. ✓").await;
    assert!(
        show.contains("→ refpolicy on amd64: finished running; its result is on http://127.0.0.1:")
            && show.contains("/packages/r/refpolicy/plucky/amd64"),
        "{show}"
    );
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
    all_accepted(&sim, 5).await;
    sim.advance();
    sim.advance();
    h.expect(&t, "— done ✓").await;
    assert_eq!(sim.accepted().len(), 5);
    assert!(sim.accepted().iter().all(|j| j.arch != "s390x"));
}

/// A timeout after request.cgi queued the test: the retry reads the
/// queues again (not the copy read before the request, however fresh)
/// and sends nothing.
#[tokio::test]
async fn a_request_answered_after_the_timeout_is_not_sent_again() {
    let sim = sim().await;
    sim.answer_late_next(std::time::Duration::from_secs(2));
    let (_d, mut h) = bot_with(&sim, 0, |c| {
        c.executor.request_timeout_secs = 1;
        // Queues read for one step are reused by others for 30 s.
        if let Some(a) = c.autopkgtest.as_mut() {
            a.follow_interval_ms = 60_000;
        }
    })
    .await;
    let t = h.say("!retry libsepol --arch amd64").await;
    h.expect(
        &t,
        "already queued on autopkgtest-cloud; not requested again",
    )
    .await;
    // The late answer has come and gone.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(sim.accepted().len(), 1, "{:?}", sim.accepted());
}

#[tokio::test]
async fn transient_failures_retry_and_refusals_explain() {
    let sim = sim().await;
    sim.fail_next(2, 503);
    let (_d, mut h) = bot(&sim).await;
    let t = h.say("!retry libsepol --arch amd64").await;
    h.expect(&t, "temporary error").await;
    all_accepted(&sim, 1).await;
    sim.advance();
    sim.advance();
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

/// refpolicy's amd64 and arm64 results for libsepol as the fixture has
/// them, and as britney's next run shows them after the retries.
const AMD64_BEFORE: &str = "- REGRESSION\n        - https://objectstorage.prodstack5.canonical.com/swift/v1/AUTH_0f9aae918d5b4744bf7b827671c86842/autopkgtest-plucky/plucky/amd64/r/refpolicy/20250313_105554_19f3d@/log.gz";
const AMD64_AFTER: &str = "- PASS\n        - https://objectstorage.prodstack5.canonical.com/swift/v1/AUTH_0f9aae918d5b4744bf7b827671c86842/autopkgtest-plucky/plucky/amd64/r/refpolicy/20251129_020000_aaaaa@/log.gz";
const ARM64_BEFORE: &str = "- REGRESSION\n        - https://objectstorage.prodstack5.canonical.com/swift/v1/AUTH_0f9aae918d5b4744bf7b827671c86842/autopkgtest-plucky/plucky/arm64/r/refpolicy/20250313_105505_182c6@/log.gz";
const ARM64_AFTER: &str = "- REGRESSION\n        - https://objectstorage.prodstack5.canonical.com/swift/v1/AUTH_0f9aae918d5b4744bf7b827671c86842/autopkgtest-plucky/plucky/arm64/r/refpolicy/20251129_020100_bbbbb@/log.gz";

#[tokio::test]
async fn a_retry_is_followed_until_the_excuses_show_its_result() {
    let sim = sim().await;
    let (_d, mut h) = bot_waiting(&sim, 60).await;
    let t = h.say("!retry libsepol --arch amd64 --arch arm64").await;
    h.expect(&t, "plan #1 · 2 steps queued ✓").await;
    all_accepted(&sim, 2).await;
    sim.advance();
    sim.advance();
    h.expect(
        &t,
        "refpolicy on arm64: finished running; its result shows in britney's next excuses",
    )
    .await;
    let bytes = xz_text(&plucky_bytes());
    assert!(bytes.contains(AMD64_BEFORE) && bytes.contains(ARM64_BEFORE));
    let proposed: Arc<_> = h.bot.handles.proposed.clone().unwrap();
    // Excuses fetched again with the old results, or with the test shown
    // as running (britney's placeholder log), are no result.
    let running = bytes.replace(
        AMD64_BEFORE,
        "- RUNNING\n        - https://autopkgtest.ubuntu.com/running",
    );
    for unchanged in [bytes.clone(), running] {
        proposed
            .ingest("plucky", unchanged.into_bytes(), (None, None), None)
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let before = h.text(&t);
    assert!(
        !before.contains("— done") && !before.contains("passed") && !before.contains("✗ RUNNING"),
        "{before}"
    );
    // Britney runs: amd64 passes now, arm64 fails again.
    let next = bytes
        .replace(AMD64_BEFORE, AMD64_AFTER)
        .replace(ARM64_BEFORE, ARM64_AFTER);
    proposed
        .ingest("plucky", next.into_bytes(), (None, None), None)
        .await
        .unwrap();
    let done = h.expect(&t, "plan #1 · ▰▰ 2/2 — done ✓").await;
    assert!(
        done.contains(
            "refpolicy on amd64: ✓ passed · https://objectstorage.prodstack5.canonical.com/"
        ) && done.contains("20251129_020000_aaaaa@/log.gz"),
        "{done}"
    );
    assert!(
        done.contains("refpolicy on arm64: ✗ REGRESSION (still blocks) · https://")
            && done.contains("20251129_020100_bbbbb@/log.gz"),
        "{done}"
    );
    // Each result was said once as it came (the last one by the done line,
    // which lists them all).
    let fresh = done
        .lines()
        .filter(|l| l.contains("— step") && (l.contains("✓ passed") || l.contains("✗ REGRESSION")))
        .count();
    assert_eq!(fresh, 1, "the first result on its own line: {done}");
    assert_eq!(sim.accepted().len(), 2, "requested once each");
}

fn xz_text(bytes: &[u8]) -> String {
    shepherd_adapters::britney::decompress(bytes).expect("the fixture decompresses")
}
