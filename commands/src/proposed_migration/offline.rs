//! `shepherd retry` and `shepherd why` on a local excuses file, for
//! release engineers without the bot and for scripts: the same selection
//! and wording as `!retry` and `!why`.

use shepherd_adapters::britney::{Excuses, UpdateOutput};

use super::explain::{explain, not_found};
use super::retry_select::{select, Selection};

/// The series an excuses file is about, read from its test URLs.
pub fn series_of(excuses: &Excuses) -> Option<String> {
    excuses.items.iter().flat_map(|e| &e.tests).find_map(|t| {
        if let Some(h) = t.history_url() {
            return h.rsplit('/').nth(1).map(str::to_string);
        }
        let q = t.retry_url()?.split_once('?')?.1;
        q.split('&')
            .find_map(|p| p.strip_prefix("release="))
            .map(str::to_string)
    })
}

/// The request URLs, one per line, in retry-autopkgtest-regressions' order.
pub fn retry_urls(excuses: &Excuses, series: &str, sel: &Selection, base: &str) -> Vec<String> {
    select(series, excuses, sel)
        .iter()
        .map(|p| p.request.url(base))
        .collect()
}

/// The `!why` text for `pkg`, or the "not in -proposed" answer as the error.
pub fn why(excuses: &Excuses, pkg: &str, output: Option<&UpdateOutput>) -> Result<String, String> {
    match excuses.for_source(pkg) {
        // Offline there is no configured Launchpad: production's pages.
        Some(item) => Ok(explain(item, output, &crate::links::Links::default())),
        None => Err(not_found(pkg, excuses)),
    }
}
