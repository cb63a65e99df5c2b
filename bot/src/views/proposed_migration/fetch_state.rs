//! What the bot knows about fetching a series' excuses while it has none:
//! whether a fetch is under way, why the last one failed, and when the
//! next poll runs — so `!why` can say so rather than only "no excuses".

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use shepherd_commands::proposed_migration::NotFetched;

use crate::config::{parse_cron, Config, Cron};
use crate::schedule::next_slot;

pub(super) struct FetchState {
    /// Each `poll_excuses` job's series and cron.
    polls: Vec<(String, Cron)>,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Fetches under way per series (a slot's poll may meet the start's).
    fetching: HashMap<String, usize>,
    /// The last fetch's failure per series, until one succeeds.
    failures: HashMap<String, String>,
}

/// A fetch under way, until dropped (also when its task is cancelled).
pub(super) struct Fetching<'a> {
    state: &'a FetchState,
    series: String,
}

impl Drop for Fetching<'_> {
    fn drop(&mut self) {
        let mut inner = self.state.lock();
        if let Some(n) = inner.fetching.get_mut(&self.series) {
            *n -= 1;
            if *n == 0 {
                inner.fetching.remove(&self.series);
            }
        }
    }
}

impl FetchState {
    /// The poll jobs of `config` (validated: a bad cron was refused at load).
    pub(super) fn new(config: &Config, default_series: &str) -> Self {
        let polls = config
            .schedules
            .iter()
            .filter_map(|s| {
                let job = s.poll_excuses.as_ref()?;
                let cron = parse_cron(&s.cron).ok()?;
                let series = job.series.as_deref().unwrap_or(default_series);
                Some((series.to_string(), cron))
            })
            .collect();
        Self {
            polls,
            inner: Mutex::default(),
        }
    }

    /// A panic while the lock was held leaves counts that are still right.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Series some job polls, each once.
    pub(super) fn polled_series(&self) -> Vec<String> {
        let mut series: Vec<String> = self.polls.iter().map(|(s, _)| s.clone()).collect();
        series.sort();
        series.dedup();
        series
    }

    pub(super) fn begin(&self, series: &str) -> Fetching<'_> {
        *self.lock().fetching.entry(series.to_string()).or_default() += 1;
        Fetching {
            state: self,
            series: series.to_string(),
        }
    }

    /// Records how a fetch ended: a failure is kept until one succeeds.
    pub(super) fn finished(&self, series: &str, failure: Option<String>) {
        let mut inner = self.lock();
        match failure {
            Some(why) => inner.failures.insert(series.to_string(), why),
            None => inner.failures.remove(series),
        };
    }

    pub(super) fn not_fetched(&self, series: &str, now_ms: i64) -> NotFetched {
        let inner = self.lock();
        NotFetched {
            series: series.to_string(),
            fetching: inner.fetching.contains_key(series),
            last_error: inner.failures.get(series).cloned(),
            next_poll_ms: self
                .polls
                .iter()
                .filter(|(s, _)| s == series)
                .filter_map(|(_, cron)| next_slot(cron, now_ms))
                .min(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn state(schedules: &str) -> FetchState {
        let registry = crate::runtime::registry().unwrap();
        let text = format!("{schedules}\n[proposed_migration]\nseries = 'resolute'\n");
        let config = Config::from_toml(&text, std::path::Path::new("t.toml"), &[], &registry)
            .expect("valid config");
        FetchState::new(&config, "resolute")
    }

    const TWO_JOBS: &str = "[[schedule]]\nname = 'a'\ncron = '0 * * * *'\npoll_excuses = {}\n\
        [[schedule]]\nname = 'b'\ncron = '30 * * * *'\npoll_excuses = { series = 'noble' }\n";

    #[test]
    fn the_next_poll_is_the_series_own_jobs_next_slot() {
        let s = state(TWO_JOBS);
        assert_eq!(s.polled_series(), ["noble", "resolute"]);
        let at = |m: i64| 1_772_460_000_000 + m * 60_000; // 2026-03-02 14:00 UTC
        assert_eq!(s.not_fetched("resolute", at(3)).next_poll_ms, Some(at(60)));
        assert_eq!(s.not_fetched("noble", at(3)).next_poll_ms, Some(at(30)));
        assert_eq!(s.not_fetched("plucky", at(3)).next_poll_ms, None);
    }

    #[test]
    fn a_fetch_is_under_way_until_dropped_and_a_failure_kept_until_a_success() {
        let s = state(TWO_JOBS);
        let fetching = |s: &FetchState| s.not_fetched("resolute", 0).fetching;
        let first = s.begin("resolute");
        let second = s.begin("resolute");
        drop(first);
        assert!(fetching(&s), "the other fetch is still under way");
        drop(second);
        assert!(!fetching(&s));
        s.finished("resolute", Some("HTTP 503".into()));
        assert_eq!(
            s.not_fetched("resolute", 0).last_error.as_deref(),
            Some("HTTP 503")
        );
        assert_eq!(s.not_fetched("noble", 0).last_error, None);
        s.finished("resolute", None);
        assert_eq!(s.not_fetched("resolute", 0).last_error, None);
    }
}
