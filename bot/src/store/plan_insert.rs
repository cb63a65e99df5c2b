//! Inserting plans with their steps and audit records, once per request
//! key: one plan (a chat request) or many at once (a batch of webhook
//! deliveries), in few statements — each is a round trip to the database.

use std::collections::HashMap;

use shepherd_commands::StepState;
use sqlx::AnyConnection;

use super::plans::{Inserted, NewPlan};
use super::{corrupt, parameters, StoreError};

/// Plans per INSERT (12 parameters each, and `now` shared by all).
const PLAN_ROWS: usize = 64;
/// Steps per INSERT (5 parameters each).
const STEP_ROWS: usize = 128;

/// Inserts `p` unless its request key made a plan before.
pub(super) async fn insert_plan_on(
    tx: &mut AnyConnection,
    p: &NewPlan<'_>,
    now: i64,
) -> Result<Inserted, StoreError> {
    let mut one = insert_plans_on(tx, &[p], now).await?;
    one.pop()
        .ok_or_else(|| corrupt("a plan insert returned nothing"))
}

/// Inserts each plan unless its request key made a plan before (or earlier
/// in `plans`): for each, `New` with its steps and audit record stored, or
/// the `Existing` plan. New plans' ids follow the order of `plans`.
pub(super) async fn insert_plans_on(
    tx: &mut AnyConnection,
    plans: &[&NewPlan<'_>],
    now: i64,
) -> Result<Vec<Inserted>, StoreError> {
    let mut made: HashMap<String, i64> = HashMap::with_capacity(plans.len());
    for chunk in plans.chunks(PLAN_ROWS) {
        for (id, key) in insert_plan_rows(tx, chunk, now).await? {
            made.insert(key, id);
        }
    }
    let mut out = Vec::with_capacity(plans.len());
    let mut before: Vec<&str> = Vec::new();
    for p in plans {
        // The first plan of a key is the one inserted; a repeat is not.
        match made.remove(p.request_key) {
            Some(id) => out.push(Some(Inserted::New(id))),
            None => {
                out.push(None);
                before.push(p.request_key);
            }
        }
    }
    let existing = plan_ids(tx, &before).await?;
    let out: Vec<Inserted> = out
        .into_iter()
        .zip(plans)
        .map(|(o, p)| match o {
            Some(new) => Ok(new),
            None => existing
                .get(p.request_key)
                .map(|&id| Inserted::Existing(id))
                .ok_or_else(|| {
                    corrupt(format!(
                        "plan for `{}` neither new nor stored",
                        p.request_key
                    ))
                }),
        })
        .collect::<Result<_, _>>()?;
    let new: Vec<(i64, &NewPlan<'_>)> = out
        .iter()
        .zip(plans)
        .filter_map(|(o, p)| match o {
            Inserted::New(id) => Some((*id, *p)),
            Inserted::Existing(_) => None,
        })
        .collect();
    insert_steps(tx, &new, now).await?;
    for (id, p) in &new {
        if let Some(a) = &p.audit {
            sqlx::query(
                "INSERT INTO audit (at, actor, channel, action, plan_id, outcome, detail)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(now)
            .bind(a.actor)
            .bind(a.channel)
            .bind(a.action.chars().take(300).collect::<String>())
            .bind(*id)
            .bind(a.outcome)
            .bind(a.detail)
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(out)
}

/// One multi-row INSERT of plans; the (id, request key) of those inserted.
async fn insert_plan_rows(
    tx: &mut AnyConnection,
    chunk: &[&NewPlan<'_>],
    now: i64,
) -> Result<Vec<(i64, String)>, StoreError> {
    let values: Vec<String> = (0..chunk.len())
        .map(|i| {
            let n = 2 + i * 12;
            let p: Vec<String> = (n..n + 12).map(|k| format!("${k}")).collect();
            // created_at and updated_at are both `now` ($1).
            format!("({}, $1, $1, {})", p[..11].join(", "), p[11])
        })
        .collect();
    let sql = format!(
        "INSERT INTO plans (request_key, command, requested_by, origin_kind, origin_channel,
                origin_thread, summary, state, needs_role, confirm_reason, expires_at,
                created_at, updated_at, width)
             VALUES {} ON CONFLICT (request_key) DO NOTHING RETURNING id, request_key",
        values.join(", ")
    );
    let insert = chunk.iter().fold(
        sqlx::query_as::<_, (i64, String)>(&sql).bind(now),
        |q, p| {
            q.bind(p.request_key)
                .bind(p.command)
                .bind(p.requested_by)
                .bind(&p.origin.kind)
                .bind(&p.origin.channel)
                .bind(&p.origin.thread)
                .bind(&p.draft.summary)
                .bind(p.state.as_str())
                .bind(p.needs_role)
                .bind(p.confirm_reason)
                .bind(p.expires_at)
                .bind(p.width.max(1) as i64)
        },
    );
    Ok(insert.fetch_all(&mut *tx).await?)
}

/// The plans already made for these request keys.
async fn plan_ids(
    tx: &mut AnyConnection,
    keys: &[&str],
) -> Result<HashMap<String, i64>, StoreError> {
    let mut out = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(STEP_ROWS) {
        let sql = format!(
            "SELECT request_key, id FROM plans WHERE request_key IN ({})",
            parameters(chunk.len())
        );
        let query = chunk
            .iter()
            .fold(sqlx::query_as::<_, (String, i64)>(&sql), |q, k| q.bind(*k));
        out.extend(query.fetch_all(&mut *tx).await?);
    }
    Ok(out)
}

/// The steps of new plans, in multi-row INSERTs.
async fn insert_steps(
    tx: &mut AnyConnection,
    new: &[(i64, &NewPlan<'_>)],
    now: i64,
) -> Result<(), StoreError> {
    let mut rows = Vec::new();
    for (id, p) in new {
        for (i, step) in p.draft.steps.iter().enumerate() {
            let action = serde_json::to_string(&step.action).map_err(corrupt)?;
            let after_done = i64::from(step.action.after_earlier_done());
            rows.push((*id, i as i64 + 1, step.key.as_str(), action, after_done));
        }
    }
    for chunk in rows.chunks(STEP_ROWS) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let n = 3 + i * 5;
                format!(
                    "(${}, ${}, ${}, ${}, $1, $2, ${})",
                    n,
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO steps (plan_id, seq, idem_key, action, state, updated_at, after_done)
                 VALUES {}",
            values.join(", ")
        );
        let insert = chunk.iter().fold(
            sqlx::query(&sql)
                .bind(StepState::Pending.as_str())
                .bind(now),
            |q, (id, seq, key, action, after_done)| {
                q.bind(*id)
                    .bind(*seq)
                    .bind(*key)
                    .bind(action)
                    .bind(*after_done)
            },
        );
        insert.execute(&mut *tx).await?;
    }
    Ok(())
}
