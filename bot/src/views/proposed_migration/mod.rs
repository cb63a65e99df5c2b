//! Proposed-migration state: the latest excuses per series, fetched with
//! conditional GETs, stored as snapshots, parsed once and kept in memory,
//! and diffed against the previous run to find what changed.

use crate::executor::apply::autopkgtest::AutopkgtestApplier;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use shepherd_adapters::autopkgtest::{AutopkgtestClient, InFlight};
use shepherd_adapters::britney::fetch::{FetchError, SiteClient};
use shepherd_adapters::britney::ExcusesError;
use shepherd_adapters::wire::Calls;
use shepherd_commands::links::Links;
use shepherd_commands::polls::Poller;
use shepherd_commands::proposed_migration::announce::poll_announcements;
use shepherd_commands::proposed_migration::{MigrationSnapshot, MigrationView};
use shepherd_commands::{PlanDraft, Subscription, UserError};
use thiserror::Error;
use tokio::sync::Mutex;

use super::{Wiring, WiringError};
use crate::config::{redact_url, Config, MigrationConfig};
use crate::store::{now_ms, Store, StoreError};

mod fetch_state;
mod fetching;
mod snapshots;
use fetch_state::FetchState;

/// Snapshots kept per source; older ones are pruned.
const KEEP_SNAPSHOTS: i64 = 5;

#[derive(Debug, Error)]
pub enum MigrationError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Excuses(#[from] ExcusesError),
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("no excuses URL is configured for series {0}")]
    UnknownSeries(String),
    #[error("autopkgtest client: {0}")]
    Client(String),
}

pub struct ProposedMigration {
    store: Store,
    config: MigrationConfig,
    /// What planners read (running/queued tests) while someone waits in chat.
    reader: Option<AutopkgtestClient>,
    request_url: String,
    site: SiteClient,
    current: Mutex<HashMap<String, Arc<MigrationSnapshot>>>,
    /// Held while a stored snapshot is being loaded into `current`.
    loading: Mutex<()>,
    /// Where announcements' links point.
    links: Links,
    /// Held for a whole poll (fetch, store, diff): a second poll at the
    /// same time (a cron slot and a `!poll`, two `!poll`s) then sees the
    /// first one's validators and gets a 304, rather than announcing the
    /// same change twice.
    polling: Mutex<()>,
    /// Fetches under way and failed, and when the jobs poll next.
    fetches: FetchState,
}

/// How long a read made to answer a command may take.
const COMMAND_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs CPU-heavy work (decompressing, parsing, diffing a 10–100 MB file)
/// on the blocking pool, so chat and webhooks keep being answered.
async fn off_worker<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, MigrationError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| MigrationError::Client(format!("excuses processing failed: {e}")))
}

/// A failed poll as chat may read it: a URL's credentials redacted.
fn failure_words(e: &MigrationError) -> String {
    match e {
        MigrationError::Fetch(f) => format!("fetching {}: {}", redact_url(&f.url), f.reason),
        other => other.to_string(),
    }
}

fn source_key(kind: &str, series: &str) -> String {
    format!("{kind}:{series}")
}

impl ProposedMigration {
    /// `config` is `bot`'s `[proposed_migration]`; `bot` gives the
    /// autopkgtest site and the schedules polling excuses. The clients
    /// report their exchanges to `calls`.
    pub fn new(
        store: Store,
        config: MigrationConfig,
        bot: &Config,
        calls: &Calls,
    ) -> Result<Self, MigrationError> {
        // Reads only: the executor holds the client that sends requests.
        let reader = bot
            .autopkgtest
            .as_ref()
            .map(|c| {
                c.client(COMMAND_READ_TIMEOUT)
                    .map(|client| client.observed(calls.clone()))
            })
            .transpose()
            .map_err(|e| MigrationError::Client(e.to_string()))?;
        let request_url = reader.as_ref().map_or(
            "https://autopkgtest.ubuntu.com/request.cgi".to_string(),
            |c| c.request_url().to_string(),
        );
        let site = SiteClient::new(Duration::from_secs(120))?.observed(calls.clone());
        let fetches = FetchState::new(bot, &config.series);
        Ok(Self {
            fetches,
            store,
            config,
            reader,
            request_url,
            site,
            current: Mutex::new(HashMap::new()),
            loading: Mutex::new(()),
            links: Links::default(),
            polling: Mutex::new(()),
        })
    }

    /// Announcements link to these pages (the configured services').
    pub fn with_links(mut self, links: Links) -> Self {
        self.links = links;
        self
    }

    pub fn default_series_name(&self) -> &str {
        &self.config.series
    }

    pub fn teams(&self) -> &std::collections::BTreeMap<String, Vec<String>> {
        &self.config.teams
    }

    fn excuses_url(&self, series: &str) -> Option<&str> {
        if series == self.config.series {
            return Some(&self.config.excuses_url);
        }
        self.config.series_urls.get(series).map(String::as_str)
    }
}

#[async_trait]
impl MigrationView for ProposedMigration {
    fn default_series(&self) -> Option<String> {
        Some(self.config.series.clone())
    }

    fn request_url(&self) -> String {
        self.request_url.clone()
    }

    async fn snapshot(&self, series: &str) -> Result<Arc<MigrationSnapshot>, UserError> {
        match self.current_snapshot(series).await {
            Ok(Some(s)) => Ok(s),
            Ok(None) if self.excuses_url(series).is_none() => Err(UserError(format!(
                "I don't follow {series}: configured series are {}",
                std::iter::once(self.config.series.as_str())
                    .chain(self.config.series_urls.keys().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
            Ok(None) => {
                let now = now_ms();
                Err(UserError(
                    self.fetches.not_fetched(series, now).message(now),
                ))
            }
            Err(e) => {
                tracing::error!(error = %e, series, "reading the excuses snapshot failed");
                Err(UserError(format!("the stored excuses for {series} could not be read; an operator can find why in the log")))
            }
        }
    }

    fn teams(&self) -> Vec<String> {
        self.config.teams.keys().cloned().collect()
    }

    async fn in_flight(&self) -> Result<Vec<InFlight>, UserError> {
        let Some(client) = &self.reader else {
            return Err(UserError(
                "autopkgtest-cloud is not configured here — an operator must add [autopkgtest]"
                    .into(),
            ));
        };
        // One quick retry: someone is waiting in chat.
        let first = client.in_flight().await;
        let answer = match first {
            Err(e) if e.is_transient() => {
                tokio::time::sleep(Duration::from_millis(500)).await;
                client.in_flight().await
            }
            other => other,
        };
        answer.map_err(|e| {
            UserError(format!(
                "cannot see what autopkgtest-cloud is running ({e}); try again shortly"
            ))
        })
    }
}

/// `poll_excuses` jobs: fetch the series' excuses if they changed, diff
/// them against the last run, and tell the channels watching what moved.
#[async_trait]
impl Poller for ProposedMigration {
    fn job(&self) -> &'static str {
        "poll_excuses"
    }

    async fn fetch_missing(&self) {
        self.fetch_unstored().await;
    }

    async fn poll(
        &self,
        series: Option<&str>,
        slot_ms: i64,
        subscriptions: &[Subscription],
        step_key: &(dyn for<'k> Fn(&'k str) -> String + Sync),
    ) -> Result<Option<PlanDraft>, UserError> {
        let series = series.unwrap_or(&self.config.series);
        let transitions = match ProposedMigration::poll(self, series).await {
            Ok(Some(t)) => t,
            Ok(None) => {
                tracing::debug!(series, "excuses not modified");
                return Ok(None);
            }
            Err(e) => return Err(UserError(failure_words(&e))),
        };
        let draft = poll_announcements(
            series,
            slot_ms,
            &transitions,
            subscriptions,
            &self.config.teams,
            &self.links,
            step_key,
        );
        tracing::info!(
            series,
            transitions = transitions.len(),
            channels = draft.as_ref().map_or(0, |d| d.steps.len()),
            "excuses changed"
        );
        Ok(draft)
    }
}

/// Wires proposed-migration from `[proposed_migration]` and
/// `[autopkgtest]`: the planners' view and the `poll_excuses` poller (one
/// object: both read the same snapshots), and the executor's request.cgi
/// client, the one that sends test requests.
pub fn install(config: &Config, store: &Store, wiring: &mut Wiring) -> Result<(), WiringError> {
    let mut results: Option<Arc<dyn MigrationView>> = None;
    if let Some(m) = &config.proposed_migration {
        let p = Arc::new(
            ProposedMigration::new(store.clone(), m.clone(), config, &wiring.calls)?
                .with_links(config.links()),
        );
        wiring.views.migration = p.clone();
        wiring.pollers.push(p.clone());
        results = Some(p.clone());
        wiring.handles.proposed = Some(p);
    }
    if let Some(c) = &config.autopkgtest {
        let client = c
            .client(config.executor.request_timeout())
            .map_err(|e| MigrationError::Client(e.to_string()))?
            .observed(wiring.calls.clone());
        wiring.appliers.autopkgtest = Some(Arc::new(AutopkgtestApplier::new(
            client,
            results,
            Duration::from_millis(c.follow_interval_ms.max(10)),
            Duration::from_secs(c.result_wait_mins * 60),
            config.links(),
        )));
    }
    Ok(())
}
