//! Registering webhooks on a target (a snap, a repository, a project…):
//! listing a target's hooks, creating one, and changing its secret. Their
//! deliveries arrive elsewhere: `webhook` receives them (checked with
//! `signature`, read with `target` and `payload`). Facts: shared reference
//! launchpad-api, §7.2.

use serde_json::Value;

use crate::launchpad::{LaunchpadClient, LpError, Param};

impl LaunchpadClient {
    /// The target's webhooks (§7.2); secrets are never returned.
    pub async fn webhooks(&self, target: &str) -> Result<Vec<Value>, LpError> {
        self.entries(&format!("{}/webhooks", target.trim_end_matches('/')), 300)
            .await
    }

    /// Creates an active webhook (§7.2); returns its URL.
    pub async fn new_webhook(
        &self,
        target: &str,
        delivery_url: &str,
        events: &[String],
        secret: &str,
    ) -> Result<String, LpError> {
        let params = [
            ("delivery_url", Param::Str(delivery_url.to_string())),
            ("event_types", Param::List(events.to_vec())),
            ("active", Param::Bool(true)),
            ("secret", Param::Str(secret.to_string())),
        ];
        self.named_post(target, "newWebhook", &params)
            .await?
            .created("newWebhook")
    }

    pub async fn set_webhook_secret(&self, webhook: &str, secret: &str) -> Result<(), LpError> {
        self.named_post(
            webhook,
            "setSecret",
            &[("secret", Param::Str(secret.to_string()))],
        )
        .await
        .map(|_| ())
    }
}
