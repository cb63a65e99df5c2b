//! Configuration: one TOML file, then `SHEPHERD_*` environment overrides.
//!
//! Strict on purpose (fail closed): an unknown key, an unknown role or an
//! unknown command is a start-up error, because a typo in a permission table
//! must never silently grant or drop access. Secrets are `SecretString` and
//! only ever printed as `[redacted]`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use shepherd_commands::Registry;
use thiserror::Error;

// A cause is part of its message, never also a `source()`: a chain is
// printed whole at the binary's edge, and would say it twice.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {cause}")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// A fault in the file; `position`: 1-based line and column, when known.
    #[error("{}: {message}", place(.path, *.position))]
    InFile {
        path: PathBuf,
        position: Option<(usize, usize)>,
        message: String,
    },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    /// What validation finds; loading names the file (and the section's line).
    #[error("{0}")]
    Invalid(String),
}

/// `file:line:column`, as editors and compilers write a place in a file.
fn place(path: &Path, position: Option<(usize, usize)>) -> String {
    match position {
        Some((line, column)) => format!("{}:{line}:{column}", path.display()),
        None => path.display().to_string(),
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub store: StoreConfig,
    #[serde(default)]
    pub chat: ChatConfig,
    #[serde(default)]
    pub webhook: WebhookConfig,
    #[serde(default)]
    pub executor: ExecutorConfig,
    #[serde(default)]
    pub confirm: ConfirmConfig,
    /// Role name → who holds it.
    #[serde(default)]
    pub roles: BTreeMap<String, RoleConfig>,
    /// Command name → deployment policy overriding the command's defaults.
    #[serde(default)]
    pub commands: BTreeMap<String, CommandPolicy>,
    #[serde(default, rename = "schedule")]
    pub schedules: Vec<ScheduleConfig>,
    pub launchpad: Option<LaunchpadConfig>,
    pub autopkgtest: Option<AutopkgtestConfig>,
    pub proposed_migration: Option<MigrationConfig>,
    #[serde(default)]
    pub release: ReleaseConfig,
    pub snapstore: Option<SnapStoreConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// SQLite file; created with its tables on first start.
    pub path: PathBuf,
    /// PostgreSQL instead (`postgres://user:password@host/db`), which
    /// several replicas may share. A secret: it may hold a password.
    pub url: Option<SecretString>,
    /// PostgreSQL connections this replica may hold.
    pub max_connections: u32,
    /// This replica's name in its claims (default: host and pid). A
    /// replica restarted under the same name takes its interrupted steps
    /// back at once, instead of after their lease.
    pub replica: Option<String>,
    /// How long a dead replica's claims hold before others take them over.
    pub lease_secs: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("shepherd.sqlite"),
            url: None,
            max_connections: 16,
            replica: None,
            lease_secs: 30,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where the HTTP server listens (`/healthz`, `/metrics`, `/hooks/…`);
    /// unset = no server.
    pub listen: Option<SocketAddr>,
    /// This bot's `/hooks/launchpad` as Launchpad reaches it (for `!webhook register`).
    pub public_url: Option<url::Url>,
    /// A secret accepted for any Launchpad webhook (e.g. from the environment).
    pub launchpad_secret: Option<SecretString>,
    /// Launchpad webhook targets: their secrets and where their events go.
    #[serde(default)]
    pub launchpad: Vec<LaunchpadHook>,
    /// Connections served at once; more wait in the kernel's backlog, so a
    /// flood of slow clients cannot use up the process's descriptors.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// A client must send a request's headers within this long (slowloris).
    #[serde(default = "default_read_timeout_ms")]
    pub header_timeout_ms: u64,
    /// … and its body within this long after them.
    #[serde(default = "default_read_timeout_ms")]
    pub body_timeout_ms: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            listen: None,
            public_url: None,
            launchpad_secret: None,
            launchpad: Vec::new(),
            max_connections: default_max_connections(),
            header_timeout_ms: default_read_timeout_ms(),
            body_timeout_ms: default_read_timeout_ms(),
        }
    }
}

fn default_max_connections() -> usize {
    512
}

fn default_read_timeout_ms() -> u64 {
    10_000
}

/// The shortest webhook secret accepted: an empty or short key would let
/// anyone sign a delivery.
pub const MIN_SECRET_BYTES: usize = 16;

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct ExecutorConfig {
    /// Steps applied at the same time (steps of one plan always run in order).
    pub workers: usize,
    /// A step failing transiently this many times fails for good.
    pub max_attempts: u32,
    /// First retry delay; doubles each attempt, with ±25% jitter.
    pub backoff_base_ms: u64,
    pub backoff_cap_ms: u64,
    /// How often to look for due retries when nothing wakes the executor.
    pub poll_interval_ms: u64,
    /// Steps of one bulk plan (bug tasks) applied at once; needs as many workers.
    pub bulk_concurrency: u32,
    /// How long a step's call to a service may take before it counts as
    /// a network failure (transient: read again, then retried).
    pub request_timeout_secs: u64,
}

impl ExecutorConfig {
    pub fn request_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.request_timeout_secs.max(1))
    }
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        Self {
            // Waiting steps hold none, so workers are cheap: enough for a
            // bulk plan and the rest of the bot beside it.
            workers: 12,
            max_attempts: 5,
            backoff_base_ms: 1_000,
            backoff_cap_ms: 5 * 60_000,
            poll_interval_ms: 1_000,
            bulk_concurrency: 8,
            request_timeout_secs: 60,
        }
    }
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct ConfirmConfig {
    /// How long a parked plan waits for `!confirm`.
    pub expiry_minutes: u64,
    /// Plans with more steps than this always need `!confirm`.
    pub max_unconfirmed_steps: usize,
    /// PPAs (`OWNER/NAME`, `*` matching any run of characters, e.g.
    /// `maas/*`; `!` exempts, the last match decides) where a copy is
    /// dangerous: such plans wait for `!confirm`.
    pub protected_ppas: Vec<String>,
}

impl Default for ConfirmConfig {
    fn default() -> Self {
        Self {
            expiry_minutes: 10,
            max_unconfirmed_steps: 20,
            protected_ppas: Vec::new(),
        }
    }
}

impl ConfirmConfig {
    /// What makes a plan dangerous enough to ask first, whatever its size.
    pub fn danger_rules(&self) -> shepherd_commands::plan::DangerRules {
        shepherd_commands::plan::DangerRules {
            protected_ppas: self.protected_ppas.clone(),
        }
    }
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    /// Chat identities, `platform:id` (e.g. `console:alice`, `discord:1234`),
    /// or platform groups (`discord-role:5678`: everyone with that role).
    pub members: Vec<String>,
    /// Where to ask for this role; refusals point there.
    pub ask: Option<String>,
}

/// A command whose role nobody holds (see `Config::unheld_roles`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnheldRole {
    pub command: String,
    pub role: String,
    /// `[roles.ROLE]` exists, with no members; otherwise it is not defined.
    pub defined: bool,
}

impl UnheldRole {
    /// Why nobody holds it, in config's words.
    pub fn why(&self) -> String {
        if self.defined {
            format!("[roles.{}] has no members", self.role)
        } else {
            "[roles] does not define it".to_string()
        }
    }
}

#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct CommandPolicy {
    /// Replaces the command's default role; `"none"` opens it to anyone.
    pub role: Option<String>,
    /// Only in these channels (empty = anywhere).
    #[serde(default)]
    pub channels: Vec<String>,
    /// Always park this command's plans for `!confirm`.
    #[serde(default)]
    pub confirm: bool,
    /// May it be used in a direct message? (Default: yes.)
    pub dm: Option<bool>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    pub name: String,
    /// Cron expression, 5 fields (min hour dom mon dow) or 6–7 with seconds
    /// first (and year last), UTC.
    pub cron: String,
    /// Job: post this text to a channel.
    pub announce: Option<AnnounceJob>,
    /// Job: fetch a series' excuses, diff, announce changes to watchers.
    pub poll_excuses: Option<PollExcusesJob>,
    /// Job: read a snap's channel map, diff, announce changes to watchers.
    pub poll_channels: Option<PollChannelsJob>,
}

impl ScheduleConfig {
    /// The poller a poll job asks (as `Poller::job` names it) and its
    /// argument; `None` for other jobs.
    pub fn poll(&self) -> Option<(&'static str, Option<&str>)> {
        let excuses = self
            .poll_excuses
            .as_ref()
            .map(|p| ("poll_excuses", p.series.as_deref()));
        let channels = self
            .poll_channels
            .as_ref()
            .map(|p| ("poll_channels", Some(p.snap.as_str())));
        excuses.or(channels)
    }

    /// How many jobs this entry names (exactly one is valid).
    pub fn jobs(&self) -> usize {
        [
            self.announce.is_some(),
            self.poll_excuses.is_some(),
            self.poll_channels.is_some(),
        ]
        .iter()
        .filter(|j| **j)
        .count()
    }
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct PollChannelsJob {
    /// The snap whose channel map is diffed and announced to `!watch snap`.
    pub snap: String,
}

#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct PollExcusesJob {
    /// Default: `[proposed_migration] series`.
    pub series: Option<String>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct AnnounceJob {
    pub channel: String,
    pub text: String,
}

impl Config {
    /// Every secret this configuration holds, for scrubbing them from any
    /// text the bot relays (a service may echo a wrong token back).
    pub fn secrets(&self) -> Vec<SecretString> {
        let mut out: Vec<SecretString> = self.webhook.launchpad_secret.iter().cloned().collect();
        // The store URL's password alone too: an error may quote it apart.
        if let Some(url) = &self.store.url {
            out.push(url.clone());
            if let Some(password) = url::Url::parse(url.expose_secret())
                .ok()
                .and_then(|u| u.password().map(str::to_string))
                .filter(|p| !p.is_empty())
            {
                out.push(SecretString::from(password));
            }
        }
        if let Some(d) = &self.chat.discord {
            out.extend(d.token.iter().cloned());
        }
        out.extend(self.webhook.launchpad.iter().map(|h| h.secret.clone()));
        if let Some(lp) = &self.launchpad {
            out.extend(lp.oauth_token.iter().cloned());
            out.extend(lp.oauth_token_secret.iter().cloned());
        }
        if let Some(a) = &self.autopkgtest {
            out.extend(a.api_key.iter().cloned());
            out.extend(a.session_cookie.iter().cloned());
        }
        if let Some(s) = &self.snapstore {
            out.extend(s.credentials.iter().cloned());
            // The macaroons themselves too: an error may quote one alone.
            if let Ok(c) = s.credentials() {
                out.extend([c.root().clone(), c.discharge().clone()]);
            }
        }
        out
    }

    /// Where the links the bot gives point: the configured services' web
    /// pages (production's for what is not configured).
    pub fn links(&self) -> shepherd_commands::links::Links {
        shepherd_commands::links::Links::from_roots(
            self.launchpad.as_ref().map(|l| l.service_root.as_str()),
            self.autopkgtest.as_ref().map(|a| a.request_url.as_str()),
        )
    }

    /// Roles that commands need but nobody holds here — undefined, or
    /// defined with no members: those commands are refused to everyone
    /// (fail closed). Worth a warning.
    pub fn unheld_roles(&self, registry: &Registry) -> Vec<UnheldRole> {
        registry
            .specs()
            .filter_map(|spec| {
                let role = match self.commands.get(spec.name).and_then(|p| p.role.clone()) {
                    Some(r) => r,
                    None => spec.role?.to_string(),
                };
                let defined = match self.roles.get(&role) {
                    _ if role == "none" => return None,
                    Some(rc) if !rc.members.is_empty() => return None,
                    found => found.is_some(),
                };
                Some(UnheldRole {
                    command: spec.name.to_string(),
                    role,
                    defined,
                })
            })
            .collect()
    }
}

mod chat;
mod load;
pub use chat::{ChatAdapter, ChatConfig, DiscordConfig};
pub use load::{ENV_OVERRIDES, LOG_VARIABLES};
mod crontab;
pub use crontab::{parse_cron, Cron};

mod launchpad;
mod proposed_migration;
mod release;
pub use launchpad::{LaunchpadConfig, LaunchpadHook};
pub use proposed_migration::{AutopkgtestConfig, MigrationConfig, DEVEL_EXCUSES_URL};
pub use release::{ReleaseConfig, SnapStoreConfig};
mod summary;
pub use summary::redact_url;
mod validate;

#[cfg(test)]
mod tests;
