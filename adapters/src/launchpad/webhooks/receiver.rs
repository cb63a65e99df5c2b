//! Launchpad's webhook deliveries as they arrive (shared reference
//! launchpad-api, §7): `X-Launchpad-Event-Type`, `X-Launchpad-Delivery`
//! (the same id on every retry) and `X-Hub-Signature`, an HMAC-SHA1 of the
//! raw body with the webhook's secret.
//!
//! A secret is bound to the target whose webhook holds it: it verifies only
//! deliveries about that target (for bugs, a distribution's hook also hears
//! its source packages), so whoever holds one project's secret cannot speak
//! for another. Catch-all secrets, configured explicitly, may sign anything.

use std::sync::RwLock;

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::signature::verify;
use super::target::{delivery_target, hears};
use crate::webhook::{Received, Receiver, Refused};

/// Launchpad's delivery ids are UUIDs; anything much longer is not one.
const MAX_DELIVERY_ID: usize = 128;

/// Every secret a Launchpad delivery may be signed with.
pub struct LaunchpadReceiver {
    catch_all: Vec<SecretString>,
    targeted: RwLock<Vec<(String, SecretString)>>,
}

impl LaunchpadReceiver {
    pub fn new(catch_all: Vec<SecretString>, targeted: Vec<(String, SecretString)>) -> Self {
        Self {
            catch_all,
            targeted: RwLock::new(targeted),
        }
    }

    /// A secret the bot just registered for `target`.
    pub fn add(&self, target: &str, secret: SecretString) {
        let mut r = self.targeted.write().unwrap_or_else(|p| p.into_inner());
        if !r
            .iter()
            .any(|(t, s)| t == target && s.expose_secret() == secret.expose_secret())
        {
            r.push((target.to_string(), secret));
        }
    }

    /// Which secret, if any, validly signed `body` and may speak for the
    /// target the payload names: `Some(None)` = a catch-all, `Some(Some(t))`
    /// = the webhook on `t`. Pings name no target and do nothing; any of
    /// our webhooks may send one. Each comparison is constant-time.
    pub fn verify(&self, event_type: &str, body: &[u8], signature: &str) -> Option<Option<String>> {
        let signs = |k: &SecretString| verify(k.expose_secret().as_bytes(), body, signature);
        if self.catch_all.iter().any(signs) {
            return Some(None);
        }
        let payload = serde_json::from_slice::<Value>(body).ok()?;
        let targeted = self.targeted.read().unwrap_or_else(|p| p.into_inner());
        let hook = match delivery_target(event_type, &payload) {
            Some(t) => targeted
                .iter()
                .filter(|(hook, _)| hears(hook, event_type, &t))
                .find(|(_, k)| signs(k)),
            None if event_type == "ping" && payload == serde_json::json!({"ping": true}) => {
                targeted.iter().find(|(_, k)| signs(k))
            }
            None => None,
        };
        hook.map(|(target, _)| Some(target.clone()))
    }
}

impl Receiver for LaunchpadReceiver {
    fn source(&self) -> &'static str {
        "launchpad"
    }

    fn receive(
        &self,
        header: &dyn Fn(&str) -> Option<String>,
        body: &[u8],
    ) -> Result<Received, Refused> {
        let signature =
            header("x-hub-signature").ok_or(Refused::Unsigned("missing X-Hub-Signature\n"))?;
        let (Some(event_type), Some(delivery_id)) = (
            header("x-launchpad-event-type"),
            header("x-launchpad-delivery"),
        ) else {
            return Err(Refused::BadHeaders(
                "missing X-Launchpad-Event-Type or X-Launchpad-Delivery\n",
            ));
        };
        // Only secrets allowed to speak for the payload's target are tried;
        // none configured = nothing verifies.
        let hook_target = self
            .verify(&event_type, body, &signature)
            .ok_or(Refused::BadSignature)?;
        if delivery_id.len() > MAX_DELIVERY_ID {
            return Err(Refused::BadHeaders("X-Launchpad-Delivery is too long\n"));
        }
        Ok(Received {
            delivery_id,
            event_type,
            hook_target,
        })
    }

    fn learn(&self, target: &str, secret: SecretString) {
        self.add(target, secret);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::launchpad::webhooks::signature::sign;

    fn s(v: &str) -> SecretString {
        SecretString::from(v.to_string())
    }

    const MAAS: &str = r#"{"snap_build": "/~maas-committers/+snap/maas-3.5/+build/1", "snap": "/~maas-committers/+snap/maas-3.5", "status": "Failed to build"}"#;

    fn receiver() -> LaunchpadReceiver {
        LaunchpadReceiver::new(
            vec![],
            vec![
                (
                    "/~maas-committers/+snap/maas-3.5".into(),
                    s("maas-secret-0123456"),
                ),
                ("/~low-trust/+snap/toy".into(), s("toy-secret-01234567")),
                ("/ubuntu".into(), s("ubuntu-secret-012345")),
            ],
        )
    }

    fn ok(r: &LaunchpadReceiver, event: &str, body: &str, key: &str) -> bool {
        r.verify(
            event,
            body.as_bytes(),
            &sign(key.as_bytes(), body.as_bytes()),
        )
        .is_some()
    }

    #[test]
    fn a_target_secret_speaks_only_for_its_target() {
        let r = receiver();
        assert!(ok(&r, "snap:build:0.1", MAAS, "maas-secret-0123456"));
        assert!(
            !ok(&r, "snap:build:0.1", MAAS, "toy-secret-01234567"),
            "another target's secret must not sign for maas"
        );
        // Claiming another event type does not help: the payload then names no target.
        assert!(!ok(&r, "ping", MAAS, "toy-secret-01234567"));
        let bug = r#"{"target": "/ubuntu/+source/glibc", "bug": "/bugs/1"}"#;
        assert!(ok(&r, "bug:0.1", bug, "ubuntu-secret-012345"));
        assert!(!ok(&r, "bug:0.1", bug, "maas-secret-0123456"));
        let ping = r#"{"ping": true}"#;
        assert!(ok(&r, "ping", ping, "toy-secret-01234567"));
        assert!(!ok(&r, "ping", ping, "unknown-secret-0000"));
        assert!(!ok(&r, "snap:build:0.1", "not json", "maas-secret-0123456"));
    }

    #[test]
    fn a_catch_all_secret_signs_anything_and_registered_ones_join() {
        let r = LaunchpadReceiver::new(vec![s("catch-all-secret-0123")], vec![]);
        let sig = sign(b"catch-all-secret-0123", MAAS.as_bytes());
        assert_eq!(
            r.verify("snap:build:0.1", MAAS.as_bytes(), &sig),
            Some(None)
        );
        assert!(!ok(&r, "snap:build:0.1", MAAS, "registered-0123456789"));
        r.add(
            "/~maas-committers/+snap/maas-3.5",
            s("registered-0123456789"),
        );
        let sig = sign(b"registered-0123456789", MAAS.as_bytes());
        assert_eq!(
            r.verify("snap:build:0.1", MAAS.as_bytes(), &sig),
            Some(Some("/~maas-committers/+snap/maas-3.5".into()))
        );
    }

    #[test]
    fn headers_are_checked_before_anything_is_stored() {
        let r = receiver();
        let sig = sign(b"maas-secret-0123456", MAAS.as_bytes());
        let with = |pairs: Vec<(&'static str, String)>| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.clone())
            }
        };
        let all = vec![
            ("x-hub-signature", sig.clone()),
            ("x-launchpad-event-type", "snap:build:0.1".to_string()),
            ("x-launchpad-delivery", "d-1".to_string()),
        ];
        let got = r.receive(&with(all.clone()), MAAS.as_bytes()).unwrap();
        assert_eq!(got.delivery_id, "d-1");
        assert_eq!(
            got.hook_target.as_deref(),
            Some("/~maas-committers/+snap/maas-3.5")
        );
        let unsigned = r.receive(&with(all[1..].to_vec()), MAAS.as_bytes());
        assert_eq!(unsigned.unwrap_err().status(), 401);
        let no_id = r.receive(&with(all[..2].to_vec()), MAAS.as_bytes());
        assert_eq!(no_id.unwrap_err().status(), 400);
        let mut long = all.clone();
        long[2].1 = "x".repeat(129);
        assert_eq!(
            r.receive(&with(long), MAAS.as_bytes()).unwrap_err(),
            Refused::BadHeaders("X-Launchpad-Delivery is too long\n")
        );
        let forged = r.receive(&with(all), b"{\"snap\": \"/~other/+snap/x\"}");
        assert_eq!(forged.unwrap_err(), Refused::BadSignature);
    }
}
