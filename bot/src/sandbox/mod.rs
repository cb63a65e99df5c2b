//! `shepherd sandbox`: the whole bot on a temporary store, talking on the
//! console, with its own embedded configuration and seed data — a
//! newcomer's first command. autopkgtest-cloud, Launchpad and Snap Store
//! simulators run on loopback, so `!retry`, `!copy`, `!rebuild` and
//! `!promote` really send requests (to them, not to Ubuntu); an excuses
//! site simulator feeds `!poll`, and `/hooks/launchpad` takes deliveries.

pub mod excuses;
pub mod poll;
pub mod release;
pub mod webhook;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use shepherd_adapters::autopkgtest::sim::{AutopkgtestSim, SimWorld};
use shepherd_adapters::britney::{self, Excuses};
use shepherd_adapters::chat::console::ConsoleChat;
use shepherd_commands::proposed_migration::offline::series_of;

use shepherd_adapters::launchpad::sim::{LaunchpadSim, LpWorld, Publication, SnapDef};
use shepherd_adapters::snapstore::sim::SnapStoreSim;

use crate::config::{AutopkgtestConfig, Config, ConfigError, LaunchpadConfig};
use crate::runtime::{self, RuntimeError};
use crate::views::proposed_migration::MigrationError;

const CONFIG: &str = include_str!("sandbox.toml");
/// The sandbox's own small excuses file, written for it: one
/// `shepherd-demo-*` package per thing `!why` explains.
pub const SEED_EXCUSES: &str = include_str!("seed_excuses.yaml");
const ARCHES: [&str; 7] = [
    "amd64", "arm64", "armhf", "i386", "ppc64el", "riscv64", "s390x",
];
/// The API key the simulated autopkgtest-cloud knows (as `shepherd-sandbox`).
pub const SIM_KEY: &str = "sandbox:not-a-real-key";
const LP_TOKEN: &str = "sandbox-token";

/// The simulated Launchpad: `ppa-owner/next` holds hello for two series,
/// `ppa-owner/stable` is empty; the maas snap's last ppc64el build failed.
pub fn launchpad_world() -> LpWorld {
    let mut w = LpWorld::default();
    w.tokens.insert(LP_TOKEN.into(), "shepherd-sandbox".into());
    for ppa in ["ppa-owner/next", "ppa-owner/stable"] {
        w.ppa_writers
            .insert(ppa.into(), vec!["shepherd-sandbox".into()]);
    }
    for series in ["noble", "jammy"] {
        w.publications.push(Publication {
            archive: "ppa-owner/next".into(),
            name: "hello".into(),
            version: "2.10-5".into(),
            series: series.into(),
            status: "Published".into(),
        });
    }
    w.snaps.push(SnapDef {
        owner: "maas-committers".into(),
        name: "maas".into(),
        series: "jammy".into(),
        processors: vec!["amd64".into(), "arm64".into(), "ppc64el".into()],
        failing: Vec::new(),
        failing_uploads: Vec::new(),
        store_upload: true,
        channels: Some(serde_json::json!({"snapcraft": "8.x/stable"})),
    });
    // Like many production snaps: no distro series (snapcraft.yaml's base
    // decides), so a build names its distro_arch_series.
    w.snaps.push(SnapDef {
        owner: "maas-committers".into(),
        name: "maas-agent".into(),
        series: String::new(),
        processors: vec!["amd64".into(), "arm64".into()],
        failing: Vec::new(),
        failing_uploads: Vec::new(),
        store_upload: true,
        channels: None,
    });
    w
}

/// How often the simulated autopkgtest queue moves on.
const SIM_STEP: Duration = Duration::from_secs(3);

/// How long to wait at end of input for queued plans to finish.
const DRAIN: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot make a temporary directory: {0}")]
    TempDir(std::io::Error),
    #[error("cannot read {path}: {cause}")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Migration(#[from] MigrationError),
    #[error("the excuses file is unusable: {0}")]
    Excuses(britney::ExcusesError),
    #[error("cannot start a simulator or the HTTP server: {0}")]
    Sim(std::io::Error),
}

impl From<britney::ExcusesError> for SandboxError {
    fn from(e: britney::ExcusesError) -> Self {
        Self::Excuses(e)
    }
}

#[derive(Debug, Default, Clone)]
pub struct Options {
    /// An update_excuses.yaml (.xz/.gz/plain) to use instead of the seed.
    pub excuses: Option<PathBuf>,
    /// Its update_output.txt, if you have it.
    pub output: Option<PathBuf>,
}

/// The sandbox configuration with its store in `dir`.
pub fn config(dir: &Path) -> Result<Config, SandboxError> {
    let registry = runtime::registry().map_err(RuntimeError::from)?;
    let mut config = Config::from_toml(CONFIG, Path::new("<sandbox>"), &[], &registry)?;
    config.store.path = dir.join("sandbox.sqlite");
    Ok(config)
}

/// What the simulated autopkgtest-cloud accepts: every version the file
/// names, on every architecture its tests ran on, from [`SIM_KEY`].
pub fn autopkgtest_world(series: &str, excuses: &Excuses) -> SimWorld {
    let mut w = SimWorld::default();
    let mut arches: Vec<String> = ARCHES.iter().map(|a| a.to_string()).collect();
    for e in &excuses.items {
        for v in [&e.new_version, &e.old_version] {
            w.published
                .insert((series.into(), e.source.clone(), v.clone()));
        }
        for t in &e.tests {
            if let Some(v) = &t.version {
                w.published
                    .insert((series.into(), t.package.to_string(), v.to_string()));
            }
            if !arches.iter().any(|a| **a == *t.arch) {
                arches.push(t.arch.to_string());
            }
        }
    }
    w.releases.push((series.to_string(), arches));
    w.users.insert(SIM_KEY.into(), "shepherd-sandbox".into());
    w.uploaders.insert("shepherd-sandbox".into());
    w
}

fn read(path: &Path) -> Result<Vec<u8>, SandboxError> {
    std::fs::read(path).map_err(|cause| SandboxError::Read {
        path: path.to_path_buf(),
        cause,
    })
}

/// Starts the simulated autopkgtest-cloud (accepting every version the
/// excuses name) and Launchpad, and points `config` at them.
async fn simulate(
    config: &mut Config,
    series: &str,
    excuses: &Excuses,
) -> Result<(AutopkgtestSim, LaunchpadSim, SnapStoreSim), SandboxError> {
    let sim = AutopkgtestSim::start(autopkgtest_world(series, excuses))
        .await
        .map_err(SandboxError::Sim)?;
    let mut lp_world = launchpad_world();
    release::maas_release_world(&mut lp_world, "shepherd-sandbox");
    let lp = LaunchpadSim::start(lp_world)
        .await
        .map_err(SandboxError::Sim)?;
    let store = SnapStoreSim::start_maas()
        .await
        .map_err(SandboxError::Sim)?;
    release::with_snapstore(config, &store, 100)?;
    for (arch, ok) in [("amd64", true), ("arm64", true), ("ppc64el", false)] {
        lp.add_build("maas-committers", "maas", arch, ok);
    }
    config.launchpad = Some(LaunchpadConfig {
        service_root: lp
            .service_root()
            .parse()
            .map_err(|e| ConfigError::Invalid(format!("simulator URL: {e}")))?,
        consumer_key: Some("shepherd-sandbox".into()),
        oauth_token: Some(SecretString::from(LP_TOKEN.to_string())),
        oauth_token_secret: Some(SecretString::from("not-a-real-secret".to_string())),
        default_snap_owner: Some("maas-committers".into()),
        poll_interval_ms: 100,
        copy_timeout_mins: 1,
        build_timeout_mins: 1,
    });
    // The simulated queue moves on by itself: queued → running → finished.
    let ticking = sim.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(SIM_STEP).await;
            ticking.advance();
        }
    });
    config.autopkgtest = Some(AutopkgtestConfig {
        request_url: sim
            .request_url()
            .parse()
            .map_err(|e| ConfigError::Invalid(format!("simulator URL: {e}")))?,
        api_key: Some(SecretString::from(SIM_KEY.to_string())),
        session_cookie: None,
        // Its queue moves every SIM_STEP; its excuses change only with `!poll`, so a
        // finished test's result is the history page at once.
        follow_interval_ms: 200,
        result_wait_mins: 0,
    });
    Ok((sim, lp, store))
}

/// Runs until stdin ends, then drains queued plans and stops.
pub async fn run(opts: Options) -> Result<(), SandboxError> {
    let dir = tempfile::tempdir().map_err(SandboxError::TempDir)?;
    let mut config = config(dir.path())?;
    let bytes = match &opts.excuses {
        Some(p) => read(p)?,
        None => SEED_EXCUSES.as_bytes().to_vec(),
    };
    let output = match &opts.output {
        Some(p) => Some(String::from_utf8_lossy(&read(p)?).into_owned()),
        None => None,
    };
    let excuses = britney::parse_bytes(&bytes)?;
    let series = series_of(&excuses).unwrap_or_else(|| "resolute".to_string());
    let (sim, lp, _store) = simulate(&mut config, &series, &excuses).await?;
    drop(excuses);
    // Only the built-in seed has a next run: it is what `!poll` announces.
    let next = opts
        .excuses
        .is_none()
        .then(|| excuses::NEXT_EXCUSES.as_bytes().to_vec());
    let site = excuses::Site::start(bytes, output, next)
        .await
        .map_err(SandboxError::Sim)?;
    config.proposed_migration = Some(site.config(&series));
    let listener = webhook::listen(&mut config).await?;

    let chat = Arc::new(ConsoleChat::stdio(
        &config.chat.default_user,
        &config.chat.default_channel,
    ));
    let extras = runtime::Extras {
        commands: vec![Box::new(poll::Poll)],
        listener: Some(listener),
        store: None,
    };
    let bot = runtime::start_with(&config, chat, None, extras).await?;
    if let Some(p) = &bot.handles.proposed {
        // The first run, fetched as a poll job's first slot fetches it.
        p.poll(&series).await?;
    }
    site.move_on();
    let web = bot
        .webhook_addr
        .map(|a| format!("http://{a}/healthz"))
        .unwrap_or_default();
    let source = opts
        .excuses
        .as_ref()
        .map_or("the built-in seed".to_string(), |p| p.display().to_string());
    eprintln!(
        "shepherd sandbox — store {}, HTTP {web}\n\
         excuses: {source} (series {series}), served by an excuses site simulator at {}; `!poll` polls it now\n\
         {}\n\
         autopkgtest-cloud: simulator at {}; Launchpad: simulator at {}\n\
         you are alice (release-team) in #release; `bob> !cmd` speaks as bob (no role), `#chan name> !cmd` elsewhere.\n\
         try: !help · !why shepherd-demo-lib · !retry shepherd-demo-lib --dry-run · !watch pkg shepherd-demo-lib then !poll · !copy hello --from ppa-owner/next --to ppa-owner/stable --dry-run · !builds maas · !release-status 3.6.0b1 · !jobs",
        config.store.path.display(),
        site.excuses_url(),
        webhook::banner(&config),
        sim.request_url(),
        lp.service_root()
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
