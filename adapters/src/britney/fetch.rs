//! Fetching britney's published files from the proposed-migration site.
//! `update_excuses.yaml.xz` is 10–100 MB and changes a few times an hour,
//! so polls use conditional GETs: the validators of the last good fetch
//! (`ETag`, `Last-Modified`) make an unchanged file cost a 304.

use std::time::Duration;

use reqwest::header::{HeaderValue, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use thiserror::Error;

use crate::wire::{network_words, Calls};

/// What identifies a fetched version of a file to the server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A conditional GET's answer.
#[derive(Debug)]
pub enum Fetched {
    /// Unchanged since the validators were given.
    NotModified,
    Changed {
        body: Vec<u8>,
        validators: Validators,
    },
}

#[derive(Debug, Error)]
#[error("fetching {url}: {reason}")]
pub struct FetchError {
    pub url: String,
    pub reason: String,
}

/// An HTTP client for the site's static files.
#[derive(Clone)]
pub struct SiteClient {
    http: reqwest::Client,
    calls: Calls,
}

/// How [`Calls`] name this site.
const SERVICE: &str = "excuses";

impl SiteClient {
    /// `timeout` bounds a whole fetch, body included.
    pub fn new(timeout: Duration) -> Result<Self, FetchError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("shepherd/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError {
                url: String::new(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            http,
            calls: Calls::default(),
        })
    }

    /// Reports each exchange to `calls`.
    pub fn observed(mut self, calls: Calls) -> Self {
        self.calls = calls;
        self
    }

    /// `url`, unless it is unchanged since `previous` (conditional GET).
    pub async fn fetch(&self, url: &str, previous: &Validators) -> Result<Fetched, FetchError> {
        let err = |reason: String| FetchError {
            url: url.to_string(),
            reason,
        };
        let mut req = self.http.get(url);
        if let Some(etag) = &previous.etag {
            req = req.header(IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &previous.last_modified {
            req = req.header(IF_MODIFIED_SINCE, lm);
        }
        let resp = self
            .calls
            .send(SERVICE, req)
            .await
            .map_err(|e| err(network_words(e)))?;
        if resp.status() == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if !resp.status().is_success() {
            return Err(err(format!("HTTP {}", resp.status())));
        }
        let header = |name| {
            resp.headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let validators = Validators {
            etag: header(ETAG),
            last_modified: header(LAST_MODIFIED),
        };
        let body = resp
            .bytes()
            .await
            .map_err(|e| err(network_words(e)))?
            .to_vec();
        Ok(Fetched::Changed { body, validators })
    }

    /// A small text file, fetched whole (`update_output.txt`).
    pub async fn text(&self, url: &str) -> Result<String, FetchError> {
        let err = |e: reqwest::Error| FetchError {
            url: url.to_string(),
            reason: network_words(e),
        };
        let resp = self
            .calls
            .send(SERVICE, self.http.get(url))
            .await
            .and_then(|r| r.error_for_status())
            .map_err(err)?;
        resp.text().await.map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::britney::site::ExcusesSite;

    #[tokio::test]
    async fn an_unchanged_file_costs_a_304_and_a_changed_one_is_fetched() {
        let site = ExcusesSite::start().await.unwrap();
        site.put("update_excuses.yaml", b"sources: []\n".to_vec());
        let client = SiteClient::new(Duration::from_secs(5)).unwrap();
        let url = site.url("update_excuses.yaml");
        let Fetched::Changed { body, validators } =
            client.fetch(&url, &Validators::default()).await.unwrap()
        else {
            panic!("first fetch must get the file");
        };
        assert_eq!(body, b"sources: []\n");
        assert!(validators.etag.is_some() && validators.last_modified.is_some());
        assert!(matches!(
            client.fetch(&url, &validators).await.unwrap(),
            Fetched::NotModified
        ));
        site.put("update_excuses.yaml", b"sources: [x]\n".to_vec());
        assert!(matches!(
            client.fetch(&url, &validators).await.unwrap(),
            Fetched::Changed { .. }
        ));
        assert_eq!(site.counts(), (2, 1));
        let missing = client
            .fetch(&site.url("nope"), &Validators::default())
            .await;
        assert!(missing.unwrap_err().reason.contains("404"));
        assert!(client.text(&site.url("nope")).await.is_err());
    }
}
