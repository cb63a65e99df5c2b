//! What the proposed-migration commands read: the latest excuses snapshot
//! and what autopkgtest-cloud is running. The bot implements it over its
//! store and clients; tests and the offline CLI can implement it on files.

use std::sync::Arc;

use async_trait::async_trait;
use shepherd_adapters::autopkgtest::InFlight;
use shepherd_adapters::britney::{Excuses, UpdateOutput};

use crate::UserError;

/// One series' excuses as last fetched.
#[derive(Debug, Clone)]
pub struct MigrationSnapshot {
    pub series: String,
    pub excuses: Excuses,
    pub output: Option<UpdateOutput>,
    pub fetched_at_ms: i64,
}

#[async_trait]
pub trait MigrationView: Send + Sync {
    /// The series commands use without `--series`.
    fn default_series(&self) -> Option<String>;
    /// request.cgi's address, for previews.
    fn request_url(&self) -> String;
    async fn snapshot(&self, series: &str) -> Result<Arc<MigrationSnapshot>, UserError>;
    /// Tests queued or running now.
    async fn in_flight(&self) -> Result<Vec<InFlight>, UserError>;
    /// Teams `!watch team` knows.
    fn teams(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Why a series has no excuses yet, and when that may change: what
/// `!why` and `!retry` answer instead of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotFetched {
    pub series: String,
    /// A fetch is under way now.
    pub fetching: bool,
    /// Why the last fetch failed, if it did.
    pub last_error: Option<String>,
    /// When the next poll runs (Unix ms); `None` = no job polls the series.
    pub next_poll_ms: Option<i64>,
}

impl NotFetched {
    pub fn message(&self, now_ms: i64) -> String {
        let series = &self.series;
        let Some(next) = self.next_poll_ms else {
            return format!(
                "no excuses for {series} yet, and no schedule fetches them — an operator must add a [[schedule]] job with `poll_excuses`"
            );
        };
        if self.fetching {
            return format!(
                "no excuses for {series} yet: they are being fetched now — ask again in a minute"
            );
        }
        let failed = self
            .last_error
            .as_ref()
            .map(|e| format!(": the last fetch failed ({e})"))
            .unwrap_or_default();
        format!(
            "no excuses for {series} yet{failed}; the next poll is {}",
            at_and_in(now_ms, next)
        )
    }
}

/// "at 14:15 UTC (in 12 min)"; the date too when not today.
fn at_and_in(now_ms: i64, at_ms: i64) -> String {
    let utc = |ms| chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms);
    let (Some(now), Some(at)) = (utc(now_ms), utc(at_ms)) else {
        return "soon".to_string();
    };
    let clock = if at.date_naive() == now.date_naive() {
        at.format("%H:%M UTC")
    } else {
        at.format("%Y-%m-%d %H:%M UTC")
    };
    let mins = (at_ms - now_ms).max(0) / 60_000;
    let wait = match mins {
        0 => "in under a minute".to_string(),
        1..=119 => format!("in {mins} min"),
        120..=2879 => format!("in {} h", mins / 60),
        _ => format!("in {} days", mins / 1440),
    };
    format!("at {clock} ({wait})")
}

/// For deployments without proposed-migration configured.
pub struct NoMigration;

const NOT_CONFIGURED: &str =
    "proposed-migration is not configured here — an operator must add [proposed_migration] to the config";

#[async_trait]
impl MigrationView for NoMigration {
    fn default_series(&self) -> Option<String> {
        None
    }

    fn request_url(&self) -> String {
        String::new()
    }

    async fn snapshot(&self, _series: &str) -> Result<Arc<MigrationSnapshot>, UserError> {
        Err(UserError(NOT_CONFIGURED.into()))
    }

    async fn in_flight(&self) -> Result<Vec<InFlight>, UserError> {
        Err(UserError(NOT_CONFIGURED.into()))
    }
}

/// The snapshot for `--series` or the default.
pub async fn snapshot_for(
    view: &dyn MigrationView,
    series: Option<&str>,
) -> Result<Arc<MigrationSnapshot>, UserError> {
    let series = match series {
        Some(s) => s.to_string(),
        None => view
            .default_series()
            .ok_or_else(|| UserError(NOT_CONFIGURED.into()))?,
    };
    view.snapshot(&series).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_excuses_yet_says_why_and_when_the_next_poll_is() {
        // 2026-03-02 14:03 UTC.
        let now = 1_772_460_180_000;
        let min = 60_000;
        let rows: &[(bool, Option<&str>, Option<i64>, &str)] = &[
            (
                false,
                None,
                Some(now + 12 * min),
                "no excuses for resolute yet; the next poll is at 14:15 UTC (in 12 min)",
            ),
            (
                false,
                Some("HTTP 404 from https://example/x.yaml.xz"),
                Some(now + 57 * min),
                "no excuses for resolute yet: the last fetch failed (HTTP 404 from https://example/x.yaml.xz); the next poll is at 15:00 UTC (in 57 min)",
            ),
            (
                false,
                None,
                Some(now + 30 * 1000),
                "no excuses for resolute yet; the next poll is at 14:03 UTC (in under a minute)",
            ),
            (
                false,
                None,
                Some(now + 6 * 60 * min),
                "no excuses for resolute yet; the next poll is at 20:03 UTC (in 6 h)",
            ),
            (
                false,
                None,
                Some(now + 3 * 24 * 60 * min),
                "no excuses for resolute yet; the next poll is at 2026-03-05 14:03 UTC (in 3 days)",
            ),
            (
                true,
                Some("timed out"),
                Some(now + 12 * min),
                "no excuses for resolute yet: they are being fetched now — ask again in a minute",
            ),
            (
                false,
                None,
                None,
                "no excuses for resolute yet, and no schedule fetches them — an operator must add a [[schedule]] job with `poll_excuses`",
            ),
        ];
        for (fetching, last_error, next_poll_ms, expected) in rows {
            let state = NotFetched {
                series: "resolute".into(),
                fetching: *fetching,
                last_error: last_error.map(str::to_string),
                next_poll_ms: *next_poll_ms,
            };
            assert_eq!(state.message(now), *expected);
        }
    }
}
