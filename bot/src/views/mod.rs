//! Each service's bot-side home: the read-only view planners use (a
//! client made for someone waiting in chat: short timeout, one quick retry,
//! no way to change the world) and the service's `install`, which wires the
//! view, the executor's write client, webhook receivers and pollers from
//! its config section. The runtime calls one `install` per service and
//! names none of them otherwise.

pub mod launchpad;
pub mod proposed_migration;
pub mod snapstore;

use std::sync::Arc;

use shepherd_adapters::webhook::Receiver;
use shepherd_adapters::wire::Calls;
use shepherd_commands::launchpad::{LaunchpadView, NoLaunchpad};
use shepherd_commands::polls::Poller;
use shepherd_commands::proposed_migration::{MigrationView, NoMigration};
use shepherd_commands::release::view::{NoRelease, ReleaseView};
use thiserror::Error;

use crate::dispatch::WebhookService;
use crate::executor::apply::ServiceAppliers;
use crate::store::StoreError;

/// What planners read, one view per service (a stand-in that explains
/// what is not configured, when a service is not).
pub struct Views {
    pub migration: Arc<dyn MigrationView>,
    pub launchpad: Arc<dyn LaunchpadView>,
    pub release: Arc<dyn ReleaseView>,
}

impl Default for Views {
    fn default() -> Self {
        Self {
            migration: Arc::new(NoMigration),
            launchpad: Arc::new(NoLaunchpad),
            release: Arc::new(NoRelease),
        }
    }
}

/// Everything the services contribute to a running bot.
#[derive(Default)]
pub struct Wiring {
    pub views: Views,
    /// The only write-capable clients: the executor's.
    pub appliers: ServiceAppliers,
    /// Checks `POST /hooks/{source}` deliveries.
    pub receivers: Vec<Arc<dyn Receiver>>,
    /// What stored deliveries announce.
    pub webhooks: Vec<WebhookService>,
    pub pollers: Vec<Arc<dyn Poller>>,
    pub handles: Handles,
    /// What every client the services make reports its exchanges to.
    pub calls: Calls,
}

impl Wiring {
    /// Nothing wired yet; the clients made will report to `calls`.
    pub fn observed(calls: Calls) -> Self {
        Self {
            calls,
            ..Self::default()
        }
    }
}

/// Services' state the sandbox and tests reach into (to seed it).
#[derive(Default, Clone)]
pub struct Handles {
    pub proposed: Option<Arc<proposed_migration::ProposedMigration>>,
}

#[derive(Debug, Error)]
pub enum WiringError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Migration(#[from] proposed_migration::MigrationError),
    #[error("Launchpad client: {0}")]
    Launchpad(String),
    #[error("Snap Store: {0}")]
    SnapStore(String),
}
