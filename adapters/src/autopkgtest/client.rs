//! The autopkgtest-cloud client: request.cgi, running.json and queues.json
//! over HTTP(S), authenticated with a session cookie or an API key.
//!
//! Nothing is sent again here: a request.cgi GET queues a test, and the
//! real app's check for a queued duplicate never matches, so a second one
//! could queue it twice. Errors say whether trying later may help
//! (`ClientError::is_transient`); callers decide, after reading what is
//! already queued.

use std::time::Duration;

use reqwest::header::{HeaderValue, COOKIE};
use secrecy::{ExposeSecret, SecretString};
use thiserror::Error;

use super::queues::{parse_queues, parse_running, InFlight};
use super::request::{InvalidRequest, TestRequest};
use super::response::{classify, RequestError, Submitted};
use crate::wire::{network_words, Calls};

/// How Shepherd proves who it is to request.cgi (there is no token API).
#[derive(Clone)]
pub enum Auth {
    Anonymous,
    /// Sent as the `X-Api-Key` cookie (`user:key`, issued by the release team).
    ApiKey(SecretString),
    /// A browser session's cookies, e.g. `session=…; SRVNAME=…`.
    Cookies(SecretString),
}

#[derive(Debug, Error)]
pub enum ClientError {
    #[error(transparent)]
    Invalid(#[from] InvalidRequest),
    #[error(transparent)]
    Refused(#[from] RequestError),
    #[error("cannot reach autopkgtest-cloud: {0}")]
    Network(String),
    #[error("unreadable answer from {url}: {reason}")]
    Decode { url: String, reason: String },
    #[error("bad autopkgtest URL `{0}`")]
    Url(String),
}

impl ClientError {
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Network(_) => true,
            ClientError::Refused(e) => e.is_transient(),
            ClientError::Invalid(_) | ClientError::Decode { .. } | ClientError::Url(_) => false,
        }
    }
}

/// How [`Calls`] name autopkgtest-cloud.
const SERVICE: &str = "autopkgtest";

#[derive(Clone)]
pub struct AutopkgtestClient {
    http: reqwest::Client,
    calls: Calls,
    request_url: String,
    site: String,
    auth: Auth,
}

impl AutopkgtestClient {
    /// `request_url` is request.cgi's address; the JSON endpoints are read
    /// from the same site.
    pub fn new(request_url: &str, auth: Auth, timeout: Duration) -> Result<Self, ClientError> {
        let site = request_url
            .strip_suffix("request.cgi")
            .or_else(|| request_url.strip_suffix("request.cgi/"))
            .ok_or_else(|| ClientError::Url(request_url.to_string()))?
            .to_string();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("shepherd/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Network(e.to_string()))?;
        Ok(Self {
            http,
            calls: Calls::default(),
            request_url: request_url.to_string(),
            site,
            auth,
        })
    }

    /// Reports each exchange to `calls`.
    pub fn observed(mut self, calls: Calls) -> Self {
        self.calls = calls;
        self
    }

    pub fn request_url(&self) -> &str {
        &self.request_url
    }

    fn cookie(&self) -> Option<HeaderValue> {
        let raw = match &self.auth {
            Auth::Anonymous => return None,
            Auth::ApiKey(k) => format!("X-Api-Key={}", k.expose_secret()),
            Auth::Cookies(c) => c.expose_secret().to_string(),
        };
        let mut v = HeaderValue::from_str(&raw).ok()?;
        v.set_sensitive(true);
        Some(v)
    }

    /// Submits one request; the answer page is classified into success or a typed refusal.
    pub async fn request(&self, r: &TestRequest) -> Result<Submitted, ClientError> {
        r.validate()?;
        let mut req = self.http.get(r.url(&self.request_url));
        if let Some(c) = self.cookie() {
            req = req.header(COOKIE, c);
        }
        let resp = self
            .calls
            .send(SERVICE, req)
            .await
            .map_err(|e| ClientError::Network(network_words(e)))?;
        let status = resp.status().as_u16();
        let body = resp
            .text()
            .await
            .map_err(|e| ClientError::Network(network_words(e)))?;
        Ok(classify(status, &body)?)
    }

    async fn json(&self, path: &str) -> Result<serde_json::Value, ClientError> {
        let url = format!("{}{path}", self.site);
        let resp = self
            .calls
            .send(SERVICE, self.http.get(&url))
            .await
            .map_err(|e| ClientError::Network(network_words(e)))?;
        let status = resp.status();
        if status.is_server_error() {
            return Err(ClientError::Network(format!("{url}: HTTP {status}")));
        }
        if !status.is_success() {
            return Err(ClientError::Decode {
                url,
                reason: format!("HTTP {status}"),
            });
        }
        resp.json().await.map_err(|e| ClientError::Decode {
            url,
            reason: network_words(e),
        })
    }

    /// Everything running or queued now.
    pub async fn in_flight(&self) -> Result<Vec<InFlight>, ClientError> {
        let mut all = parse_running(&self.json("static/running.json").await?);
        all.extend(parse_queues(&self.json("queues.json").await?));
        Ok(all)
    }
}
