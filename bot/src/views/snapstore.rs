//! What release commands read: the configured products, and the Snap
//! Store's channels over a client made for someone waiting in chat. Its
//! `install` wires the view and the executor's writer from `[release]` and
//! `[snapstore]`, starting from the credentials a refresh last renewed.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use shepherd_adapters::snapstore::{
    ChannelMap, Credentials, ReleaseHistory, SnapStoreClient, StoreError,
};
use shepherd_adapters::wire::Calls;
use shepherd_commands::polls::Poller;
use shepherd_commands::release::channels::{changes, poll_announcements};
use shepherd_commands::release::product::Product;
use shepherd_commands::release::view::{ChannelEntry, ReleaseView, SnapChannels, SnapRevision};
use shepherd_commands::{PlanDraft, Subscription, UserError};

use super::{Wiring, WiringError};
use crate::config::{Config, ConfigError, SnapStoreConfig};
use crate::executor::apply::snapstore::{
    root_fingerprint, CredentialKeeper, SnapStoreApplier, CREDENTIALS,
};
use crate::redaction::Redactor;
use crate::store::{now_ms, Snapshot, Store};

/// Reads made to answer a command: a store that does not answer is
/// reported in seconds.
const COMMAND_READ_TIMEOUT: Duration = Duration::from_secs(10);

pub struct SnapStoreReader {
    products: Vec<Product>,
    store: Store,
    client: Option<(SnapStoreClient, Arc<CredentialKeeper>)>,
}

fn user_error(e: StoreError) -> UserError {
    UserError(format!("the Snap Store: {e}"))
}

/// The channel map and history in the planners' terms; a branch that
/// held a release, is gone from the map and whose life ended is expired.
fn channels(map: &ChannelMap, history: &ReleaseHistory, now_ms: i64) -> SnapChannels {
    let entries = map
        .entries
        .iter()
        .filter_map(|e| {
            Some(ChannelEntry {
                channel: e.channel.to_string(),
                arch: e.architecture.clone(),
                revision: e.revision?,
                expires_at_ms: e.expiration_date.map(|d| d.timestamp_millis()),
                progressive: e.progressive.is_progressive(),
            })
        })
        .collect();
    let revisions = map
        .revisions
        .iter()
        .chain(history.revisions.iter())
        .map(|r| SnapRevision {
            revision: r.revision,
            version: r.version.clone().unwrap_or_default(),
            arches: r.architectures.clone(),
        })
        .fold(Vec::<SnapRevision>::new(), |mut all, r| {
            if !all.iter().any(|x| x.revision == r.revision) {
                all.push(r);
            }
            all
        });
    SnapChannels {
        default_track: map.default_track().map(str::to_string),
        entries,
        revisions,
        expired: expired_branches(map, history, now_ms),
    }
}

/// Branches gone from the map because their 30 days ran out: the latest
/// event of (branch, arch) is a release whose end has passed, or a close
/// dated at the previous release's end (the store closing it, not a
/// person). Inferred from the history's shape (shared reference
/// snapstore-maas, Addendum: branch records carry `expiration-date`).
fn expired_branches(
    map: &ChannelMap,
    history: &ReleaseHistory,
    now_ms: i64,
) -> Vec<(String, String)> {
    let mut expired = Vec::new();
    let mut seen: Vec<(String, String)> = Vec::new();
    // Newest first: the latest event of each (channel, arch) decides.
    for (i, ev) in history.releases.iter().enumerate() {
        let key = (ev.channel.to_string(), ev.architecture.clone());
        if ev.channel.branch().is_none() || seen.contains(&key) {
            continue;
        }
        seen.push(key.clone());
        if map.current(&ev.channel, &ev.architecture).is_some() {
            continue;
        }
        let ran_out = if ev.is_close() {
            let released = history.releases[i + 1..]
                .iter()
                .find(|e| e.channel == ev.channel && e.architecture == ev.architecture);
            released
                .and_then(|r| r.expiration_date)
                .is_some_and(|end| ev.when.is_some_and(|w| w >= end))
        } else {
            ev.expiration_date
                .is_some_and(|d| d.timestamp_millis() <= now_ms)
        };
        if ran_out {
            expired.push(key);
        }
    }
    expired
}

#[async_trait]
impl ReleaseView for SnapStoreReader {
    fn products(&self) -> &[Product] {
        &self.products
    }

    async fn snap_channels(&self, snap: &str) -> Result<SnapChannels, UserError> {
        let Some((client, keeper)) = &self.client else {
            return Err(UserError(
                "the Snap Store is not configured here — an operator must add [snapstore]".into(),
            ));
        };
        let map = client.channel_map(snap).await;
        let history = match &map {
            // Expiry needs only recent events: the newest page (≤ 500).
            Ok(_) => Some(client.recent_releases(snap, 1).await),
            Err(_) => None,
        };
        keeper.keep(client).await;
        let map = map.map_err(user_error)?;
        let history = history.transpose().map_err(user_error)?.unwrap_or_default();
        Ok(channels(&map, &history, now_ms()))
    }
}

/// Snapshots kept per snap for `poll_channels`.
const KEEP_SNAPSHOTS: i64 = 5;

/// `poll_channels` jobs: read the snap's channel map, diff it against the
/// last read (kept in the store, so also across restarts), and tell the
/// channels that `!watch snap` it. The first read is the baseline.
#[async_trait]
impl Poller for SnapStoreReader {
    fn job(&self) -> &'static str {
        "poll_channels"
    }

    async fn poll(
        &self,
        snap: Option<&str>,
        _slot_ms: i64,
        subscriptions: &[Subscription],
        step_key: &(dyn for<'k> Fn(&'k str) -> String + Sync),
    ) -> Result<Option<PlanDraft>, UserError> {
        let snap = snap.ok_or_else(|| UserError("poll_channels needs a snap".into()))?;
        let now = self.snap_channels(snap).await?;
        let source = format!("channels:{snap}");
        let stored = |e: crate::store::StoreError| UserError(format!("the store: {e}"));
        let previous = self.store.latest_snapshot(&source).await.map_err(stored)?;
        let body = serde_json::to_vec(&now).map_err(|e| UserError(e.to_string()))?;
        let at = now_ms();
        self.store
            .put_snapshot(&Snapshot {
                id: 0,
                source: source.clone(),
                fetched_at: at,
                etag: None,
                last_modified: None,
                body,
            })
            .await
            .map_err(stored)?;
        self.store
            .prune_snapshots(&source, KEEP_SNAPSHOTS)
            .await
            .map_err(stored)?;
        // A first read, or one this version cannot read, is the new baseline.
        let Some(before) = previous.and_then(|p| {
            Some((
                serde_json::from_slice::<SnapChannels>(&p.body).ok()?,
                p.fetched_at,
            ))
        }) else {
            return Ok(None);
        };
        let lines = changes(snap, &before.0, &now, before.1, at);
        tracing::info!(snap, changes = lines.len(), "snap channels read");
        Ok(poll_announcements(snap, &lines, subscriptions, step_key))
    }
}

/// The configured credentials, with the discharge a refresh last renewed
/// (kept in the store), if any.
async fn credentials(c: &SnapStoreConfig, store: &Store) -> Result<Credentials, WiringError> {
    let configured = c
        .credentials()
        .map_err(|e: ConfigError| WiringError::SnapStore(e.to_string()))?;
    let kept = store.kept_credentials(CREDENTIALS).await?;
    // Kept for this root, and usable: else the configured discharge stands
    // (new credentials configured since, or a store from another version).
    let renewed = kept.and_then(|k| {
        let (root, discharge) = k.expose_secret().split_once(':')?;
        (root == root_fingerprint(&configured)).then(|| {
            configured
                .with_discharge(SecretString::from(discharge.to_string()))
                .ok()
        })?
    });
    Ok(renewed.unwrap_or(configured))
}

fn client(
    c: &SnapStoreConfig,
    creds: Credentials,
    timeout: Duration,
    snaps: Vec<String>,
    calls: &Calls,
) -> Result<SnapStoreClient, WiringError> {
    SnapStoreClient::new(c.dashboard_url.as_str(), c.sso_url.as_str(), creds, timeout)
        .map(|s| s.with_login_snaps(snaps).observed(calls.clone()))
        .map_err(|e| WiringError::SnapStore(e.to_string()))
}

/// Wires release management: the products (always), and with
/// `[snapstore]` the channel reads and the executor's releases and closes.
pub async fn install(
    config: &Config,
    store: &Store,
    redactor: &Arc<Redactor>,
    wiring: &mut Wiring,
) -> Result<(), WiringError> {
    let products = config.release.product.clone();
    let Some(c) = &config.snapstore else {
        wiring.views.release = Arc::new(SnapStoreReader {
            products,
            store: store.clone(),
            client: None,
        });
        return Ok(());
    };
    let creds = credentials(c, store).await?;
    redactor.add(creds.root().clone());
    redactor.add(creds.discharge().clone());
    let snaps: Vec<String> = products
        .iter()
        .flat_map(|p| p.snaps.iter().chain(&p.companion_snaps).cloned())
        .collect();
    let calls = &wiring.calls;
    let reads = client(c, creds.clone(), COMMAND_READ_TIMEOUT, snaps.clone(), calls)?
        .with_retry_delays(vec![Duration::from_millis(500)]);
    let timeout = config.executor.request_timeout();
    let writes = client(c, creds, timeout, snaps, calls)?;
    let poll = Duration::from_millis(c.poll_interval_ms.max(10));
    let writes = if poll < Duration::from_secs(1) {
        writes.with_retry_delays(vec![poll; 3])
    } else {
        writes
    };
    let keeper = Arc::new(CredentialKeeper::new(
        store.clone(),
        redactor.clone(),
        &writes,
    ));
    let reader = Arc::new(SnapStoreReader {
        products,
        store: store.clone(),
        client: Some((reads, keeper.clone())),
    });
    wiring.views.release = reader.clone();
    wiring.pollers.push(reader);
    wiring.appliers.snapstore = Some(Arc::new(SnapStoreApplier::new(writes, keeper, poll)));
    Ok(())
}
