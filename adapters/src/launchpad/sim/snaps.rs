//! The simulated snaps: an entry by owner and name (`getByName`) or by
//! path, and PATCH of its store channels or name — with `If-Match` (a stale
//! ETag is a 412), and a rename answered 301 with the new URL, as Launchpad
//! does. What lies under a snap is answered by `builds` and `hooks`.

use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::responses::{ok_json, returned, text};
use super::routes::Req;
use super::state::Inner;
use super::world::SnapDef;
use super::{builds, hooks};

pub(super) fn snap_json(st: &Inner, d: &SnapDef) -> Value {
    let base = format!("{}/~{}/+snap/{}", st.root, d.owner, d.name);
    let (channels, version) = st
        .snap_edits
        .get(&format!("{}/{}", d.owner, d.name))
        .cloned()
        .unwrap_or((vec!["latest/edge".into()], 0));
    json!({
        "self_link": base, "resource_type_link": format!("{}/#snap", st.root), "name": d.name,
        "web_link": format!("https://launchpad.net/~{}/+snap/{}", d.owner, d.name),
        "http_etag": format!("\"r1-w{version}\""),
        "distro_series_link": if d.series.is_empty() {
            Value::Null
        } else {
            json!(format!("{}/ubuntu/{}", st.root, d.series))
        },
        "auto_build_archive_link": format!("{}/ubuntu/+archive/primary", st.root),
        "auto_build_pocket": "Updates", "auto_build_channels": d.channels,
        "store_upload": d.store_upload, "store_channels": channels,
        "builds_collection_link": format!("{base}/builds"),
        "pending_builds_collection_link": format!("{base}/pending_builds"),
        "processors_collection_link": format!("{base}/processors"),
        "completed_builds_collection_link": format!("{base}/completed_builds"),
    })
}

/// `/+snaps?ws.op=getByName&owner=…&name=…`.
pub(super) fn by_name(st: &Inner, req: &Req<'_>) -> Response {
    let owner = (req.param)("owner").unwrap_or_default();
    let owner = owner
        .rsplit('/')
        .next()
        .unwrap_or("")
        .trim_start_matches('~')
        .to_string();
    let name = (req.param)("name").unwrap_or_default();
    match st
        .world
        .snaps
        .iter()
        .find(|d| d.owner == owner && d.name == name)
    {
        Some(d) => ok_json(snap_json(st, d)),
        None => text(
            StatusCode::NOT_FOUND,
            format!("No such snap package with this owner: '{name}'."),
        ),
    }
}

/// `/~owner/+snap/name/…`: the entry and PATCH here; builds, build
/// requests and webhooks in their own files.
pub(super) fn route(
    st: &mut Inner,
    req: &Req<'_>,
    owner: &str,
    name: &str,
    rest: &[&str],
) -> Response {
    let owner = owner.trim_start_matches('~');
    let Some(def) = st
        .world
        .snaps
        .iter()
        .find(|d| d.owner == owner && d.name == *name)
        .cloned()
    else {
        return text(
            StatusCode::NOT_FOUND,
            format!("No such snap package with this owner: '{name}'."),
        );
    };
    let who = req.who.clone();
    match (&req.method, rest, req.op) {
        (&Method::GET, [], None) => ok_json(snap_json(st, &def)),
        (&Method::PATCH, [], None) => patch_snap(st, who, &def, req.headers, req.body),
        (&Method::POST, [], Some("requestBuild")) => {
            builds::request_build(st, who, &def, req.param, req.base)
        }
        (&Method::POST, [], Some("requestBuilds")) => {
            builds::request_builds(st, who, &def, req.base)
        }
        (&Method::GET, ["+build-request", id, rest @ ..], None) => {
            builds::build_request(st, req, &def, id, rest)
        }
        (&Method::POST, [], Some("newWebhook")) => {
            hooks::new_webhook(st, who, req.path, req.param, req.base)
        }
        (&Method::GET, ["webhooks"], None) => hooks::list(st, req),
        (&Method::GET, ["processors"], None) => {
            let root = &st.root;
            let entries: Vec<Value> = def
                .processors
                .iter()
                .map(|p| json!({"name": p, "self_link": format!("{root}/+processors/{p}")}))
                .collect();
            ok_json(json!({"start": 0, "total_size": entries.len(), "entries": entries}))
        }
        (&Method::POST, ["+webhook", id], Some("setSecret")) => hooks::set_secret(st, req, id),
        (&Method::GET, [coll], None)
            if ["builds", "pending_builds", "completed_builds"].contains(coll) =>
        {
            builds::collection(st, req, &def, coll)
        }
        (&Method::GET, ["+build", id], None) => builds::look(st, &def, id),
        _ => text(
            StatusCode::BAD_REQUEST,
            format!("No such operation: {}", req.op.unwrap_or("")),
        ),
    }
}

/// PATCH of `store_channels` and/or `name`; anything else is read-only.
fn patch_snap(
    st: &mut Inner,
    who: Option<String>,
    def: &SnapDef,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    if who.is_none() {
        return text(
            StatusCode::UNAUTHORIZED,
            "(<Snap object>, 'store_channels', 'launchpad.Edit')",
        );
    }
    let key = format!("{}/{}", def.owner, def.name);
    let version = st.snap_edits.get(&key).map_or(0, |e| e.1);
    if let Some(etag) = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) {
        if !etag.trim_matches('"').ends_with(&format!("-w{version}")) {
            return text(StatusCode::PRECONDITION_FAILED, "");
        }
    }
    let Ok(changes) = serde_json::from_slice::<Value>(body) else {
        return text(
            StatusCode::BAD_REQUEST,
            "Expected a media type of application/json.",
        );
    };
    if let Some(refusal) = refuse(st, def, &changes) {
        return refusal;
    }
    let channels: Vec<String> = match changes.get("store_channels") {
        Some(c) => c
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        None => st
            .snap_edits
            .get(&key)
            .map_or_else(|| vec!["latest/edge".into()], |e| e.0.clone()),
    };
    st.snap_edits.insert(key, (channels, version + 1));
    st.writes.patches += 1;
    let new_name = changes.get("name").and_then(Value::as_str);
    if let Some(n) = new_name.filter(|n| *n != def.name) {
        // A new name is a new URL: Launchpad answers 301 with the new one.
        let moved = rename(st, def, n);
        let location = format!("{}/~{}/+snap/{}", st.root, moved.owner, moved.name);
        return (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, location)],
            "",
        )
            .into_response();
    }
    returned(snap_json(st, def))
}

/// Why Launchpad would refuse these changes, if it would: a read-only
/// field, an invalid name, or a name another of the owner's snaps has.
fn refuse(st: &Inner, def: &SnapDef, changes: &Value) -> Option<Response> {
    if let Some(k) = changes
        .as_object()
        .and_then(|o| o.keys().find(|k| *k != "store_channels" && *k != "name"))
    {
        return Some(text(
            StatusCode::BAD_REQUEST,
            format!("{k}: You tried to modify a read-only attribute."),
        ));
    }
    let n = changes.get("name").and_then(Value::as_str)?;
    let valid = !n.is_empty()
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        return Some(text(
            StatusCode::BAD_REQUEST,
            format!("name: Invalid name '{n}'."),
        ));
    }
    let taken = n != def.name
        && st
            .world
            .snaps
            .iter()
            .any(|d| d.owner == def.owner && d.name == n);
    taken.then(|| {
        text(
            StatusCode::BAD_REQUEST,
            "name: There is already a snap package with the same name and owner.",
        )
    })
}

/// Renames a snap and everything that refers to it by name.
fn rename(st: &mut Inner, def: &SnapDef, name: &str) -> SnapDef {
    let (old_key, new_key) = (
        format!("{}/{}", def.owner, def.name),
        format!("{}/{name}", def.owner),
    );
    if let Some(edits) = st.snap_edits.remove(&old_key) {
        st.snap_edits.insert(new_key, edits);
    }
    for b in st
        .builds
        .iter_mut()
        .filter(|b| b.owner == def.owner && b.snap == def.name)
    {
        b.snap = name.to_string();
    }
    for r in st
        .requests
        .iter_mut()
        .filter(|r| r.1 == def.owner && r.2 == def.name)
    {
        r.2 = name.to_string();
    }
    let (old_path, new_path) = (
        format!("/~{}/+snap/{}", def.owner, def.name),
        format!("/~{}/+snap/{name}", def.owner),
    );
    for h in st.hooks.iter_mut().filter(|h| h.target == old_path) {
        h.target = new_path.clone();
    }
    let mut moved = def.clone();
    moved.name = name.to_string();
    if let Some(d) = st
        .world
        .snaps
        .iter_mut()
        .find(|d| d.owner == def.owner && d.name == def.name)
    {
        *d = moved.clone();
    }
    moved
}
