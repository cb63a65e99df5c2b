//! OAuth 1.0a PLAINTEXT, as launchpadlib signs (through oauthlib): the
//! signature is `encode(consumer secret)&encode(token secret)`, and every
//! value in the header is encoded again (RFC 5849 §3.4.4, §3.5.1), with
//! RFC 3986 percent-encoding (shared reference launchpad-api, §2.1).

use secrecy::{ExposeSecret, SecretString};

use crate::wire::form::percent_encode;

/// Credentials for a Launchpad token (consumer secret is always empty).
#[derive(Clone)]
pub struct OAuth {
    pub consumer_key: String,
    pub token: SecretString,
    pub token_secret: SecretString,
}

impl OAuth {
    /// The `Authorization` header value. No nonce or timestamp: Launchpad
    /// checks neither (reference §2.1).
    pub fn header(&self) -> String {
        let signature = format!(
            "{}&{}",
            percent_encode(""),
            percent_encode(self.token_secret.expose_secret())
        );
        format!(
            "OAuth realm=\"https://api.launchpad.net/\", oauth_consumer_key=\"{}\", oauth_token=\"{}\", oauth_signature_method=\"PLAINTEXT\", oauth_signature=\"{}\", oauth_version=\"1.0\"",
            percent_encode(&self.consumer_key),
            percent_encode(self.token.expose_secret()),
            percent_encode(&signature),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_encodes_every_value_and_the_signature_twice() {
        let auth = OAuth {
            consumer_key: "my bot+1".into(),
            token: SecretString::from("a/b=c".to_string()),
            token_secret: SecretString::from("s&e cr~t".to_string()),
        };
        assert_eq!(
            auth.header(),
            "OAuth realm=\"https://api.launchpad.net/\", oauth_consumer_key=\"my%20bot%2B1\", oauth_token=\"a%2Fb%3Dc\", oauth_signature_method=\"PLAINTEXT\", oauth_signature=\"%26s%2526e%2520cr~t\", oauth_version=\"1.0\""
        );
    }

    #[test]
    fn a_plain_secret_signs_as_launchpad_documents() {
        let auth = OAuth {
            consumer_key: "shepherd".into(),
            token: SecretString::from("PsK9cpbll1KwehhRDckr".to_string()),
            token_secret: SecretString::from("M2hsnmsfEIAjS3bTWg6t".to_string()),
        };
        assert!(auth
            .header()
            .contains("oauth_signature=\"%26M2hsnmsfEIAjS3bTWg6t\""));
    }
}
