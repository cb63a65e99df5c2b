//! The `shepherd` command line: the bot (`run`, `sandbox`), its config
//! check, and the offline tools that work on a local file.

mod offline;
mod report;
mod signals;

pub use report::report;

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::runtime;
use signals::Signals;

#[derive(Parser)]
#[command(
    name = "shepherd",
    version,
    about = "Chatops for Ubuntu package and snap releases"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Subcommand)]
pub enum Cmd {
    /// Run the bot with a configuration file.
    Run {
        #[arg(long, short)]
        config: PathBuf,
    },
    /// The whole bot on a temporary store: type commands, read replies; exits at end of input.
    Sandbox {
        /// An update_excuses.yaml (.xz, .gz or plain) instead of the built-in seed.
        #[arg(long)]
        excuses: Option<PathBuf>,
        /// The matching update_output.txt.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Print the request.cgi URLs that retry an excuses file's regressions, one per line.
    Retry(RetryArgs),
    /// Explain why a package is stuck in -proposed, from an excuses file.
    Why {
        /// The source package.
        package: String,
        /// update_excuses.yaml (.xz, .gz or plain).
        #[arg(long)]
        excuses: PathBuf,
        /// The matching update_output.txt (adds what migrating would break).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Validate a configuration file and print it with secrets redacted.
    CheckConfig {
        /// The configuration file (or use --config).
        file: Option<PathBuf>,
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
}

/// Options as ubuntu-archive-tools' retry-autopkgtest-regressions has them.
#[derive(clap::Args)]
pub struct RetryArgs {
    /// update_excuses.yaml (.xz, .gz or plain).
    #[arg(long)]
    excuses: PathBuf,
    /// The series (default: read from the file's test URLs).
    #[arg(long, short)]
    series: Option<String>,
    /// Retry results in this state.
    #[arg(long, default_value = "REGRESSION")]
    state: String,
    /// Add all-proposed=1.
    #[arg(long)]
    all_proposed: bool,
    /// Skip items younger than DAYS.
    #[arg(long, value_name = "DAYS")]
    min_age: Option<f64>,
    /// Stop at the first item older than DAYS (the file is sorted by age).
    #[arg(long, value_name = "DAYS")]
    max_age: Option<f64>,
    /// Only tests triggered by this source.
    #[arg(long, value_name = "SRC")]
    blocks: Option<String>,
    /// Trigger the tested package's own version instead of the -proposed upload.
    #[arg(long)]
    no_proposed: bool,
    /// Only this architecture (repeatable).
    #[arg(long)]
    arch: Vec<String>,
    /// An extra trigger SRC/VER for every request (repeatable).
    #[arg(long)]
    trigger: Vec<String>,
    /// Run against this PPA, OWNER/NAME (repeatable).
    #[arg(long)]
    ppa: Vec<String>,
    /// request.cgi's address.
    #[arg(long, default_value = "https://autopkgtest.ubuntu.com/request.cgi")]
    request_url: String,
    /// Print the URLs; required (sending from the CLI is left to curl or `!retry`).
    #[arg(long)]
    dry_run: bool,
}

pub fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHEPHERD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // One JSON object per line for a log collector, with the spans an
    // event happened in (the event, the plan step) as fields.
    if std::env::var("SHEPHERD_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .init();
        return;
    }
    // Colour codes only for a person at a terminal, not in journald or a file.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    builder.with_ansi(ansi).init();
}

pub async fn dispatch(cmd: Cmd) -> anyhow::Result<()> {
    match cmd {
        Cmd::Run { config } => run(config).await,
        Cmd::Sandbox { excuses, output } => {
            init_logging("warn");
            Ok(crate::sandbox::run(crate::sandbox::Options { excuses, output }).await?)
        }
        Cmd::Retry(args) => offline::retry(args),
        Cmd::Why {
            package,
            excuses,
            output,
        } => {
            println!("{}", offline::why(&package, &excuses, output.as_deref())?);
            Ok(())
        }
        Cmd::CheckConfig { file, config } => {
            let path = file
                .or(config)
                .context("give the configuration file: shepherd check-config FILE")?;
            check_config(path)
        }
    }
}

fn check_config(path: PathBuf) -> anyhow::Result<()> {
    let registry = runtime::registry()?;
    let config = Config::load(&path, &registry)?;
    print!(
        "{} is valid.\n{}",
        path.display(),
        config.redacted_summary()
    );
    for u in config.unheld_roles(&registry) {
        println!(
            "warning: !{} needs role {}, and {}: nobody can run it",
            u.command,
            u.role,
            u.why()
        );
    }
    Ok(())
}

async fn run(path: PathBuf) -> anyhow::Result<()> {
    // serenity's request spans carry URLs (an interaction's holds its
    // token): its own logs from warnings up only.
    init_logging("info,serenity=warn");
    let registry = runtime::registry()?;
    let config = Config::load(&path, &registry)?;
    for u in config.unheld_roles(&registry) {
        tracing::warn!(
            command = u.command,
            role = u.role,
            why = u.why(),
            "no one holds this role: the command is refused to everyone"
        );
    }
    // Connected first: a refused token stops here, before anything runs.
    let chat = crate::chat::connect(&config).await?;
    let signals = Signals::register();
    let bot = runtime::start(&config, chat.chat(), None).await?;
    tokio::spawn(signals.cancel_on_signal(bot.shutdown_token()));
    let leading = chat.follow_leadership(&bot.store, bot.shutdown_token());
    tracing::info!("shepherd is running");
    bot.serve_chat(chat.stops_the_bot()).await;
    if let Some(task) = leading {
        let _ = task.await;
    }
    chat.close().await;
    bot.stop().await;
    if let Some(why) = chat.failure() {
        anyhow::bail!(why);
    }
    tracing::info!("shepherd stopped");
    Ok(())
}
