//! The simulated bugs: a project's bug tasks (`searchTasks`, where no
//! status means unresolved only, and PATCH of a task's status or milestone
//! by the project's drivers) and bugs themselves (PATCH of the whole tag
//! list). Every PATCH checks `If-Match`.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::responses::{content, ok_json, text};
use super::routes::Req;
use super::state::Inner;
use super::world::{BugDef, TaskDef};

/// What `searchTasks` returns when no status is asked for.
const UNRESOLVED: &[&str] = &[
    "New",
    "Incomplete",
    "Confirmed",
    "Triaged",
    "In Progress",
    "Deferred",
    "Fix Committed",
];

fn task_json(st: &Inner, bug: &BugDef, t: &TaskDef) -> Value {
    let path = format!("/{}/+bug/{}", t.project, bug.id);
    json!({
        "self_link": format!("{}{path}", st.root), "bug_link": format!("{}/bugs/{}", st.root, bug.id),
        "status": t.status, "importance": t.importance, "title": bug.title,
        "milestone_link": t.milestone.as_ref().map(|m| format!("{}/{}/+milestone/{m}", st.root, t.project)),
        "http_etag": st.etag(&path),
    })
}

/// `searchTasks` on a project: by status, any of the tags, and milestone.
pub(super) fn search_tasks(st: &Inner, req: &Req<'_>, project: &str) -> Response {
    let list = |k: &str| -> Vec<String> {
        (req.param)(k)
            .map(|v| serde_json::from_str::<Vec<String>>(&v).unwrap_or_else(|_| vec![v]))
            .unwrap_or_default()
    };
    let statuses = list("status");
    let tags = list("tags");
    let milestone = (req.param)("milestone").and_then(|m| m.rsplit('/').next().map(str::to_string));
    let mut entries = Vec::new();
    for bug in &st.world.bugs {
        for t in bug.tasks.iter().filter(|t| t.project == project) {
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

/// `/project/+bug/ID`: the bug's task on the project; a driver may PATCH
/// its status and milestone.
pub(super) fn task(
    st: &mut Inner,
    req: &Req<'_>,
    project: &str,
    id: &str,
    driver: bool,
) -> Response {
    let path = format!("/{project}/+bug/{id}");
    let Some(bi) = st.world.bugs.iter().position(|b| b.id.to_string() == id) else {
        return text(
            StatusCode::NOT_FOUND,
            format!("Object: <Product '{project}'>, name: '+bug/{id}'"),
        );
    };
    let Some(ti) = st.world.bugs[bi]
        .tasks
        .iter()
        .position(|t| t.project == project)
    else {
        return text(
            StatusCode::NOT_FOUND,
            format!("No task on {project} for bug {id}."),
        );
    };
    if req.method == Method::GET {
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
    if st.locked_bugs.contains(&st.world.bugs[bi].id) {
        return text(
            StatusCode::UNAUTHORIZED,
            "This bug is locked: only its project's security contacts may edit it.",
        );
    }
    if st.stale(&path, req.headers) {
        return text(StatusCode::PRECONDITION_FAILED, "");
    }
    let Ok(changes) = serde_json::from_slice::<Value>(req.body) else {
        return text(
            StatusCode::BAD_REQUEST,
            "Expected a media type of application/json.",
        );
    };
    let task = &mut st.world.bugs[bi].tasks[ti];
    if let Some(s) = changes.get("status").and_then(Value::as_str) {
        task.status = s.to_string();
    }
    if let Some(ms) = changes.get("milestone_link") {
        task.milestone = ms
            .as_str()
            .and_then(|l| l.rsplit('/').next())
            .map(str::to_string);
    }
    st.patched(&path);
    let v = task_json(st, &st.world.bugs[bi], &st.world.bugs[bi].tasks[ti]);
    content(st, &path, v)
}

/// `/bugs/ID`: the bug; anyone logged in may PATCH its tags (the whole list).
pub(super) fn bug(st: &mut Inner, req: &Req<'_>, id: &str) -> Response {
    let path = format!("/bugs/{id}");
    let Some(bi) = st.world.bugs.iter().position(|b| b.id.to_string() == id) else {
        return text(
            StatusCode::NOT_FOUND,
            format!("Object: <BugSet>, name: '{id}'"),
        );
    };
    let entry = |st: &Inner| {
        let b = &st.world.bugs[bi];
        json!({ "self_link": format!("{}{path}", st.root), "id": b.id, "title": b.title, "tags": b.tags, "http_etag": st.etag(&path) })
    };
    if req.method == Method::GET {
        return ok_json(entry(st));
    }
    if req.who.is_none() {
        return text(
            StatusCode::UNAUTHORIZED,
            "(<Bug>, 'tags', 'launchpad.Edit')",
        );
    }
    if st.stale(&path, req.headers) {
        return text(StatusCode::PRECONDITION_FAILED, "");
    }
    let tags: Vec<String> = serde_json::from_slice::<Value>(req.body)
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
    st.patched(&path);
    let v = entry(st);
    content(st, &path, v)
}
