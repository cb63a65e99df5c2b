//! `shepherd sandbox`: the whole bot on a temporary store, talking on the
//! console, with its own embedded configuration — a newcomer's first command.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use shepherd_adapters::chat::console::ConsoleChat;

use crate::config::{Config, ConfigError};
use crate::runtime::{self, RuntimeError};

const CONFIG: &str = include_str!("sandbox.toml");

/// How long to wait at end of input for queued plans to finish.
const DRAIN: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot make a temporary directory: {0}")]
    TempDir(std::io::Error),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

/// The sandbox configuration with its store in `dir`.
pub fn config(dir: &Path) -> Result<Config, SandboxError> {
    let registry = runtime::registry().map_err(RuntimeError::from)?;
    let mut config = Config::from_toml(CONFIG, Path::new("<sandbox>"), &[], &registry)?;
    config.store.path = dir.join("sandbox.sqlite");
    Ok(config)
}

/// Runs until stdin ends, then drains queued plans and stops.
pub async fn run() -> Result<(), SandboxError> {
    let dir = tempfile::tempdir().map_err(SandboxError::TempDir)?;
    let config = config(dir.path())?;
    let chat = Arc::new(ConsoleChat::stdio(
        &config.chat.default_user,
        &config.chat.default_channel,
    ));
    let bot = runtime::start(&config, chat, None).await?;
    let web = bot
        .webhook_addr
        .map(|a| format!("http://{a}/healthz"))
        .unwrap_or_default();
    eprintln!(
        "shepherd sandbox — store {}, HTTP {web}\n\
         you are alice (release-team) in #release; `bob> !cmd` speaks as bob (no role), `#chan name> !cmd` elsewhere.\n\
         try: !help · !announce #release hello · !jobs · !audit",
        config.store.path.display()
    );
    bot.serve_chat(true).await;
    if !bot.drain(DRAIN).await {
        eprintln!(
            "sandbox: plans still running after {} s; stopping anyway",
            DRAIN.as_secs()
        );
    }
    bot.stop().await;
    Ok(())
}
