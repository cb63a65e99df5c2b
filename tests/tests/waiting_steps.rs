//! Steps that wait on the world hold no worker: with 50 builds being
//! followed and 4 workers, other plans still run at once; a stop does not
//! wait for the follows; after a restart each follow finishes with exactly
//! one build requested (counted in the simulator).

use std::time::{Duration, Instant};

use shepherd::sandbox::launchpad_world;
use shepherd_adapters::launchpad::sim::{LaunchpadSim, SnapDef};
use shepherd_commands::Ledger;
use shepherd_tests::{config_text, load_config, temp_store, with_launchpad, Harness, PATIENCE};

const ARCHES: usize = 50;

fn arch(i: usize) -> String {
    format!("arch{i:02}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_followed_builds_hold_no_worker_and_survive_a_restart() {
    let mut world = launchpad_world();
    world.snaps.push(SnapDef {
        owner: "maas-committers".into(),
        name: "big".into(),
        series: "noble".into(),
        processors: (0..ARCHES).map(arch).collect(),
        store_upload: true,
        ..Default::default()
    });
    let sim = LaunchpadSim::start(world).await.unwrap();
    let (_d, path) = temp_store();
    let mut config = with_launchpad(
        load_config(&config_text(&path)),
        &sim.service_root(),
        "sandbox-token",
        20,
    );
    // The premise: 4 workers for 50 followed builds.
    config.executor.workers = 4;

    // Builds stay "Needs building": every step ends up waiting on one.
    sim.freeze_builds(true);
    let mut h = Harness::start(&config, None).await;
    let arches: Vec<String> = (0..ARCHES).map(arch).collect();
    let t = h.say(&format!("!rebuild big {}", arches.join(" "))).await;
    h.expect(&t, "plan #1 needs confirmation").await;
    h.ask("carol> !confirm 1", "confirmed by carol").await;
    let deadline = Instant::now() + PATIENCE;
    while sim.writes().builds.len() < ARCHES {
        assert!(
            Instant::now() < deadline,
            "only {} builds sent",
            sim.writes().builds.len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // All 50 are being followed; another plan is applied at once.
    let asked = Instant::now();
    let t = h.say("!announce #elsewhere all hands").await;
    h.expect("#elsewhere", "all hands").await;
    let took = asked.elapsed();
    assert!(took < Duration::from_secs(1), "applied after {took:?}");
    h.expect(&t, "done ✓").await;
    let show = h.ask("!show 1", "⏳").await;
    assert!(show.contains("Needs building"), "{show}");

    // A stop does not wait for the follows.
    let stopping = Instant::now();
    h.bot.stop().await;
    let took = stopping.elapsed();
    assert!(took < Duration::from_secs(2), "stop took {took:?}");
    assert_eq!(sim.writes().builds.len(), ARCHES);

    // After a restart each follow picks up its own build and finishes.
    sim.freeze_builds(false);
    let h = Harness::start(&config, None).await;
    assert!(
        h.bot.drain(Duration::from_secs(60)).await,
        "the follows finish"
    );
    let d = h.bot.store.plan_detail(1).await.unwrap().unwrap();
    assert_eq!(d.plan.state, shepherd_commands::PlanState::Done, "{d:?}");
    h.finish().await;
    assert_eq!(
        sim.writes().builds.len(),
        ARCHES,
        "one build per arch, in all"
    );
}
