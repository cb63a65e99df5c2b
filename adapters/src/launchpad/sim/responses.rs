//! The shapes of the simulator's answers, as Launchpad gives them: errors
//! as `text/plain`, entries as JSON, collections in pages that link the
//! next one, factory operations as 201 with a `Location`, and a PATCH's
//! new entry as 209 Content Returned with its new ETag.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::state::Inner;
use crate::wire::form::encode_query;

pub(super) fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain;charset=utf-8")],
        body.into(),
    )
        .into_response()
}

pub(super) fn ok_json(v: Value) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response()
}

/// 201 Created: the new object is at `location`.
pub(super) fn created(location: String) -> Response {
    (StatusCode::CREATED, [(header::LOCATION, location)], "").into_response()
}

/// 209 Content Returned: a PATCH's answer, the entry as it is now.
pub(super) fn returned(v: Value) -> Response {
    (
        StatusCode::from_u16(209).unwrap_or(StatusCode::OK),
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

/// A PATCHed entity at `path`, with its new ETag.
pub(super) fn content(st: &Inner, path: &str, v: Value) -> Response {
    let mut v = v;
    v["http_etag"] = json!(st.etag(path));
    returned(v)
}

/// One page of `entries` (`ws.start`, `ws.size` as asked, at most 300),
/// with a `next_collection_link` that keeps the rest of the query.
pub(super) fn page(entries: Vec<Value>, query: &[(String, String)], base: &str) -> Value {
    let get = |k: &str| {
        query
            .iter()
            .find(|(n, _)| n == k)
            .and_then(|(_, v)| v.parse::<usize>().ok())
    };
    let (start, size) = (
        get("ws.start").unwrap_or(0),
        get("ws.size").unwrap_or(50).min(300),
    );
    let total = entries.len();
    let slice: Vec<Value> = entries.into_iter().skip(start).take(size).collect();
    let mut p = json!({ "start": start, "total_size": total, "entries": slice });
    if start + size < total {
        let rest = encode_query(
            query
                .iter()
                .filter(|(k, _)| k != "ws.start" && k != "ws.size")
                .map(|(k, v)| (k, v)),
        );
        let sep = if rest.is_empty() {
            String::new()
        } else {
            format!("{rest}&")
        };
        p["next_collection_link"] = json!(format!(
            "{base}?{sep}memo={}&ws.size={size}&ws.start={}",
            start + size,
            start + size
        ));
    }
    p
}
