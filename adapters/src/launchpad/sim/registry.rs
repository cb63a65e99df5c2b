//! The simulated registry side: a project with series, milestones and
//! releases, bug tasks and bugs (shared reference launchpad-api, §5–§6).

use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::{ok_json, text, Inner};

#[derive(Debug, Clone)]
pub struct ProjectDef {
    pub name: String,
    pub series: Vec<String>,
    /// Who may create milestones, release, and edit tasks.
    pub drivers: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct TaskDef {
    pub project: String,
    pub status: String,
    pub importance: String,
    pub milestone: Option<String>,
}

#[derive(Debug, Clone)]
pub struct BugDef {
    pub id: u64,
    pub title: String,
    pub tags: Vec<String>,
    pub tasks: Vec<TaskDef>,
}

#[derive(Debug, Clone)]
pub(super) struct MilestoneRec {
    project: String,
    series: String,
    name: String,
    active: bool,
    released: bool,
}

const UNRESOLVED: &[&str] = &[
    "New",
    "Incomplete",
    "Confirmed",
    "Triaged",
    "In Progress",
    "Deferred",
    "Fix Committed",
];

fn etag(st: &Inner, path: &str) -> String {
    format!("\"r-w{}\"", st.versions.get(path).copied().unwrap_or(0))
}

/// 412 unless `If-Match` (when sent) matches the entity's current write part.
fn stale(st: &Inner, path: &str, headers: &HeaderMap) -> bool {
    headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|sent| sent != etag(st, path))
}

fn bump(st: &mut Inner, path: &str) {
    *st.versions.entry(path.to_string()).or_default() += 1;
}

fn content(st: &Inner, path: &str, v: Value) -> Response {
    let mut v = v;
    v["http_etag"] = json!(etag(st, path));
    (
        StatusCode::from_u16(209).unwrap_or(StatusCode::OK),
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

fn milestone_json(st: &Inner, m: &MilestoneRec) -> Value {
    let path = format!("/{}/+milestone/{}", m.project, m.name);
    json!({
        "self_link": format!("{}{path}", st.root), "name": m.name, "is_active": m.active,
        "series_target_link": format!("{}/{}/{}", st.root, m.project, m.series),
        "release_link": if m.released { json!(format!("{}/{}/{}/{}", st.root, m.project, m.series, m.name)) } else { Value::Null },
        "http_etag": etag(st, &path),
    })
}

fn task_json(st: &Inner, bug: &BugDef, t: &TaskDef) -> Value {
    let path = format!("/{}/+bug/{}", t.project, bug.id);
    json!({
        "self_link": format!("{}{path}", st.root), "bug_link": format!("{}/bugs/{}", st.root, bug.id),
        "status": t.status, "importance": t.importance, "title": bug.title,
        "milestone_link": t.milestone.as_ref().map(|m| format!("{}/{}/+milestone/{m}", st.root, t.project)),
        "http_etag": etag(st, &path),
    })
}

#[allow(clippy::too_many_arguments)]
pub(super) fn project(
    st: &mut Inner,
    method: &Method,
    segments: &[&str],
    op: Option<&str>,
    param: &dyn Fn(&str) -> Option<String>,
    headers: &HeaderMap,
    body: &[u8],
    who: Option<String>,
) -> Response {
    let name = segments[0].to_string();
    let Some(def) = st.world.projects.iter().find(|p| p.name == name).cloned() else {
        return text(
            StatusCode::NOT_FOUND,
            format!("Object: <root>, name: '{name}'"),
        );
    };
    let driver = who.as_ref().is_some_and(|w| def.drivers.contains(w));
    let list = |k: &str| -> Vec<String> {
        param(k)
            .map(|v| serde_json::from_str::<Vec<String>>(&v).unwrap_or_else(|_| vec![v]))
            .unwrap_or_default()
    };
    match (method.clone(), &segments[1..], op) {
        (Method::GET, [], Some("getMilestone")) => {
            let wanted = param("name").unwrap_or_default();
            match st
                .milestones
                .iter()
                .find(|m| m.project == name && m.name == wanted.trim_matches('"'))
            {
                Some(m) => ok_json(milestone_json(st, m)),
                None => ok_json(Value::Null),
            }
        }
        (Method::GET, [], Some("searchTasks")) => {
            let statuses = list("status");
            let tags = list("tags");
            let milestone =
                param("milestone").and_then(|m| m.rsplit('/').next().map(str::to_string));
            let mut entries = Vec::new();
            for bug in &st.world.bugs {
                for t in bug.tasks.iter().filter(|t| t.project == name) {
                    let status_ok = if statuses.is_empty() {
                        UNRESOLVED.contains(&t.status.as_str())
                    } else {
                        statuses.contains(&t.status)
                    };
                    let tags_ok = tags.is_empty() || tags.iter().any(|x| bug.tags.contains(x));
                    let ms_ok = milestone
                        .as_ref()
                        .is_none_or(|m| t.milestone.as_ref() == Some(m));
                    if status_ok && tags_ok && ms_ok {
                        entries.push(task_json(st, bug, t));
                    }
                }
            }
            ok_json(json!({ "start": 0, "total_size": entries.len(), "entries": entries }))
        }
        (Method::POST, [series], Some("newMilestone")) => {
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
            let ms = param("name")
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
                .any(|m| m.project == name && m.name == ms)
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
            (
                StatusCode::CREATED,
                [(
                    header::LOCATION,
                    format!("{}/{name}/+milestone/{ms}", st.root),
                )],
                "",
            )
                .into_response()
        }
        (m, ["+milestone", ms], op) => {
            let path = format!("/{name}/+milestone/{ms}");
            let Some(i) = st
                .milestones
                .iter()
                .position(|x| x.project == name && x.name == *ms)
            else {
                return text(
                    StatusCode::NOT_FOUND,
                    format!("Object: <Product '{name}'>, name: '+milestone/{ms}'"),
                );
            };
            match (m, op) {
                (Method::GET, None) => ok_json(milestone_json(st, &st.milestones[i])),
                (Method::POST, Some("createProductRelease")) if !driver => text(
                    StatusCode::UNAUTHORIZED,
                    "(<Milestone>, 'createProductRelease', 'launchpad.Edit')",
                ),
                (Method::POST, Some("createProductRelease")) => {
                    let date = param("date_released").unwrap_or_default();
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
                    (StatusCode::CREATED, [(header::LOCATION, location)], "").into_response()
                }
                (Method::PATCH, None) => {
                    if !driver {
                        return text(
                            StatusCode::UNAUTHORIZED,
                            "(<Milestone>, 'is_active', 'launchpad.Edit')",
                        );
                    }
                    if stale(st, &path, headers) {
                        return text(StatusCode::PRECONDITION_FAILED, "");
                    }
                    let Some(active) = serde_json::from_slice::<Value>(body)
                        .ok()
                        .and_then(|v| v["is_active"].as_bool())
                    else {
                        return text(
                            StatusCode::BAD_REQUEST,
                            "is_active: Required input is missing.",
                        );
                    };
                    st.milestones[i].active = active;
                    bump(st, &path);
                    st.writes.patches += 1;
                    let v = milestone_json(st, &st.milestones[i]);
                    content(st, &path, v)
                }
                _ => text(StatusCode::BAD_REQUEST, "No such operation"),
            }
        }
        (m, ["+bug", id], None) => {
            let path = format!("/{name}/+bug/{id}");
            let Some(bi) = st.world.bugs.iter().position(|b| b.id.to_string() == *id) else {
                return text(
                    StatusCode::NOT_FOUND,
                    format!("Object: <Product '{name}'>, name: '+bug/{id}'"),
                );
            };
            let Some(ti) = st.world.bugs[bi]
                .tasks
                .iter()
                .position(|t| t.project == name)
            else {
                return text(
                    StatusCode::NOT_FOUND,
                    format!("No task on {name} for bug {id}."),
                );
            };
            if m == Method::GET {
                return ok_json(task_json(
                    st,
                    &st.world.bugs[bi],
                    &st.world.bugs[bi].tasks[ti],
                ));
            }
            if !driver {
                return text(
                    StatusCode::UNAUTHORIZED,
                    "User does not have sufficient permissions to edit the bug task milestone.",
                );
            }
            if stale(st, &path, headers) {
                return text(StatusCode::PRECONDITION_FAILED, "");
            }
            let Ok(changes) = serde_json::from_slice::<Value>(body) else {
                return text(
                    StatusCode::BAD_REQUEST,
                    "Expected a media type of application/json.",
                );
            };
            if let Some(s) = changes.get("status").and_then(Value::as_str) {
                st.world.bugs[bi].tasks[ti].status = s.to_string();
            }
            if let Some(ms) = changes.get("milestone_link") {
                st.world.bugs[bi].tasks[ti].milestone = ms
                    .as_str()
                    .and_then(|l| l.rsplit('/').next())
                    .map(str::to_string);
            }
            bump(st, &path);
            st.writes.patches += 1;
            let v = task_json(st, &st.world.bugs[bi], &st.world.bugs[bi].tasks[ti]);
            content(st, &path, v)
        }
        _ => text(
            StatusCode::BAD_REQUEST,
            format!("No such operation: {}", op.unwrap_or("")),
        ),
    }
}

pub(super) fn bug(
    st: &mut Inner,
    method: &Method,
    id: &str,
    headers: &HeaderMap,
    body: &[u8],
    who: Option<String>,
) -> Response {
    let path = format!("/bugs/{id}");
    let Some(bi) = st.world.bugs.iter().position(|b| b.id.to_string() == id) else {
        return text(
            StatusCode::NOT_FOUND,
            format!("Object: <BugSet>, name: '{id}'"),
        );
    };
    let entry = |st: &Inner| {
        let b = &st.world.bugs[bi];
        json!({ "self_link": format!("{}{path}", st.root), "id": b.id, "title": b.title, "tags": b.tags, "http_etag": etag(st, &path) })
    };
    if *method == Method::GET {
        return ok_json(entry(st));
    }
    if who.is_none() {
        return text(
            StatusCode::UNAUTHORIZED,
            "(<Bug>, 'tags', 'launchpad.Edit')",
        );
    }
    if stale(st, &path, headers) {
        return text(StatusCode::PRECONDITION_FAILED, "");
    }
    let tags: Vec<String> = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| serde_json::from_value(v["tags"].clone()).ok())
        .unwrap_or_default();
    if let Some(bad) = tags.iter().find(|t| {
        !t.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+.-".contains(c))
    }) {
        return text(
            StatusCode::BAD_REQUEST,
            format!("tags: '{bad}' is not a valid tag name."),
        );
    }
    st.world.bugs[bi].tags = tags;
    bump(st, &path);
    st.writes.patches += 1;
    let v = entry(st);
    content(st, &path, v)
}
