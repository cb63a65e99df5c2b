//! Wiring: one store, one dispatcher, one executor, the scheduler, the HTTP
//! server and a chat adapter, sharing one shutdown signal that reaches every
//! task. Used by `run`, `sandbox` and the end-to-end tests alike.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use shepherd_adapters::chat::Chat;
use shepherd_adapters::wire::Calls;
use shepherd_commands::registry::RegistryError;
use shepherd_commands::{Command, Registry};
use thiserror::Error;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::dispatch::flood::FloodLimit;
use crate::dispatch::Dispatcher;
use crate::executor::{Applier, Executor, WorldApplier};
use crate::http::delivery_writer::DeliveryWriter;
use crate::http::{self, WebState};
use crate::metrics::Metrics;
use crate::permissions::Permissions;
use crate::redaction::{RedactingChat, Redactor};
use crate::schedule::Scheduler;
use crate::store::{Backend, Store, StoreError};
use crate::views::{self, Handles, Wiring, WiringError};

mod background;
mod chat_loop;

use background::{keep_leases, process_deliveries, start_workers};

#[derive(Debug, Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store cannot be opened, with what to do about it.
    #[error("{error} — {advice}")]
    StoreOpen { error: StoreError, advice: String },
    // The cause is in the message, so not also a `source()` (said twice).
    #[error("cannot listen on {addr}: {cause}")]
    Listen {
        addr: SocketAddr,
        cause: std::io::Error,
    },
    #[error("the HTTP listener has no address: {0}")]
    ListenerAddr(std::io::Error),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Wiring(#[from] WiringError),
}

/// What to do when the store file cannot be opened: usually its
/// directory is missing (a fresh machine) or not writable by the bot.
fn store_advice(path: &std::path::Path) -> String {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let elsewhere = "SHEPHERD_STORE_PATH (store.path) to a file in an existing directory";
    if !dir.exists() {
        format!(
            "{} does not exist: create it, writable by the user shepherd runs as, or set {elsewhere}",
            dir.display()
        )
    } else if !dir.is_dir() {
        format!("{} is not a directory: set {elsewhere}", dir.display())
    } else {
        format!(
            "check that the user shepherd runs as may write to {} (SQLite adds -wal and -shm files beside the store), or set SHEPHERD_STORE_PATH (store.path) to a file elsewhere",
            dir.display()
        )
    }
}

/// The store the config names: PostgreSQL at `store.url`, else the SQLite
/// file at `store.path`.
pub async fn open_store(config: &Config) -> Result<Store, RuntimeError> {
    let c = &config.store;
    let store = match &c.url {
        Some(url) => Store::connect(url.expose_secret(), c.max_connections).await?,
        None => Store::open(&c.path).await.map_err(|error| match error {
            StoreError::Open { .. } => RuntimeError::StoreOpen {
                advice: store_advice(&c.path),
                error,
            },
            other => other.into(),
        })?,
    };
    let store = store.with_lease(Duration::from_secs(c.lease_secs.max(1)));
    Ok(match &c.replica {
        Some(name) => store.with_replica(name),
        None => store,
    })
}

/// Every command this build knows.
pub fn registry() -> Result<Registry, RegistryError> {
    registry_with(Vec::new())
}

/// The built-in commands and `extra` ones (the sandbox's `!poll`).
pub fn registry_with(extra: Vec<Box<dyn Command>>) -> Result<Registry, RegistryError> {
    let mut commands = shepherd_commands::builtins();
    commands.extend(extra);
    Registry::new(commands)
}

/// What a caller adds to the bot its config describes.
#[derive(Default)]
pub struct Extras {
    /// Commands only this caller offers (the sandbox's `!poll`), beside the built-in ones.
    pub commands: Vec<Box<dyn Command>>,
    /// The HTTP server's socket, bound by the caller (instead of
    /// `webhook.listen`) so it knows the port before start — the sandbox
    /// puts it in `webhook.public_url`.
    pub listener: Option<tokio::net::TcpListener>,
    /// A store the caller opened (the tests' PostgreSQL database) instead
    /// of the one `[store]` names.
    pub store: Option<Store>,
}

/// A started bot. Drop-safe, but `stop` is the orderly way out.
pub struct Running {
    pub store: Store,
    pub dispatcher: Arc<Dispatcher>,
    pub metrics: Arc<Metrics>,
    /// Services' state, for seeding (sandbox, tests).
    pub handles: Handles,
    /// Where the HTTP server listens, when configured.
    pub webhook_addr: Option<SocketAddr>,
    chat: Arc<dyn Chat>,
    shutdown: CancellationToken,
    tasks: std::sync::Mutex<Vec<JoinHandle<()>>>,
}

/// Opens the store and starts the executor, scheduler and HTTP server.
/// `applier` replaces the real one (tests); `None` = the adapters from config.
pub async fn start(
    config: &Config,
    chat: Arc<dyn Chat>,
    applier: Option<Arc<dyn Applier>>,
) -> Result<Running, RuntimeError> {
    start_with(config, chat, applier, Extras::default()).await
}

/// [`start`], with what the caller adds.
pub async fn start_with(
    config: &Config,
    chat: Arc<dyn Chat>,
    applier: Option<Arc<dyn Applier>>,
    extras: Extras,
) -> Result<Running, RuntimeError> {
    let store = match extras.store {
        Some(store) => store,
        None => open_store(config).await?,
    };
    let redactor = Arc::new(Redactor::new(config.secrets()));
    let metrics = Arc::new(Metrics::default());
    // The chat's own requests (Discord's) count with every service's.
    chat.observe_calls(Calls::new(metrics.clone()));
    // Everything the bot says passes the redactor: a service may echo a secret.
    let chat: Arc<dyn Chat> = Arc::new(RedactingChat {
        inner: chat,
        redactor: redactor.clone(),
    });
    // One line per service: each wires itself from its config section;
    // its clients report their exchanges to this bot's metrics.
    let mut wiring = Wiring::observed(Calls::new(metrics.clone()));
    views::proposed_migration::install(config, &store, &mut wiring)?;
    views::launchpad::install(config, &store, &redactor, &mut wiring).await?;
    views::snapstore::install(config, &store, &redactor, &mut wiring).await?;
    let Wiring {
        views,
        appliers,
        receivers,
        webhooks,
        pollers,
        handles,
        calls: _,
    } = wiring;
    let applier = applier.unwrap_or_else(|| {
        Arc::new(WorldApplier {
            chat: chat.clone(),
            services: appliers,
        })
    });
    let wake = Arc::new(Notify::new());
    let shutdown = CancellationToken::new();
    let dispatcher = Arc::new(Dispatcher {
        store: store.clone(),
        registry: Arc::new(registry_with(extras.commands)?),
        permissions: Arc::new(Permissions::from_config(config)),
        chat: chat.clone(),
        confirm: config.confirm.clone(),
        wake: wake.clone(),
        metrics: metrics.clone(),
        views,
        webhooks,
        pollers,
        bulk_concurrency: config.executor.bulk_concurrency.max(1),
        redactor: redactor.clone(),
        flood: config.chat.flood_limit().map(FloodLimit::new),
        links: Arc::new(config.links()),
    });
    let executor = Executor::new(
        store.clone(),
        applier,
        Some(chat.clone()),
        config.executor.clone(),
        wake.clone(),
        metrics.clone(),
        redactor.clone(),
    );
    let mut tasks = start_workers(Arc::new(executor), config, &shutdown).await?;
    if store.backend() == Backend::Postgres {
        tasks.push(tokio::spawn(keep_leases(
            store.clone(),
            wake.clone(),
            shutdown.clone(),
        )));
    }

    let scheduler = Scheduler::new(&config.schedules, dispatcher.clone());
    tasks.push(tokio::spawn(scheduler.run(shutdown.clone())));
    // What the poll jobs fetch but nobody has yet is fetched now, beside
    // the scheduler: the first slot may be hours away.
    for poller in &dispatcher.pollers {
        let (poller, token) = (poller.clone(), shutdown.clone());
        tasks.push(tokio::spawn(async move {
            tokio::select! {
                _ = poller.fetch_missing() => {}
                _ = token.cancelled() => {}
            }
        }));
    }

    // Deliveries are processed in arrival order, in batches, straight from
    // the store: the store is the queue, so none is ever dropped, and those
    // a crash left unprocessed go first. The HTTP route only wakes this up.
    let processor = Arc::new(Notify::new());
    tasks.push(tokio::spawn(process_deliveries(
        dispatcher.clone(),
        processor.clone(),
        shutdown.clone(),
    )));

    let listener = match (extras.listener, config.webhook.listen) {
        (Some(bound), _) => Some(bound),
        (None, Some(addr)) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|cause| RuntimeError::Listen { addr, cause })?,
        ),
        (None, None) => None,
    };
    let webhook_addr = match listener {
        Some(listener) => {
            let web = WebState {
                store: store.clone(),
                metrics: metrics.clone(),
                receivers: Arc::new(receivers),
                writer: DeliveryWriter::start(store.clone(), metrics.clone()),
                processor,
                body_timeout: Duration::from_millis(config.webhook.body_timeout_ms),
                secrets_read: Arc::default(),
            };
            let (bound, task) = start_http(listener, web, config, shutdown.clone())?;
            tasks.push(task);
            Some(bound)
        }
        None => None,
    };

    Ok(Running {
        store,
        dispatcher,
        metrics,
        handles,
        webhook_addr,
        chat,
        shutdown,
        tasks: std::sync::Mutex::new(tasks),
    })
}

/// Serves the HTTP server on `listener` until `shutdown`.
fn start_http(
    listener: tokio::net::TcpListener,
    state: WebState,
    config: &Config,
    shutdown: CancellationToken,
) -> Result<(SocketAddr, JoinHandle<()>), RuntimeError> {
    let bound = listener.local_addr().map_err(RuntimeError::ListenerAddr)?;
    tracing::info!(%bound, "HTTP server listening");
    let limits = http::Limits {
        max_connections: config.webhook.max_connections,
        header_timeout: Duration::from_millis(config.webhook.header_timeout_ms),
    };
    let task = tokio::spawn(async move {
        if let Err(e) = http::serve(listener, state, limits, shutdown).await {
            tracing::error!(error = %e, "HTTP server stopped");
        }
    });
    Ok((bound, task))
}

impl Running {
    /// The signal every task watches; cancel it to stop the bot.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Waits until no released step is left to run; false on timeout.
    /// Plans parked for confirmation do not count: they wait for a person.
    pub async fn drain(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match self.store.open_step_count().await {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "drain: store unavailable"),
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Signals shutdown, waits for every task, closes the store.
    pub async fn stop(&self) {
        self.shutdown.cancel();
        let tasks: Vec<_> = match self.tasks.lock() {
            Ok(mut t) => t.drain(..).collect(),
            Err(poisoned) => poisoned.into_inner().drain(..).collect(),
        };
        for t in tasks {
            let _ = t.await;
        }
        self.store.close().await;
    }
}
