//! The clients a configuration section describes. The executor and the
//! read views each build their own (different timeouts), from one place.

use std::time::Duration;

use secrecy::ExposeSecret;
use shepherd_adapters::autopkgtest::{Auth, AutopkgtestClient, ClientError};
use shepherd_adapters::launchpad::OAuth;

use super::{AutopkgtestConfig, LaunchpadConfig};

impl LaunchpadConfig {
    /// The credentials, if any (an empty token = anonymous).
    pub fn oauth(&self) -> Option<OAuth> {
        match (&self.oauth_token, &self.oauth_token_secret) {
            (Some(t), Some(s)) if !t.expose_secret().is_empty() => Some(OAuth {
                consumer_key: self
                    .consumer_key
                    .clone()
                    .unwrap_or_else(|| "shepherd".into()),
                token: t.clone(),
                token_secret: s.clone(),
            }),
            _ => None,
        }
    }
}

impl AutopkgtestConfig {
    /// A request.cgi client with this section's credentials.
    pub fn client(&self, timeout: Duration) -> Result<AutopkgtestClient, ClientError> {
        let auth = match (&self.api_key, &self.session_cookie) {
            (Some(k), _) => Auth::ApiKey(k.clone()),
            (None, Some(cookie)) => Auth::Cookies(cookie.clone()),
            (None, None) => Auth::Anonymous,
        };
        AutopkgtestClient::new(self.request_url.as_str(), auth, timeout)
    }
}
