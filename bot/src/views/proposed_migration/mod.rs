//! Proposed-migration state: the latest excuses per series, fetched with
//! conditional GETs, stored as snapshots, parsed once and kept in memory,
//! and diffed against the previous run to find what changed.

use crate::executor::apply::autopkgtest::AutopkgtestApplier;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use shepherd_adapters::autopkgtest::{AutopkgtestClient, InFlight};
use shepherd_adapters::britney::fetch::{FetchError, Fetched, SiteClient, Validators};
use shepherd_adapters::britney::{self, diff, output, ExcusesError, Transition};
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
use crate::store::{now_ms, Backend, Snapshot, Store, StoreError};

mod fetch_state;
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

    /// Makes `bytes` (an excuses file, any compression) the series' current
    /// snapshot; returns what changed since the previous one.
    pub async fn ingest(
        &self,
        series: &str,
        bytes: Vec<u8>,
        validators: (Option<String>, Option<String>),
        output_text: Option<String>,
    ) -> Result<Vec<Transition>, MigrationError> {
        // Parse before storing: a broken download must not replace a good
        // snapshot. Off the async workers: a large file takes a while.
        let (bytes, excuses) = off_worker(move || {
            let excuses = britney::decompress(&bytes).and_then(|text| britney::parse(&text));
            (bytes, excuses)
        })
        .await?;
        let excuses = excuses?;
        if !excuses.skipped.is_empty() {
            tracing::warn!(
                series,
                skipped = excuses.skipped.len(),
                "excuses items skipped as malformed"
            );
        }
        let previous = self.current_snapshot(series).await?;
        let now = now_ms();
        let (etag, last_modified) = validators;
        let key = source_key("excuses", series);
        self.store
            .put_snapshot(&Snapshot {
                id: 0,
                source: key.clone(),
                fetched_at: now,
                etag,
                last_modified,
                body: bytes,
            })
            .await?;
        self.store.prune_snapshots(&key, KEEP_SNAPSHOTS).await?;
        let output_text_for_diff = output_text.clone();
        if let Some(text) = output_text {
            let okey = source_key("output", series);
            self.store
                .put_snapshot(&Snapshot {
                    id: 0,
                    source: okey.clone(),
                    fetched_at: now,
                    etag: None,
                    last_modified: None,
                    body: text.into_bytes(),
                })
                .await?;
            self.store.prune_snapshots(&okey, KEEP_SNAPSHOTS).await?;
        }
        let parsed_output = output_text_for_diff;
        let (transitions, excuses, output) = off_worker(move || {
            let output = parsed_output.as_deref().map(output::parse);
            let transitions = previous
                .map(|p| diff(&p.excuses, &excuses, output.as_ref()))
                .unwrap_or_default();
            (transitions, excuses, output)
        })
        .await?;
        let snap = Arc::new(MigrationSnapshot {
            series: series.to_string(),
            excuses,
            output,
            fetched_at_ms: now,
        });
        self.keep_newest(snap).await;
        Ok(transitions)
    }

    /// Fetches the series' excuses if they changed (conditional GET).
    /// `None` = not modified since the last fetch. A failure is kept for
    /// `!why` to tell until a fetch succeeds.
    pub async fn poll(&self, series: &str) -> Result<Option<Vec<Transition>>, MigrationError> {
        let _polling = self.polling.lock().await;
        self.fetch_noted(series).await
    }

    /// A fetch, noted for `!why` (under way, failed). The caller holds `polling`.
    async fn fetch_noted(&self, series: &str) -> Result<Option<Vec<Transition>>, MigrationError> {
        let _fetching = self.fetches.begin(series);
        let result = self.fetch(series).await;
        self.fetches
            .finished(series, result.as_ref().err().map(failure_words));
        result
    }

    /// At start: fetches the excuses of each polled series that has none
    /// stored, so `!why` answers now rather than after the first slot.
    /// With nothing to compare against, there is nothing to announce.
    /// Whether one is stored is asked under the poll lock: a slot's poll
    /// that stored one meanwhile makes this fetch a normal (diffing) one's
    /// business, not one that would skip its changes.
    async fn fetch_unstored(&self) {
        for series in self.fetches.polled_series() {
            let key = source_key("excuses", &series);
            let _polling = self.polling.lock().await;
            match self.store.has_snapshot(&key).await {
                Ok(false) => {}
                Ok(true) => continue,
                Err(e) => {
                    tracing::warn!(series, error = %e, "cannot tell whether excuses are stored");
                    continue;
                }
            }
            match self.fetch_noted(&series).await {
                Ok(_) => tracing::info!(series, "first excuses fetched"),
                Err(e) => {
                    let error = failure_words(&e);
                    tracing::warn!(series, error, "first excuses fetch failed");
                }
            }
        }
    }

    async fn fetch(&self, series: &str) -> Result<Option<Vec<Transition>>, MigrationError> {
        let url = self
            .excuses_url(series)
            .ok_or_else(|| MigrationError::UnknownSeries(series.to_string()))?
            .to_string();
        let previous = self
            .store
            .latest_snapshot(&source_key("excuses", series))
            .await?
            .map(|s| Validators {
                etag: s.etag,
                last_modified: s.last_modified,
            })
            .unwrap_or_default();
        let (bytes, validators) = match self.site.fetch(&url, &previous).await? {
            Fetched::NotModified => return Ok(None),
            Fetched::Changed { body, validators } => (body, validators),
        };
        let output_text = match (&self.config.output_url, series == self.config.series) {
            (Some(out_url), true) => match self.site.text(out_url).await {
                Ok(text) => Some(text),
                Err(e) => {
                    tracing::warn!(error = %e, "update_output.txt unavailable; migrations will be reported as unknown");
                    None
                }
            },
            _ => None,
        };
        self.ingest(
            series,
            bytes,
            (validators.etag, validators.last_modified),
            output_text,
        )
        .await
        .map(Some)
    }

    /// The current snapshot: from memory, else the latest stored one.
    async fn current_snapshot(
        &self,
        series: &str,
    ) -> Result<Option<Arc<MigrationSnapshot>>, MigrationError> {
        if let Some(s) = self.cached(series).await? {
            return Ok(Some(s));
        }
        // One load at a time: concurrent `!why`s share it rather than each
        // parsing a 10–100 MB file.
        let _loading = self.loading.lock().await;
        if let Some(s) = self.cached(series).await? {
            return Ok(Some(s));
        }
        let Some(stored) = self
            .store
            .latest_snapshot(&source_key("excuses", series))
            .await?
        else {
            return Ok(None);
        };
        let fetched_at = stored.fetched_at;
        let output_body = self
            .store
            .latest_snapshot(&source_key("output", series))
            .await?
            .map(|o| o.body);
        let (excuses, output) = off_worker(move || {
            let excuses = britney::decompress(&stored.body).and_then(|text| britney::parse(&text));
            let output = output_body.map(|b| output::parse(&String::from_utf8_lossy(&b)));
            (excuses, output)
        })
        .await?;
        let excuses = excuses?;
        let snap = Arc::new(MigrationSnapshot {
            series: series.to_string(),
            excuses,
            output,
            fetched_at_ms: fetched_at,
        });
        Ok(Some(self.keep_newest(snap).await))
    }

    /// The snapshot in memory, unless the store has a newer one: replicas
    /// sharing PostgreSQL poll on one of them (the leader), and the others
    /// load what it stored. (On SQLite this process's polls are the only
    /// ones, and they update memory themselves.)
    async fn cached(&self, series: &str) -> Result<Option<Arc<MigrationSnapshot>>, MigrationError> {
        let Some(have) = self.current.lock().await.get(series).cloned() else {
            return Ok(None);
        };
        if self.store.backend() == Backend::Postgres {
            let stored = self
                .store
                .latest_snapshot_time(&source_key("excuses", series))
                .await?;
            if stored.is_some_and(|t| t > have.fetched_at_ms) {
                return Ok(None);
            }
        }
        Ok(Some(have))
    }

    /// Caches `snap` unless a newer one is cached already (a load that
    /// read an older file must not replace what a poll just ingested).
    async fn keep_newest(&self, snap: Arc<MigrationSnapshot>) -> Arc<MigrationSnapshot> {
        let mut current = self.current.lock().await;
        match current.get(&snap.series) {
            Some(have) if have.fetched_at_ms > snap.fetched_at_ms => have.clone(),
            _ => {
                current.insert(snap.series.clone(), snap.clone());
                snap
            }
        }
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
            .client(Duration::from_secs(60))
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
