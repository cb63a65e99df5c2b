//! A focused Launchpad web service client on reqwest: the `devel` API,
//! OAuth 1.0a PLAINTEXT (or anonymous), lazr's value encoding, lazy
//! pagination, PATCH with `If-Match`, and errors that keep Launchpad's
//! status and words (shared reference launchpad-api, §1–§2). These are the
//! generic calls (entries, named operations, PATCH); the operations
//! Shepherd uses are built on them, one file per subject (`archive`,
//! `snaps`, …), and one exchange on the wire is in `exchange`.
//!
//! What is sent again follows `wire::resend`, chosen here by method: reads
//! after gateway errors and network failures; a PATCH with `If-Match` after
//! 502/503; a POST never — a second one can make a second copy job, build
//! or webhook, so its error goes up (still marked transient) to the
//! executor, which reads before it writes. Redirects are followed by hand
//! for the same reason: reqwest would send a PATCH or POST again to the new
//! URL.

use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

use super::error::LpError;
use super::exchange::{location, write_redirected};
use super::oauth::OAuth;
use super::param::{absolute, form, Param, Written};
use crate::wire::resend::{Backoff, Resend};
use crate::wire::Calls;

/// Seconds between resends, as lazr.restfulclient (launchpadlib) waits.
const LAZR_RETRY_DELAYS: [u64; 6] = [0, 1, 2, 4, 8, 16];

#[derive(Clone)]
pub struct LaunchpadClient {
    pub(super) http: reqwest::Client,
    /// `https://api.launchpad.net/devel` (no trailing slash).
    pub(super) root: String,
    /// The root parsed: credentials go to its origin only.
    pub(super) root_url: Option<Url>,
    pub(super) auth: Option<OAuth>,
    /// Delays between resends of reads (and conditional writes) that failed.
    pub(super) retry_delays: Backoff,
    /// Told of every exchange.
    pub(super) calls: Calls,
}

impl LaunchpadClient {
    /// `service_root` is the API root with its version, e.g. `https://api.launchpad.net/devel/`.
    pub fn new(
        service_root: &str,
        auth: Option<OAuth>,
        timeout: Duration,
    ) -> Result<Self, LpError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("shepherd/", env!("CARGO_PKG_VERSION")))
            // Followed by hand (`read`, `patch`, `named_post`): reqwest
            // would send a PATCH again to where a 301 points.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| LpError::Setup(e.to_string()))?;
        let root = service_root.trim_end_matches('/').to_string();
        Ok(Self {
            http,
            root_url: Url::parse(&root).ok(),
            root,
            auth,
            retry_delays: Backoff::seconds(&LAZR_RETRY_DELAYS),
            calls: Calls::default(),
        })
    }

    /// Shorter retry delays (tests, the sandbox).
    pub fn with_retry_delays(mut self, delays: Vec<Duration>) -> Self {
        self.retry_delays = Backoff::new(delays);
        self
    }

    /// Reports each exchange (each resend too) to `calls`.
    pub fn observed(mut self, calls: Calls) -> Self {
        self.calls = calls;
        self
    }

    pub fn root(&self) -> &str {
        &self.root
    }

    /// A path (`/~owner/+archive/ubuntu/ppa`) as a full API URL.
    pub fn url(&self, path: &str) -> String {
        absolute(&self.root, path)
    }

    /// `ws.op=op&…`: a named operation and its parameters, encoded the lazr way.
    fn operation(&self, op: &str, params: &[(&str, Param)]) -> String {
        let mut all = vec![("ws.op", Param::Enum(op.to_string()))];
        all.extend(params.iter().cloned());
        form(&all, &self.root)
    }

    /// GET an entry or page by path or URL.
    pub async fn get(&self, path: &str) -> Result<Value, LpError> {
        self.read(&self.url(path)).await
    }

    /// A read-only named operation: `GET resource?ws.op=op&…`.
    pub async fn named_get(
        &self,
        resource: &str,
        op: &str,
        params: &[(&str, Param)],
    ) -> Result<Value, LpError> {
        let url = format!("{}?{}", self.url(resource), self.operation(op, params));
        self.read(&url).await
    }

    /// Every entry a collection-returning read operation gives, across pages.
    pub async fn named_entries(
        &self,
        resource: &str,
        op: &str,
        params: &[(&str, Param)],
        limit: usize,
    ) -> Result<Vec<Value>, LpError> {
        let first_page = format!("{}?{}", self.url(resource), self.operation(op, params));
        self.entries(&first_page, limit).await
    }

    /// A write or factory operation: form `POST` with `ws.op`, sent once.
    /// A 303 is read where it points; any other redirect is an error.
    pub async fn named_post(
        &self,
        resource: &str,
        op: &str,
        params: &[(&str, Param)],
    ) -> Result<Written, LpError> {
        let body = self.operation(op, params);
        let url = self.url(resource);
        let resp = self
            .send(
                Method::POST,
                &url,
                Some(("application/x-www-form-urlencoded", body)),
                None,
                Resend::Never,
            )
            .await?;
        match resp.status() {
            StatusCode::CREATED => {
                let location = location(&Method::POST, &url, &resp)?;
                Ok(Written::Created(location))
            }
            StatusCode::SEE_OTHER => {
                let next = location(&Method::POST, &url, &resp)?;
                Ok(Written::Body(self.read(&next).await?))
            }
            s if s.is_redirection() => Err(write_redirected(&Method::POST, &url, &resp)),
            _ => Ok(Written::Body(Self::json(&Method::POST, &url, resp).await?)),
        }
    }

    /// Every entry of a collection (page URL or path), following
    /// `next_collection_link` verbatim, at most `limit` entries.
    pub async fn entries(&self, first_page: &str, limit: usize) -> Result<Vec<Value>, LpError> {
        let mut out = Vec::new();
        let mut next = Some(self.url(first_page));
        while let Some(url) = next.take() {
            let page = self.read(&url).await?;
            let entries = page
                .get("entries")
                .and_then(Value::as_array)
                .ok_or_else(|| LpError::Decode(format!("{url} is not a collection page")))?;
            for e in entries {
                if out.len() == limit {
                    return Ok(out);
                }
                out.push(e.clone());
            }
            next = page
                .get("next_collection_link")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        Ok(out)
    }

    /// PATCH only `changes`, with the entry's ETag in `If-Match`; on 412
    /// (someone changed it meanwhile) re-read and try once more. `changes`
    /// is computed from the current entry so a retry applies to fresh data.
    /// A 301 means applied and moved (a rename): the entry is read at its
    /// new URL, and the PATCH is not sent there again.
    pub async fn patch(
        &self,
        path: &str,
        changes: impl Fn(&Value) -> Value,
    ) -> Result<Value, LpError> {
        let mut stale_once = false;
        loop {
            let entry = self.get(path).await?;
            let etag = entry
                .get("http_etag")
                .and_then(Value::as_str)
                .map(str::to_string);
            // The entry may have been read through a redirect: write where it is.
            let url = entry
                .get("self_link")
                .and_then(Value::as_str)
                .map_or_else(|| self.url(path), str::to_string);
            let resend = match etag {
                Some(_) => Resend::ConditionalWrite,
                None => Resend::Never,
            };
            let body = ("application/json", changes(&entry).to_string());
            let result = self
                .send(Method::PATCH, &url, Some(body), etag.as_deref(), resend)
                .await;
            let resp = match result {
                Err(LpError::PreconditionFailed { .. }) if !stale_once => {
                    stale_once = true;
                    continue;
                }
                other => other?,
            };
            return match resp.status() {
                StatusCode::MOVED_PERMANENTLY | StatusCode::SEE_OTHER => {
                    let moved = location(&Method::PATCH, &url, &resp)?;
                    self.read(&moved).await
                }
                s if s.is_redirection() => Err(write_redirected(&Method::PATCH, &url, &resp)),
                _ => Self::json(&Method::PATCH, &url, resp).await,
            };
        }
    }

    /// One PATCH of `changes` with `etag` (as read earlier, e.g. in a
    /// search) in `If-Match`: no read first. A 412 comes back as
    /// [`LpError::PreconditionFailed`] — the entry changed since; the caller
    /// reads it and decides (usually: already as wanted, so done).
    pub async fn patch_if_match(
        &self,
        path: &str,
        etag: &str,
        changes: &Value,
    ) -> Result<Value, LpError> {
        let url = self.url(path);
        let body = ("application/json", changes.to_string());
        let resp = self
            .send(
                Method::PATCH,
                &url,
                Some(body),
                Some(etag),
                Resend::ConditionalWrite,
            )
            .await?;
        if resp.status().is_redirection() {
            return Err(write_redirected(&Method::PATCH, &url, &resp));
        }
        Self::json(&Method::PATCH, &url, resp).await
    }

    /// The names in a processors collection (a PPA's or a snap's).
    pub(crate) async fn processor_names(&self, link: &str) -> Result<Vec<String>, LpError> {
        Ok(self
            .entries(link, 50)
            .await?
            .iter()
            .filter_map(|p| p["name"].as_str().map(str::to_string))
            .collect())
    }
}
