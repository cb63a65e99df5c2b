//! Secrets at the bot's edges: which webhook secret may sign which
//! delivery, and scrubbing every known secret from text the bot relays.

use std::borrow::Cow;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use shepherd_adapters::chat::{Chat, ChatError, Incoming, SentMessage, ThreadRef};
use shepherd_adapters::launchpad::signature::verify;
use shepherd_adapters::launchpad::target::{delivery_target, hears};

/// Replaces every configured or registered secret in outbound text with
/// `[redacted]`: services echo wrong tokens back in their error text, and
/// that text reaches chat, plan results and the audit log.
#[derive(Default)]
pub struct Redactor {
    secrets: RwLock<Vec<SecretString>>,
}

/// Shorter strings are not scrubbed: they would mangle ordinary words, and
/// no secret the bot accepts is that short.
const MIN_REDACTED: usize = 6;

impl Redactor {
    pub fn new(secrets: impl IntoIterator<Item = SecretString>) -> Self {
        let r = Self::default();
        for s in secrets {
            r.add(s);
        }
        r
    }

    pub fn add(&self, secret: SecretString) {
        if secret.expose_secret().len() < MIN_REDACTED {
            return;
        }
        let mut v = self.secrets.write().unwrap_or_else(|p| p.into_inner());
        if !v
            .iter()
            .any(|s| s.expose_secret() == secret.expose_secret())
        {
            v.push(secret);
            // Longest first, so a secret containing another is scrubbed whole.
            v.sort_by_key(|s| std::cmp::Reverse(s.expose_secret().len()));
        }
    }

    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let v = self.secrets.read().unwrap_or_else(|p| p.into_inner());
        let mut out = Cow::Borrowed(text);
        for s in v.iter() {
            let s = s.expose_secret();
            if out.contains(s) {
                out = Cow::Owned(out.replace(s, "[redacted]"));
            }
        }
        out
    }
}

/// Whose secret verified a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// `webhook.launchpad_secret`, which may sign anything.
    CatchAll,
    /// The webhook on this target (configured, or registered by the bot).
    Hook(String),
}

/// Every secret a Launchpad delivery may be signed with, each bound to the
/// target whose webhook holds it (configured `[[webhook.launchpad]]` and
/// those the bot registered), plus explicit catch-all secrets.
pub struct SecretRing {
    catch_all: Vec<SecretString>,
    targeted: RwLock<Vec<(String, SecretString)>>,
    redactor: Arc<Redactor>,
}

impl SecretRing {
    pub fn new(
        catch_all: Vec<SecretString>,
        targeted: Vec<(String, SecretString)>,
        redactor: Arc<Redactor>,
    ) -> Self {
        for s in catch_all.iter().chain(targeted.iter().map(|(_, s)| s)) {
            redactor.add(s.clone());
        }
        Self {
            catch_all,
            targeted: RwLock::new(targeted),
            redactor,
        }
    }

    /// A secret the bot just registered for `target`.
    pub fn add(&self, target: &str, secret: SecretString) {
        self.redactor.add(secret.clone());
        let mut r = self.targeted.write().unwrap_or_else(|p| p.into_inner());
        if !r
            .iter()
            .any(|(t, s)| t == target && s.expose_secret() == secret.expose_secret())
        {
            r.push((target.to_string(), secret));
        }
    }

    /// Which secret, if any, validly signed `body` and may speak for the
    /// target the payload names? A catch-all secret may sign anything; a
    /// webhook's secret only deliveries about its own target (for bugs, a
    /// distribution's hook also hears its source packages), and pings,
    /// which name no target and do nothing. Each comparison is constant-time.
    pub fn verify(&self, event_type: &str, body: &[u8], signature: &str) -> Option<Verified> {
        let signs = |k: &SecretString| verify(k.expose_secret().as_bytes(), body, signature);
        if self.catch_all.iter().any(signs) {
            return Some(Verified::CatchAll);
        }
        let payload = serde_json::from_slice::<serde_json::Value>(body).ok()?;
        let targeted = self.targeted.read().unwrap_or_else(|p| p.into_inner());
        let hook = match delivery_target(event_type, &payload) {
            Some(t) => targeted
                .iter()
                .filter(|(hook, _)| hears(hook, event_type, &t))
                .find(|(_, k)| signs(k)),
            // A ping names nothing and does nothing; any of our webhooks may send one.
            None if event_type == "ping" && payload == serde_json::json!({"ping": true}) => {
                targeted.iter().find(|(_, k)| signs(k))
            }
            None => None,
        };
        hook.map(|(target, _)| Verified::Hook(target.clone()))
    }
}

/// A chat whose every outbound text has passed through the redactor.
pub struct RedactingChat {
    pub inner: Arc<dyn Chat>,
    pub redactor: Arc<Redactor>,
}

#[async_trait]
impl Chat for RedactingChat {
    fn platform(&self) -> &str {
        self.inner.platform()
    }

    async fn next_message(&self) -> Option<Incoming> {
        self.inner.next_message().await
    }

    async fn reply(&self, to: &ThreadRef, text: &str) -> Result<SentMessage, ChatError> {
        self.inner.reply(to, &self.redactor.redact(text)).await
    }

    async fn edit(&self, message: &SentMessage, text: &str) -> Result<(), ChatError> {
        self.inner.edit(message, &self.redactor.redact(text)).await
    }

    async fn send(&self, channel: &str, text: &str) -> Result<SentMessage, ChatError> {
        self.inner.send(channel, &self.redactor.redact(text)).await
    }

    async fn post_once(
        &self,
        channel: &str,
        thread: Option<&str>,
        text: &str,
        nonce: &str,
    ) -> Result<SentMessage, ChatError> {
        let text = self.redactor.redact(text);
        self.inner.post_once(channel, thread, &text, nonce).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl SecretRing {
        fn verify_some(&self, e: &str, b: &[u8], s: &str) -> bool {
            self.verify(e, b, s).is_some()
        }
        fn verify_none(&self, e: &str, b: &[u8], s: &str) -> bool {
            self.verify(e, b, s).is_none()
        }
    }
    use shepherd_adapters::launchpad::signature::sign;

    fn s(v: &str) -> SecretString {
        SecretString::from(v.to_string())
    }

    const MAAS: &str = r#"{"snap_build": "/~maas-committers/+snap/maas-3.5/+build/1", "snap": "/~maas-committers/+snap/maas-3.5", "status": "Failed to build"}"#;

    fn ring() -> SecretRing {
        SecretRing::new(
            vec![],
            vec![
                (
                    "/~maas-committers/+snap/maas-3.5".into(),
                    s("maas-secret-0123456"),
                ),
                ("/~low-trust/+snap/toy".into(), s("toy-secret-01234567")),
                ("/ubuntu".into(), s("ubuntu-secret-012345")),
            ],
            Arc::new(Redactor::default()),
        )
    }

    #[test]
    fn a_target_secret_speaks_only_for_its_target() {
        let r = ring();
        let by = |k: &str, body: &str| sign(k.as_bytes(), body.as_bytes());
        assert!(r.verify_some(
            "snap:build:0.1",
            MAAS.as_bytes(),
            &by("maas-secret-0123456", MAAS)
        ));
        assert!(
            r.verify_none(
                "snap:build:0.1",
                MAAS.as_bytes(),
                &by("toy-secret-01234567", MAAS)
            ),
            "another target's secret must not sign for maas"
        );
        // Claiming another event type does not help: the payload then names no target.
        assert!(r.verify_none("ping", MAAS.as_bytes(), &by("toy-secret-01234567", MAAS)));
        let bug = r#"{"target": "/ubuntu/+source/glibc", "bug": "/bugs/1"}"#;
        assert!(r.verify_some("bug:0.1", bug.as_bytes(), &by("ubuntu-secret-012345", bug)));
        assert!(r.verify_none("bug:0.1", bug.as_bytes(), &by("maas-secret-0123456", bug)));
        let ping = r#"{"ping": true}"#;
        assert!(r.verify_some("ping", ping.as_bytes(), &by("toy-secret-01234567", ping)));
        assert!(r.verify_none("ping", ping.as_bytes(), &by("unknown-secret-0000", ping)));
        assert!(r.verify_none(
            "snap:build:0.1",
            b"not json",
            &by("maas-secret-0123456", "not json")
        ));
    }

    #[test]
    fn a_catch_all_secret_signs_anything_and_registered_ones_join() {
        let r = SecretRing::new(
            vec![s("catch-all-secret-0123")],
            vec![],
            Arc::new(Redactor::default()),
        );
        let sig = sign(b"catch-all-secret-0123", MAAS.as_bytes());
        assert!(r.verify_some("snap:build:0.1", MAAS.as_bytes(), &sig));
        let sig = sign(b"registered-0123456789", MAAS.as_bytes());
        assert!(r.verify_none("snap:build:0.1", MAAS.as_bytes(), &sig));
        r.add(
            "/~maas-committers/+snap/maas-3.5",
            s("registered-0123456789"),
        );
        assert!(r.verify_some("snap:build:0.1", MAAS.as_bytes(), &sig));
    }

    #[test]
    fn redaction_scrubs_every_secret_and_leaves_other_text() {
        let red = Redactor::new([s("oauth-token-abcdef"), s("abc")]);
        let ring = SecretRing::new(vec![], vec![], Arc::new(Redactor::default()));
        ring.add("/x", s("unused"));
        assert_eq!(
            red.redact("401: Unknown access token (oauth-token-abcdef)."),
            "401: Unknown access token ([redacted])."
        );
        assert_eq!(
            red.redact("abc is too short to scrub"),
            "abc is too short to scrub"
        );
        red.add(s("late-added-secret"));
        assert_eq!(red.redact("x late-added-secret y"), "x [redacted] y");
    }
}
