//! `X-Hub-Signature: sha1=<hex>`: HMAC-SHA1 of the raw body with the
//! webhook's secret (shared reference launchpad-api, §7.3).

use hmac::{Hmac, Mac};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

/// The header value Launchpad sends for `body` signed with `secret`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = HmacSha1::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Does `header` carry a valid signature of `body` under `secret`?
/// The comparison is constant-time; a malformed header is simply invalid.
pub fn verify(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.trim().strip_prefix("sha1=") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let Ok(mut mac) = HmacSha1::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Launchpad's own test vector (lib/lp/services/webhooks/tests/test_job.py).
    #[test]
    fn launchpad_test_vector() {
        let body = br#"{"foo": "bar"}"#;
        assert_eq!(
            sign(b"sekrit", body),
            "sha1=de75f136c37d89f5eb24834468c1ecd602fa95dd"
        );
        assert!(verify(
            b"sekrit",
            body,
            "sha1=de75f136c37d89f5eb24834468c1ecd602fa95dd"
        ));
    }

    #[test]
    fn anything_else_is_rejected() {
        let body = br#"{"foo": "bar"}"#;
        let good = sign(b"sekrit", body);
        assert!(!verify(b"other", body, &good));
        assert!(!verify(b"sekrit", br#"{"foo": "baz"}"#, &good));
        assert!(!verify(b"sekrit", body, &good.replace("sha1=", "sha256=")));
        assert!(!verify(b"sekrit", body, "sha1=zz"));
        assert!(!verify(b"sekrit", body, ""));
        assert!(!verify(b"sekrit", body, &good[..20]));
    }
}
