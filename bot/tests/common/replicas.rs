//! Replicas: real `shepherd run` processes sharing one PostgreSQL database
//! (a fresh one on the test server, see `shepherd::store::testing`), with
//! console chat on their stdin and stdout, and the Launchpad simulator of
//! the test process behind them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use shepherd_adapters::launchpad::sim::{LaunchpadSim, LpWorld};

use super::{lines_of, shepherd};

/// The first bug id of `world_with_tasks`.
pub const FIRST_BUG: u64 = 3_000_000;

/// Launchpad with `n` Fix Committed maas tasks on milestone `next`.
pub fn world_with_tasks(n: u64) -> LpWorld {
    LpWorld::fix_committed_on_next("replica-token", "replica-bot", FIRST_BUG, n)
}

/// How many maas tasks are on milestone 3.6.0.
pub fn moved(lp: &LaunchpadSim) -> usize {
    lp.tasks("maas")
        .iter()
        .filter(|(_, _, m)| m.as_deref() == Some("3.6.0"))
        .count()
}

/// A replica's config: named `name`, on `db`, Launchpad at `lp`, webhooks
/// on `listen` (if any); `extra` is appended.
pub fn config(dir: &Path, name: &str, db: &str, lp: &LaunchpadSim, extra: &str) -> PathBuf {
    let text = format!(
        r##"[store]
url = "{db}"
replica = "{name}"
lease_secs = 1
max_connections = 8
[chat]
adapter = "console"
default_user = "alice"
default_channel = "#release"
[executor]
workers = 8
bulk_concurrency = 4
max_attempts = 20
backoff_base_ms = 20
backoff_cap_ms = 200
poll_interval_ms = 50
request_timeout_secs = 5
[confirm]
max_unconfirmed_steps = 5000
[roles.release-team]
members = ["console:alice"]
[launchpad]
service_root = "{root}"
oauth_token = "replica-token"
oauth_token_secret = "s"
{extra}
"##,
        root = lp.service_root(),
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).expect("config written");
    path
}

/// A running replica; killed (SIGKILL) when dropped.
pub struct Replica {
    pub child: Child,
    pub out: Receiver<String>,
    pub seen: Vec<String>,
}

impl Replica {
    pub fn start(config: &Path) -> Self {
        let mut child = shepherd()
            .args(["run", "--config"])
            .arg(config)
            .env("SHEPHERD_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("shepherd starts");
        let out = lines_of(child.stdout.take().expect("stdout"));
        Self {
            child,
            out,
            seen: Vec::new(),
        }
    }

    pub fn say(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{line}").expect("command sent");
    }

    /// Every line printed so far.
    pub fn lines(&mut self) -> &[String] {
        while let Ok(line) = self.out.try_recv() {
            self.seen.push(line);
        }
        &self.seen
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits (polling) until `done`, failing the test after `limit`.
pub async fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let t = Instant::now();
    while !done() {
        assert!(t.elapsed() < limit, "{what}: not done after {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Each plan's state, steps done and steps, from the replicas' database.
pub async fn plan_states(db: &str) -> Vec<(String, i64, i64)> {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(db).await.expect("database");
    sqlx::query_as(
        "SELECT p.state,
            (SELECT COUNT(*) FROM steps s WHERE s.plan_id = p.id AND s.state = 'done'),
            (SELECT COUNT(*) FROM steps s WHERE s.plan_id = p.id)
         FROM plans p ORDER BY p.id",
    )
    .fetch_all(&mut conn)
    .await
    // Before the replicas have made the tables: no plan yet.
    .unwrap_or_default()
}

/// Waits until the (one) plan has ended, done or failed.
pub async fn plan_ended(db: &str, limit: Duration) {
    plans_ended(db, 1, limit).await;
}

/// Waits until there are `n` plans and all have ended (done or failed);
/// their states.
pub async fn plans_ended(db: &str, n: usize, limit: Duration) -> Vec<(String, i64, i64)> {
    let t = Instant::now();
    loop {
        let states = plan_states(db).await;
        let ended = states
            .iter()
            .filter(|(s, _, _)| s == "done" || s == "failed")
            .count();
        if states.len() == n && ended == n {
            return states;
        }
        assert!(
            t.elapsed() < limit,
            "plans not ended after {limit:?}: {states:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The failed steps' errors.
pub async fn failed_steps(db: &str) -> Vec<String> {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(db).await.expect("database");
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT error FROM steps WHERE state = 'failed' ORDER BY id")
            .fetch_all(&mut conn)
            .await
            .expect("steps read");
    rows.into_iter().map(|(e,)| e).collect()
}

/// How many step attempts ended with `outcome`.
pub async fn attempts_ending(db: &str, outcome: &str) -> i64 {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(db).await.expect("database");
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM step_attempts WHERE outcome = $1")
        .bind(outcome)
        .fetch_one(&mut conn)
        .await
        .expect("attempts read");
    n
}

/// Waits (up to `limit`) until all `tasks` are on 3.6.0 and the plan has
/// ended, then checks what the fault tests promise: each task PATCHed
/// exactly once (no duplicate effect) and every step done (none lost).
pub async fn each_task_moved_once(lp: &LaunchpadSim, db: &str, tasks: u64, limit: Duration) {
    wait_until("all moved", limit, || moved(lp) == tasks as usize).await;
    plan_ended(db, limit / 2).await;
    // Anything still in flight settles before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(lp.writes().patches, tasks, "each task PATCHed once");
    assert_eq!(
        plan_states(db).await,
        [("done".to_string(), tasks as i64, tasks as i64)],
        "no step lost"
    );
}
