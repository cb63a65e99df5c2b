//! A focused Snap Store client: the dashboard calls a release bot needs
//! (channel map, release history, release, close, snap-id lookup), with
//! Ubuntu One macaroons (shared reference snapstore-maas §1.2, §1.5).
//! How one call is sent, refreshed and retried is in `exchange.rs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use super::channel::Channel;
use super::credentials::Credentials;
use super::error::{StoreError, StoreErrorItem, StoreErrors};
use super::exchange::request_name;
use super::model::{decode, ChannelMap, ReleaseHistory};
use crate::wire::resend::Backoff;
use crate::wire::Calls;

/// The production dashboard (publisher API).
pub const DASHBOARD_URL: &str = "https://dashboard.snapcraft.io";
/// Ubuntu One SSO, which refreshes discharges.
pub const SSO_URL: &str = "https://login.ubuntu.com";
/// The only series the store has ever had.
const SERIES: &str = "16";
/// Release records per history page (the store's maximum).
const PAGE_SIZE: usize = 500;
/// History pages read at most (a store ignoring `page` must not loop us).
const MAX_PAGES: usize = 50;

/// What a release call answered; re-read the channel map for the truth.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Released {
    /// As the store spells them (`3.6/beta`, or bare `beta` in a track).
    pub opened_channels: Vec<String>,
}

/// What a close call answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Closed {
    pub closed_channels: Vec<String>,
}

#[derive(Clone)]
pub struct SnapStoreClient {
    pub(crate) http: reqwest::Client,
    /// Dashboard base URL, no trailing slash.
    dashboard: String,
    /// SSO base URL, no trailing slash.
    pub(crate) sso: String,
    /// The root and the current discharge; the discharge changes on refresh.
    credentials: Arc<Mutex<Credentials>>,
    pub(crate) refresh_lock: Arc<tokio::sync::Mutex<()>>,
    snap_ids: Arc<Mutex<HashMap<String, String>>>,
    pub(crate) backoff: Backoff,
    /// Named in the export-login advice of `NeedsLogin` errors.
    pub(crate) login_snaps: Vec<String>,
    page_size: usize,
    /// Told of every exchange, with the dashboard and with SSO.
    pub(crate) calls: Calls,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Snap names are lowercase letters, digits and `-`; checked before a name
/// becomes part of a URL path.
fn check_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!("`{name}` is not a snap name")))
    }
}

fn check_snap_id(id: &str) -> Result<(), StoreError> {
    if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!("`{id}` is not a snap-id")))
    }
}

fn channel_names(channels: &[Channel]) -> Result<Vec<String>, StoreError> {
    if channels.is_empty() {
        return Err(StoreError::Invalid("no channel given".into()));
    }
    Ok(channels.iter().map(Channel::to_string).collect())
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

impl SnapStoreClient {
    /// `dashboard` and `sso` are base URLs ([`DASHBOARD_URL`], [`SSO_URL`]
    /// in production).
    pub fn new(
        dashboard: &str,
        sso: &str,
        credentials: Credentials,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("shepherd/", env!("CARGO_PKG_VERSION")))
            // A redirect would carry the Authorization header elsewhere or
            // turn a POST into a GET: the store's API never redirects.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| StoreError::Setup(e.to_string()))?;
        Ok(Self {
            http,
            dashboard: dashboard.trim_end_matches('/').to_string(),
            sso: sso.trim_end_matches('/').to_string(),
            credentials: Arc::new(Mutex::new(credentials)),
            refresh_lock: Arc::new(tokio::sync::Mutex::new(())),
            snap_ids: Arc::new(Mutex::new(HashMap::new())),
            backoff: Backoff::seconds(&[1, 2, 4]),
            login_snaps: Vec::new(),
            page_size: PAGE_SIZE,
            calls: Calls::default(),
        })
    }

    /// Reports each exchange (each retry too) to `calls`.
    pub fn observed(mut self, calls: Calls) -> Self {
        self.calls = calls;
        self
    }

    /// Delays between retries of transient failures (tests: milliseconds).
    pub fn with_retry_delays(mut self, delays: Vec<Duration>) -> Self {
        self.backoff = Backoff::new(delays);
        self
    }

    /// The snaps the credentials are for, named in the export-login advice.
    pub fn with_login_snaps(mut self, snaps: Vec<String>) -> Self {
        self.login_snaps = snaps;
        self
    }

    /// Release records per history page (the store allows up to 500).
    pub fn with_page_size(mut self, size: usize) -> Self {
        self.page_size = size.clamp(1, PAGE_SIZE);
        self
    }

    pub(crate) fn lock_credentials(&self) -> MutexGuard<'_, Credentials> {
        lock(&self.credentials)
    }

    /// The credentials in use: the discharge is the latest refreshed one.
    /// Persist them ([`Credentials::export`]) after a refresh, or the next
    /// start begins from a stale discharge (which only costs a refresh, as
    /// long as SSO still honours it).
    pub fn credentials(&self) -> Credentials {
        self.lock_credentials().clone()
    }

    pub fn dashboard_url(&self) -> &str {
        &self.dashboard
    }

    /// The current map of every channel of `name`.
    pub async fn channel_map(&self, name: &str) -> Result<ChannelMap, StoreError> {
        check_name(name)?;
        let url = format!("{}/api/v2/snaps/{name}/channel-map", self.dashboard);
        let v = self.call(Method::GET, &url, None).await?;
        decode(&request_name(&Method::GET, &url), v)
    }

    /// The whole release history of `name`, every page, newest first.
    pub async fn releases(&self, name: &str) -> Result<ReleaseHistory, StoreError> {
        self.recent_releases(name, MAX_PAGES).await
    }

    /// The newest `pages` pages of the history (what expiry and recent
    /// changes need, without reading years of it).
    pub async fn recent_releases(
        &self,
        name: &str,
        pages: usize,
    ) -> Result<ReleaseHistory, StoreError> {
        check_name(name)?;
        let mut all = ReleaseHistory::default();
        let mut previous: Option<Value> = None;
        for page in 1..=pages.clamp(1, MAX_PAGES) {
            let url = format!(
                "{}/api/v2/snaps/{name}/releases?page={page}&size={}",
                self.dashboard, self.page_size
            );
            let v = self.call(Method::GET, &url, None).await?;
            // A store that ignores `page` sends the same page again.
            if previous.as_ref() == Some(&v) {
                break;
            }
            let part: ReleaseHistory = decode(&request_name(&Method::GET, &url), v.clone())?;
            let full = part.releases.len() >= self.page_size;
            all.releases.extend(part.releases);
            for r in part.revisions {
                if all.revision_info(r.revision).is_none() {
                    all.revisions.push(r);
                }
            }
            if !full {
                break;
            }
            previous = Some(v);
        }
        Ok(all)
    }

    /// Releases `revision` (one architecture's build) to `channels`.
    /// Repeating it changes nothing, so it is retried like a read.
    pub async fn release(
        &self,
        name: &str,
        revision: u64,
        channels: &[Channel],
    ) -> Result<Released, StoreError> {
        self.send_release(name, revision, channels, None).await
    }

    /// A progressive release to `percentage` % of devices (1–99); releasing
    /// again with [`release`](Self::release) finishes it.
    pub async fn release_progressive(
        &self,
        name: &str,
        revision: u64,
        channels: &[Channel],
        percentage: u8,
    ) -> Result<Released, StoreError> {
        if !(1..=99).contains(&percentage) {
            return Err(StoreError::Invalid(format!(
                "progressive percentage {percentage} is not 1–99"
            )));
        }
        self.send_release(name, revision, channels, Some(percentage))
            .await
    }

    async fn send_release(
        &self,
        name: &str,
        revision: u64,
        channels: &[Channel],
        percentage: Option<u8>,
    ) -> Result<Released, StoreError> {
        check_name(name)?;
        // snapcraft sends the revision as a string; the store takes both.
        let mut body = json!({
            "name": name,
            "revision": revision.to_string(),
            "channels": channel_names(channels)?,
        });
        if let Some(p) = percentage {
            body["progressive"] = json!({ "percentage": p, "paused": false });
        }
        let url = format!("{}/dev/api/snap-release/", self.dashboard);
        let v = self.call(Method::POST, &url, Some(&body)).await?;
        // `success: false` with a 200 has been seen on dev endpoints.
        if v.get("success") == Some(&Value::Bool(false)) {
            return Err(StoreError::Rejected {
                request: request_name(&Method::POST, &url),
                status: 200,
                errors: StoreErrors::parse(200, &v.to_string()),
            });
        }
        Ok(Released {
            opened_channels: strings(&v, "opened_channels"),
        })
    }

    /// Closes `channels` of the snap with this snap-id: their users follow
    /// the next more stable risk (a branch: its risk).
    pub async fn close(&self, snap_id: &str, channels: &[Channel]) -> Result<Closed, StoreError> {
        check_snap_id(snap_id)?;
        let body = json!({ "channels": channel_names(channels)? });
        let url = format!("{}/dev/api/snaps/{snap_id}/close", self.dashboard);
        let v = self.call(Method::POST, &url, Some(&body)).await?;
        Ok(Closed {
            closed_channels: strings(&v, "closed_channels"),
        })
    }

    /// [`close`](Self::close) by name, looking the snap-id up first.
    pub async fn close_by_name(
        &self,
        name: &str,
        channels: &[Channel],
    ) -> Result<Closed, StoreError> {
        let id = self.snap_id(name).await?;
        self.close(&id, channels).await
    }

    /// The snap-id of `name` from the account's snaps; asked once per name.
    pub async fn snap_id(&self, name: &str) -> Result<String, StoreError> {
        check_name(name)?;
        if let Some(id) = lock(&self.snap_ids).get(name) {
            return Ok(id.clone());
        }
        let url = format!("{}/dev/api/account", self.dashboard);
        let account = self.call(Method::GET, &url, None).await?;
        let snaps = account.get("snaps").and_then(|s| s.get(SERIES));
        let mut ids = lock(&self.snap_ids);
        // Every snap of the account at once: the next lookups are free.
        if let Some(Value::Object(snaps)) = snaps {
            for (n, info) in snaps {
                if let Some(id) = info.get("snap-id").and_then(Value::as_str) {
                    ids.insert(n.clone(), id.to_string());
                }
            }
        }
        ids.get(name).cloned().ok_or_else(|| StoreError::NotFound {
            request: request_name(&Method::GET, &url),
            errors: StoreErrors(vec![StoreErrorItem {
                code: "resource-not-found".into(),
                message: format!("no snap `{name}` among this account's snaps (series {SERIES})"),
                extra: None,
            }]),
        })
    }
}
