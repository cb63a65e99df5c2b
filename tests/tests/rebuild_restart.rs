//! `!rebuild` killed while following its build requests no second build
//! after a restart: the build it requested (finished while the bot was
//! down) is recognised as the step's own. Counted in the simulator.

use std::sync::Arc;
use std::time::Duration;

use shepherd::sandbox::launchpad_world;
use shepherd_adapters::launchpad::sim::LaunchpadSim;
use shepherd_commands::{Ledger, PlanState};
use shepherd_tests::{config_text, load_config, temp_store, with_launchpad, Harness, PATIENCE};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn config(sim: &LaunchpadSim, path: &std::path::Path) -> shepherd::config::Config {
    with_launchpad(
        load_config(&config_text(path)),
        &sim.service_root(),
        "sandbox-token",
        10,
    )
}

#[test]
fn a_rebuild_killed_mid_follow_requests_no_second_build_after_restart() {
    // The simulator outlives both lives of the bot.
    let sim_rt = runtime();
    let sim = Arc::new(
        sim_rt
            .block_on(LaunchpadSim::start(launchpad_world()))
            .unwrap(),
    );
    sim.add_build("maas-committers", "maas", "ppc64el", false);
    let (_dir, path) = temp_store();
    let config = config(&sim, &path);

    let first = runtime();
    first.block_on(async {
        sim.freeze_builds(true);
        let mut h = Harness::start(&config, None).await;
        h.ask("!rebuild maas", "1 step queued").await;
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while sim.writes().builds.is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "no build requested");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // The next look hangs; meanwhile Launchpad finishes the build.
        sim.set_latency(Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(100)).await;
        sim.finish_builds();
        // Killed mid-follow: the step is still "running" in the store.
        std::mem::forget(h);
    });
    drop(first);
    assert_eq!(sim.writes().builds.len(), 1);

    let second = runtime();
    second.block_on(async {
        sim.set_latency(Duration::ZERO);
        sim.freeze_builds(false);
        let h = Harness::start(&config, None).await;
        assert!(h.bot.drain(PATIENCE).await, "the resumed rebuild finishes");
        let d = h.bot.store.plan_detail(1).await.unwrap().unwrap();
        assert_eq!(d.plan.state, PlanState::Done, "{d:?}");
        h.finish().await;
    });
    let builds = sim.writes().builds;
    assert_eq!(builds.len(), 1, "one build requested in all: {builds:?}");
}

/// A snap without a distro series is built for the series of its arch's
/// last build, or for `--series` when it has none (refused while planning
/// otherwise, so a dry run tells the truth).
#[tokio::test]
async fn a_snap_without_a_distro_series_builds_with_its_last_builds_series_or_series() {
    let sim = LaunchpadSim::start(launchpad_world()).await.unwrap();
    sim.add_build("maas-committers", "maas-agent", "amd64", false);
    let (_d, path) = temp_store();
    let mut h = Harness::start(&config(&sim, &path), None).await;
    let t = h.say("!rebuild maas-agent").await;
    h.expect(&t, "— done ✓").await;
    let t = h.say("!rebuild maas-agent arm64 --dry-run").await;
    h.expect(&t, "maas-agent names no Ubuntu series and has no earlier build on arm64 to take one from — add `--series SERIES`").await;
    let t = h.say("!rebuild maas-agent arm64 --series noble").await;
    h.expect(&t, "done ✓").await;
    h.finish().await;
    assert_eq!(
        sim.writes().builds,
        [
            ("maas-agent".to_string(), "amd64".to_string()),
            ("maas-agent".to_string(), "arm64".to_string())
        ]
    );
}

/// Launchpad lists a snap's builds by start time with builds not yet
/// started last: on a snap with many builds, a queued one is past the
/// first page. The step follows its build by URL, and planning sees
/// pending builds, so nothing is lost or requested twice.
#[tokio::test]
async fn a_queued_build_past_the_first_page_is_followed_and_not_doubled() {
    let sim = LaunchpadSim::start(launchpad_world()).await.unwrap();
    for _ in 0..120 {
        sim.add_build("maas-committers", "maas", "amd64", true);
    }
    sim.add_build("maas-committers", "maas", "ppc64el", false);
    let (_d, path) = temp_store();
    sim.freeze_builds(true);
    let mut h = Harness::start(&config(&sim, &path), None).await;
    let t = h.say("!rebuild maas").await;
    h.expect(&t, "Needs building").await;
    // Asked again while it is queued: the queued build is seen.
    h.ask("!rebuild maas", "nothing to rebuild").await;
    sim.freeze_builds(false);
    h.expect(&t, "— done ✓").await;
    h.finish().await;
    assert_eq!(sim.writes().builds.len(), 1, "{:?}", sim.writes().builds);
}
