//! What the proposed-migration commands read: the latest excuses snapshot
//! and what autopkgtest-cloud is running. The bot implements it over its
//! store and clients; tests and the offline CLI can implement it on files.

use std::sync::Arc;

use async_trait::async_trait;
use shepherd_adapters::autopkgtest::InFlight;
use shepherd_adapters::britney::{Excuses, UpdateOutput};

use crate::UserError;

/// One series' excuses as last fetched.
#[derive(Debug, Clone)]
pub struct MigrationSnapshot {
    pub series: String,
    pub excuses: Excuses,
    pub output: Option<UpdateOutput>,
    pub fetched_at_ms: i64,
}

#[async_trait]
pub trait MigrationView: Send + Sync {
    /// The series commands use without `--series`.
    fn default_series(&self) -> Option<String>;
    /// request.cgi's address, for previews.
    fn request_url(&self) -> String;
    async fn snapshot(&self, series: &str) -> Result<Arc<MigrationSnapshot>, UserError>;
    /// Tests queued or running now.
    async fn in_flight(&self) -> Result<Vec<InFlight>, UserError>;
    /// Teams `!watch team` knows.
    fn teams(&self) -> Vec<String> {
        Vec::new()
    }
}

/// For deployments without proposed-migration configured.
pub struct NoMigration;

const NOT_CONFIGURED: &str =
    "proposed-migration is not configured here — an operator must add [proposed_migration] to the config";

#[async_trait]
impl MigrationView for NoMigration {
    fn default_series(&self) -> Option<String> {
        None
    }

    fn request_url(&self) -> String {
        String::new()
    }

    async fn snapshot(&self, _series: &str) -> Result<Arc<MigrationSnapshot>, UserError> {
        Err(UserError(NOT_CONFIGURED.into()))
    }

    async fn in_flight(&self) -> Result<Vec<InFlight>, UserError> {
        Err(UserError(NOT_CONFIGURED.into()))
    }
}

/// The snapshot for `--series` or the default.
pub async fn snapshot_for(
    view: &dyn MigrationView,
    series: Option<&str>,
) -> Result<Arc<MigrationSnapshot>, UserError> {
    let series = match series {
        Some(s) => s.to_string(),
        None => view
            .default_series()
            .ok_or_else(|| UserError(NOT_CONFIGURED.into()))?,
    };
    view.snapshot(&series).await
}
