//! What commands read from Launchpad while planning.

use std::time::Duration;

use async_trait::async_trait;
use shepherd_adapters::launchpad::archive::{ppa_path, SourcePublication};
use shepherd_adapters::launchpad::bugs::BugTask;
use shepherd_adapters::launchpad::milestones::Milestone;
use shepherd_adapters::launchpad::snaps::{Snap, SnapBuild};
use shepherd_adapters::launchpad::{LaunchpadClient, LpError};
use shepherd_commands::launchpad::LaunchpadView;
use shepherd_commands::UserError;

use std::sync::Arc;

use secrecy::SecretString;
use shepherd_adapters::launchpad::webhooks::receiver::LaunchpadReceiver;
use shepherd_adapters::webhook::Receiver;
use shepherd_adapters::wire::Calls;
use shepherd_commands::deliveries::Hook;
use shepherd_commands::launchpad::deliveries::LaunchpadDeliveries;

use super::{Wiring, WiringError};
use crate::config::{Config, LaunchpadConfig};
use crate::dispatch::WebhookService;
use crate::executor::apply::launchpad::LaunchpadApplier;
use crate::redaction::Redactor;
use crate::store::Store;

/// Reads made to answer a command: someone is waiting in chat, so a
/// Launchpad that does not answer is reported within seconds rather than
/// after the long retry schedule the executor's writes and follows use.
pub const COMMAND_READ_TIMEOUT: Duration = Duration::from_secs(5);
const COMMAND_READ_RETRY: Duration = Duration::from_millis(500);

pub struct LaunchpadReader {
    client: LaunchpadClient,
    default_owner: Option<String>,
    public_url: Option<String>,
}

impl LaunchpadReader {
    pub fn new(
        c: &LaunchpadConfig,
        public_url: Option<String>,
        calls: &Calls,
    ) -> Result<Self, LpError> {
        let client =
            LaunchpadClient::new(c.service_root.as_str(), c.oauth(), COMMAND_READ_TIMEOUT)?
                .with_retry_delays(vec![COMMAND_READ_RETRY])
                .observed(calls.clone());
        Ok(Self {
            client,
            default_owner: c.default_snap_owner.clone(),
            public_url,
        })
    }
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

#[async_trait]
impl LaunchpadView for LaunchpadReader {
    async fn published(
        &self,
        ppa: &str,
        name: &str,
        version: Option<&str>,
    ) -> Result<Vec<SourcePublication>, UserError> {
        let path = ppa_path(ppa)
            .ok_or_else(|| UserError(format!("`{ppa}` is not a PPA: write OWNER/NAME")))?;
        self.client
            .published_sources(&path, name, version, None)
            .await
            .map_err(user_error)
    }

    async fn snap(&self, owner: &str, name: &str) -> Result<Snap, UserError> {
        self.client.snap(owner, name).await.map_err(user_error)
    }

    async fn snap_builds(&self, snap: &Snap, limit: usize) -> Result<Vec<SnapBuild>, UserError> {
        self.client
            .recent_snap_builds(snap, limit)
            .await
            .map_err(user_error)
    }

    fn default_snap_owner(&self) -> Option<String> {
        self.default_owner.clone()
    }

    async fn snap_processors(&self, snap: &Snap) -> Result<Option<Vec<String>>, UserError> {
        self.client.snap_processors(snap).await.map_err(user_error)
    }

    fn webhook_url(&self) -> Option<String> {
        self.public_url.clone()
    }

    async fn ppa_sources(
        &self,
        ppa: &str,
        series: &str,
    ) -> Result<Vec<SourcePublication>, UserError> {
        self.client
            .published_in_series(&path_of(ppa)?, series)
            .await
            .map_err(user_error)
    }

    async fn ppa_processors(&self, ppa: &str) -> Result<Option<Vec<String>>, UserError> {
        self.client.ppa_processors(ppa).await.map_err(user_error)
    }

    async fn binary_arches(
        &self,
        ppa: &str,
        name: &str,
        version: &str,
    ) -> Result<Vec<String>, UserError> {
        let entries = self
            .client
            .published_binaries(&path_of(ppa)?, name, Some(version))
            .await
            .map_err(user_error)?;
        Ok(entries
            .iter()
            .filter(|b| b["status"].as_str() == Some("Published"))
            .filter_map(|b| b["distro_arch_series_link"].as_str())
            .filter_map(|l| l.rsplit('/').next())
            .map(str::to_string)
            .collect())
    }

    async fn milestone(&self, project: &str, name: &str) -> Result<Option<Milestone>, UserError> {
        self.client
            .milestone(project, name)
            .await
            .map_err(user_error)
    }

    async fn milestones(&self, project: &str) -> Result<Vec<Milestone>, UserError> {
        self.client.milestones(project).await.map_err(user_error)
    }

    async fn milestone_tasks(
        &self,
        project: &str,
        milestone: &str,
        statuses: &[&str],
    ) -> Result<Vec<BugTask>, UserError> {
        // The milestone's link is its name under the project: no lookup.
        let link = format!("/{project}/+milestone/{milestone}");
        self.client
            .search_tasks(&format!("/{project}"), statuses, &[], Some(&link))
            .await
            .map_err(user_error)
    }

    async fn tag_exists(&self, repository: &str, tag: &str) -> Result<bool, UserError> {
        self.client
            .tag_exists(repository, tag)
            .await
            .map_err(user_error)
    }
}

fn path_of(ppa: &str) -> Result<String, UserError> {
    ppa_path(ppa).ok_or_else(|| UserError(format!("`{ppa}` is not a PPA: write OWNER/NAME")))
}

/// Wires Launchpad from `[launchpad]` and `[webhook]`: the planners' view,
/// the executor's writer, the `/hooks/launchpad` receiver (catch-all,
/// configured and registered secrets, each bound to its target) and what
/// deliveries announce. Webhooks are received even without `[launchpad]`.
pub async fn install(
    config: &Config,
    store: &Store,
    redactor: &Arc<Redactor>,
    wiring: &mut Wiring,
) -> Result<(), WiringError> {
    let hooks = &config.webhook.launchpad;
    let mut targeted: Vec<(String, SecretString)> = hooks
        .iter()
        .map(|h| (h.target.clone(), h.secret.clone()))
        .collect();
    let receiver = Arc::new(LaunchpadReceiver::new(
        config.webhook.launchpad_secret.iter().cloned().collect(),
        Vec::new(),
    ));
    for h in store.registered_hooks().await? {
        if h.source == receiver.source() {
            redactor.add(h.secret.clone());
            targeted.push((h.target, h.secret));
        }
    }
    for (target, secret) in targeted {
        receiver.add(&target, secret);
    }
    wiring.receivers.push(receiver.clone());
    wiring.webhooks.push(WebhookService {
        reactions: Arc::new(LaunchpadDeliveries {
            links: config.links(),
        }),
        hooks: hooks
            .iter()
            .map(|h| Hook {
                target: h.target.clone(),
                channel: h.channel.clone(),
            })
            .collect(),
    });
    let Some(c) = &config.launchpad else {
        return Ok(());
    };
    let public_url = config.webhook.public_url.as_ref().map(|u| u.to_string());
    let lp_error = |e: LpError| WiringError::Launchpad(e.to_string());
    let view = LaunchpadReader::new(c, public_url, &wiring.calls).map_err(lp_error)?;
    let writer = LaunchpadApplier::new(
        config,
        c,
        store.clone(),
        receiver,
        redactor.clone(),
        &wiring.calls,
    )
    .map_err(lp_error)?;
    wiring.views.launchpad = Arc::new(view);
    wiring.appliers.launchpad = Some(Arc::new(writer));
    Ok(())
}
