//! The sandbox's excuses site: a loopback stand-in for the
//! proposed-migration pages, which the bot polls as a deployment polls
//! Ubuntu's (conditional GETs, snapshots, diffs). It serves the seed run
//! first — the bot fetches it at start — and then britney's next run, in
//! which shepherd-demo-lib's regressions cleared and shepherd-demo-tool
//! left -proposed, so the first `!poll` has something to announce.

use std::collections::BTreeMap;

use shepherd_adapters::britney::site::ExcusesSite;

use crate::config::MigrationConfig;

/// britney's run after [`super::SEED_EXCUSES`], written for the sandbox.
pub const NEXT_EXCUSES: &str = include_str!("next_excuses.yaml");

const EXCUSES_PATH: &str = "proposed-migration/update_excuses.yaml";
const OUTPUT_PATH: &str = "proposed-migration/update_output.txt";

pub struct Site {
    site: ExcusesSite,
    /// What the site serves once the first run has been fetched.
    next: Option<Vec<u8>>,
    has_output: bool,
}

impl Site {
    /// Serves `excuses` (and its `update_output.txt`, if given); `next`
    /// replaces them at [`Site::move_on`].
    pub async fn start(
        excuses: Vec<u8>,
        output: Option<String>,
        next: Option<Vec<u8>>,
    ) -> std::io::Result<Self> {
        let site = ExcusesSite::start().await?;
        site.put(EXCUSES_PATH, excuses);
        let has_output = output.is_some();
        if let Some(text) = output {
            site.put(OUTPUT_PATH, text.into_bytes());
        }
        Ok(Self {
            site,
            next,
            has_output,
        })
    }

    /// `[proposed_migration]` for `series`, pointed at this site.
    pub fn config(&self, series: &str) -> MigrationConfig {
        MigrationConfig {
            series: series.to_string(),
            excuses_url: self.site.url(EXCUSES_PATH),
            // Asked for only when served: a missing one is logged as a warning.
            output_url: self.has_output.then(|| self.site.url(OUTPUT_PATH)),
            series_urls: BTreeMap::new(),
            teams: BTreeMap::new(),
        }
    }

    /// Publishes the next run, if there is one (a file given with
    /// `--excuses` has none: polls then get 304s).
    pub fn move_on(&self) {
        if let Some(next) = &self.next {
            self.site.put(EXCUSES_PATH, next.clone());
        }
    }

    pub fn excuses_url(&self) -> String {
        self.site.url(EXCUSES_PATH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shepherd_adapters::britney::{self, Change};

    /// What the first `!poll` announces is this diff: README shows it.
    #[test]
    fn the_next_run_clears_demo_lib_and_demo_tool_leaves() {
        let seed = britney::parse(super::super::SEED_EXCUSES).expect("the seed parses");
        let next = britney::parse(NEXT_EXCUSES).expect("the next run parses");
        let changes: Vec<(String, Change)> = britney::diff(&seed, &next, None)
            .into_iter()
            .map(|t| (t.source, t.change))
            .collect();
        let lib: Vec<&Change> = changes
            .iter()
            .filter(|(s, _)| s == "shepherd-demo-lib")
            .map(|(_, c)| c)
            .collect();
        assert!(
            matches!(lib.as_slice(), [
                Change::VerdictChanged { .. },
                Change::RegressionCleared { arch: a, .. },
                Change::RegressionCleared { arch: b, .. },
                Change::BecameCandidate,
            ] if a == "amd64" && b == "arm64"),
            "{changes:?}"
        );
        assert!(
            changes
                .iter()
                .any(|(s, c)| s == "shepherd-demo-tool" && matches!(c, Change::Left { .. })),
            "{changes:?}"
        );
        assert!(
            !changes.iter().any(|(s, _)| s == "shepherd-demo-held"),
            "{changes:?}"
        );
    }
}
