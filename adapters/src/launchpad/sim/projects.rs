//! The simulated projects: series and their milestones — `getMilestone`,
//! `newMilestone` on a series, `createProductRelease` (once, dated in UTC),
//! and PATCH of `is_active` with `If-Match`. Only a project's drivers may
//! change them. A project's bug tasks are answered by `bugs`.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::bugs;
use super::responses::{content, created, ok_json, text};
use super::routes::Req;
use super::state::{Inner, MilestoneRec};
use super::world::ProjectDef;

/// `/project…`: milestones here, bug tasks in `bugs`.
pub(super) fn route(st: &mut Inner, req: &Req<'_>) -> Response {
    let name = req.segments[0].to_string();
    let Some(def) = st.world.projects.iter().find(|p| p.name == name).cloned() else {
        return text(
            StatusCode::NOT_FOUND,
            format!("Object: <root>, name: '{name}'"),
        );
    };
    let driver = req.who.as_ref().is_some_and(|w| def.drivers.contains(w));
    match (&req.method, &req.segments[1..], req.op) {
        (&Method::GET, [], Some("getMilestone")) => {
            let wanted = (req.param)("name").unwrap_or_default();
            match st
                .milestones
                .iter()
                .find(|m| m.project == name && m.name == wanted.trim_matches('"'))
            {
                Some(m) => ok_json(milestone_json(st, m)),
                None => ok_json(Value::Null),
            }
        }
        (&Method::GET, [], Some("searchTasks")) => bugs::search_tasks(st, req, &name),
        (&Method::GET, ["all_milestones"], None) => {
            let entries: Vec<Value> = st
                .milestones
                .iter()
                .filter(|m| m.project == name)
                .map(|m| milestone_json(st, m))
                .collect();
            ok_json(json!({ "start": 0, "total_size": entries.len(), "entries": entries }))
        }
        (&Method::POST, [series], Some("newMilestone")) => {
            new_milestone(st, req, &def, series, driver)
        }
        (_, ["+milestone", ms], _) => milestone(st, req, &name, ms, driver),
        (_, ["+bug", id], None) => bugs::task(st, req, &name, id, driver),
        _ => text(
            StatusCode::BAD_REQUEST,
            format!("No such operation: {}", req.op.unwrap_or("")),
        ),
    }
}

fn milestone_json(st: &Inner, m: &MilestoneRec) -> Value {
    let path = format!("/{}/+milestone/{}", m.project, m.name);
    json!({
        "self_link": format!("{}{path}", st.root), "name": m.name, "is_active": m.active,
        "series_target_link": format!("{}/{}/{}", st.root, m.project, m.series),
        "release_link": if m.released { json!(format!("{}/{}/{}/{}", st.root, m.project, m.series, m.name)) } else { Value::Null },
        "http_etag": st.etag(&path),
    })
}

/// `newMilestone` on a series: a valid name, not yet used in the project.
fn new_milestone(
    st: &mut Inner,
    req: &Req<'_>,
    def: &ProjectDef,
    series: &str,
    driver: bool,
) -> Response {
    let name = &def.name;
    if !def.series.iter().any(|s| s == series) {
        return text(
            StatusCode::NOT_FOUND,
            format!("No such product series: '{series}'."),
        );
    }
    if !driver {
        return text(
            StatusCode::UNAUTHORIZED,
            format!("(<ProductSeries '{series}'>, 'newMilestone', 'launchpad.Edit')"),
        );
    }
    let ms = (req.param)("name")
        .unwrap_or_default()
        .trim_matches('"')
        .to_string();
    let valid = ms.len() >= 2
        && ms
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+.-".contains(c));
    if !valid {
        return text(
            StatusCode::BAD_REQUEST,
            format!("name: Invalid name '{ms}'."),
        );
    }
    if st
        .milestones
        .iter()
        .any(|m| m.project == *name && m.name == ms)
    {
        return text(
            StatusCode::BAD_REQUEST,
            format!("name: The name {ms} is already used by a milestone in {name}."),
        );
    }
    st.milestones.push(MilestoneRec {
        project: name.clone(),
        series: series.to_string(),
        name: ms.clone(),
        active: true,
        released: false,
    });
    created(format!("{}/{name}/+milestone/{ms}", st.root))
}

/// `+milestone/NAME`: read it, release it, or PATCH `is_active`.
fn milestone(st: &mut Inner, req: &Req<'_>, name: &str, ms: &str, driver: bool) -> Response {
    let Some(i) = st
        .milestones
        .iter()
        .position(|x| x.project == name && x.name == ms)
    else {
        return text(
            StatusCode::NOT_FOUND,
            format!("Object: <Product '{name}'>, name: '+milestone/{ms}'"),
        );
    };
    match (&req.method, req.op) {
        (&Method::GET, None) => ok_json(milestone_json(st, &st.milestones[i])),
        (&Method::POST, Some("createProductRelease")) if !driver => text(
            StatusCode::UNAUTHORIZED,
            "(<Milestone>, 'createProductRelease', 'launchpad.Edit')",
        ),
        (&Method::POST, Some("createProductRelease")) => release(st, req, i),
        (&Method::PATCH, None) if !driver => text(
            StatusCode::UNAUTHORIZED,
            "(<Milestone>, 'is_active', 'launchpad.Edit')",
        ),
        (&Method::PATCH, None) => set_active(st, req, i),
        _ => text(StatusCode::BAD_REQUEST, "No such operation"),
    }
}

/// `createProductRelease`: once per milestone, dated in UTC.
fn release(st: &mut Inner, req: &Req<'_>, i: usize) -> Response {
    let date = (req.param)("date_released").unwrap_or_default();
    if !(date.ends_with('Z') || date.ends_with("+00:00")) {
        return text(StatusCode::BAD_REQUEST, "date_released: Time not in UTC.");
    }
    if st.milestones[i].released {
        return text(
            StatusCode::BAD_REQUEST,
            "A milestone can only have one ProductRelease.",
        );
    }
    st.milestones[i].released = true;
    let m = &st.milestones[i];
    let location = format!("{}/{}/{}/{}", st.root, m.project, m.series, m.name);
    created(location)
}

/// PATCH `is_active`, with `If-Match`.
fn set_active(st: &mut Inner, req: &Req<'_>, i: usize) -> Response {
    let m = &st.milestones[i];
    let path = format!("/{}/+milestone/{}", m.project, m.name);
    if st.stale(&path, req.headers) {
        return text(StatusCode::PRECONDITION_FAILED, "");
    }
    let Some(active) = serde_json::from_slice::<Value>(req.body)
        .ok()
        .and_then(|v| v["is_active"].as_bool())
    else {
        return text(
            StatusCode::BAD_REQUEST,
            "is_active: Required input is missing.",
        );
    };
    st.milestones[i].active = active;
    st.patched(&path);
    let v = milestone_json(st, &st.milestones[i]);
    content(st, &path, v)
}
