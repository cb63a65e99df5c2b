//! Reading a request and choosing who answers it: injected trouble and
//! latency first, then the OAuth header (PLAINTEXT only; an unknown token is
//! a 401, none is anonymous), the named operation and its parameters (from
//! the query, and for a POST the form body), and the path, whose shape
//! names the subject: a PPA, a snap, a person, a bug or a project.

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::faults::{self, Received, Trouble};
use super::responses::{ok_json, text};
use super::state::{lock, Inner, Shared};
use super::{archive, bugs, projects, snaps};
use crate::wire::form::{parse_query, unquote_plus};

/// One request, as the handlers read it.
pub(super) struct Req<'a> {
    pub method: Method,
    /// `ws.op`: the named operation, if any.
    pub op: Option<&'a str>,
    /// The first value of a parameter.
    pub param: &'a dyn Fn(&str) -> Option<String>,
    pub query: &'a [(String, String)],
    /// The URL asked for, without its query.
    pub base: &'a str,
    /// The path under the service root, e.g. `/~o/+snap/s/builds`.
    pub path: &'a str,
    pub segments: &'a [&'a str],
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// Whose token signed it; `None`: anonymous.
    pub who: Option<String>,
}

pub(super) async fn handle(
    State(s): State<Shared>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(answer) = trouble(&s, &method, uri.path(), &headers).await {
        return answer;
    }
    let mut st = lock(&s);
    let who = match user(&st, &headers) {
        Ok(u) => u,
        Err(r) => return *r,
    };
    let Some(path) = uri.path().strip_prefix("/devel") else {
        return text(StatusCode::NOT_FOUND, "Unknown API version");
    };
    // Paths keep their `+` (`/+archive/`, `/+snap/`): only `%7E` needs decoding.
    let path = path.replace("%7E", "~").replace("%7e", "~");
    let mut query = parse_query(uri.query().unwrap_or(""));
    if method == Method::POST {
        query.extend(parse_query(&String::from_utf8_lossy(&body)));
    }
    let param = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let op = param("ws.op");
    let base = format!("{}{}", st.root, path);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let req = Req {
        method,
        op: op.as_deref(),
        param: &param,
        query: &query,
        base: &base,
        path: &path,
        segments: &segments,
        headers: &headers,
        body: &body,
        who,
    };
    route(&mut st, &req)
}

/// Logs the request, waits out the latency and any delay injected for it,
/// and gives the answer injected instead of the real one, if any.
async fn trouble(s: &Shared, method: &Method, path: &str, headers: &HeaderMap) -> Option<Response> {
    let (latency, trouble) = {
        let mut st = lock(s);
        st.received.push(Received::new(method, path, headers));
        let injected = faults::take(&mut st.faults, method);
        (st.latency, injected.or_else(|| faults::at_random(&st)))
    };
    let delay = match &trouble {
        Some(Trouble::Slow(d)) => latency + *d,
        _ => latency,
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    trouble.as_ref().and_then(faults::answer)
}

/// The user behind the request's OAuth header: `Ok(None)` = anonymous.
fn user(st: &Inner, headers: &HeaderMap) -> Result<Option<String>, Box<Response>> {
    let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    let field = |name: &str| {
        auth.split(',').find_map(|kv| {
            let (k, v) = kv.trim().trim_start_matches("OAuth ").split_once('=')?;
            (k.trim() == name).then(|| unquote_plus(v.trim().trim_matches('"')))
        })
    };
    if field("oauth_signature_method").as_deref() != Some("PLAINTEXT") {
        return Err(Box::new(text(
            StatusCode::BAD_REQUEST,
            "Only the PLAINTEXT signature method is supported.",
        )));
    }
    match field("oauth_token").filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => match st.world.tokens.get(&t) {
            Some(u) => Ok(Some(u.clone())),
            None => Err(Box::new(text(
                StatusCode::UNAUTHORIZED,
                format!("Unknown access token ({t})."),
            ))),
        },
    }
}

/// The subject the path names answers.
fn route(st: &mut Inner, req: &Req<'_>) -> Response {
    match (&req.method, req.segments, req.op) {
        (&Method::GET, ["+snaps"], Some("getByName")) => snaps::by_name(st, req),
        (_, [owner, "+archive", "ubuntu", name], _) if owner.starts_with('~') => {
            archive::route(st, req, owner, name)
        }
        (&Method::GET, [owner, "+archive", "ubuntu", name, "processors"], None)
            if owner.starts_with('~') =>
        {
            archive::processors(st, req, owner, name)
        }
        (&Method::GET, [owner, project, "+git", repo], Some("getRefByPath"))
            if owner.starts_with('~') =>
        {
            let path = format!("{owner}/{project}/+git/{repo}");
            git_ref(st, req, &path)
        }
        (_, [owner, "+snap", name, rest @ ..], _) if owner.starts_with('~') => {
            snaps::route(st, req, owner, name, rest)
        }
        (&Method::GET, [person], None) if person.starts_with('~') => self::person(st, req, person),
        (_, ["bugs", id], None) => bugs::bug(st, req, id),
        (_, [project, ..], _) if st.world.projects.iter().any(|p| p.name == *project) => {
            projects::route(st, req)
        }
        _ => text(
            StatusCode::NOT_FOUND,
            format!(
                "Object: <root>, name: '{}'",
                req.segments.first().unwrap_or(&"")
            ),
        ),
    }
}

/// `/~name`: anyone the world knows (a token's user, a PPA's or a snap's owner).
fn person(st: &Inner, req: &Req<'_>, person: &str) -> Response {
    let name = person.trim_start_matches('~');
    let known = st.world.tokens.values().any(|u| u == name)
        || st
            .world
            .ppa_writers
            .keys()
            .any(|k| k.split('/').next() == Some(name))
        || st.world.snaps.iter().any(|d| d.owner == name);
    if known {
        ok_json(
            json!({ "self_link": req.base, "name": name, "display_name": name, "is_team": false }),
        )
    } else {
        text(
            StatusCode::NOT_FOUND,
            format!("Object: <root>, name: '{person}'"),
        )
    }
}

/// `getRefByPath` on a git repository: the ref's entry, or `null` (as
/// Launchpad answers for a path it does not have). Only tags are simulated.
fn git_ref(st: &Inner, req: &Req<'_>, repo: &str) -> Response {
    let Some(tags) = st.world.git_tags.get(repo.trim_start_matches('~')) else {
        return text(
            StatusCode::NOT_FOUND,
            format!("No such git repository: {repo}"),
        );
    };
    let path = (req.param)("path").unwrap_or_default();
    let tag = path.strip_prefix("refs/tags/").unwrap_or(&path);
    if !tags.iter().any(|t| t == tag) {
        return ok_json(Value::Null);
    }
    ok_json(serde_json::json!({
        "self_link": format!("{}/+ref/{path}", req.base),
        "resource_type_link": format!("{}/#git_ref", st.root),
        "path": path,
        "commit_sha1": "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
    }))
}
