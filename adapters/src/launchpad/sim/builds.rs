//! The simulated snap builds: `requestBuild` (one arch) and
//! `requestBuilds` (every processor, through a build request that makes
//! its builds when first looked at), the build collections, and one build,
//! which moves one state on each time it is read — time passes when you
//! look — through the build and then the store upload.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::responses::{created, ok_json, page, text};
use super::routes::Req;
use super::state::{Build, Inner, BUILD_STATES};
use super::world::SnapDef;

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
    let id = st.new_id();
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
    created(format!("{base}/+build/{id}"))
}

/// `requestBuilds`: a build request for every processor; its builds are
/// made when it is first looked at.
pub(super) fn request_builds(
    st: &mut Inner,
    who: Option<String>,
    def: &SnapDef,
    base: &str,
) -> Response {
    if who.is_none() {
        return text(
            StatusCode::UNAUTHORIZED,
            "(<Snap object>, 'requestBuilds', 'launchpad.Edit')",
        );
    }
    let id = st.new_id();
    st.requests
        .push((id, def.owner.clone(), def.name.clone(), false));
    st.writes.builds.push((def.name.clone(), "*".into()));
    created(format!("{base}/+build-request/{id}"))
}

/// `+build-request/ID` (always Completed) and its `builds`.
pub(super) fn build_request(
    st: &mut Inner,
    req: &Req<'_>,
    def: &SnapDef,
    id: &str,
    rest: &[&str],
) -> Response {
    let Some(i) = st.requests.iter().position(|r| r.0.to_string() == id) else {
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
            let bid = st.new_id();
            let fails = def.failing.contains(&arch);
            st.builds.push(Build {
                id: bid,
                owner: def.owner.clone(),
                snap: def.name.clone(),
                series: def.build_series(),
                arch,
                stage: 0,
                fails,
                upload: def.store_upload,
                request: Some(rid),
            });
        }
    }
    let base = req.base;
    if rest == ["builds"] {
        let entries: Vec<Value> = st
            .builds
            .iter()
            .filter(|b| b.request == Some(rid))
            .map(|b| build_json(&st.root, def, b))
            .collect();
        return ok_json(page(entries, req.query, base));
    }
    ok_json(
        json!({ "self_link": base, "status": "Completed", "error_message": null, "builds_collection_link": format!("{base}/builds") }),
    )
}

/// `builds`, `pending_builds` or `completed_builds` of a snap.
pub(super) fn collection(st: &Inner, req: &Req<'_>, def: &SnapDef, coll: &str) -> Response {
    let mut builds: Vec<&Build> = st
        .builds
        .iter()
        .filter(|b| b.owner == def.owner && b.snap == def.name)
        .filter(|b| match coll {
            "pending_builds" => b.stage < 2,
            "completed_builds" => b.stage >= 2,
            _ => true,
        })
        .collect();
    // As Launchpad orders `builds` (newest started or finished
    // first, builds not yet started *last*): a queued build is
    // past the first page of a snap with many builds.
    builds.sort_by_key(|b| (b.stage == 0, std::cmp::Reverse(b.id)));
    let entries: Vec<Value> = builds
        .iter()
        .map(|b| build_json(&st.root, def, b))
        .collect();
    ok_json(page(entries, req.query, req.base))
}

/// `+build/ID`: the build, one state further on (unless builds are frozen).
pub(super) fn look(st: &mut Inner, def: &SnapDef, id: &str) -> Response {
    let root = st.root.clone();
    let frozen = st.frozen;
    let Some(b) = st
        .builds
        .iter_mut()
        .find(|b| b.id.to_string() == id && b.snap == def.name)
    else {
        return text(StatusCode::NOT_FOUND, format!("Object: snap, name: '{id}'"));
    };
    if !frozen {
        b.stage += 1;
    }
    ok_json(build_json(&root, def, b))
}
