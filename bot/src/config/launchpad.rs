//! `[launchpad]` and `[[webhook.launchpad]]`: the Launchpad API and its
//! credentials, how copies and builds are followed, and the webhooks whose
//! deliveries the bot accepts.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use shepherd_adapters::launchpad::OAuth;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaunchpadConfig {
    /// API root, e.g. `https://api.launchpad.net/devel/`.
    pub service_root: url::Url,
    pub consumer_key: Option<String>,
    pub oauth_token: Option<SecretString>,
    pub oauth_token_secret: Option<SecretString>,
    /// The snap owner `!rebuild` / `!builds` use without `--owner`.
    pub default_snap_owner: Option<String>,
    /// How often a copy or build being followed is looked at.
    #[serde(default = "default_lp_poll_ms")]
    pub poll_interval_ms: u64,
    /// A copy not published after this long is reported as failed.
    #[serde(default = "default_copy_timeout")]
    pub copy_timeout_mins: u64,
    /// A build not finished after this long is reported as stuck.
    #[serde(default = "default_build_timeout")]
    pub build_timeout_mins: u64,
}

fn default_lp_poll_ms() -> u64 {
    30_000
}

fn default_copy_timeout() -> u64 {
    60
}

fn default_build_timeout() -> u64 {
    240
}

impl LaunchpadConfig {
    /// The credentials, if any (an empty token = anonymous).
    pub fn oauth(&self) -> Option<OAuth> {
        match (&self.oauth_token, &self.oauth_token_secret) {
            (Some(t), Some(s)) if !t.expose_secret().is_empty() => Some(OAuth {
                consumer_key: self
                    .consumer_key
                    .clone()
                    .unwrap_or_else(|| "shepherd".into()),
                token: t.clone(),
                token_secret: s.clone(),
            }),
            _ => None,
        }
    }
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct LaunchpadHook {
    /// The webhook's target as payloads name it, e.g. `/~maas-committers/+snap/maas-3.5`.
    pub target: String,
    pub secret: SecretString,
    /// Where this target's events are announced (none = recorded only).
    pub channel: Option<String>,
}
