//! The JSON views of the queue, shaped as the real app publishes them:
//! `static/running.json` (package → run key → release → arch → [params,
//! seconds, log]) and `queues.json` (context → release → arch → lines of
//! `package\nparams`). The client's readers parse these same shapes.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::{lock, Job, Shared};

/// A job's parameters, as both views give them.
fn params(j: &Job) -> Value {
    let mut p = json!({ "requester": j.requester, "submit-time": "2026-01-01 00:00:00", "triggers": j.triggers });
    if j.all_proposed {
        p["all-proposed"] = json!("1");
    }
    if !j.ppas.is_empty() {
        p["ppas"] = json!(j.ppas);
    }
    p
}

pub(super) async fn running_json(State(s): State<Shared>) -> Json<Value> {
    let st = lock(&s);
    let mut out = serde_json::Map::new();
    for (i, j) in st.running.iter().enumerate() {
        let pkg = out.entry(j.package.clone()).or_insert_with(|| json!({}));
        pkg[format!("{}-hash{i}", j.package)] =
            json!({ j.release.clone(): { j.arch.clone(): [params(j), 60, "\n0s starting\n"] } });
    }
    Json(Value::Object(out))
}

pub(super) async fn queues_json(State(s): State<Shared>) -> Json<Value> {
    let st = lock(&s);
    let mut out = json!({});
    for j in &st.queued {
        let context = if j.ppas.is_empty() { "ubuntu" } else { "ppa" };
        let list = &mut out[context][&j.release][&j.arch];
        if list.is_null() {
            *list = json!([]);
        }
        if let Some(a) = list.as_array_mut() {
            a.push(json!(format!("{}\n{}", j.package, params(j))));
        }
    }
    Json(out)
}
