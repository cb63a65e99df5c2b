//! Excuses snapshots: ingesting a file (parse, diff against the previous
//! one, store), and the parsed snapshot kept in memory, refreshed from the
//! store when another replica polled.

use std::sync::Arc;

use shepherd_adapters::britney::{self, diff, output, Transition};
use shepherd_commands::proposed_migration::MigrationSnapshot;

use super::{off_worker, source_key, MigrationError, ProposedMigration, KEEP_SNAPSHOTS};
use crate::store::{now_ms, Backend, Snapshot};

impl ProposedMigration {
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

    /// The current snapshot: from memory, else the latest stored one.
    pub(super) async fn current_snapshot(
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
    pub(super) async fn cached(
        &self,
        series: &str,
    ) -> Result<Option<Arc<MigrationSnapshot>>, MigrationError> {
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
    pub(super) async fn keep_newest(&self, snap: Arc<MigrationSnapshot>) -> Arc<MigrationSnapshot> {
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
