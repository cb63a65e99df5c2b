//! One slow command never silences the bot: with Launchpad not answering,
//! `!builds` says so within seconds (a short read timeout, one quick
//! retry), and a `!why` asked meanwhile is answered while it waits.

use std::time::Duration;

use shepherd::config::MigrationConfig;
use shepherd::sandbox::{launchpad_world, SEED_EXCUSES};
use shepherd_adapters::launchpad::sim::LaunchpadSim;
use shepherd_commands::proposed_migration::offline::series_of;
use shepherd_tests::{config_text, load_config, temp_store, with_launchpad, Harness};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_launchpad_is_reported_and_other_questions_are_answered_meanwhile() {
    let sim = LaunchpadSim::start(launchpad_world()).await.unwrap();
    let (_d, path) = temp_store();
    // Followed work is looked at rarely here: only the planning reads matter.
    let mut config = with_launchpad(
        load_config(&config_text(&path)),
        &sim.service_root(),
        "sandbox-token",
        30_000,
    );
    let excuses = shepherd_adapters::britney::parse(SEED_EXCUSES).unwrap();
    let series = series_of(&excuses).unwrap();
    config.proposed_migration = Some(MigrationConfig {
        series: series.clone(),
        excuses_url: "http://127.0.0.1:9/unused".into(),
        output_url: None,
        series_urls: Default::default(),
        teams: Default::default(),
    });
    let mut h = Harness::start(&config, None).await;
    h.bot
        .handles
        .proposed
        .clone()
        .unwrap()
        .ingest(
            &series,
            SEED_EXCUSES.as_bytes().to_vec(),
            (None, None),
            None,
        )
        .await
        .unwrap();

    sim.set_latency(Duration::from_secs(120));
    let builds = h.say("!builds maas").await;
    let why = h.say("#maas !why shepherd-demo-tool").await;
    h.expect(&why, "shepherd-demo-tool").await;
    assert_eq!(
        h.text(&builds),
        "",
        "!why was answered while !builds still waited for Launchpad"
    );
    // PATIENCE (15 s) bounds the wait: a 5 s timeout, asked twice.
    let said = h.expect(&builds, "Launchpad did not answer").await;
    assert!(said.contains("try again in a minute"), "{said}");
    h.finish().await;
}
