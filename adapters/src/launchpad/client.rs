//! A focused Launchpad web service client on reqwest: the `devel` API,
//! OAuth 1.0a PLAINTEXT (or anonymous), lazr's value encoding, lazy
//! pagination, PATCH with `If-Match`, retries on 502/503/timeouts, and
//! errors that keep Launchpad's status and words (shared reference
//! launchpad-api, §1–§2).

use std::time::Duration;

use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, IF_MATCH, LOCATION};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use thiserror::Error;

use crate::autopkgtest::request::quote_plus;

/// Credentials for a Launchpad token (consumer secret is always empty).
#[derive(Clone)]
pub struct OAuth {
    pub consumer_key: String,
    pub token: SecretString,
    pub token_secret: SecretString,
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum LpError {
    /// Bad, expired or unknown token — or no permission; Launchpad uses 401 for both.
    #[error("Launchpad refused the credentials (401): {0}")]
    Unauthorized(String),
    #[error("Launchpad forbids this (403): {0}")]
    Forbidden(String),
    #[error("Launchpad rejected the request (400): {0}")]
    BadRequest(String),
    #[error("not found on Launchpad (404): {0}")]
    NotFound(String),
    #[error("conflict on Launchpad (409): {0}")]
    Conflict(String),
    #[error("changed on Launchpad since it was read (412)")]
    PreconditionFailed,
    #[error("Launchpad answered {status}: {body}")]
    Server { status: u16, body: String },
    #[error("cannot reach Launchpad: {0}")]
    Network(String),
    #[error("unexpected answer from Launchpad: {0}")]
    Decode(String),
}

impl LpError {
    /// Overload, maintenance, timeouts: worth trying again later.
    pub fn is_transient(&self) -> bool {
        match self {
            LpError::Network(_) => true,
            LpError::Server { status, .. } => (502..=504).contains(status),
            _ => false,
        }
    }

    fn from_status(status: StatusCode, body: String) -> Self {
        let body = body.trim().to_string();
        match status.as_u16() {
            400 => LpError::BadRequest(body),
            401 => LpError::Unauthorized(body),
            403 => LpError::Forbidden(body),
            404 => LpError::NotFound(body),
            409 => LpError::Conflict(body),
            412 => LpError::PreconditionFailed,
            s => LpError::Server { status: s, body },
        }
    }
}

/// A named-operation parameter, encoded as lazr.restful expects (§1.6).
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// A string; JSON-quoted when it would otherwise read as JSON (`"3.5"`, `"true"`).
    Str(String),
    /// An enumeration title, sent as-is (`Release`, `Fix Committed`).
    Enum(String),
    Bool(bool),
    Int(i64),
    /// A reference to another object: given as a path, sent as a full API URL.
    Link(String),
    /// A list, sent as a JSON array.
    List(Vec<String>),
    /// A dict (e.g. snap `channels`), sent as a JSON object.
    Json(Value),
}

impl Param {
    fn encode(&self, root: &str) -> String {
        match self {
            Param::Str(s) => {
                if serde_json::from_str::<Value>(s).is_ok() {
                    Value::String(s.clone()).to_string()
                } else {
                    s.clone()
                }
            }
            Param::Enum(s) => s.clone(),
            Param::Bool(b) => b.to_string(),
            Param::Int(i) => i.to_string(),
            Param::Link(p) => absolute(root, p),
            Param::List(items) => Value::from(items.clone()).to_string(),
            Param::Json(v) => v.to_string(),
        }
    }
}

fn absolute(root: &str, path: &str) -> String {
    if path.starts_with("http://") || path.starts_with("https://") {
        path.to_string()
    } else {
        format!(
            "{}/{}",
            root.trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }
}

fn form(params: &[(&str, Param)], root: &str) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", quote_plus(k), quote_plus(&v.encode(root))))
        .collect::<Vec<_>>()
        .join("&")
}

/// What a write answered: factory ops give the new object's URL, others a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub enum Written {
    Created(String),
    Body(Value),
}

impl Written {
    /// The new object's URL from a factory op (`op` names it in the error).
    pub fn created(self, op: &str) -> Result<String, LpError> {
        match self {
            Written::Created(url) => Ok(url),
            Written::Body(_) => Err(LpError::Decode(format!("{op} did not answer 201 Created"))),
        }
    }
}

#[derive(Clone)]
pub struct LaunchpadClient {
    http: reqwest::Client,
    /// `https://api.launchpad.net/devel` (no trailing slash).
    root: String,
    auth: Option<OAuth>,
    /// Delays between retries of transient failures (lazr.restfulclient: 0,1,2,4,8,16 s).
    retry_delays: Vec<Duration>,
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
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| LpError::Network(e.to_string()))?;
        Ok(Self {
            http,
            root: service_root.trim_end_matches('/').to_string(),
            auth,
            retry_delays: [0, 1, 2, 4, 8, 16]
                .iter()
                .map(|s| Duration::from_secs(*s))
                .collect(),
        })
    }

    /// Shorter retry delays (tests, the sandbox).
    pub fn with_retry_delays(mut self, delays: Vec<Duration>) -> Self {
        self.retry_delays = delays;
        self
    }

    pub fn root(&self) -> &str {
        &self.root
    }

    /// A path (`/~owner/+archive/ubuntu/ppa`) as a full API URL.
    pub fn url(&self, path: &str) -> String {
        absolute(&self.root, path)
    }

    /// `OAuth …` PLAINTEXT header; anonymous without a token (§2.1, §2.2).
    fn authorization(&self) -> Option<HeaderValue> {
        let a = self.auth.as_ref()?;
        let value = format!(
            "OAuth realm=\"https://api.launchpad.net/\", oauth_consumer_key=\"{}\", oauth_token=\"{}\", oauth_signature_method=\"PLAINTEXT\", oauth_signature=\"%26{}\", oauth_version=\"1.0\"",
            quote_plus(&a.consumer_key),
            quote_plus(a.token.expose_secret()),
            quote_plus(a.token_secret.expose_secret())
        );
        let mut h = HeaderValue::from_str(&value).ok()?;
        h.set_sensitive(true);
        Some(h)
    }

    /// One request with retries on transient failures.
    async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<(&'static str, String)>,
        if_match: Option<&str>,
    ) -> Result<reqwest::Response, LpError> {
        let mut last = LpError::Network("no attempt".into());
        for delay in std::iter::once(&Duration::ZERO).chain(self.retry_delays.iter()) {
            if !delay.is_zero() {
                tokio::time::sleep(*delay).await;
            }
            let mut req = self
                .http
                .request(method.clone(), url)
                .header(ACCEPT, "application/json");
            if let Some(h) = self.authorization() {
                req = req.header(AUTHORIZATION, h);
            }
            if let Some(etag) = if_match {
                req = req.header(IF_MATCH, etag);
            }
            if let Some((ctype, b)) = &body {
                req = req.header(CONTENT_TYPE, *ctype).body(b.clone());
            }
            let err = match req.send().await {
                Ok(resp) if resp.status().is_success() || resp.status().is_redirection() => {
                    return Ok(resp)
                }
                Ok(resp) => {
                    let status = resp.status();
                    LpError::from_status(status, resp.text().await.unwrap_or_default())
                }
                Err(e) => LpError::Network(e.without_url().to_string()),
            };
            if !err.is_transient() {
                return Err(err);
            }
            last = err;
        }
        Err(last)
    }

    async fn json(resp: reqwest::Response) -> Result<Value, LpError> {
        let text = resp
            .text()
            .await
            .map_err(|e| LpError::Network(e.without_url().to_string()))?;
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| LpError::Decode(e.to_string()))
    }

    /// GET an entry or page by path or URL.
    pub async fn get(&self, path: &str) -> Result<Value, LpError> {
        Self::json(self.send(Method::GET, &self.url(path), None, None).await?).await
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
        Self::json(self.send(Method::GET, &url, None, None).await?).await
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

    /// A write or factory operation: form `POST` with `ws.op`.
    pub async fn named_post(
        &self,
        resource: &str,
        op: &str,
        params: &[(&str, Param)],
    ) -> Result<Written, LpError> {
        let mut all = vec![("ws.op", Param::Enum(op.to_string()))];
        all.extend(params.iter().cloned());
        let body = form(&all, &self.root);
        let resp = self
            .send(
                Method::POST,
                &self.url(resource),
                Some(("application/x-www-form-urlencoded", body)),
                None,
            )
            .await?;
        if resp.status() == StatusCode::CREATED {
            let location = resp
                .headers()
                .get(LOCATION)
                .and_then(|l| l.to_str().ok())
                .ok_or_else(|| LpError::Decode("201 without Location".into()))?;
            return Ok(Written::Created(location.to_string()));
        }
        Ok(Written::Body(Self::json(resp).await?))
    }

    /// Every entry of a collection (page URL or path), following
    /// `next_collection_link` verbatim, at most `limit` entries.
    pub async fn entries(&self, first_page: &str, limit: usize) -> Result<Vec<Value>, LpError> {
        let mut out = Vec::new();
        let mut next = Some(self.url(first_page));
        while let Some(url) = next.take() {
            let page = Self::json(self.send(Method::GET, &url, None, None).await?).await?;
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
    pub async fn patch(
        &self,
        path: &str,
        changes: impl Fn(&Value) -> Value,
    ) -> Result<Value, LpError> {
        for attempt in 0..2 {
            let entry = self.get(path).await?;
            let etag = entry
                .get("http_etag")
                .and_then(Value::as_str)
                .map(str::to_string);
            let patch = changes(&entry);
            let result = self
                .send(
                    Method::PATCH,
                    &self.url(path),
                    Some(("application/json", patch.to_string())),
                    etag.as_deref(),
                )
                .await;
            match result {
                Ok(resp) => return Self::json(resp).await,
                Err(LpError::PreconditionFailed) if attempt == 0 => continue,
                Err(e) => return Err(e),
            }
        }
        Err(LpError::PreconditionFailed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_encoded_the_lazr_way() {
        let root = "https://api.launchpad.net/devel";
        assert_eq!(Param::Str("maas".into()).encode(root), "maas");
        assert_eq!(Param::Str("3.5".into()).encode(root), "\"3.5\"");
        assert_eq!(Param::Str("true".into()).encode(root), "\"true\"");
        assert_eq!(Param::Enum("Release".into()).encode(root), "Release");
        assert_eq!(Param::Bool(false).encode(root), "false");
        assert_eq!(
            Param::Link("/~maas/+archive/ubuntu/3.6".into()).encode(root),
            "https://api.launchpad.net/devel/~maas/+archive/ubuntu/3.6"
        );
        assert_eq!(
            Param::List(vec!["snap:build:0.1".into()]).encode(root),
            "[\"snap:build:0.1\"]"
        );
        assert_eq!(
            form(
                &[
                    ("ws.op", Param::Enum("copyPackage".into())),
                    ("to_pocket", Param::Enum("Release".into()))
                ],
                root
            ),
            "ws.op=copyPackage&to_pocket=Release"
        );
    }

    #[test]
    fn statuses_map_to_typed_errors() {
        assert!(
            matches!(LpError::from_status(StatusCode::UNAUTHORIZED, "Expired token (x).".into()), LpError::Unauthorized(ref b) if b == "Expired token (x).")
        );
        assert!(
            LpError::from_status(StatusCode::SERVICE_UNAVAILABLE, String::new()).is_transient()
        );
        assert!(!LpError::from_status(StatusCode::BAD_REQUEST, "x".into()).is_transient());
        assert_eq!(
            LpError::from_status(StatusCode::PRECONDITION_FAILED, String::new()),
            LpError::PreconditionFailed
        );
    }
}
