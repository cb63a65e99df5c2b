//! One HTTP exchange with Launchpad, below the client's calls: the request
//! as sent (JSON accepted, OAuth only to the service root's origin), an
//! error answer turned into an `LpError` that names the request, resends as
//! `wire::resend` allows, and a read's redirects followed by hand (a write's
//! never are: see `client`).

use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, IF_MATCH, LOCATION};
use reqwest::{Method, Url};
use serde_json::Value;

use super::client::LaunchpadClient;
use super::error::LpError;
use crate::wire::network_words;
use crate::wire::resend::Resend;

/// Redirect hops a read follows before giving up.
const MAX_REDIRECTS: usize = 5;

/// `METHOD URL`, how errors name a request.
fn request(method: &Method, url: &str) -> String {
    format!("{method} {url}")
}

/// reqwest's error with its causes (a timeout says so only in a cause).
fn network(method: &Method, url: &str, e: reqwest::Error) -> LpError {
    LpError::Network {
        request: request(method, url),
        message: network_words(e),
    }
}

/// Where a redirect points, resolved against the URL that answered it.
pub(super) fn location(
    method: &Method,
    url: &str,
    resp: &reqwest::Response,
) -> Result<String, LpError> {
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
pub(super) fn write_redirected(method: &Method, url: &str, resp: &reqwest::Response) -> LpError {
    LpError::Redirected {
        request: request(method, url),
        status: resp.status().as_u16(),
        location: location(method, url, resp).unwrap_or_else(|_| "nowhere".into()),
        reason: "a write is never sent twice".into(),
    }
}

impl LaunchpadClient {
    /// The OAuth header for `url`: none when anonymous, and none for a URL
    /// outside the service root's origin (a redirect elsewhere must not
    /// carry the token).
    pub(super) fn authorization(&self, url: &str) -> Option<HeaderValue> {
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
        let resp = self
            .calls
            .send("launchpad", req)
            .await
            .map_err(|e| network(method, url, e))?;
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
    pub(super) async fn send(
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
    pub(super) async fn read(&self, url: &str) -> Result<Value, LpError> {
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

    pub(super) async fn json(
        method: &Method,
        url: &str,
        resp: reqwest::Response,
    ) -> Result<Value, LpError> {
        let text = resp.text().await.map_err(|e| network(method, url, e))?;
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text)
            .map_err(|e| LpError::Decode(format!("{}: {e}", request(method, url))))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::launchpad::OAuth;

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
