//! The simulated snap side: entries, `requestBuild`, PATCH with `If-Match`.

use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::{ok_json, page, text, Build, Inner, Req, SimHook, SnapDef, BUILD_STATES};

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
        "completed_builds_collection_link": format!("{base}/completed_builds"),
    })
}

pub(super) fn build_json(root: &str, d: &SnapDef, b: &Build) -> Value {
    let state = match BUILD_STATES.get(b.stage) {
        Some(s) => *s,
        None if b.fails => "Failed to build",
        None => "Successfully built",
    };
    let upload_fails = d.failing_uploads.contains(&b.arch);
    let upload = match (b.stage, b.fails, b.upload) {
        (_, true, _) | (_, _, false) => "Unscheduled",
        (0..=2, _, _) => "Pending",
        _ if upload_fails => "Failed to upload",
        _ => "Uploaded",
    };
    let upload_error = (upload == "Failed to upload")
        .then_some("Binary upload failed: the store rejected the snap (review required).");
    json!({
        "self_link": format!("{root}/~{}/+snap/{}/+build/{}", d.owner, d.name, b.id),
        "web_link": format!("https://launchpad.net/~{}/+snap/{}/+build/{}", d.owner, d.name, b.id),
        "arch_tag": b.arch, "distro_arch_series_link": format!("{root}/ubuntu/{}/{}", b.series, b.arch),
        "buildstate": state, "store_upload_status": upload, "build_request_link": null,
        "store_upload_error_message": upload_error,
        "datecreated": format!("2026-11-20T10:{:02}:00+00:00", b.id % 60),
    })
}

pub(super) fn request_build(
    st: &mut Inner,
    who: Option<String>,
    def: &SnapDef,
    param: &dyn Fn(&str) -> Option<String>,
    base: &str,
) -> Response {
    if who.is_none() {
        return text(
            StatusCode::UNAUTHORIZED,
            "(<Snap object>, 'requestBuild', 'launchpad.Edit')",
        );
    }
    // `…/ubuntu/SERIES/ARCH`, as a full API URL.
    let das = param("distro_arch_series").unwrap_or_default();
    let mut parts = das.trim_end_matches('/').rsplit('/');
    let arch = parts.next().unwrap_or_default().to_string();
    let series = parts.next().unwrap_or_default().to_string();
    if series.is_empty() || parts.next() != Some("ubuntu") {
        return text(
            StatusCode::BAD_REQUEST,
            format!("distro_arch_series: invalid value '{das}'"),
        );
    }
    if !def.processors.contains(&arch) {
        return text(
            StatusCode::BAD_REQUEST,
            format!("distro_arch_series: {arch} is not enabled for this snap package."),
        );
    }
    if st
        .builds
        .iter()
        .any(|b| b.snap == def.name && b.owner == def.owner && b.arch == arch && b.stage < 2)
    {
        return text(
            StatusCode::BAD_REQUEST,
            "An identical build of this snap package is already pending.",
        );
    }
    st.next_id += 1;
    let id = st.next_id;
    st.builds.push(Build {
        id,
        owner: def.owner.clone(),
        snap: def.name.clone(),
        series,
        arch: arch.clone(),
        stage: 0,
        fails: def.failing.contains(&arch),
        upload: def.store_upload,
        request: None,
    });
    st.writes.builds.push((def.name.clone(), arch));
    (
        StatusCode::CREATED,
        [(header::LOCATION, format!("{base}/+build/{id}"))],
        "",
    )
        .into_response()
}

pub(super) fn patch_snap(
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
    if let Some(k) = changes
        .as_object()
        .and_then(|o| o.keys().find(|k| *k != "store_channels" && *k != "name"))
    {
        return text(
            StatusCode::BAD_REQUEST,
            format!("{k}: You tried to modify a read-only attribute."),
        );
    }
    let new_name = changes.get("name").and_then(Value::as_str);
    if let Some(n) = new_name {
        let valid = !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid {
            return text(
                StatusCode::BAD_REQUEST,
                format!("name: Invalid name '{n}'."),
            );
        }
        if n != def.name
            && st
                .world
                .snaps
                .iter()
                .any(|d| d.owner == def.owner && d.name == n)
        {
            return text(
                StatusCode::BAD_REQUEST,
                "name: There is already a snap package with the same name and owner.",
            );
        }
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
    let v = snap_json(st, def);
    (
        StatusCode::from_u16(209).unwrap_or(StatusCode::OK),
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
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

pub(super) fn new_webhook(
    st: &mut Inner,
    who: Option<String>,
    target: &str,
    param: &dyn Fn(&str) -> Option<String>,
    base: &str,
) -> Response {
    if who.is_none() {
        return text(
            StatusCode::UNAUTHORIZED,
            "(<Snap object>, 'newWebhook', 'launchpad.Edit')",
        );
    }
    let Some(url) =
        param("delivery_url").filter(|u| u.starts_with("http://") || u.starts_with("https://"))
    else {
        return text(
            StatusCode::BAD_REQUEST,
            "delivery_url: Only http and https URIs may be used.",
        );
    };
    let events: Vec<String> = param("event_types")
        .and_then(|e| serde_json::from_str(&e).ok())
        .unwrap_or_default();
    if let Some(bad) = events.iter().find(|e| e.as_str() != "snap:build:0.1") {
        return text(
            StatusCode::BAD_REQUEST,
            format!("event_types: Invalid value '{bad}'"),
        );
    }
    st.next_id += 1;
    let id = st.next_id;
    st.hooks.push(SimHook {
        target: target.to_string(),
        id,
        delivery_url: url,
        event_types: events,
        secret: param("secret")
            .unwrap_or_default()
            .trim_matches('"')
            .to_string(),
    });
    (
        StatusCode::CREATED,
        [(header::LOCATION, format!("{base}/+webhook/{id}"))],
        "",
    )
        .into_response()
}

/// `/~owner/+snap/name/…`: the entry, builds, build requests, webhooks, PATCH.
pub(super) fn route(
    st: &mut Inner,
    req: &Req<'_>,
    owner: &str,
    name: &str,
    rest: &[&str],
) -> Response {
    let (method, op, param, query, base, path, headers, body, who) = (
        req.method.clone(),
        req.op,
        req.param,
        req.query,
        req.base,
        req.path,
        req.headers,
        req.body,
        req.who.clone(),
    );

    let owner = owner.trim_start_matches('~').to_string();
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
    match (method, rest, op) {
        (Method::GET, [], None) => ok_json(snap_json(st, &def)),
        (Method::PATCH, [], None) => patch_snap(st, who, &def, headers, body),
        (Method::POST, [], Some("requestBuild")) => request_build(st, who, &def, &param, base),
        (Method::POST, [], Some("requestBuilds")) => {
            if who.is_none() {
                return text(
                    StatusCode::UNAUTHORIZED,
                    "(<Snap object>, 'requestBuilds', 'launchpad.Edit')",
                );
            }
            st.next_id += 1;
            let id = st.next_id;
            st.requests
                .push((id, def.owner.clone(), def.name.clone(), false));
            st.writes.builds.push((def.name.clone(), "*".into()));
            (
                StatusCode::CREATED,
                [(header::LOCATION, format!("{base}/+build-request/{id}"))],
                "",
            )
                .into_response()
        }
        (Method::GET, ["+build-request", id, rest @ ..], None) => {
            let Some(i) = st.requests.iter().position(|r| r.0.to_string() == *id) else {
                return text(
                    StatusCode::NOT_FOUND,
                    format!("Object: snap, name: '+build-request/{id}'"),
                );
            };
            let rid = st.requests[i].0;
            // The first look completes the request: one build per processor.
            if !st.requests[i].3 {
                st.requests[i].3 = true;
                for arch in def.processors.clone() {
                    st.next_id += 1;
                    let bid = st.next_id;
                    let fails = def.failing.contains(&arch);
                    st.builds.push(Build {
                        id: bid,
                        owner: def.owner.clone(),
                        snap: def.name.clone(),
                        series: super::snap_series(&def),
                        arch,
                        stage: 0,
                        fails,
                        upload: def.store_upload,
                        request: Some(rid),
                    });
                }
            }
            let root = st.root.clone();
            if rest == ["builds"] {
                let entries: Vec<Value> = st
                    .builds
                    .iter()
                    .filter(|b| b.request == Some(rid))
                    .map(|b| build_json(&root, &def, b))
                    .collect();
                return ok_json(page(entries, query, base));
            }
            ok_json(
                json!({ "self_link": base, "status": "Completed", "error_message": null, "builds_collection_link": format!("{base}/builds") }),
            )
        }
        (Method::POST, [], Some("newWebhook")) => new_webhook(st, who, path, &param, base),
        (Method::GET, ["webhooks"], None) => {
            let target = path.trim_end_matches("/webhooks").to_string();
            let entries = st
                        .hooks
                        .iter()
                        .filter(|h| h.target == target)
                        .map(|h| json!({
                            "self_link": format!("{}{target}/+webhook/{}", st.root, h.id),
                            "delivery_url": h.delivery_url, "event_types": h.event_types, "active": true,
                        }))
                        .collect();
            ok_json(page(entries, query, base))
        }
        (Method::POST, ["+webhook", id], Some("setSecret")) => {
            let target = path.split("/+webhook/").next().unwrap_or("").to_string();
            match (
                who,
                st.hooks
                    .iter_mut()
                    .find(|h| h.target == target && h.id.to_string() == *id),
            ) {
                (None, _) => text(
                    StatusCode::UNAUTHORIZED,
                    "(<Webhook object>, 'setSecret', 'launchpad.Edit')",
                ),
                (_, None) => text(
                    StatusCode::NOT_FOUND,
                    format!("Object: webhook, name: '{id}'"),
                ),
                (Some(_), Some(h)) => {
                    h.secret = param("secret")
                        .unwrap_or_default()
                        .trim_matches('"')
                        .to_string();
                    ok_json(Value::Null)
                }
            }
        }
        (Method::GET, [coll], None)
            if ["builds", "pending_builds", "completed_builds"].contains(coll) =>
        {
            let root = st.root.clone();
            let mut builds: Vec<&Build> = st
                .builds
                .iter()
                .filter(|b| b.owner == def.owner && b.snap == def.name)
                .filter(|b| match *coll {
                    "pending_builds" => b.stage < 2,
                    "completed_builds" => b.stage >= 2,
                    _ => true,
                })
                .collect();
            // As Launchpad orders `builds` (newest started or finished
            // first, builds not yet started *last*): a queued build is
            // past the first page of a snap with many builds.
            builds.sort_by_key(|b| (b.stage == 0, std::cmp::Reverse(b.id)));
            let entries: Vec<Value> = builds.iter().map(|b| build_json(&root, &def, b)).collect();
            ok_json(page(entries, query, base))
        }
        (Method::GET, ["+build", id], None) => {
            let root = st.root.clone();
            let frozen = st.frozen;
            let Some(b) = st
                .builds
                .iter_mut()
                .find(|b| b.id.to_string() == *id && b.snap == def.name)
            else {
                return text(StatusCode::NOT_FOUND, format!("Object: snap, name: '{id}'"));
            };
            if !frozen {
                b.stage += 1;
            }
            ok_json(build_json(&root, &def, b))
        }
        _ => text(
            StatusCode::BAD_REQUEST,
            format!("No such operation: {}", op.unwrap_or("")),
        ),
    }
}
