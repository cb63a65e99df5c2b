//! One authenticated exchange with the dashboard: the bound-macaroon
//! header, the refresh of a stale discharge, and resending after
//! transient failures.
//!
//! Every call Shepherd makes is safe to send again — reads, and releases
//! and closes, which leave the channel map as they found it when repeated —
//! so any transient failure (5xx, 429, a lost connection; wider than
//! `wire::resend`'s gateway errors, as craft-store retries 500 too) is
//! retried with the configured `wire::resend::Backoff`. A 401 asking for a refresh (`macaroon-needs-refresh`
//! in the error list and/or `WWW-Authenticate: Macaroon needs_refresh=1`)
//! gets one refresh at Ubuntu One SSO and one more try; any other 401, a
//! second one, or SSO refusing the refresh means only a new
//! `snapcraft export-login` helps, and the error says so.

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::client::SnapStoreClient;
use super::credentials::Credentials;
use super::error::{login_advice, StoreError, StoreErrors};
use crate::wire::network_words;

/// How an authenticated attempt failed.
enum Failure {
    /// A 401 that a fresh discharge may cure.
    Stale {
        request: String,
        errors: StoreErrors,
    },
    Error(StoreError),
}

/// `METHOD URL`, how errors name a request.
pub(crate) fn request_name(method: &Method, url: &str) -> String {
    format!("{method} {url}")
}

/// reqwest's error with its causes (a timeout says so only in a cause).
fn network(request: String, e: reqwest::Error) -> StoreError {
    StoreError::Network {
        request,
        message: network_words(e),
    }
}

fn wants_refresh(headers: &HeaderMap, errors: &StoreErrors) -> bool {
    let header = headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.replace(' ', "").contains("needs_refresh=1"));
    header || errors.has_code("macaroon-needs-refresh")
}

impl SnapStoreClient {
    /// A JSON call with retries on transient failures. A write (POST) is
    /// sent again only when the store said it did nothing (429, 503): after
    /// a timeout or a gateway error it may have acted, so trying again is
    /// the caller's, after reading the channel map (as the executor's
    /// steps do).
    pub(crate) async fn call(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Value, StoreError> {
        let again = |e: &StoreError| match method {
            Method::GET => e.is_transient(),
            _ => matches!(
                e,
                StoreError::Server {
                    status: 429 | 503,
                    ..
                }
            ),
        };
        self.backoff
            .run(|| self.authenticated(&method, url, body), again)
            .await
    }

    /// One try, and one more after a refresh if the store asks for it.
    async fn authenticated(
        &self,
        method: &Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Value, StoreError> {
        let used = self.credentials();
        match self.attempt(method, url, body, &used).await {
            Ok(v) => Ok(v),
            Err(Failure::Error(e)) => Err(e),
            Err(Failure::Stale { .. }) => {
                self.refresh(&used).await?;
                match self.attempt(method, url, body, &self.credentials()).await {
                    Ok(v) => Ok(v),
                    Err(Failure::Error(e)) => Err(e),
                    Err(Failure::Stale { request, errors }) => Err(self.needs_login(
                        request,
                        format!("refused again after refreshing the discharge ({errors})"),
                    )),
                }
            }
        }
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &str,
        body: Option<&Value>,
        creds: &Credentials,
    ) -> Result<Value, Failure> {
        let request = request_name(method, url);
        let auth = creds
            .authorization()
            .map_err(|e| Failure::Error(StoreError::Invalid(e.to_string())))?;
        let mut auth = HeaderValue::from_str(auth.expose_secret()).map_err(|_| {
            Failure::Error(StoreError::Invalid("credentials unfit for a header".into()))
        })?;
        auth.set_sensitive(true);
        let mut req = self
            .http
            .request(method.clone(), url)
            .header(ACCEPT, "application/json")
            .header(AUTHORIZATION, auth);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = self
            .calls
            .send("snapstore", req)
            .await
            .map_err(|e| Failure::Error(network(request.clone(), e)))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp
            .text()
            .await
            .map_err(|e| Failure::Error(network(request.clone(), e)))?;
        if (200..300).contains(&status) {
            return json(&request, &text).map_err(Failure::Error);
        }
        if status == 401 {
            let errors = StoreErrors::parse(status, &text);
            if wants_refresh(&headers, &errors) {
                return Err(Failure::Stale { request, errors });
            }
            let reason = format!("refused (401): {errors}");
            return Err(Failure::Error(self.needs_login(request, reason)));
        }
        Err(Failure::Error(StoreError::from_status(
            request, status, &text,
        )))
    }

    /// Asks Ubuntu One SSO for a fresh discharge and keeps it. Concurrent
    /// callers refresh once: whoever finds the discharge already changed
    /// since it was refused just tries again with the new one.
    async fn refresh(&self, refused: &Credentials) -> Result<(), StoreError> {
        let _one_at_a_time = self.refresh_lock.lock().await;
        if self.credentials().discharge().expose_secret() != refused.discharge().expose_secret() {
            return Ok(());
        }
        let url = format!("{}/api/v2/tokens/refresh", self.sso);
        let request = request_name(&Method::POST, &url);
        let body = serde_json::json!({ "discharge_macaroon": refused.discharge().expose_secret() });
        let answer = self
            .backoff
            .run(|| self.post_sso(&url, &body), StoreError::is_transient)
            .await;
        let fresh = match answer {
            Ok(v) => v
                .get("discharge_macaroon")
                .and_then(Value::as_str)
                .map(|d| SecretString::from(d.to_string()))
                .ok_or_else(|| StoreError::Decode(format!("{request}: no discharge_macaroon")))?,
            Err(StoreError::Rejected { status, errors, .. }) => {
                let why =
                    format!("Ubuntu One refused to refresh the discharge ({status}): {errors}");
                return Err(self.needs_login(request, why));
            }
            Err(e) => return Err(e),
        };
        let updated = refused
            .with_discharge(fresh)
            .map_err(|e| StoreError::Decode(format!("{request}: {e}")))?;
        *self.lock_credentials() = updated;
        tracing::info!("Snap Store discharge refreshed");
        Ok(())
    }

    /// One POST to SSO, without the store's `Authorization` header.
    async fn post_sso(&self, url: &str, body: &Value) -> Result<Value, StoreError> {
        let request = request_name(&Method::POST, url);
        let post = self
            .http
            .post(url)
            .header(ACCEPT, "application/json")
            .json(body);
        let resp = self
            .calls
            .send("sso", post)
            .await
            .map_err(|e| network(request.clone(), e))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| network(request.clone(), e))?;
        if (200..300).contains(&status) {
            return json(&request, &text);
        }
        Err(
            match StoreError::from_status(request.clone(), status, &text) {
                e if e.is_transient() => e,
                // Any other answer is SSO refusing, kept in its own words.
                _ => StoreError::Rejected {
                    request,
                    status,
                    errors: StoreErrors::parse(status, &text),
                },
            },
        )
    }

    pub(crate) fn needs_login(&self, request: String, reason: String) -> StoreError {
        StoreError::NeedsLogin {
            request,
            reason,
            advice: login_advice(&self.login_snaps),
        }
    }
}

fn json(request: &str, text: &str) -> Result<Value, StoreError> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(text).map_err(|e| StoreError::Decode(format!("{request}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn either_signal_asks_for_a_refresh() {
        let none = StoreErrors::parse(401, "{}");
        let coded = StoreErrors::parse(
            401,
            r#"{"error-list": [{"code": "macaroon-needs-refresh", "message": "Expired macaroon"}]}"#,
        );
        let mut header = HeaderMap::new();
        header.insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Macaroon needs_refresh=1"),
        );
        assert!(wants_refresh(&header, &none), "the header alone");
        assert!(wants_refresh(&HeaderMap::new(), &coded), "the code alone");
        assert!(!wants_refresh(&HeaderMap::new(), &none));
        let mut other = HeaderMap::new();
        other.insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Macaroon realm=x"),
        );
        assert!(!wants_refresh(&other, &none));
    }
}
