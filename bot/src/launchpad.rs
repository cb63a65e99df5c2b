//! Launchpad for the bot: the read view the commands plan with, and the
//! two world-changing steps — a PPA copy and a snap build — each applied
//! read-before-write and then followed to its end.

use std::time::Duration;

use async_trait::async_trait;
use secrecy::ExposeSecret;
use shepherd_adapters::launchpad::ops::{ppa_path, Snap, SnapBuild, SourcePublication};
use shepherd_adapters::launchpad::{LaunchpadClient, LpError, OAuth};
use shepherd_commands::launchpad::LaunchpadView;
use shepherd_commands::UserError;

use std::sync::Arc;

use secrecy::SecretString;

use crate::config::LaunchpadConfig;
use crate::executor::ApplyError;
use crate::secrets::SecretRing;
use crate::store::{now_ms, Store};

/// 32 random bytes from the operating system, hex-encoded.
fn new_secret() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a webhook secret: {e}"))?;
    Ok(hex::encode(bytes))
}

/// Reads made to answer a command: someone is waiting in chat, so a
/// Launchpad that does not answer is reported within seconds rather than
/// after the long retry schedule the executor's writes and follows use.
pub const COMMAND_READ_TIMEOUT: Duration = Duration::from_secs(5);
const COMMAND_READ_RETRY: Duration = Duration::from_millis(500);

pub struct LaunchpadService {
    /// The executor's client: long timeouts and retries.
    client: LaunchpadClient,
    /// The planners' client: [`COMMAND_READ_TIMEOUT`], one quick retry.
    reader: LaunchpadClient,
    store: Store,
    secrets: Arc<SecretRing>,
    public_url: Option<String>,
    default_owner: Option<String>,
    poll: Duration,
    copy_timeout: Duration,
    build_timeout: Duration,
}

fn user_error(e: LpError) -> UserError {
    UserError(match e {
        LpError::Network { .. } => format!(
            "Launchpad did not answer within {} s (asked twice) — try again in a minute",
            COMMAND_READ_TIMEOUT.as_secs()
        ),
        LpError::NotFound { body, .. } => format!("Launchpad says: {body}"),
        other => other.to_string(),
    })
}

fn apply_error(e: LpError) -> ApplyError {
    if e.is_transient() {
        ApplyError::Transient(e.to_string())
    } else {
        ApplyError::Permanent(e.to_string())
    }
}

impl LaunchpadService {
    pub fn new(
        c: &LaunchpadConfig,
        store: Store,
        secrets: Arc<SecretRing>,
        public_url: Option<String>,
    ) -> Result<Self, LpError> {
        let auth = match (&c.oauth_token, &c.oauth_token_secret) {
            (Some(t), Some(s)) if !t.expose_secret().is_empty() => Some(OAuth {
                consumer_key: c.consumer_key.clone().unwrap_or_else(|| "shepherd".into()),
                token: t.clone(),
                token_secret: s.clone(),
            }),
            _ => None,
        };
        let poll = Duration::from_millis(c.poll_interval_ms.max(10));
        let client = LaunchpadClient::new(
            c.service_root.as_str(),
            auth.clone(),
            Duration::from_secs(60),
        )?;
        let reader = LaunchpadClient::new(c.service_root.as_str(), auth, COMMAND_READ_TIMEOUT)?
            .with_retry_delays(vec![COMMAND_READ_RETRY]);
        // Short polls (sandbox, tests) get short retry delays too.
        let client = if poll < Duration::from_secs(1) {
            client.with_retry_delays(vec![poll; 3])
        } else {
            client
        };
        Ok(Self {
            client,
            reader,
            store,
            secrets,
            public_url,
            default_owner: c.default_snap_owner.clone(),
            poll,
            copy_timeout: Duration::from_secs(c.copy_timeout_mins * 60),
            build_timeout: Duration::from_secs(c.build_timeout_mins * 60),
        })
    }

    /// Copies unless the destination already has it, then waits for publication.
    pub async fn copy_and_follow(
        &self,
        name: &str,
        version: &str,
        from: &str,
        to: &str,
        series: &str,
        include_binaries: bool,
    ) -> Result<String, ApplyError> {
        let bad = |r: &str| ApplyError::Permanent(format!("`{r}` is not a PPA"));
        let (from_path, to_path) = (
            ppa_path(from).ok_or_else(|| bad(from))?,
            ppa_path(to).ok_or_else(|| bad(to))?,
        );
        let state = self.state_in(&to_path, name, version, series).await?;
        if state.as_deref() == Some("Published") {
            return Ok(format!(
                "already published in ppa:{to} ({series}); not copied again"
            ));
        }
        if state.is_none() {
            self.client
                .copy_package(
                    &to_path,
                    name,
                    version,
                    &from_path,
                    series,
                    include_binaries,
                )
                .await
                .map_err(apply_error)?;
        }
        let deadline = tokio::time::Instant::now() + self.copy_timeout;
        loop {
            if self
                .state_in(&to_path, name, version, series)
                .await?
                .as_deref()
                == Some("Published")
            {
                return Ok(format!("published in ppa:{to} ({series})"));
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ApplyError::Permanent(format!(
                    "{name} {version} not published in ppa:{to} ({series}) after {} min — Launchpad shows why only on the PPA's +packages page (often: that version is already there)",
                    self.copy_timeout.as_secs() / 60
                )));
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    async fn state_in(
        &self,
        archive: &str,
        name: &str,
        version: &str,
        series: &str,
    ) -> Result<Option<String>, ApplyError> {
        let pubs = self
            .client
            .published_sources(archive, name, Some(version), Some(series))
            .await
            .map_err(apply_error)?;
        Ok(pubs
            .iter()
            .find(|p| p.status == "Published")
            .or_else(|| pubs.iter().find(|p| p.status == "Pending"))
            .map(|p| p.status.clone()))
    }

    /// Registers (or re-keys) this bot's webhook on `target`. The secret is
    /// kept before Launchpad hears it, so the first delivery already verifies.
    pub async fn register_webhook(
        &self,
        target: &str,
        events: &[String],
        channel: Option<&str>,
    ) -> Result<String, ApplyError> {
        let url = self
            .public_url
            .clone()
            .ok_or_else(|| ApplyError::Permanent("webhook.public_url is not configured".into()))?;
        let fresh = SecretString::from(new_secret().map_err(ApplyError::Permanent)?);
        let secret = self
            .store
            .keep_webhook_secret(target, &fresh, channel, "shepherd", now_ms())
            .await
            .map_err(|e| ApplyError::Transient(e.to_string()))?;
        self.secrets.add(target, secret.clone());
        let existing = self.client.webhooks(target).await.map_err(apply_error)?;
        let ours = existing
            .iter()
            .find(|h| h.get("delivery_url").and_then(|u| u.as_str()) == Some(url.as_str()))
            .and_then(|h| {
                h.get("self_link")
                    .and_then(|l| l.as_str())
                    .map(str::to_string)
            });
        let (link, what) = match ours {
            Some(link) => {
                // Launchpad never shows a secret: set ours on the webhook that exists.
                self.client
                    .set_webhook_secret(&link, secret.expose_secret())
                    .await
                    .map_err(apply_error)?;
                (link, "already registered; its secret now matches ours")
            }
            None => {
                let link = self
                    .client
                    .new_webhook(target, &url, events, secret.expose_secret())
                    .await
                    .map_err(apply_error)?;
                (link, "registered")
            }
        };
        self.store
            .set_webhook_link(target, &link)
            .await
            .map_err(|e| ApplyError::Transient(e.to_string()))?;
        Ok(format!("{what}: {link} ({})", events.join(", ")))
    }

    /// Requests a build unless the arch already has one newer than the
    /// build being retried (`after_build`: this step's own, requested before
    /// a crash, or one Launchpad started itself), then follows it.
    /// `after_build` `None` (plans stored by older versions): only a
    /// pending build counts.
    pub async fn build_and_follow(
        &self,
        owner: &str,
        name: &str,
        arch: &str,
        after_build: Option<u64>,
        series: Option<&str>,
    ) -> Result<String, ApplyError> {
        let snap = self.client.snap(owner, name).await.map_err(apply_error)?;
        let builds = self
            .client
            .snap_builds(&snap, 100)
            .await
            .map_err(apply_error)?;
        let id = |b: &SnapBuild| b.id().parse::<u64>().unwrap_or(0);
        let ours = builds
            .iter()
            .filter(|b| b.arch() == arch)
            .filter(|b| match after_build {
                Some(after) => id(b) > after,
                None => !b.is_final(),
            })
            .max_by_key(|b| id(b));
        let url = match ours {
            Some(b) => b.self_link.clone(),
            None => {
                let das = distro_arch_series(&snap, &builds, arch, series)?;
                let archive = snap
                    .auto_build_archive_link
                    .clone()
                    .unwrap_or_else(|| "/ubuntu/+archive/primary".into());
                let pocket = snap
                    .auto_build_pocket
                    .clone()
                    .unwrap_or_else(|| "Updates".into());
                self.client
                    .request_snap_build(
                        &snap,
                        &das,
                        &archive,
                        &pocket,
                        snap.auto_build_channels.as_ref(),
                    )
                    .await
                    .map_err(apply_error)?
            }
        };
        let deadline = tokio::time::Instant::now() + self.build_timeout;
        loop {
            let b = self.client.snap_build(&url).await.map_err(apply_error)?;
            // A built snap is followed on until its store upload settles too.
            let uploading = b.succeeded() && b.store_upload_status.as_deref() == Some("Pending");
            if b.is_final() && !uploading {
                return finished(&b);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ApplyError::Permanent(format!(
                    "build {} on {arch} still {} after {} min",
                    b.id(),
                    b.buildstate,
                    self.build_timeout.as_secs() / 60
                )));
            }
            tokio::time::sleep(self.poll).await;
        }
    }
}

/// Where to build: `--series` when given, else the snap's own series, else
/// (snaps with `distro_series_link: null`) the series of the arch's last build.
fn distro_arch_series(
    snap: &Snap,
    builds: &[SnapBuild],
    arch: &str,
    series: Option<&str>,
) -> Result<String, ApplyError> {
    if let Some(s) = series {
        return Ok(format!("/ubuntu/{s}/{arch}"));
    }
    if let Some(ds) = &snap.distro_series_link {
        return Ok(format!("{}/{arch}", ds.trim_end_matches('/')));
    }
    builds
        .iter()
        .filter(|b| b.arch() == arch)
        .find_map(|b| b.distro_arch_series_link.clone())
        .ok_or_else(|| {
            ApplyError::Permanent(format!(
                "{} names no Ubuntu series and has no earlier build on {arch}: ask again with `--series`",
                snap.name
            ))
        })
}

fn finished(b: &SnapBuild) -> Result<String, ApplyError> {
    let link = b.web_link.clone().unwrap_or_else(|| b.self_link.clone());
    let upload = b.store_upload_status.as_deref().unwrap_or("");
    if b.succeeded() && matches!(upload, "Failed to upload" | "Failed to release to channels") {
        let why = b
            .store_upload_error_message
            .as_deref()
            .unwrap_or("no reason given");
        return Err(ApplyError::Permanent(format!(
            "build {} on {}: built, but the store upload failed ({upload}: {why}) · {link}",
            b.id(),
            b.arch()
        )));
    }
    if b.succeeded() {
        let store = b
            .store_upload_status
            .as_deref()
            .map(|s| format!(" (store: {s})"))
            .unwrap_or_default();
        Ok(format!(
            "build {} on {}: Successfully built{store}",
            b.id(),
            b.arch()
        ))
    } else {
        Err(ApplyError::Permanent(format!(
            "build {} on {}: {} · {link}",
            b.id(),
            b.arch(),
            b.buildstate
        )))
    }
}

#[async_trait]
impl LaunchpadView for LaunchpadService {
    async fn published(
        &self,
        ppa: &str,
        name: &str,
        version: Option<&str>,
    ) -> Result<Vec<SourcePublication>, UserError> {
        let path = ppa_path(ppa)
            .ok_or_else(|| UserError(format!("`{ppa}` is not a PPA: write OWNER/NAME")))?;
        self.reader
            .published_sources(&path, name, version, None)
            .await
            .map_err(user_error)
    }

    async fn snap(&self, owner: &str, name: &str) -> Result<Snap, UserError> {
        self.reader.snap(owner, name).await.map_err(user_error)
    }

    async fn snap_builds(&self, snap: &Snap, limit: usize) -> Result<Vec<SnapBuild>, UserError> {
        self.reader
            .snap_builds(snap, limit)
            .await
            .map_err(user_error)
    }

    fn default_snap_owner(&self) -> Option<String> {
        self.default_owner.clone()
    }

    fn webhook_url(&self) -> Option<String> {
        self.public_url.clone()
    }
}
