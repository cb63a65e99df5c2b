//! Wiring: one store, one dispatcher, one executor, the scheduler, the HTTP
//! server and a chat adapter, sharing one shutdown signal that reaches every
//! task. Used by `run`, `sandbox` and the end-to-end tests alike.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use shepherd_adapters::chat::{Chat, Incoming, ThreadRef};
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
use crate::events::Event;
use crate::executor::{Applier, Executor, WorldApplier};
use crate::http::delivery_writer::DeliveryWriter;
use crate::http::{self, WebState};
use crate::metrics::Metrics;
use crate::permissions::Permissions;
use crate::redaction::{RedactingChat, Redactor};
use crate::schedule::Scheduler;
use crate::store::{now_ms, Backend, Store, StoreError};
use crate::supervise::catch_panic;
use crate::views::{self, Handles, Wiring, WiringError};

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
    // Everything the bot says passes the redactor: a service may echo a secret.
    let chat: Arc<dyn Chat> = Arc::new(RedactingChat {
        inner: chat,
        redactor: redactor.clone(),
    });
    let metrics = Arc::new(Metrics::default());
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

/// Recovers steps a crash interrupted, then starts the executor's workers.
async fn start_workers(
    executor: Arc<Executor>,
    config: &Config,
    shutdown: &CancellationToken,
) -> Result<Vec<JoinHandle<()>>, RuntimeError> {
    executor.resume().await?;
    Ok((0..config.executor.workers.max(1))
        .map(|_| {
            let (executor, token) = (executor.clone(), shutdown.clone());
            tokio::spawn(async move {
                if let Err(e) = executor.run(token).await {
                    tracing::error!(error = %e, "executor worker stopped");
                }
            })
        })
        .collect())
}

/// Renews this replica's claims, and takes over those of replicas that
/// died (their leases ran out), waking the workers to run them. Only
/// replicas sharing PostgreSQL need it: one SQLite process takes its own
/// interrupted claims back when it starts.
async fn keep_leases(store: Store, wake: Arc<Notify>, token: CancellationToken) {
    let every = store.lease() / 3;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = token.cancelled() => return,
        }
        let now = now_ms();
        if let Err(e) = store.renew_leases(now).await {
            tracing::warn!(error = %e, "cannot renew this replica's claims yet");
        }
        match store.requeue_expired(now).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(
                    steps = n,
                    "took over the steps of a replica that stopped renewing its claims"
                );
                wake.notify_waiters();
            }
            Err(e) => tracing::warn!(error = %e, "cannot look for expired claims yet"),
        }
    }
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

/// The delivery processor's loop. A batch that panics is handled again
/// one delivery at a time, so only the delivery that panics is set aside
/// (marked failed), and the rest go on.
async fn process_deliveries(d: Arc<Dispatcher>, wake: Arc<Notify>, token: CancellationToken) {
    while !token.is_cancelled() {
        let batch = match d.store.claim_deliveries(256, now_ms()).await {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "cannot read stored deliveries");
                Vec::new()
            }
        };
        if !batch.is_empty() {
            let context = format!("{} deliveries from {}", batch.len(), batch[0].delivery_id);
            let handled = catch_panic(
                &d.metrics,
                "deliveries",
                &context,
                d.handle_deliveries(&batch),
            )
            .await;
            let failed = match handled {
                Ok(Ok(())) => false,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, count = batch.len(), "webhook deliveries not processed; will retry");
                    true
                }
                Err(_) => handle_one_by_one(&d, &batch).await.is_err(),
            };
            if failed {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            continue;
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = token.cancelled() => {}
        }
    }
}

async fn handle_one_by_one(
    d: &Dispatcher,
    batch: &[crate::store::Delivery],
) -> Result<(), StoreError> {
    for delivery in batch {
        let id = &delivery.delivery_id;
        let one = d.handle_delivery(delivery);
        if let Err(panic) = catch_panic(&d.metrics, "deliveries", id, one).await {
            let result = format!("failed: internal error: {panic}");
            d.store
                .mark_deliveries_processed(&[(id.clone(), result)], now_ms())
                .await?;
        }
    }
    Ok(())
}

/// Messages being answered at once.
const MAX_ANSWERING: usize = 32;
/// Messages in hand at once: being answered or waiting for their
/// conversation's turn.
const MAX_IN_HAND: usize = 256;

/// What answering one message needs, owned, so it can run on its own task.
struct Answering {
    dispatcher: Arc<Dispatcher>,
    chat: Arc<dyn Chat>,
    metrics: Arc<Metrics>,
}

impl Answering {
    /// Answers one message; a panic while doing so is answered, not fatal.
    async fn answer(self, m: Incoming) {
        let to = ThreadRef {
            channel: m.channel.clone(),
            thread: m.thread.clone(),
        };
        let context = format!("message {} from {}", m.message_id, m.actor);
        let handled = self.dispatcher.handle(Event::Chat(m));
        if catch_panic(&self.metrics, "chat", &context, handled)
            .await
            .is_err()
        {
            let sorry =
                "sorry — that hit a bug in Shepherd (logged for the operators); nothing was done";
            if let Err(e) = self.chat.reply(&to, sorry).await {
                tracing::warn!(error = %e, "could not report the failure");
            }
        }
    }
}

impl Running {
    /// The signal every task watches; cancel it to stop the bot.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Answers chat messages until the chat closes (then returns once the
    /// answers in progress are given if `stop_at_eof`, else waits for
    /// shutdown) or shutdown. Conversations are answered concurrently, each
    /// in order: at most [`MAX_ANSWERING`] messages are being answered at
    /// once, and a message waiting for its conversation's turn takes none of
    /// those places. At most [`MAX_IN_HAND`] messages are in hand in all
    /// (past that, reading waits: backpressure, not an unbounded queue).
    pub async fn serve_chat(&self, stop_at_eof: bool) {
        let in_hand = Arc::new(tokio::sync::Semaphore::new(MAX_IN_HAND));
        let answering = Arc::new(tokio::sync::Semaphore::new(MAX_ANSWERING));
        // Each conversation's latest answer; the next one waits for it.
        let mut last: HashMap<String, JoinHandle<()>> = HashMap::new();
        loop {
            let permit = tokio::select! {
                p = in_hand.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => return,
                },
                _ = self.shutdown.cancelled() => return,
            };
            tokio::select! {
                msg = self.chat.next_message() => match msg {
                    Some(m) => {
                        last.retain(|_, h| !h.is_finished());
                        let before = last.remove(&m.conversation);
                        let conversation = m.conversation.clone();
                        let answer = Answering {
                            dispatcher: self.dispatcher.clone(),
                            chat: self.chat.clone(),
                            metrics: self.metrics.clone(),
                        };
                        let answering = answering.clone();
                        let handle = tokio::spawn(async move {
                            if let Some(before) = before {
                                let _ = before.await;
                            }
                            if let Ok(_place) = answering.acquire_owned().await {
                                answer.answer(m).await;
                            }
                            drop(permit);
                        });
                        last.insert(conversation, handle);
                    }
                    None if stop_at_eof => {
                        for (_, h) in last.drain() {
                            let _ = h.await;
                        }
                        return;
                    }
                    None => {
                        tracing::info!("chat input closed; still serving until shutdown");
                        self.shutdown.cancelled().await;
                        return;
                    }
                },
                _ = self.shutdown.cancelled() => return,
            }
        }
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
