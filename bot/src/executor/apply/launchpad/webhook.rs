//! This bot's webhook on a Launchpad target, registered or re-keyed.

use secrecy::{ExposeSecret, SecretString};
use shepherd_adapters::webhook::Receiver;

use super::{apply_error, LaunchpadApplier};
use crate::executor::ApplyError;
use crate::store::now_ms;

/// 32 random bytes from the operating system, hex-encoded.
fn new_secret() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a webhook secret: {e}"))?;
    Ok(hex::encode(bytes))
}

impl LaunchpadApplier {
    /// Registers (or re-keys) this bot's webhook on `target`. The secret is
    /// kept before Launchpad hears it, so the first delivery already verifies.
    pub async fn register_webhook(
        &self,
        target: &str,
        events: &[String],
        channel: Option<&str>,
    ) -> Result<String, ApplyError> {
        let url = self
            .public_url
            .clone()
            .ok_or_else(|| ApplyError::Permanent("webhook.public_url is not configured".into()))?;
        let fresh = SecretString::from(new_secret().map_err(ApplyError::Permanent)?);
        let secret = self
            .store
            .keep_webhook_secret(
                self.receiver.source(),
                target,
                &fresh,
                channel,
                "shepherd",
                now_ms(),
            )
            .await
            .map_err(|e| ApplyError::Transient(e.to_string()))?;
        self.redactor.add(secret.clone());
        self.receiver.add(target, secret.clone());
        let existing = self.client.webhooks(target).await.map_err(apply_error)?;
        let ours = existing
            .iter()
            .find(|h| h.get("delivery_url").and_then(|u| u.as_str()) == Some(url.as_str()))
            .and_then(|h| {
                h.get("self_link")
                    .and_then(|l| l.as_str())
                    .map(str::to_string)
            });
        let (link, what) = match ours {
            Some(link) => {
                // Launchpad never shows a secret: set ours on the webhook that exists.
                self.client
                    .set_webhook_secret(&link, secret.expose_secret())
                    .await
                    .map_err(apply_error)?;
                (link, "already registered; its secret now matches ours")
            }
            None => {
                let link = self
                    .client
                    .new_webhook(target, &url, events, secret.expose_secret())
                    .await
                    .map_err(apply_error)?;
                (link, "registered")
            }
        };
        self.store
            .set_webhook_link(target, &link)
            .await
            .map_err(|e| ApplyError::Transient(e.to_string()))?;
        Ok(format!("{what}: {link} ({})", events.join(", ")))
    }
}
