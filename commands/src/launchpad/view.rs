//! What the Launchpad commands read: publications, snaps and their builds.
//! The bot implements it over its Launchpad client.

use async_trait::async_trait;
use shepherd_adapters::launchpad::archive::SourcePublication;
use shepherd_adapters::launchpad::bugs::BugTask;
use shepherd_adapters::launchpad::milestones::Milestone;
use shepherd_adapters::launchpad::snaps::{Snap, SnapBuild};

use crate::UserError;

#[async_trait]
pub trait LaunchpadView: Send + Sync {
    /// Exact-name publications of `name` in PPA `owner/name`.
    async fn published(
        &self,
        ppa: &str,
        name: &str,
        version: Option<&str>,
    ) -> Result<Vec<SourcePublication>, UserError>;
    async fn snap(&self, owner: &str, name: &str) -> Result<Snap, UserError>;
    /// Pending builds and the newest `limit` others, newest first.
    async fn snap_builds(&self, snap: &Snap, limit: usize) -> Result<Vec<SnapBuild>, UserError>;
    /// The snap owner used when `--owner` is not given.
    fn default_snap_owner(&self) -> Option<String>;
    /// Where Launchpad should deliver webhooks to this bot, if configured.
    fn webhook_url(&self) -> Option<String> {
        None
    }

    /// The architectures the snap builds for; `None`: not known.
    async fn snap_processors(&self, _snap: &Snap) -> Result<Option<Vec<String>>, UserError> {
        Ok(None)
    }

    /// Every Published source in PPA `owner/name` for `series`.
    async fn ppa_sources(
        &self,
        _ppa: &str,
        _series: &str,
    ) -> Result<Vec<SourcePublication>, UserError> {
        Err(UserError(NOT_CONFIGURED.into()))
    }

    /// The processors PPA `owner/name` builds for; `None`: no such PPA.
    async fn ppa_processors(&self, _ppa: &str) -> Result<Option<Vec<String>>, UserError> {
        Err(UserError(NOT_CONFIGURED.into()))
    }

    /// Architectures with a Published binary `name` `version` in the PPA.
    async fn binary_arches(
        &self,
        _ppa: &str,
        _name: &str,
        _version: &str,
    ) -> Result<Vec<String>, UserError> {
        Err(UserError(NOT_CONFIGURED.into()))
    }

    async fn milestone(&self, _project: &str, _name: &str) -> Result<Option<Milestone>, UserError> {
        Err(UserError(NOT_CONFIGURED.into()))
    }

    /// Every milestone of the project, active and not.
    async fn milestones(&self, _project: &str) -> Result<Vec<Milestone>, UserError> {
        Err(UserError(NOT_CONFIGURED.into()))
    }

    /// The tasks targeted to a milestone, in these statuses (none given:
    /// Launchpad's unresolved ones).
    async fn milestone_tasks(
        &self,
        _project: &str,
        _milestone: &str,
        _statuses: &[&str],
    ) -> Result<Vec<BugTask>, UserError> {
        Err(UserError(NOT_CONFIGURED.into()))
    }

    /// Does the git repository (`~owner/project/+git/name`) have this tag?
    async fn tag_exists(&self, _repository: &str, _tag: &str) -> Result<bool, UserError> {
        Err(UserError(NOT_CONFIGURED.into()))
    }
}

pub struct NoLaunchpad;

const NOT_CONFIGURED: &str =
    "Launchpad is not configured here — an operator must add [launchpad] to the config";

#[async_trait]
impl LaunchpadView for NoLaunchpad {
    async fn published(
        &self,
        _: &str,
        _: &str,
        _: Option<&str>,
    ) -> Result<Vec<SourcePublication>, UserError> {
        Err(UserError(NOT_CONFIGURED.into()))
    }

    async fn snap(&self, _: &str, _: &str) -> Result<Snap, UserError> {
        Err(UserError(NOT_CONFIGURED.into()))
    }

    async fn snap_builds(&self, _: &Snap, _: usize) -> Result<Vec<SnapBuild>, UserError> {
        Err(UserError(NOT_CONFIGURED.into()))
    }

    fn default_snap_owner(&self) -> Option<String> {
        None
    }
}

/// The latest build of each architecture, in first-seen (newest) order.
pub fn latest_per_arch(builds: &[SnapBuild]) -> Vec<&SnapBuild> {
    let mut out: Vec<&SnapBuild> = Vec::new();
    for b in builds {
        if !out.iter().any(|o| o.arch() == b.arch()) {
            out.push(b);
        }
    }
    out
}

/// `--owner`, else the configured default.
pub fn snap_owner(flag: Option<&str>, view: &dyn LaunchpadView) -> Result<String, UserError> {
    flag.map(|o| o.trim_start_matches('~').to_string())
        .or_else(|| view.default_snap_owner())
        .ok_or_else(|| {
            UserError("give the snap's owner with --owner (no default owner is configured)".into())
        })
}
