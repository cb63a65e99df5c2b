//! Snapshots of polled files (excuses, update_output): the last few are
//! kept, so a poll diffs against the previous one, also across restarts.

use super::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub id: i64,
    pub source: String,
    pub fetched_at: i64,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub body: Vec<u8>,
}

impl Store {
    pub async fn put_snapshot(&self, s: &Snapshot) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO snapshots (source, fetched_at, etag, last_modified, body)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(&s.source)
        .bind(s.fetched_at)
        .bind(&s.etag)
        .bind(&s.last_modified)
        .bind(&s.body)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn latest_snapshot(&self, source: &str) -> Result<Option<Snapshot>, StoreError> {
        let row: Option<(i64, String, i64, Option<String>, Option<String>, Vec<u8>)> =
            sqlx::query_as(
                "SELECT id, source, fetched_at, etag, last_modified, body FROM snapshots
             WHERE source = $1 ORDER BY id DESC LIMIT 1",
            )
            .bind(source)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(
            |(id, source, fetched_at, etag, last_modified, body)| Snapshot {
                id,
                source,
                fetched_at,
                etag,
                last_modified,
                body,
            },
        ))
    }

    /// When the latest snapshot of `source` was fetched (without reading it).
    pub async fn latest_snapshot_time(&self, source: &str) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT fetched_at FROM snapshots WHERE source = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(source)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(t,)| t))
    }

    /// Whether any snapshot of `source` is stored (without reading one).
    pub async fn has_snapshot(&self, source: &str) -> Result<bool, StoreError> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM snapshots WHERE source = $1 LIMIT 1")
                .bind(source)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_some())
    }

    /// Deletes all but the newest `keep` snapshots of a source.
    pub async fn prune_snapshots(&self, source: &str, keep: i64) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let r = sqlx::query(
            "DELETE FROM snapshots WHERE source = $1 AND id NOT IN
                (SELECT id FROM snapshots WHERE source = $1 ORDER BY id DESC LIMIT $2)",
        )
        .bind(source)
        .bind(keep)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(r.rows_affected())
    }
}
