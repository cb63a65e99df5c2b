//! The `shepherd` command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use shepherd::config::{ChatAdapter, Config};
use shepherd::runtime;
use shepherd_adapters::chat::console::ConsoleChat;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "shepherd",
    version,
    about = "Chatops for Ubuntu package and snap releases"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
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
struct RetryArgs {
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

fn retry(a: RetryArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        a.dry_run,
        "add --dry-run: this prints request URLs (pipe them to curl with your cookie), or use !retry in chat to send them"
    );
    let excuses = shepherd::offline::load_excuses(&a.excuses)?;
    let series = match a.series {
        Some(s) => s,
        None => shepherd::sandbox::series_of(&excuses)
            .context("cannot tell the series from the file; give --series")?,
    };
    for t in &a.trigger {
        shepherd_adapters::autopkgtest::request::check_trigger(t)?;
    }
    let sel = shepherd_commands::proposed_migration::retry_select::Selection {
        state: Some(a.state.to_ascii_uppercase()),
        arches: a.arch,
        extra_triggers: a.trigger,
        all_proposed: a.all_proposed,
        ppas: a.ppa,
        no_proposed: a.no_proposed,
        min_age: a.min_age,
        max_age: a.max_age,
        blocks: a.blocks,
        reference: false,
    };
    let mut out = std::io::stdout().lock();
    for url in shepherd::offline::retry_urls(&excuses, &series, &sel, &a.request_url) {
        use std::io::Write;
        writeln!(out, "{url}")?;
    }
    Ok(())
}

fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHEPHERD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("shepherd: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(dispatch(cli.command));
    // A console read blocked on a terminal or a supervisor's open pipe
    // lives on a blocking thread; dropping the runtime would wait for it
    // (until stdin closes). Everything that matters has stopped by now.
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shepherd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(cmd: Cmd) -> anyhow::Result<()> {
    match cmd {
        Cmd::Run { config } => run(config).await,
        Cmd::Sandbox { excuses, output } => {
            init_logging("warn");
            Ok(shepherd::sandbox::run(shepherd::sandbox::Options { excuses, output }).await?)
        }
        Cmd::Retry(args) => retry(args),
        Cmd::Why {
            package,
            excuses,
            output,
        } => {
            let x = shepherd::offline::load_excuses(&excuses)?;
            println!(
                "{}",
                shepherd::offline::why(&x, &package, output.as_deref())?
            );
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
    for (command, role) in config.unheld_roles(&registry) {
        println!("warning: !{command} needs role {role}, which [roles] does not define: nobody can run it");
    }
    Ok(())
}

async fn run(path: PathBuf) -> anyhow::Result<()> {
    init_logging("info");
    let registry = runtime::registry()?;
    let config = Config::load(&path, &registry)?;
    for (command, role) in config.unheld_roles(&registry) {
        tracing::warn!(
            command,
            role,
            "no one holds this role: the command is refused to everyone"
        );
    }
    let chat = match config.chat.adapter {
        ChatAdapter::Console => Arc::new(ConsoleChat::stdio(
            &config.chat.default_user,
            &config.chat.default_channel,
        )),
    };
    let signals = Signals::register();
    let bot = runtime::start(&config, chat, None).await?;
    tokio::spawn(signals.cancel_on_signal(bot.shutdown_token()));
    tracing::info!("shepherd is running");
    bot.serve_chat(false).await;
    bot.stop().await;
    tracing::info!("shepherd stopped");
    Ok(())
}

/// SIGTERM and ctrl-c, watched from the moment `register` returns: a
/// signal that arrives while the bot is still starting is kept, not lost to
/// the default action (which would kill the process mid-start).
struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn register() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let watch = |kind: SignalKind, name: &str| match signal(kind) {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::error!(error = %e, signal = name, "cannot watch the signal");
                    None
                }
            };
            Self {
                term: watch(SignalKind::terminate(), "SIGTERM"),
                interrupt: watch(SignalKind::interrupt(), "SIGINT"),
            }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// Waits for either signal, then cancels `token` (the shutdown every
    /// task watches).
    async fn cancel_on_signal(self, token: CancellationToken) {
        #[cfg(unix)]
        {
            let recv = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = recv(self.term) => {}
                _ = recv(self.interrupt) => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
        token.cancel();
    }
}
