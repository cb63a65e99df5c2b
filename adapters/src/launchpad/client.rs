//! A focused Launchpad web service client on reqwest: the `devel` API,
//! OAuth 1.0a PLAINTEXT (or anonymous), lazr's value encoding, lazy
//! pagination, PATCH with `If-Match`, and errors that keep Launchpad's
//! status and words (shared reference launchpad-api, §1–§2).
//!
//! What is sent again follows `wire::retry`, chosen here by method: reads
//! after gateway errors and network failures; a PATCH with `If-Match` after
//! 502/503; a POST never — a second one can make a second copy job, build
//! or webhook, so its error goes up (still marked transient) to the
//! executor, which reads before it writes. Redirects are followed by hand
//! for the same reason: reqwest would send a PATCH or POST again to the new
//! URL.

use std::time::Duration;

use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, IF_MATCH, LOCATION};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

pub use super::error::LpError;
pub use super::oauth::OAuth;
use super::param::{absolute, form};
pub use super::param::{Param, Written};
use crate::wire::retry::{Backoff, Resend};

/// Redirect hops a read follows before giving up.
const MAX_REDIRECTS: usize = 5;

/// Seconds between resends, as lazr.restfulclient (launchpadlib) waits.
const LAZR_RETRY_DELAYS: [u64; 6] = [0, 1, 2, 4, 8, 16];

/// `METHOD URL`, how errors name a request.
fn request(method: &Method, url: &str) -> String {
    format!("{method} {url}")
}

/// reqwest's error with its causes (a timeout says so only in a cause).
fn network(method: &Method, url: &str, e: reqwest::Error) -> LpError {
    let e = e.without_url();
    let mut message = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        message = format!("{message}: {c}");
        cause = c.source();
    }
    LpError::Network {
        request: request(method, url),
        message,
    }
}

/// Where a redirect points, resolved against the URL that answered it.
fn location(method: &Method, url: &str, resp: &reqwest::Response) -> Result<String, LpError> {
    resp.headers()
        .get(LOCATION)
        .and_then(|l| l.to_str().ok())
        .and_then(|l| Url::parse(url).ok()?.join(l).ok())
        .map(String::from)
        .ok_or_else(|| {
            LpError::Decode(format!(
                "{}: {} without a usable Location",
                request(method, url),
                resp.status()
            ))
        })
}

/// A redirect of a write, which is never followed by sending it again.
fn write_redirected(method: &Method, url: &str, resp: &reqwest::Response) -> LpError {
    LpError::Redirected {
        request: request(method, url),
        status: resp.status().as_u16(),
        location: location(method, url, resp).unwrap_or_else(|_| "nowhere".into()),
        reason: "a write is never sent twice".into(),
    }
}

#[derive(Clone)]
pub struct LaunchpadClient {
    http: reqwest::Client,
    /// `https://api.launchpad.net/devel` (no trailing slash).
    root: String,
    /// The root parsed: credentials go to its origin only.
    root_url: Option<Url>,
    auth: Option<OAuth>,
    /// Delays between resends of reads (and conditional writes) that failed.
    retry_delays: Backoff,
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
        })
    }

    /// Shorter retry delays (tests, the sandbox).
    pub fn with_retry_delays(mut self, delays: Vec<Duration>) -> Self {
        self.retry_delays = Backoff::new(delays);
        self
    }

    pub fn root(&self) -> &str {
        &self.root
    }

    /// A path (`/~owner/+archive/ubuntu/ppa`) as a full API URL.
    pub fn url(&self, path: &str) -> String {
        absolute(&self.root, path)
    }

    /// The OAuth header for `url`: none when anonymous, and none for a URL
    /// outside the service root's origin (a redirect elsewhere must not
    /// carry the token).
    fn authorization(&self, url: &str) -> Option<HeaderValue> {
        let auth = self.auth.as_ref()?;
        let root = self.root_url.as_ref()?;
        if Url::parse(url).ok()?.origin() != root.origin() {
            return None;
        }
        let mut h = HeaderValue::from_str(&auth.header()).ok()?;
        h.set_sensitive(true);
        Some(h)
    }

    /// One request: a 2xx or 3xx answer, or the error it amounts to.
    async fn exchange(
        &self,
        method: &Method,
        url: &str,
        body: Option<&(&'static str, String)>,
        if_match: Option<&str>,
    ) -> Result<reqwest::Response, LpError> {
        let mut req = self
            .http
            .request(method.clone(), url)
            .header(ACCEPT, "application/json");
        if let Some(h) = self.authorization(url) {
            req = req.header(AUTHORIZATION, h);
        }
        if let Some(etag) = if_match {
            req = req.header(IF_MATCH, etag);
        }
        if let Some((ctype, b)) = body {
            req = req.header(CONTENT_TYPE, *ctype).body(b.clone());
        }
        let resp = req.send().await.map_err(|e| network(method, url, e))?;
        let status = resp.status();
        if status.is_success() || status.is_redirection() {
            return Ok(resp);
        }
        let text = resp.text().await.unwrap_or_default();
        Err(LpError::from_status(
            request(method, url),
            status.as_u16(),
            &text,
        ))
    }

    /// One request, sent again after the failures `resend` allows.
    async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<(&'static str, String)>,
        if_match: Option<&str>,
        resend: Resend,
    ) -> Result<reqwest::Response, LpError> {
        self.retry_delays
            .run(
                || self.exchange(&method, url, body.as_ref(), if_match),
                |e: &LpError| e.failure().is_some_and(|f| resend.allows(f)),
            )
            .await
    }

    /// GET `url`, following at most `MAX_REDIRECTS` redirects.
    async fn read(&self, url: &str) -> Result<Value, LpError> {
        let mut url = url.to_string();
        let mut hops = 0;
        loop {
            let resp = self
                .send(Method::GET, &url, None, None, Resend::Read)
                .await?;
            if !resp.status().is_redirection() {
                return Self::json(&Method::GET, &url, resp).await;
            }
            let next = location(&Method::GET, &url, &resp)?;
            if hops == MAX_REDIRECTS {
                return Err(LpError::Redirected {
                    request: request(&Method::GET, &url),
                    status: resp.status().as_u16(),
                    location: next,
                    reason: format!("more than {MAX_REDIRECTS} redirects"),
                });
            }
            hops += 1;
            url = next;
        }
    }

    async fn json(method: &Method, url: &str, resp: reqwest::Response) -> Result<Value, LpError> {
        let text = resp.text().await.map_err(|e| network(method, url, e))?;
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text)
            .map_err(|e| LpError::Decode(format!("{}: {e}", request(method, url))))
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
        let mut all = vec![("ws.op", Param::Enum(op.to_string()))];
        all.extend(params.iter().cloned());
        let url = format!("{}?{}", self.url(resource), form(&all, &self.root));
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
        let mut all = vec![("ws.op", Param::Enum(op.to_string()))];
        all.extend(params.iter().cloned());
        self.entries(
            &format!("{}?{}", self.url(resource), form(&all, &self.root)),
            limit,
        )
        .await
    }

    /// A write or factory operation: form `POST` with `ws.op`, sent once.
    /// A 303 is read where it points; any other redirect is an error.
    pub async fn named_post(
        &self,
        resource: &str,
        op: &str,
        params: &[(&str, Param)],
    ) -> Result<Written, LpError> {
        let mut all = vec![("ws.op", Param::Enum(op.to_string()))];
        all.extend(params.iter().cloned());
        let body = form(&all, &self.root);
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_go_to_the_service_roots_origin_only() {
        let auth = OAuth {
            consumer_key: "shepherd".into(),
            token: secrecy::SecretString::from("t".to_string()),
            token_secret: secrecy::SecretString::from("s".to_string()),
        };
        let c = LaunchpadClient::new(
            "https://api.launchpad.net/devel/",
            Some(auth),
            Duration::from_secs(1),
        )
        .unwrap();
        assert!(c
            .authorization("https://api.launchpad.net/devel/~x")
            .is_some());
        for elsewhere in [
            "https://launchpad.net/~x",
            "http://api.launchpad.net/devel/~x",
            "https://api.launchpad.net:8443/devel/~x",
            "not a url",
        ] {
            assert!(c.authorization(elsewhere).is_none(), "{elsewhere}");
        }
    }
}
