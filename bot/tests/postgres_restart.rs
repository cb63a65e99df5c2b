//! PostgreSQL restarted under a running `shepherd run` in the middle of a
//! 200-step plan: the bot reconnects by itself and loses nothing — every
//! task moved once (counted in the simulator), the plan done. Its own test
//! binary: the restart would cut every other test's connections. Needs
//! the throwaway cluster `.ci/postgres` starts (it names its data
//! directory); skips without it.

mod common;

use std::process::Command;
use std::time::Duration;

use common::replicas::{
    config, each_task_moved_once, moved, wait_until, world_with_tasks, Replica,
};
use shepherd::store::testing::{fresh_postgres_database, REQUIRE_VAR};
use shepherd_adapters::launchpad::sim::LaunchpadSim;

const TASKS: u64 = 200;

/// `pg_ctl restart` on the test cluster (as its owner when we are root).
fn restart_postgres(data: &str) {
    let bin = std::env::var("SHEPHERD_TEST_POSTGRES_BIN").unwrap_or_default();
    let pg_ctl = if bin.is_empty() {
        "pg_ctl".to_string()
    } else {
        format!("{bin}/pg_ctl")
    };
    let as_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    let mut c = if as_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", &pg_ctl]);
        c
    } else {
        Command::new(&pg_ctl)
    };
    let status = c
        .args(["-D", data, "-m", "fast", "-w", "-t", "60", "restart"])
        // The server's user may not enter the test's directory.
        .current_dir("/")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("pg_ctl runs");
    assert!(status.success(), "pg_ctl restart failed");
}

#[tokio::test]
async fn a_postgres_restart_mid_plan_loses_nothing() {
    let Ok(data) = std::env::var("SHEPHERD_TEST_POSTGRES_DATA") else {
        assert!(
            std::env::var_os(REQUIRE_VAR).is_none(),
            "{REQUIRE_VAR} is set but SHEPHERD_TEST_POSTGRES_DATA names no cluster to restart"
        );
        eprintln!("skipped: no SHEPHERD_TEST_POSTGRES_DATA (see .ci/postgres)");
        return;
    };
    let Some(db) = fresh_postgres_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lp = LaunchpadSim::start(world_with_tasks(TASKS)).await.unwrap();
    lp.set_latency(Duration::from_millis(20));
    let mut a = Replica::start(&config(dir.path(), "a", &db, &lp, ""));
    a.say("!bugs move-done maas next 3.6.0");
    wait_until("a quarter moved", Duration::from_secs(120), || {
        lp.writes().patches >= TASKS / 4
    })
    .await;
    restart_postgres(&data);
    let after_restart = moved(&lp);
    assert!(after_restart < TASKS as usize, "restarted mid-plan");
    each_task_moved_once(&lp, &db, TASKS, Duration::from_secs(180)).await;
    // Still serving: a new command after the restart is answered.
    a.say("!help");
    wait_until(
        "answered after the restart",
        Duration::from_secs(30),
        || a.lines().iter().any(|l| l.contains("Shepherd commands")),
    )
    .await;
}
