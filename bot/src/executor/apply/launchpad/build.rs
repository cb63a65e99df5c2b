//! A snap build: requested once (unless the arch already has this step's
//! build), then followed until it and its store upload settle.

use shepherd_adapters::launchpad::snaps::{Snap, SnapBuild};

use super::{apply_error, LaunchpadApplier};
use crate::executor::{Applied, ApplyError, StepCall};

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

impl LaunchpadApplier {
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
            let link = self.links.snap_build(ask.owner, name, b.id());
            return finished(&b, &link).map(Applied::Done);
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

/// A settled build in words, with `link` to its page.
fn finished(b: &SnapBuild, link: &str) -> Result<String, ApplyError> {
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
            "build {} on {}: Successfully built{store} · {link}",
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
