//! `[release]` (the products whose releases the bot manages, and how many
//! bulk steps run at once) and `[snapstore]` (the publisher API, SSO and
//! the exported credentials).

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use shepherd_adapters::snapstore::{Credentials, DASHBOARD_URL, SSO_URL};
use shepherd_commands::release::product::Product;

use super::ConfigError;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ReleaseConfig {
    /// `[[release.product]]`: stages, PPAs, channels, companion snaps.
    #[serde(default)]
    pub product: Vec<Product>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapStoreConfig {
    #[serde(default = "default_dashboard")]
    pub dashboard_url: url::Url,
    #[serde(default = "default_sso")]
    pub sso_url: url::Url,
    /// What `snapcraft export-login --snaps … --acls package_access,package_release`
    /// wrote (env `SHEPHERD_SNAPSTORE_CREDENTIALS`).
    pub credentials: Option<SecretString>,
    /// How often a release is looked for in the channel map.
    #[serde(default = "default_poll_ms")]
    pub poll_interval_ms: u64,
}

fn default_dashboard() -> url::Url {
    url::Url::parse(DASHBOARD_URL).expect("the production URL parses")
}

fn default_sso() -> url::Url {
    url::Url::parse(SSO_URL).expect("the production URL parses")
}

fn default_poll_ms() -> u64 {
    5_000
}

impl SnapStoreConfig {
    /// The credentials, checked: a bad export is a config error at start,
    /// not a failure at the first release.
    pub fn credentials(&self) -> Result<Credentials, ConfigError> {
        let Some(text) = &self.credentials else {
            return Err(ConfigError::Invalid(
                "[snapstore] credentials missing: run `snapcraft export-login --snaps SNAP,… --acls package_access,package_release FILE` and set SHEPHERD_SNAPSTORE_CREDENTIALS to the file's contents".into(),
            ));
        };
        Credentials::parse(text.expose_secret().trim()).map_err(|e| {
            ConfigError::Invalid(format!(
                "[snapstore] credentials: {e} — export them again with `snapcraft export-login`"
            ))
        })
    }
}

impl ReleaseConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let mut names = std::collections::HashSet::new();
        for p in &self.product {
            if !names.insert(&p.name) {
                return Err(ConfigError::Invalid(format!(
                    "[[release.product]] `{}` is declared twice",
                    p.name
                )));
            }
            if let Some(problem) = p.problems().first() {
                return Err(ConfigError::Invalid(format!(
                    "[[release.product]] `{}` {problem}",
                    p.name
                )));
            }
        }
        Ok(())
    }
}
