//! Webhook deliveries: stored before they are acknowledged (unique by
//! delivery id, so a redelivery has one effect), then processed from the
//! store — the store is the queue.

use std::collections::HashSet;

use sqlx::any::AnyArguments;
use sqlx::{AnyConnection, Arguments};

use super::plan_insert::insert_plans_on;
use super::{corrupt, Backend, Inserted, NewPlan, RowLock, Store, StoreError};

/// Deliveries per INSERT statement (6 parameters each: well under
/// SQLite's and PostgreSQL's limits).
const INSERT_ROWS: usize = 128;

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

impl Store {
    /// Stores a delivery durably; false if this delivery id was seen before.
    pub async fn record_delivery(&self, d: &Delivery) -> Result<bool, StoreError> {
        Ok(self.record_deliveries(std::slice::from_ref(d)).await?[0])
    }

    /// Stores many deliveries in one transaction (one fsync; on SQLite a
    /// batch of one INSERT is that statement alone, in autocommit); for each,
    /// whether it was new (a repeat of an id — stored before, or earlier in
    /// the batch — is not). This is what lets the webhook route acknowledge
    /// thousands of deliveries a second without acknowledging any unsaved.
    /// One multi-row INSERT per [`INSERT_ROWS`]: each statement is a round
    /// trip (to the server, or to SQLite's connection thread).
    pub async fn record_deliveries(&self, batch: &[Delivery]) -> Result<Vec<bool>, StoreError> {
        if self.backend == Backend::Sqlite && batch.len() <= INSERT_ROWS {
            // One INSERT (the usual batch): autocommit is enough.
            let mut one = self.write_one_urgent().await?;
            let out = record_on_sqlite(&mut one, batch).await?;
            one.done();
            return Ok(out);
        }
        let mut tx = self.write_urgent().await?;
        let out = match self.backend {
            Backend::Sqlite => record_on_sqlite(&mut tx, batch).await?,
            Backend::Postgres => record_returning(&mut tx, batch).await?,
        };
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
        mark_processed(&mut tx, done, now).await?;
        tx.commit().await?;
        self.deliveries_processed(done.len());
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
        let plans: Vec<&NewPlan<'_>> = batch.iter().filter_map(|(_, p)| p.as_ref()).collect();
        let mut inserted = insert_plans_on(&mut tx, &plans, now).await?.into_iter();
        let mut out = Vec::with_capacity(batch.len());
        let mut done = Vec::with_capacity(batch.len());
        for (id, plan) in batch {
            let made = plan.as_ref().and_then(|_| inserted.next());
            let result = made.map_or("recorded".to_string(), |i| format!("plan #{}", i.id()));
            done.push((id.clone(), result));
            out.push(made);
        }
        mark_processed(&mut tx, &done, now).await?;
        tx.commit().await?;
        self.deliveries_processed(done.len());
        let steps = batch
            .iter()
            .zip(&out)
            .filter(|(_, made)| matches!(made, Some(Inserted::New(_))))
            .filter_map(|((_, plan), _)| plan.as_ref())
            .map(|p| p.draft.steps.len())
            .sum();
        self.steps_added(steps);
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
    /// Claims up to `limit` unprocessed deliveries, oldest first, for this
    /// replica until its lease runs out: those another live replica is
    /// handling are left to it (on PostgreSQL, skipped without waiting),
    /// and those a dead one held are taken over.
    pub async fn claim_deliveries(
        &self,
        limit: i64,
        now: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        let lock = self.backend.row_lock(RowLock::Skip(None));
        let sql = format!(
            "UPDATE deliveries SET claimed_by = $1, lease_until = $2
             WHERE delivery_id IN (SELECT delivery_id FROM deliveries
                WHERE processed_at IS NULL AND (lease_until IS NULL OR lease_until < $3 OR claimed_by = $1)
                ORDER BY received_at, delivery_id LIMIT $4 {lock})
             RETURNING delivery_id, source, event_type, received_at, body, hook_target"
        );
        let mut tx = self.write().await?;
        let rows: Vec<Row> = sqlx::query_as(&sql)
            .bind(&*self.replica)
            .bind(now + self.lease_ms)
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut batch: Vec<Delivery> = rows.into_iter().map(delivery).collect();
        // RETURNING promises no order.
        batch.sort_by(|a, b| (a.received_at, &a.delivery_id).cmp(&(b.received_at, &b.delivery_id)));
        Ok(batch)
    }

    pub async fn unprocessed_deliveries(&self, limit: i64) -> Result<Vec<Delivery>, StoreError> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT delivery_id, source, event_type, received_at, body, hook_target FROM deliveries
             WHERE processed_at IS NULL ORDER BY received_at, delivery_id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(delivery).collect())
    }
}

/// The INSERT of `rows` deliveries, six parameters each.
fn insert_sql(rows: usize, returning: &str) -> String {
    let values: Vec<String> = (0..rows)
        .map(|i| {
            let n = i * 6;
            format!(
                "(${}, ${}, ${}, ${}, ${}, ${})",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5,
                n + 6
            )
        })
        .collect();
    format!(
        "INSERT INTO deliveries (delivery_id, source, event_type, received_at, body, hook_target)
         VALUES {} ON CONFLICT (delivery_id) DO NOTHING {returning}",
        values.join(", ")
    )
}

/// The six parameters of each delivery of `chunk`, in `insert_sql`'s order.
fn delivery_args(chunk: &[Delivery]) -> Result<AnyArguments<'_>, StoreError> {
    let mut args = AnyArguments::default();
    for d in chunk {
        args.add(&d.delivery_id)
            .and_then(|()| args.add(&d.source))
            .and_then(|()| args.add(&d.event_type))
            .and_then(|()| args.add(d.received_at))
            .and_then(|()| args.add(&d.body))
            .and_then(|()| args.add(&d.hook_target))
            .map_err(corrupt)?;
    }
    Ok(args)
}

/// PostgreSQL: replicas may insert the same id at once, so which rows
/// were new is what the INSERT itself returns.
async fn record_returning(
    tx: &mut AnyConnection,
    batch: &[Delivery],
) -> Result<Vec<bool>, StoreError> {
    let mut out = Vec::with_capacity(batch.len());
    for chunk in batch.chunks(INSERT_ROWS) {
        let sql = insert_sql(chunk.len(), "RETURNING delivery_id");
        let insert = sqlx::query_as_with::<_, (String,), _>(&sql, delivery_args(chunk)?);
        let mut inserted: HashSet<String> = insert
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|(id,)| id)
            .collect();
        // The first of a repeated id is the new one.
        out.extend(chunk.iter().map(|d| inserted.remove(&d.delivery_id)));
    }
    Ok(out)
}

/// SQLite: the INSERT returns nothing — sqlx hands each returned row
/// over from SQLite's connection thread on its own, which at thousands of
/// deliveries a second costs more than the INSERT — and when it added a
/// row for each delivery (the usual case: Launchpad redelivers rarely),
/// all were new, with no other statement. Otherwise the rows it added are
/// asked for by rowid: an INSERT holds SQLite's only write lock while it
/// runs, and each row it adds takes the largest rowid plus one, so they
/// are `rows_affected` rowids ending at this connection's last insert
/// rowid (which other connections' writes do not move). `conn` is a
/// transaction, or a connection in autocommit for a batch of one INSERT.
async fn record_on_sqlite(
    tx: &mut AnyConnection,
    batch: &[Delivery],
) -> Result<Vec<bool>, StoreError> {
    let mut out = Vec::with_capacity(batch.len());
    for chunk in batch.chunks(INSERT_ROWS) {
        let sql = insert_sql(chunk.len(), "");
        let done = sqlx::query_with(&sql, delivery_args(chunk)?)
            .execute(&mut *tx)
            .await?;
        let added = done.rows_affected();
        if added == chunk.len() as u64 {
            out.extend(std::iter::repeat_n(true, chunk.len()));
            continue;
        }
        let mut inserted: HashSet<String> = HashSet::new();
        if added > 0 {
            // sqlx's Any driver does not pass SQLite's last insert rowid on.
            let rows: Vec<(String,)> = sqlx::query_as(
                "SELECT delivery_id FROM deliveries
                 WHERE rowid > last_insert_rowid() - $1 AND rowid <= last_insert_rowid()",
            )
            .bind(added as i64)
            .fetch_all(&mut *tx)
            .await?;
            inserted.extend(rows.into_iter().map(|(id,)| id));
        }
        // The first of a repeated id is the new one.
        out.extend(chunk.iter().map(|d| inserted.remove(&d.delivery_id)));
    }
    Ok(out)
}

type Row = (String, String, String, i64, Vec<u8>, Option<String>);

fn delivery(row: Row) -> Delivery {
    let (delivery_id, source, event_type, received_at, body, hook_target) = row;
    Delivery {
        delivery_id,
        source,
        event_type,
        received_at,
        body,
        hook_target,
    }
}

/// Marks deliveries processed, each with its result: one UPDATE per
/// [`INSERT_ROWS`] deliveries, not one per delivery — each statement is a
/// round trip to the database. (`VALUES` names its columns `column1`,
/// `column2` on both SQLite and PostgreSQL.)
async fn mark_processed(
    tx: &mut AnyConnection,
    done: &[(String, String)],
    now: i64,
) -> Result<(), StoreError> {
    for chunk in done.chunks(INSERT_ROWS) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${})", 2 * i + 2, 2 * i + 3))
            .collect();
        let sql = format!(
            "UPDATE deliveries SET processed_at = $1, result = v.column2, claimed_by = NULL, lease_until = NULL
             FROM (VALUES {}) AS v WHERE deliveries.delivery_id = v.column1",
            values.join(", ")
        );
        let update = chunk
            .iter()
            .fold(sqlx::query(&sql).bind(now), |q, (id, result)| {
                q.bind(id).bind(result)
            });
        update.execute(&mut *tx).await?;
    }
    Ok(())
}
