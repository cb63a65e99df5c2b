//! Fetching a series' excuses: conditional GETs, each noted for `!why`
//! (under way, failed), and the first fetch at start for series with none
//! stored.

use shepherd_adapters::britney::fetch::{Fetched, Validators};
use shepherd_adapters::britney::Transition;

use super::{failure_words, source_key, MigrationError, ProposedMigration};

impl ProposedMigration {
    /// Fetches the series' excuses if they changed (conditional GET).
    /// `None` = not modified since the last fetch. A failure is kept for
    /// `!why` to tell until a fetch succeeds.
    pub async fn poll(&self, series: &str) -> Result<Option<Vec<Transition>>, MigrationError> {
        let _polling = self.polling.lock().await;
        self.fetch_noted(series).await
    }

    /// A fetch, noted for `!why` (under way, failed). The caller holds `polling`.
    pub(super) async fn fetch_noted(
        &self,
        series: &str,
    ) -> Result<Option<Vec<Transition>>, MigrationError> {
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
    pub(super) async fn fetch_unstored(&self) {
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

    pub(super) async fn fetch(
        &self,
        series: &str,
    ) -> Result<Option<Vec<Transition>>, MigrationError> {
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
}
