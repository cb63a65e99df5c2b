//! Scrubbing every known secret from text the bot relays: services echo
//! wrong tokens back in their error text, and that text reaches chat, plan
//! results and the audit log.

use std::borrow::Cow;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use shepherd_adapters::chat::{Chat, ChatError, Incoming, SentMessage, ThreadRef};

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

    fn observe_calls(&self, calls: shepherd_adapters::wire::Calls) {
        self.inner.observe_calls(calls);
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

    fn s(v: &str) -> SecretString {
        SecretString::from(v.to_string())
    }

    #[test]
    fn redaction_scrubs_every_secret_and_leaves_other_text() {
        let red = Redactor::new([s("oauth-token-abcdef"), s("abc")]);
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
