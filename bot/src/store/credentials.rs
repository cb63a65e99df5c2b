//! Credentials a service renewed at run time (migration 0008).

use secrecy::{ExposeSecret, SecretString};

use super::{Store, StoreError};

impl Store {
    pub async fn kept_credentials(
        &self,
        service: &str,
    ) -> Result<Option<SecretString>, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT value FROM service_credentials WHERE service = $1")
                .bind(service)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(v,)| SecretString::from(v)))
    }

    pub async fn keep_credentials(
        &self,
        service: &str,
        value: &SecretString,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO service_credentials (service, value, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (service) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(service)
        .bind(value.expose_secret())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
