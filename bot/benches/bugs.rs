//! Benchmark: `!bugs move-done` over 1,000 Fix Committed tasks against the
//! Launchpad simulator answering every request 50 ms late, with the real
//! bot (`shepherd run`, a child process) applying a bulk plan.
//! Run: `cargo bench -p shepherd --bench bugs`.
//!
//! 1. Concurrency 8: target ≤ 7 s for all 1,000; printed against a
//!    sequential run (concurrency 1) of the same plan.
//! 2. Killed (SIGKILL) mid-run and started again on the same store: every
//!    task moved, and exactly 1,000 PATCHes accepted — none twice (counted
//!    in the simulator; a repeat after the kill meets a changed ETag, reads
//!    the task, finds it moved, and sends nothing).

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use shepherd_adapters::launchpad::sim::{LaunchpadSim, LpWorld};

const TASKS: u64 = 1_000;
const LATENCY: Duration = Duration::from_millis(50);
const TARGET: Duration = Duration::from_secs(7);

fn world() -> LpWorld {
    LpWorld::fix_committed_on_next("bench-token", "bench-bot", 3_000_000, TASKS)
}

fn config(dir: &Path, lp: &LaunchpadSim, concurrency: u32) -> std::path::PathBuf {
    let text = format!(
        r##"[store]
path = "{store}"
[chat]
adapter = "console"
default_user = "alice"
default_channel = "#release"
[executor]
workers = {workers}
bulk_concurrency = {concurrency}
backoff_base_ms = 50
poll_interval_ms = 20
[confirm]
max_unconfirmed_steps = 5000
[roles.release-team]
members = ["console:alice"]
[launchpad]
service_root = "{root}"
oauth_token = "bench-token"
oauth_token_secret = "s"
"##,
        store = dir.join("bench.sqlite").display(),
        workers = concurrency + 4,
        root = lp.service_root(),
    );
    let path = dir.join(format!("bench-{concurrency}.toml"));
    std::fs::write(&path, text).expect("config written");
    path
}

fn start(config: &Path, say: &str) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_shepherd"))
        .args(["run", "--config"])
        .arg(config)
        .env("SHEPHERD_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("shepherd starts");
    if !say.is_empty() {
        let stdin = child.stdin.as_mut().expect("stdin");
        stdin.write_all(say.as_bytes()).expect("command sent");
    }
    child
}

fn moved(lp: &LaunchpadSim) -> usize {
    lp.tasks("maas")
        .iter()
        .filter(|(_, _, m)| m.as_deref() == Some("3.6.0"))
        .count()
}

async fn wait_until(what: &str, limit: Duration, done: impl Fn() -> bool) -> Duration {
    let t = Instant::now();
    while !done() {
        assert!(t.elapsed() < limit, "{what}: not done after {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    t.elapsed()
}

/// One run at `concurrency`; returns how long the moves took.
async fn run(concurrency: u32) -> (Duration, u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let lp = LaunchpadSim::start(world()).await.expect("simulator");
    lp.set_latency(LATENCY);
    let cfg = config(dir.path(), &lp, concurrency);
    // From the command being typed: the bot starting, searching, planning,
    // and every task moved.
    let t = Instant::now();
    let mut bot = start(&cfg, "!bugs move-done maas next 3.6.0\n");
    let planned = wait_until("planning", Duration::from_secs(60), || {
        lp.writes().patches > 0
    })
    .await;
    wait_until("moving", Duration::from_secs(300), || {
        moved(&lp) == TASKS as usize
    })
    .await;
    let took = t.elapsed();
    println!(
        "  (concurrency {concurrency}: first PATCH {:.2} s after the command: start, search, plan)",
        planned.as_secs_f64()
    );
    let _ = bot.kill();
    let _ = bot.wait();
    (took, lp.writes().patches)
}

async fn killed_mid_run() -> (u64, usize, usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let lp = LaunchpadSim::start(world()).await.expect("simulator");
    lp.set_latency(LATENCY);
    let cfg = config(dir.path(), &lp, 8);
    let mut bot = start(&cfg, "!bugs move-done maas next 3.6.0\n");
    wait_until("half", Duration::from_secs(120), || {
        lp.writes().patches >= TASKS / 2
    })
    .await;
    bot.kill().expect("SIGKILL");
    let _ = bot.wait();
    let at_kill = moved(&lp);
    let mut again = start(&cfg, "");
    wait_until("after restart", Duration::from_secs(120), || {
        moved(&lp) == TASKS as usize
    })
    .await;
    // Anything still in flight settles before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = again.kill();
    let _ = again.wait();
    let refused = lp
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .count()
        .saturating_sub(lp.writes().patches as usize);
    (lp.writes().patches, at_kill, refused)
}

#[tokio::main]
async fn main() {
    let (parallel, patches) = run(8).await;
    println!(
        "bugs move-done, 1,000 tasks, {} ms latency, concurrency 8: {:.2} s ({patches} PATCHes) — target ≤ {} s, ratio {:.2} (≤ 1 meets it)",
        LATENCY.as_millis(),
        parallel.as_secs_f64(),
        TARGET.as_secs(),
        parallel.as_secs_f64() / TARGET.as_secs_f64()
    );
    let (sequential, _) = run(1).await;
    println!(
        "same plan, concurrency 1: {:.2} s — concurrency 8 is {:.1}× faster",
        sequential.as_secs_f64(),
        sequential.as_secs_f64() / parallel.as_secs_f64()
    );
    let (patches, at_kill, refused) = killed_mid_run().await;
    println!(
        "killed at {at_kill} moved, restarted: {patches} PATCHes accepted for {TASKS} tasks ({} duplicates; {refused} stale repeats refused with 412 and read instead) — target 0 duplicates",
        patches.saturating_sub(TASKS)
    );
    assert_eq!(patches, TASKS, "a task was PATCHed twice");
}
