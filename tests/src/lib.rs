//! A harness for end-to-end tests: the real bot (store file, dispatcher,
//! executor, scheduler, HTTP server) with console chat over in-memory pipes,
//! so a test reads like a chat transcript.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use shepherd::config::Config;
use shepherd::executor::{Applied, Applier, ApplyError, StepCall};
use shepherd::runtime::{self, Running};
use shepherd_adapters::chat::console::ConsoleChat;
use shepherd_commands::Action;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream};
use tokio::sync::Mutex as AsyncMutex;
use tokio::task::JoinHandle;

/// How long any expectation waits before failing the test.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// The configuration most tests use: alice and carol are release-team, bob is nobody.
pub fn config_text(store: &Path) -> String {
    format!(
        r##"
[store]
path = "{}"

[chat]
adapter = "console"
default_user = "alice"
default_channel = "#release"

[webhook]
listen = "127.0.0.1:0"

[executor]
max_attempts = 3
backoff_base_ms = 20
backoff_cap_ms = 100
poll_interval_ms = 20

[confirm]
expiry_minutes = 10
max_unconfirmed_steps = 2

[roles.release-team]
members = ["console:alice", "console:carol"]
ask = "#release"
"##,
        store.display()
    )
}

/// `config` with Launchpad at `service_root` (a simulator), authenticated
/// with `token`, snaps owned by maas-committers by default; followed
/// copies and builds looked at every `poll_ms`.
pub fn with_launchpad(mut config: Config, service_root: &str, token: &str, poll_ms: u64) -> Config {
    config.launchpad = Some(shepherd::config::LaunchpadConfig {
        service_root: service_root.parse().expect("simulator URL"),
        consumer_key: Some("shepherd-tests".into()),
        oauth_token: Some(secrecy::SecretString::from(token.to_string())),
        oauth_token_secret: Some(secrecy::SecretString::from("secret".to_string())),
        default_snap_owner: Some("maas-committers".into()),
        poll_interval_ms: poll_ms,
        copy_timeout_mins: 1,
        build_timeout_mins: 1,
    });
    config
}

pub fn load_config(text: &str) -> Config {
    let registry = runtime::registry().expect("registry");
    Config::from_toml(text, Path::new("test.toml"), &[], &registry).expect("test config is valid")
}

/// A running bot and the two ends of its console.
pub struct Harness {
    pub bot: Arc<Running>,
    input: DuplexStream,
    output: Arc<Mutex<Vec<String>>>,
    lines_sent: u64,
    serving: JoinHandle<()>,
    reader: JoinHandle<()>,
}

/// Set to `postgres`: the end-to-end tests run on PostgreSQL (a server
/// from `SHEPHERD_TEST_POSTGRES_URL`), each store path standing for a
/// fresh database of its own — so a test that restarts the bot on the
/// same path finds the same database.
pub const STORE_VAR: &str = "SHEPHERD_TEST_STORE";

/// Whether the end-to-end tests run on PostgreSQL (see [`STORE_VAR`]).
pub fn on_postgres() -> bool {
    std::env::var(STORE_VAR).is_ok_and(|v| v == "postgres")
}

/// The store at `path` as the bot under test sees it: the SQLite file, or
/// on PostgreSQL the database standing for it.
pub async fn open_store(path: &Path) -> shepherd::store::Store {
    use shepherd::store::{testing, Store};
    if !on_postgres() {
        return Store::open(path).await.expect("store opens");
    }
    static DATABASES: Mutex<Vec<(PathBuf, String)>> = Mutex::new(Vec::new());
    let known = DATABASES
        .lock()
        .unwrap()
        .iter()
        .find(|(p, _)| p == path)
        .map(|(_, url)| url.clone());
    let url = match known {
        Some(url) => url,
        None => {
            let url = testing::fresh_postgres_database()
                .await
                .expect("SHEPHERD_TEST_STORE=postgres needs SHEPHERD_TEST_POSTGRES_URL");
            DATABASES
                .lock()
                .unwrap()
                .push((path.to_path_buf(), url.clone()));
            url
        }
    };
    Store::connect(&url, 8).await.expect("store connects")
}

impl Harness {
    /// Starts the bot on `config`; `applier` defaults to the real one (chat announcements).
    pub async fn start(config: &Config, applier: Option<Arc<dyn Applier>>) -> Self {
        Self::start_with(config, applier, runtime::Extras::default()).await
    }

    /// [`Harness::start`] with what a caller adds (the sandbox's `!poll`).
    pub async fn start_with(
        config: &Config,
        applier: Option<Arc<dyn Applier>>,
        mut extras: runtime::Extras,
    ) -> Self {
        if on_postgres() && extras.store.is_none() {
            extras.store = Some(open_store(&config.store.path).await);
        }
        let (input, bot_in) = tokio::io::duplex(1 << 16);
        let (bot_out, out) = tokio::io::duplex(1 << 16);
        let chat = Arc::new(ConsoleChat::new(
            BufReader::new(bot_in),
            bot_out,
            &config.chat.default_user,
            &config.chat.default_channel,
        ));
        let bot = Arc::new(
            runtime::start_with(config, chat, applier, extras)
                .await
                .expect("bot starts"),
        );
        let output = Arc::new(Mutex::new(Vec::new()));
        let sink = output.clone();
        let reader = tokio::spawn(async move {
            let mut lines = BufReader::new(out).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        let b = bot.clone();
        let serving = tokio::spawn(async move { b.serve_chat(true).await });
        Self {
            bot,
            input,
            output,
            lines_sent: 0,
            serving,
            reader,
        }
    }

    /// The bot's `/metrics`, fetched over HTTP as Prometheus would.
    pub async fn scrape(&self) -> String {
        let addr = self
            .bot
            .webhook_addr
            .expect("the HTTP server is configured");
        let r = reqwest::get(format!("http://{addr}/metrics"))
            .await
            .expect("/metrics answers");
        assert_eq!(r.status(), 200);
        r.text().await.expect("/metrics has a body")
    }

    /// Types one line; returns its thread id (`t3`).
    pub async fn say(&mut self, line: &str) -> String {
        self.input
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("console input open");
        self.lines_sent += 1;
        format!("t{}", self.lines_sent)
    }

    /// Everything printed under `[prefix]` so far, one line each.
    pub fn text(&self, prefix: &str) -> String {
        let tag = format!("[{prefix}] ");
        self.output
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| l.strip_prefix(&tag))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Waits until the text under `[prefix]` contains `needle`; returns that text.
    pub async fn expect(&self, prefix: &str, needle: &str) -> String {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let text = self.text(prefix);
            if text.contains(needle) {
                return text;
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "[{prefix}] never said {needle:?}; it said:\n{text}\n--- whole transcript:\n{}",
                    self.transcript()
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Says `line` and waits for its thread to contain `needle`.
    pub async fn ask(&mut self, line: &str, needle: &str) -> String {
        let t = self.say(line).await;
        self.expect(&t, needle).await
    }

    pub fn transcript(&self) -> String {
        self.output.lock().unwrap().join("\n")
    }

    /// Ends input, waits for queued plans, stops every task.
    pub async fn finish(mut self) -> String {
        self.input.shutdown().await.ok();
        let _ = (&mut self.serving).await;
        assert!(self.bot.drain(PATIENCE).await, "plans did not drain");
        self.bot.stop().await;
        // Give the reader a moment to collect the last lines.
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.reader.abort();
        self.transcript()
    }
}

/// An applier that records every effect, and can fail or hang on demand.
#[derive(Default)]
pub struct RecordingApplier {
    pub effects: Arc<Mutex<Vec<String>>>,
    /// Channel → failures to return before succeeding (transient).
    pub transient: AsyncMutex<Vec<(String, u32)>>,
    /// Channels that always fail permanently.
    pub permanent: Vec<String>,
    /// Channels whose apply panics (a bug in an adapter).
    pub panic_on: Vec<String>,
    /// Channel whose apply never returns, and a signal sent when it is reached.
    pub hang_on: Option<(String, Mutex<Option<tokio::sync::oneshot::Sender<()>>>)>,
    /// With `hang_on`: the effect lands first, then the apply hangs (a write
    /// that happened but was never recorded as done).
    pub land_then_hang: bool,
    /// Look before writing, as real adapters do: an effect already made
    /// under this step key is not made again.
    pub read_before_write: bool,
}

impl RecordingApplier {
    pub fn sharing(effects: Arc<Mutex<Vec<String>>>) -> Self {
        Self {
            effects,
            ..Default::default()
        }
    }

    pub fn effects(&self) -> Vec<String> {
        self.effects.lock().unwrap().clone()
    }
}

#[async_trait]
impl Applier for RecordingApplier {
    async fn apply(&self, step: &StepCall<'_>) -> Result<Applied, ApplyError> {
        let key = step.key;
        let (channel, text) = match step.action {
            Action::Announce { channel, text, .. } => (channel, text),
            Action::RequestAutopkgtest { package, arch, .. } => (arch, package),
            Action::CopyPackage { to, name, .. } => (to, name),
            Action::RequestSnapBuild { arch, snap, .. } => (arch, snap),
            Action::RegisterWebhook { target, .. } => (target, target),
            Action::ReleaseSnap { channel, snap, .. } => (channel, snap),
            Action::CloseChannels { snap, .. } => (snap, snap),
            Action::CreateMilestone { project, name, .. }
            | Action::ReleaseMilestone { project, name, .. } => (project, name),
            Action::UpdateBugTask { task, .. } => (task, task),
        };
        let line = format!("{channel}: {text} [{key}]");
        if self.read_before_write && self.effects.lock().unwrap().contains(&line) {
            return Ok(Applied::Done(format!("already posted to {channel}")));
        }
        if let Some((hang, signal)) = &self.hang_on {
            if hang == channel {
                if self.land_then_hang {
                    self.effects.lock().unwrap().push(line.clone());
                }
                if let Some(tx) = signal.lock().unwrap().take() {
                    let _ = tx.send(());
                }
                std::future::pending::<()>().await;
            }
        }
        if self.panic_on.contains(channel) {
            panic!("adapter bug while posting to {channel}");
        }
        if self.permanent.contains(channel) {
            return Err(ApplyError::Permanent(format!("{channel} does not exist")));
        }
        {
            let mut t = self.transient.lock().await;
            if let Some(entry) = t.iter_mut().find(|(c, n)| c == channel && *n > 0) {
                entry.1 -= 1;
                return Err(ApplyError::Transient("503 Service Unavailable".into()));
            }
        }
        self.effects.lock().unwrap().push(line);
        Ok(Applied::Done(format!("posted to {channel}")))
    }
}

/// A fresh directory and the store path inside it.
pub fn temp_store() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("shepherd.sqlite");
    (dir, path)
}

/// The value of one series (`name{labels}` exactly as served) in
/// `/metrics` text, if it is there.
pub fn metric(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Asserts each `(series, value)` in `/metrics` text.
pub fn assert_metrics(body: &str, expected: &[(&str, f64)]) {
    for (series, value) in expected {
        assert_eq!(metric(body, series), Some(*value), "{series} in:\n{body}");
    }
}
