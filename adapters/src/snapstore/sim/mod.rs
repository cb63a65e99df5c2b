//! A loopback simulator of the Snap Store's publisher API and of Ubuntu One
//! SSO's discharge refresh, speaking the same protocol as the real ones
//! (shared reference snapstore-maas §1.2, §1.5, Addendum): the channel map,
//! paged release history, release (revision as string or number), close by
//! snap-id, the account's snaps, and `POST /api/v2/tokens/refresh` under
//! [`SnapStoreSim::sso_url`].
//!
//! It checks every request's macaroons for real (see `auth.rs`), keeps a
//! simulated clock so branches expire 30 days after their last release,
//! makes a closed risk follow the next more stable one, shows a progressive
//! release as two rows, and logs every request so tests can count calls.
//! Faults (the next N requests answer 503) and refusals (a stale discharge,
//! a revoked login, a missing permission) are switched on from tests.

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::channel::Channel;
use super::client::SnapStoreClient;
use super::credentials::Credentials;
use super::macaroon::Version;
use crate::sim_faults::{Drawn, RandomFaults};

mod auth;
mod render;
mod routes;
mod seed;
mod store;

/// One request as the simulator received it (faulted ones included).
#[derive(Debug, Clone, PartialEq)]
pub struct SimRequest {
    pub method: String,
    /// The path, e.g. `/dev/api/snap-release/` or `/sso/api/v2/tokens/refresh`.
    pub path: String,
    pub query: String,
    /// The JSON body, if it had one.
    pub body: Option<Value>,
    /// Did it carry an `Authorization` header?
    pub authorized: bool,
}

/// A release call the simulator accepted, as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseCall {
    pub name: String,
    /// The `revision` value as sent (snapcraft sends a string).
    pub revision: Value,
    pub channels: Vec<String>,
    /// The architecture of the released revision.
    pub architecture: String,
}

#[derive(Default)]
pub(super) struct Inner {
    store: store::Store,
    auth: auth::Auth,
    log: Vec<SimRequest>,
    releases: Vec<ReleaseCall>,
    /// (status, body) for the next requests, in order.
    faults: VecDeque<(u16, String)>,
    /// (snap, permission) the credentials lack.
    denied: HashSet<(String, String)>,
    /// (snap, channel) the credentials may not release to or close.
    denied_channels: HashSet<(String, String)>,
    /// Extra rows and key styles in the channel map (see `render.rs`).
    quirks: bool,
}

type Shared = Arc<Mutex<Inner>>;

fn lock(s: &Shared) -> MutexGuard<'_, Inner> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Clone)]
pub struct SnapStoreSim {
    pub addr: SocketAddr,
    inner: Shared,
    random: RandomFaults,
}

impl SnapStoreSim {
    /// An empty store: add snaps and revisions, or use [`start_maas`](Self::start_maas).
    pub async fn start() -> std::io::Result<Self> {
        let inner: Shared = Arc::default();
        let random = RandomFaults::default();
        let app = random
            .around(Router::new().fallback(routes::handle))
            .with_state(inner.clone());
        let addr = crate::loopback::serve(app).await?;
        Ok(Self {
            addr,
            inner,
            random,
        })
    }

    /// A store holding `maas` and `maas-test-db` (see [`seed_maas`](Self::seed_maas)).
    pub async fn start_maas() -> std::io::Result<Self> {
        let sim = Self::start().await?;
        sim.seed_maas();
        Ok(sim)
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        lock(&self.inner)
    }

    /// The dashboard base URL to give the client.
    pub fn dashboard_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The SSO base URL to give the client (a prefix of the same server).
    pub fn sso_url(&self) -> String {
        format!("http://{}/sso", self.addr)
    }

    /// A fresh root and discharge (v1 macaroons, as exported logins hold).
    pub fn credentials(&self) -> Credentials {
        self.inner().auth.mint(Version::V1)
    }

    /// The same in the v2 binary format.
    pub fn credentials_v2(&self) -> Credentials {
        self.inner().auth.mint(Version::V2)
    }

    /// A client for this simulator with fresh credentials and short retries.
    pub fn client(&self) -> Result<SnapStoreClient, super::StoreError> {
        Ok(SnapStoreClient::new(
            &self.dashboard_url(),
            &self.sso_url(),
            self.credentials(),
            Duration::from_secs(5),
        )?
        .with_retry_delays(vec![Duration::from_millis(5); 3]))
    }

    // --- what the store holds -------------------------------------------

    pub fn add_snap(&self, name: &str, snap_id: &str, default_track: &str, tracks: &[&str]) {
        self.inner().store.snaps.push(store::SnapDef {
            name: name.into(),
            snap_id: snap_id.into(),
            default_track: default_track.into(),
            tracks: tracks.iter().map(|t| t.to_string()).collect(),
        });
    }

    /// An uploaded revision (a build for one architecture).
    pub fn add_revision(&self, snap: &str, revision: u64, version: &str, arch: &str) {
        let mut st = self.inner();
        let created = st.store.now();
        st.store.revs.push(store::Rev {
            snap: snap.into(),
            revision,
            version: version.into(),
            arch: arch.into(),
            created,
        });
    }

    /// Releases behind the client's back (not logged as a request).
    pub fn release_now(&self, snap: &str, revision: u64, channel: &str) -> Result<(), String> {
        let channel = Channel::parse(channel).map_err(|e| e.to_string())?;
        let mut st = self.inner();
        st.store
            .release(snap, revision, &[channel], None)
            .map_err(|(_, _, why)| why)
    }

    /// The channel-map rows include tracking rows (some without a
    /// `revision` key) and snake_case keys, as some store answers do.
    pub fn set_quirks(&self, on: bool) {
        self.inner().quirks = on;
    }

    // --- time --------------------------------------------------------------

    pub fn now(&self) -> DateTime<Utc> {
        self.inner().store.now()
    }

    /// Moves the clock on; branches past their 30 days close.
    pub fn advance_days(&self, days: i64) {
        self.inner().store.advance_days(days);
    }

    // --- refusals and faults ---------------------------------------------

    /// Every discharge issued so far goes stale: the store answers
    /// `macaroon-needs-refresh` until the client refreshes.
    pub fn expire_discharge(&self) {
        self.inner().auth.expire();
    }

    /// SSO refuses every refresh from now on (the login was revoked).
    pub fn revoke(&self) {
        self.inner().auth.revoked = true;
    }

    /// The credentials lack `permission` (`package_access`, `package_release`) on `snap`.
    pub fn deny_permission(&self, snap: &str, permission: &str) {
        self.inner().denied.insert((snap.into(), permission.into()));
    }

    /// The credentials may not release to or close `channel` of `snap`.
    pub fn deny_channel(&self, snap: &str, channel: &str) {
        self.inner()
            .denied_channels
            .insert((snap.into(), channel.into()));
    }

    /// The next `n` store requests (not SSO's) answer 503 with `{}`.
    pub fn fail_next(&self, n: usize) {
        let faults = &mut self.inner().faults;
        faults.extend(std::iter::repeat_n((503, "{}".to_string()), n));
    }

    /// The next store request (not SSO's) answers `status` with `body`.
    pub fn fail_next_with(&self, status: u16, body: &str) {
        self.inner().faults.push_back((status, body.into()));
    }

    /// From now on `percent` of all requests (SSO's too) fail at random:
    /// 502 or 503 unhandled, or (one in ten) handled and answered `late`.
    /// Those are not in [`requests`](Self::requests).
    pub fn fail_at_random(&self, percent: u32, late: Duration) {
        self.random.set(percent, late);
    }

    /// The next request whose path starts with `path` (e.g.
    /// `/dev/api/snap-release/`) is handled at once and answered `late`:
    /// beyond the client's timeout, a release whose answer never came.
    pub fn answer_late_next(&self, path: &str, late: Duration) {
        self.random.force_next(path, Drawn::Late(late));
    }

    /// Faults drawn at random (or named) so far.
    pub fn random_faults(&self) -> u64 {
        self.random.drawn()
    }

    // --- what happened ------------------------------------------------------

    pub fn requests(&self) -> Vec<SimRequest> {
        self.inner().log.clone()
    }

    /// Requests of `method` whose path starts with `prefix`.
    pub fn count(&self, method: &str, prefix: &str) -> usize {
        self.inner()
            .log
            .iter()
            .filter(|r| r.method == method && r.path.starts_with(prefix))
            .count()
    }

    /// Release calls accepted, in order.
    pub fn release_calls(&self) -> Vec<ReleaseCall> {
        self.inner().releases.clone()
    }

    /// Discharges refreshed at SSO.
    pub fn refreshes(&self) -> usize {
        self.inner().auth.refreshes
    }

    /// The revision in exactly (snap, channel, arch) now, if any.
    pub fn revision_in(&self, snap: &str, channel: &str, arch: &str) -> Option<u64> {
        let st = self.inner();
        let channel = Channel::parse(channel).ok()?;
        st.store
            .slot(snap, &channel, arch)?
            .current
            .as_ref()
            .map(|p| p.revision)
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod auth_tests;
