//! Secrets of the webhooks Shepherd registered itself.

use secrecy::{ExposeSecret, SecretString};

use super::{Store, StoreError};

/// A registered webhook target.
#[derive(Debug, Clone)]
pub struct RegisteredHook {
    /// The service it belongs to, as deliveries name it.
    pub source: String,
    pub target: String,
    pub secret: SecretString,
    pub channel: Option<String>,
    pub webhook_link: Option<String>,
}

impl Store {
    /// Keeps `secret` for `source`'s webhook on `target` unless one is
    /// already kept; returns the kept one.
    pub async fn keep_webhook_secret(
        &self,
        source: &str,
        target: &str,
        secret: &SecretString,
        channel: Option<&str>,
        created_by: &str,
        now: i64,
    ) -> Result<SecretString, StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO webhook_secrets (target, secret, channel, created_by, created_at, source)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (target) DO UPDATE SET channel = excluded.channel",
        )
        .bind(target)
        .bind(secret.expose_secret())
        .bind(channel)
        .bind(created_by)
        .bind(now)
        .bind(source)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let (kept,): (String,) =
            sqlx::query_as("SELECT secret FROM webhook_secrets WHERE target = $1")
                .bind(target)
                .fetch_one(&self.pool)
                .await?;
        Ok(SecretString::from(kept))
    }

    pub async fn set_webhook_link(&self, target: &str, link: &str) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE webhook_secrets SET webhook_link = $2 WHERE target = $1")
            .bind(target)
            .bind(link)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn registered_hooks(&self) -> Result<Vec<RegisteredHook>, StoreError> {
        let rows: Vec<(String, String, String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT source, target, secret, channel, webhook_link FROM webhook_secrets ORDER BY source, target",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(source, target, secret, channel, webhook_link)| RegisteredHook {
                    source,
                    target,
                    secret: SecretString::from(secret),
                    channel,
                    webhook_link,
                },
            )
            .collect())
    }
}
