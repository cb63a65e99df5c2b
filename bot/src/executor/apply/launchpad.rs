//! Launchpad's world-changing steps: a PPA copy, a snap build, a webhook.
//! Copies and builds are sent once and then *followed*: each later look
//! only reads, and answers Waiting until Launchpad has published the copy
//! or finished the build and its store upload — the worker is free
//! meanwhile. Timeouts count from the step's first apply, across restarts.

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use shepherd_adapters::launchpad::ops::{ppa_path, Snap, SnapBuild};
use shepherd_adapters::launchpad::{LaunchpadClient, LpError};

use crate::config::LaunchpadConfig;
use crate::executor::{Applied, ApplyError, StepCall};
use crate::redaction::Redactor;
use crate::store::{now_ms, Store};
use shepherd_adapters::launchpad::webhook::LaunchpadReceiver;
use shepherd_adapters::webhook::Receiver;

/// 32 random bytes from the operating system, hex-encoded.
fn new_secret() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a webhook secret: {e}"))?;
    Ok(hex::encode(bytes))
}

/// How long one look at a followed copy or build may take.
const LOOK_TIMEOUT: Duration = Duration::from_secs(10);

fn apply_error(e: LpError) -> ApplyError {
    ApplyError::from_service(&e, e.is_transient())
}

/// The build a `RequestSnapBuild` step asks for.
pub struct BuildAsk<'a> {
    pub owner: &'a str,
    pub snap: &'a str,
    pub arch: &'a str,
    /// The arch's latest build when planned: newer ones are the step's own.
    pub after_build: Option<u64>,
    /// The series to build for, when the snap names none.
    pub series: Option<&'a str>,
}

/// A build this step owns: one Launchpad already has, or one just requested.
enum Found {
    Existing(String),
    Requested(String),
}

pub struct LaunchpadApplier {
    /// Writes, and the reads that decide them: long timeout, retries.
    client: LaunchpadClient,
    /// Looks at what a followed step follows: short timeout, one retry, so
    /// a Launchpad outage does not hold a worker for minutes per look.
    looks: LaunchpadClient,
    store: Store,
    /// Learns the secrets of webhooks the bot registers, so their
    /// deliveries verify at once; the redactor scrubs them from chat.
    receiver: Arc<LaunchpadReceiver>,
    redactor: Arc<Redactor>,
    public_url: Option<String>,
    /// How often a followed copy or build is looked at.
    poll: Duration,
    copy_timeout: Duration,
    build_timeout: Duration,
}

impl LaunchpadApplier {
    pub fn new(
        c: &LaunchpadConfig,
        store: Store,
        receiver: Arc<LaunchpadReceiver>,
        redactor: Arc<Redactor>,
        public_url: Option<String>,
    ) -> Result<Self, LpError> {
        let poll = Duration::from_millis(c.poll_interval_ms.max(10));
        let client =
            LaunchpadClient::new(c.service_root.as_str(), c.oauth(), Duration::from_secs(60))?;
        let looks = LaunchpadClient::new(c.service_root.as_str(), c.oauth(), LOOK_TIMEOUT)?
            .with_retry_delays(vec![Duration::from_millis(500)]);
        // Short polls (sandbox, tests) get short retry delays too.
        let client = if poll < Duration::from_secs(1) {
            client.with_retry_delays(vec![poll; 3])
        } else {
            client
        };
        Ok(Self {
            client,
            looks,
            store,
            receiver,
            redactor,
            public_url,
            poll,
            copy_timeout: Duration::from_secs(c.copy_timeout_mins * 60),
            build_timeout: Duration::from_secs(c.build_timeout_mins * 60),
        })
    }

    /// Still within `limit` of the step's first apply?
    fn in_time(step: &StepCall<'_>, limit: Duration) -> bool {
        now_ms() - step.first_applied_at < limit.as_millis() as i64
    }

    fn wait(&self, note: String, follow_ref: Option<String>) -> Result<Applied, ApplyError> {
        Ok(Applied::Waiting {
            note,
            recheck_in: self.poll,
            follow_ref,
        })
    }

    /// Copies unless the destination already has it (first apply only),
    /// then waits until Launchpad publishes it there.
    #[allow(clippy::too_many_arguments)]
    pub async fn copy(
        &self,
        name: &str,
        version: &str,
        from: &str,
        to: &str,
        series: &str,
        include_binaries: bool,
        step: &StepCall<'_>,
    ) -> Result<Applied, ApplyError> {
        let bad = |r: &str| ApplyError::Permanent(format!("`{r}` is not a PPA"));
        let (from_path, to_path) = (
            ppa_path(from).ok_or_else(|| bad(from))?,
            ppa_path(to).ok_or_else(|| bad(to))?,
        );
        // A look that fails while following is the executor's to retry:
        // the step stays followed, and its own timeout still applies.
        let state = self
            .state_in(&to_path, name, version, series)
            .await
            .map_err(apply_error)?;
        if state.as_deref() == Some("Published") {
            return Ok(Applied::Done(if step.following {
                format!("published in ppa:{to} ({series})")
            } else {
                format!("already published in ppa:{to} ({series}); not copied again")
            }));
        }
        if state.is_none() && !step.following {
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
            return self.wait(
                format!("copy of {name} {version} to ppa:{to} ({series}) requested"),
                None,
            );
        }
        if !Self::in_time(step, self.copy_timeout) {
            return Err(ApplyError::Permanent(format!(
                "{name} {version} not published in ppa:{to} ({series}) after {} min — Launchpad shows why only on the PPA's +packages page (often: that version is already there)",
                self.copy_timeout.as_secs() / 60
            )));
        }
        self.wait(
            format!(
                "{name} {version} in ppa:{to} ({series}): {}",
                state.as_deref().unwrap_or("copy requested, not listed yet")
            ),
            None,
        )
    }

    async fn state_in(
        &self,
        archive: &str,
        name: &str,
        version: &str,
        series: &str,
    ) -> Result<Option<String>, LpError> {
        let pubs = self
            .looks
            .published_sources(archive, name, Some(version), Some(series))
            .await?;
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
            .keep_webhook_secret(
                self.receiver.source(),
                target,
                &fresh,
                channel,
                "shepherd",
                now_ms(),
            )
            .await
            .map_err(|e| ApplyError::Transient(e.to_string()))?;
        self.redactor.add(secret.clone());
        self.receiver.add(target, secret.clone());
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
    /// a crash, or one Launchpad started itself), then follows it and its
    /// store upload — by the URL kept with the step, once known.
    /// `after_build` `None` (plans stored by older versions): a pending
    /// build, or when following, the arch's newest.
    pub async fn build(
        &self,
        ask: &BuildAsk<'_>,
        step: &StepCall<'_>,
    ) -> Result<Applied, ApplyError> {
        let (name, arch) = (ask.snap, ask.arch);
        let url = match step.follow_ref {
            Some(url) => url.to_string(),
            None => match self.find_or_request(ask, step).await? {
                Found::Requested(url) => {
                    let id = url.rsplit('/').next().unwrap_or("?").to_string();
                    return self.wait(
                        format!("build {id} of {name} on {arch} requested"),
                        Some(url),
                    );
                }
                Found::Existing(url) => url,
            },
        };
        let b = self.looks.snap_build(&url).await.map_err(apply_error)?;
        // A built snap is followed on until its store upload settles too.
        let uploading = b.succeeded() && b.store_upload_status.as_deref() == Some("Pending");
        if b.is_final() && !uploading {
            return finished(&b).map(Applied::Done);
        }
        if !Self::in_time(step, self.build_timeout) {
            return Err(ApplyError::Permanent(format!(
                "build {} on {arch} still {} after {} min",
                b.id(),
                b.buildstate,
                self.build_timeout.as_secs() / 60
            )));
        }
        let store = match b.store_upload_status.as_deref() {
            Some(s) if b.succeeded() => format!(", store upload {s}"),
            _ => String::new(),
        };
        self.wait(
            format!("build {} on {arch}: {}{store}", b.id(), b.buildstate),
            Some(url),
        )
    }

    /// The arch's build this step owns, if Launchpad lists one (pending
    /// builds included, however many builds the snap has); else a new one.
    async fn find_or_request(
        &self,
        ask: &BuildAsk<'_>,
        step: &StepCall<'_>,
    ) -> Result<Found, ApplyError> {
        let (name, arch) = (ask.snap, ask.arch);
        let snap = self
            .client
            .snap(ask.owner, name)
            .await
            .map_err(apply_error)?;
        let builds = self
            .client
            .recent_snap_builds(&snap, 100)
            .await
            .map_err(apply_error)?;
        let id = |b: &SnapBuild| b.id().parse::<u64>().unwrap_or(0);
        let ours = builds
            .iter()
            .filter(|b| b.arch() == arch)
            .filter(|b| match ask.after_build {
                Some(after) => id(b) > after,
                None => step.following || !b.is_final(),
            })
            .max_by_key(|b| id(b));
        match ours {
            Some(b) => Ok(Found::Existing(b.self_link.clone())),
            None if step.following => Err(ApplyError::Permanent(format!(
                "the build of {name} on {arch} this step requested is no longer listed on Launchpad"
            ))),
            None => self
                .request_build(&snap, &builds, arch, ask.series)
                .await
                .map(Found::Requested),
        }
    }

    async fn request_build(
        &self,
        snap: &Snap,
        builds: &[SnapBuild],
        arch: &str,
        series: Option<&str>,
    ) -> Result<String, ApplyError> {
        let das = distro_arch_series(snap, builds, arch, series)?;
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
                snap,
                &das,
                &archive,
                &pocket,
                snap.auto_build_channels.as_ref(),
            )
            .await
            .map_err(apply_error)
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
