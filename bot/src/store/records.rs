//! Webhook deliveries, snapshots, subscriptions and schedule state: the
//! records that make webhooks exactly-once, polls diffable, announcements
//! targeted and cron slots fire once across restarts.

use sqlx::SqliteConnection;

use super::plans::insert_plan_on;
use super::{Inserted, NewPlan, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub delivery_id: String,
    pub source: String,
    pub event_type: String,
    pub received_at: i64,
    pub body: Vec<u8>,
    /// The webhook whose secret verified it (`None`: the catch-all secret).
    pub hook_target: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub id: i64,
    pub source: String,
    pub fetched_at: i64,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub channel: String,
    pub kind: String,
    pub target: String,
    pub created_by: String,
}

impl Store {
    /// Stores a delivery durably; false if this delivery id was seen before.
    pub async fn record_delivery(&self, d: &Delivery) -> Result<bool, StoreError> {
        Ok(self.record_deliveries(std::slice::from_ref(d)).await?[0])
    }

    /// Stores many deliveries in one transaction (one fsync); for each,
    /// whether it was new. This is what lets the webhook route acknowledge
    /// thousands of deliveries a second without acknowledging any unsaved.
    pub async fn record_deliveries(&self, batch: &[Delivery]) -> Result<Vec<bool>, StoreError> {
        let mut tx = self.write_urgent().await?;
        let mut out = Vec::with_capacity(batch.len());
        for d in batch {
            let r = sqlx::query(
                "INSERT INTO deliveries (delivery_id, source, event_type, received_at, body, hook_target)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (delivery_id) DO NOTHING",
            )
            .bind(&d.delivery_id)
            .bind(&d.source)
            .bind(&d.event_type)
            .bind(d.received_at)
            .bind(&d.body)
            .bind(&d.hook_target)
            .execute(&mut *tx)
            .await?;
            out.push(r.rows_affected() == 1);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Records how deliveries were handled, all in one transaction.
    pub async fn mark_deliveries_processed(
        &self,
        done: &[(String, String)],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        for (id, result) in done {
            mark_processed(&mut tx, id, result, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Ends a batch of deliveries in one transaction: each delivery's plan
    /// (if it makes one) is stored and the delivery marked processed with
    /// `recorded` or `plan #N`. One commit for the whole batch keeps
    /// processing from competing with acceptance for the write lock.
    pub async fn finish_deliveries(
        &self,
        batch: &[(String, Option<NewPlan<'_>>)],
        now: i64,
    ) -> Result<Vec<Option<Inserted>>, StoreError> {
        let mut tx = self.write().await?;
        let mut out = Vec::with_capacity(batch.len());
        for (id, plan) in batch {
            let inserted = match plan {
                Some(p) => Some(insert_plan_on(&mut tx, p, now).await?),
                None => None,
            };
            let result = inserted.map_or("recorded".to_string(), |i| format!("plan #{}", i.id()));
            mark_processed(&mut tx, id, &result, now).await?;
            out.push(inserted);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Whether a delivery is stored, and its processing result if processed.
    pub async fn delivery_status(&self, id: &str) -> Result<Option<Option<String>>, StoreError> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT result FROM deliveries WHERE delivery_id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(r,)| r))
    }

    /// Deliveries stored but not yet processed (e.g. the process died in between).
    pub async fn unprocessed_deliveries(&self, limit: i64) -> Result<Vec<Delivery>, StoreError> {
        type Row = (String, String, String, i64, Vec<u8>, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT delivery_id, source, event_type, received_at, body, hook_target FROM deliveries
             WHERE processed_at IS NULL ORDER BY received_at, delivery_id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(delivery_id, source, event_type, received_at, body, hook_target)| Delivery {
                    delivery_id,
                    source,
                    event_type,
                    received_at,
                    body,
                    hook_target,
                },
            )
            .collect())
    }

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

    /// The last slot (Unix ms) this job fired for.
    pub async fn last_slot(&self, job: &str) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT last_slot FROM schedule_state WHERE job = $1")
                .bind(job)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(s,)| s))
    }

    /// Records a fired slot; never moves a job's slot backwards.
    pub async fn set_last_slot(
        &self,
        job: &str,
        slot: i64,
        result: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO schedule_state (job, last_slot, last_run_at, last_result) VALUES ($1, $2, $3, $4)
             ON CONFLICT (job) DO UPDATE SET last_slot = excluded.last_slot,
                last_run_at = excluded.last_run_at, last_result = excluded.last_result
             WHERE schedule_state.last_slot < excluded.last_slot",
        )
        .bind(job)
        .bind(slot)
        .bind(now)
        .bind(result)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn mark_processed(
    tx: &mut SqliteConnection,
    id: &str,
    result: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE deliveries SET processed_at = $2, result = $3 WHERE delivery_id = $1")
        .bind(id)
        .bind(now)
        .bind(result)
        .execute(tx)
        .await?;
    Ok(())
}
