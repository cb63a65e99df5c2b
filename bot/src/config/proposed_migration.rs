//! `[proposed_migration]` and `[autopkgtest]`: where britney's files are
//! fetched, the teams `!watch team` knows, and autopkgtest-cloud's
//! request.cgi with its credentials.

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;
use shepherd_adapters::autopkgtest::{Auth, AutopkgtestClient, ClientError};

/// The devel series' excuses, as Ubuntu publishes them.
pub const DEVEL_EXCUSES_URL: &str =
    "https://ubuntu-archive-team.ubuntu.com/proposed-migration/update_excuses.yaml.xz";

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct MigrationConfig {
    /// The series `!why` and `!retry` use without `--series` (the devel series).
    pub series: String,
    /// Where the default series' excuses are fetched (.xz, .gz or plain).
    #[serde(default = "default_excuses_url")]
    pub excuses_url: String,
    /// The matching `update_output.txt`, for "what would break" and migrations.
    pub output_url: Option<String>,
    /// Other series → their excuses URL (e.g. `noble = "…/noble/update_excuses.yaml.xz"`).
    #[serde(default)]
    pub series_urls: BTreeMap<String, String>,
    /// Team name → source packages, for `!watch team NAME`.
    #[serde(default)]
    pub teams: BTreeMap<String, Vec<String>>,
}

fn default_excuses_url() -> String {
    DEVEL_EXCUSES_URL.to_string()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutopkgtestConfig {
    /// request.cgi, e.g. `https://autopkgtest.ubuntu.com/request.cgi`.
    pub request_url: url::Url,
    pub api_key: Option<SecretString>,
    pub session_cookie: Option<SecretString>,
    /// How often a requested test is looked at (queued, running, result).
    #[serde(default = "default_follow_ms")]
    pub follow_interval_ms: u64,
    /// How long after a test finished running its result may take to show
    /// in the excuses (britney runs every 30–60 min) before the bot stops
    /// waiting and points at the test's history page.
    #[serde(default = "default_result_wait")]
    pub result_wait_mins: u64,
}

fn default_follow_ms() -> u64 {
    60_000
}

fn default_result_wait() -> u64 {
    120
}

impl AutopkgtestConfig {
    /// A request.cgi client with this section's credentials.
    pub fn client(&self, timeout: Duration) -> Result<AutopkgtestClient, ClientError> {
        let auth = match (&self.api_key, &self.session_cookie) {
            (Some(k), _) => Auth::ApiKey(k.clone()),
            (None, Some(cookie)) => Auth::Cookies(cookie.clone()),
            (None, None) => Auth::Anonymous,
        };
        AutopkgtestClient::new(self.request_url.as_str(), auth, timeout)
    }
}
