//! Which channels watch which packages, maintainers and teams.

pub use shepherd_commands::Subscription;

use super::{Store, StoreError};

impl Store {
    /// Adds a subscription; false if the channel already had it.
    pub async fn subscribe(&self, s: &Subscription, now: i64) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let r = sqlx::query(
            "INSERT INTO subscriptions (channel, kind, target, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel, kind, target) DO NOTHING",
        )
        .bind(&s.channel)
        .bind(&s.kind)
        .bind(&s.target)
        .bind(&s.created_by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn unsubscribe(
        &self,
        channel: &str,
        kind: &str,
        target: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let r = sqlx::query(
            "DELETE FROM subscriptions WHERE channel = $1 AND kind = $2 AND target = $3",
        )
        .bind(channel)
        .bind(kind)
        .bind(target)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(r.rows_affected() == 1)
    }

    /// Subscriptions of one channel, or (with `None`) of every channel.
    pub async fn subscriptions(
        &self,
        channel: Option<&str>,
    ) -> Result<Vec<Subscription>, StoreError> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT channel, kind, target, created_by FROM subscriptions
             WHERE $1 IS NULL OR channel = $1 ORDER BY channel, kind, target",
        )
        .bind(channel)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(channel, kind, target, created_by)| Subscription {
                channel,
                kind,
                target,
                created_by,
            })
            .collect())
    }
}
