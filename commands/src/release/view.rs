//! What the release commands read: the configured products and the Snap
//! Store's channels (the bot implements it over its Snap Store client),
//! plus what `LaunchpadView` reads about PPAs, milestones, bugs and tags.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::product::Product;
use crate::UserError;

/// One (channel, architecture) of a snap's channel map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelEntry {
    /// Fully qualified: `3.6/beta/release-prep`.
    pub channel: String,
    pub arch: String,
    pub revision: u64,
    /// A branch's end of life (30 days after its last release), ms.
    pub expires_at_ms: Option<i64>,
    /// Part of a progressive release (not yet to everyone).
    pub progressive: bool,
}

/// A revision the store knows, with its version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapRevision {
    pub revision: u64,
    pub version: String,
    pub arches: Vec<String>,
}

/// A snap's channels now, and the revisions it has.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapChannels {
    pub default_track: Option<String>,
    pub entries: Vec<ChannelEntry>,
    pub revisions: Vec<SnapRevision>,
    /// Branches that held a release and expired (channel, arch).
    pub expired: Vec<(String, String)>,
}

impl SnapChannels {
    /// The revision `channel` holds for `arch` (the non-progressive one
    /// when a progressive release shows two).
    pub fn holds(&self, channel: &str, arch: &str) -> Option<&ChannelEntry> {
        let mut found = self
            .entries
            .iter()
            .filter(|e| e.channel == channel && e.arch == arch);
        let first = found.next()?;
        Some(
            std::iter::once(first)
                .chain(found)
                .find(|e| !e.progressive)
                .unwrap_or(first),
        )
    }

    pub fn version_of(&self, revision: u64) -> Option<&str> {
        self.revisions
            .iter()
            .find(|r| r.revision == revision)
            .map(|r| r.version.as_str())
    }
}

#[async_trait]
pub trait ReleaseView: Send + Sync {
    /// The products configured for release management.
    fn products(&self) -> &[Product];

    /// The snap's channel map, revisions and expired branches.
    async fn snap_channels(&self, snap: &str) -> Result<SnapChannels, UserError>;

    /// `--product`, or the only product configured.
    fn product(&self, name: Option<&str>) -> Result<&Product, UserError> {
        let products = self.products();
        match name {
            Some(n) => products.iter().find(|p| p.name == n).ok_or_else(|| {
                let known: Vec<&str> = products.iter().map(|p| p.name.as_str()).collect();
                UserError(format!("no product `{n}` — configured: {}", known.join(", ")))
            }),
            None if products.len() == 1 => Ok(&products[0]),
            None if products.is_empty() => Err(UserError(
                "no product is configured for release management — an operator must add [[release.product]]"
                    .into(),
            )),
            None => Err(UserError(format!(
                "which product? add --product ({})",
                products
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

/// Release management not configured.
pub struct NoRelease;

#[async_trait]
impl ReleaseView for NoRelease {
    fn products(&self) -> &[Product] {
        &[]
    }

    async fn snap_channels(&self, _: &str) -> Result<SnapChannels, UserError> {
        Err(UserError(
            "the Snap Store is not configured here — an operator must add [snapstore]".into(),
        ))
    }
}
