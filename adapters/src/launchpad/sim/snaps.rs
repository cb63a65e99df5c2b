//! The simulated snap side: entries, `requestBuild`, PATCH with `If-Match`.

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::{text, Build, Inner, SimHook, SnapDef, BUILD_STATES};

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
        "distro_series_link": format!("{}/ubuntu/{}", st.root, d.series),
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
    let upload = match (b.stage, b.fails, b.upload) {
        (_, true, _) | (_, _, false) => "Unscheduled",
        (0..=2, _, _) => "Pending",
        _ => "Uploaded",
    };
    json!({
        "self_link": format!("{root}/~{}/+snap/{}/+build/{}", d.owner, d.name, b.id),
        "web_link": format!("https://launchpad.net/~{}/+snap/{}/+build/{}", d.owner, d.name, b.id),
        "arch_tag": b.arch, "distro_arch_series_link": format!("{root}/ubuntu/{}/{}", d.series, b.arch),
        "buildstate": state, "store_upload_status": upload, "build_request_link": null,
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
    let arch = param("distro_arch_series")
        .and_then(|d| d.rsplit('/').next().map(str::to_string))
        .unwrap_or_default();
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
        .and_then(|o| o.keys().find(|k| *k != "store_channels"))
    {
        return text(
            StatusCode::BAD_REQUEST,
            format!("{k}: You tried to modify a read-only attribute."),
        );
    }
    let channels: Vec<String> = changes["store_channels"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    st.snap_edits.insert(key, (channels, version + 1));
    st.writes.patches += 1;
    let v = snap_json(st, def);
    (
        StatusCode::from_u16(209).unwrap_or(StatusCode::OK),
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
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
