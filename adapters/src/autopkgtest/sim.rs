//! A loopback simulator of autopkgtest-cloud's web side: `request.cgi`,
//! `static/running.json` and `queues.json`, with state. A request is
//! validated in the real app's order and answered with the same pages
//! (fixtures/excuses/request-cgi); an accepted one is queued, then runs,
//! then finishes as the test (or sandbox) calls [`AutopkgtestSim::advance`].
//!
//! Faithful quirks: the queued-duplicate check of the real app never
//! matches (reference §3.2), so only running duplicates are refused here
//! too — clients must check queues.json themselves.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::request::{check_trigger, MIGRATION_REFERENCE};
use crate::wire::form::parse_query;

/// What the simulated service knows.
#[derive(Debug, Clone, Default)]
pub struct SimWorld {
    /// release → arches.
    pub releases: Vec<(String, Vec<String>)>,
    /// (release, source, version) published in any pocket.
    pub published: HashSet<(String, String, String)>,
    /// Credential (API key `user:key`, or session cookie value) → nickname.
    pub users: HashMap<String, String>,
    /// Nicknames allowed to request (upload rights or the requestors team).
    pub uploaders: HashSet<String>,
}

/// One request as the queue holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub release: String,
    pub arch: String,
    pub package: String,
    pub triggers: Vec<String>,
    pub all_proposed: bool,
    pub ppas: Vec<String>,
    pub requester: String,
}

#[derive(Default)]
struct Inner {
    world: SimWorld,
    queued: Vec<Job>,
    running: Vec<Job>,
    finished: Vec<Job>,
    /// Every job ever accepted, for "exactly once" assertions.
    accepted: Vec<Job>,
    /// Statuses to answer the next requests with (fault injection).
    faults: VecDeque<u16>,
}

/// A running simulator; dropping it does not stop the server task.
#[derive(Clone)]
pub struct AutopkgtestSim {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

type Shared = Arc<Mutex<Inner>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, Inner> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

impl AutopkgtestSim {
    /// Serves on an ephemeral loopback port.
    pub async fn start(world: SimWorld) -> std::io::Result<Self> {
        let inner = Arc::new(Mutex::new(Inner {
            world,
            ..Default::default()
        }));
        let app = Router::new()
            .route("/request.cgi", get(request_cgi).post(request_cgi))
            .route("/static/running.json", get(running_json))
            .route("/queues.json", get(queues_json))
            .with_state(inner.clone());
        let addr = crate::loopback::serve(app).await?;
        Ok(Self { addr, inner })
    }

    pub fn request_url(&self) -> String {
        format!("http://{}/request.cgi", self.addr)
    }

    /// Moves the queue along: running jobs finish, queued jobs start.
    pub fn advance(&self) {
        let mut s = lock(&self.inner);
        let done: Vec<Job> = s.running.drain(..).collect();
        s.finished.extend(done);
        let started: Vec<Job> = s.queued.drain(..).collect();
        s.running.extend(started);
    }

    /// Every job ever accepted, in order.
    pub fn accepted(&self) -> Vec<Job> {
        lock(&self.inner).accepted.clone()
    }

    pub fn queued(&self) -> Vec<Job> {
        lock(&self.inner).queued.clone()
    }

    /// Puts a job straight into the running list (a test someone else started).
    pub fn add_running(&self, job: Job) {
        lock(&self.inner).running.push(job);
    }

    /// The next `n` requests to request.cgi get HTTP `status` (e.g. 503).
    pub fn fail_next(&self, n: usize, status: u16) {
        lock(&self.inner)
            .faults
            .extend(std::iter::repeat_n(status, n));
    }

    pub fn publish(&self, release: &str, source: &str, version: &str) {
        lock(&self.inner)
            .world
            .published
            .insert((release.into(), source.into(), version.into()));
    }
}

fn html(status: StatusCode, body: &str) -> Response {
    let page = format!(
        "\n<!doctype html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>Autopkgtest Test Request</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page,
    )
        .into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn invalid(status: StatusCode, nick: &str, paragraphs: &[String]) -> Response {
    let ps: String = paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>", escape(p)))
        .collect();
    html(
        status,
        &format!("\n<p><a href=\"/logout\">Logout {nick}</a></p>\n<p>You submitted an invalid request: </p>{ps}"),
    )
}

fn invalid1(status: StatusCode, nick: &str, message: &str) -> Response {
    html(
        status,
        &format!(
            "\n<p><a href=\"/logout\">Logout {nick}</a></p>\n<p>You submitted an invalid request: {}</p>",
            escape(message)
        ),
    )
}

fn traceback(error: &str) -> Response {
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        &format!("<p>A server error has occurred. Traceback:</p> <pre>Traceback (most recent call last):\n\n  File \"request/submit.py\", in validate_distro_request\n\n{error}\n</pre>"),
    )
}

fn login_page(query: &str) -> Response {
    html(
        StatusCode::FORBIDDEN,
        &format!(
            "<form action=\"/login\" method=\"post\">\n<input type=\"submit\" value=\"Log in with Ubuntu SSO\">\n<input type=\"hidden\" name=\"next\" value=\"/request.cgi?{}\">\n</form>",
            escape(query)
        ),
    )
}

fn who(world: &SimWorld, headers: &HeaderMap) -> Option<String> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    cookies.split(';').find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        matches!(k, "X-Api-Key" | "session")
            .then(|| world.users.get(v).cloned())
            .flatten()
    })
}

/// request.cgi: validation in the real app's order, then one job per arch.
async fn request_cgi(
    State(s): State<Shared>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let query = q.unwrap_or_default();
    let mut st = lock(&s);
    if let Some(code) = st.faults.pop_front() {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return (status, "<html><body>Service Unavailable</body></html>").into_response();
    }
    let Some(nick) = who(&st.world, &headers) else {
        return login_page(&query);
    };
    let pairs = parse_query(&query);
    let all = |k: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .collect()
    };
    if let Some((bad, _)) = pairs.iter().find(|(k, _)| {
        !matches!(
            k.as_str(),
            "release" | "arch" | "package" | "trigger" | "ppa" | "all-proposed" | "readable-by"
        )
    }) {
        return traceback(&format!("ValueError: Invalid argument {bad}"));
    }
    let all_proposed = match all("all-proposed").last().map(String::as_str) {
        None => false,
        Some("1") => true,
        Some(_) => return traceback("ValueError: Invalid all-proposed value"),
    };
    let (release, package, triggers, arches, ppas) = (
        all("release").pop(),
        all("package").pop(),
        all("trigger"),
        all("arch"),
        all("ppa"),
    );
    let (Some(release), Some(package), false, false) =
        (release, package, triggers.is_empty(), arches.is_empty())
    else {
        return invalid(
            StatusCode::BAD_REQUEST,
            &nick,
            &[
                "You have passed invalid args: release, arch, package, requester".into(),
                "Please see an example url below:".into(),
                "https://autopkgtest.ubuntu.com/request.cgi/?release=release&arch=arch&package=pkg&trigger=trigger1&trigger=trigger2".into(),
            ],
        );
    };
    let Some(known_arches) = st
        .world
        .releases
        .iter()
        .find(|(r, _)| *r == release)
        .map(|(_, a)| a.clone())
    else {
        return invalid1(
            StatusCode::NOT_FOUND,
            &nick,
            &format!("release {release} not found"),
        );
    };
    if triggers.iter().any(|t| t == MIGRATION_REFERENCE) {
        if triggers.len() > 1 {
            return invalid1(
                StatusCode::BAD_REQUEST,
                &nick,
                "Cannot use additional triggers with migration-reference/0",
            );
        }
        if all_proposed {
            return invalid1(
                StatusCode::BAD_REQUEST,
                &nick,
                "migration-reference/0 and all-proposed=1 are not compatible arguments.",
            );
        }
    } else {
        for t in &triggers {
            if check_trigger(t).is_err() {
                return invalid1(
                    StatusCode::BAD_REQUEST,
                    &nick,
                    "Malformed trigger, must be srcpackage/version",
                );
            }
            let (src, ver) = t.split_once('/').unwrap_or((t, ""));
            if !st
                .world
                .published
                .contains(&(release.clone(), src.to_string(), ver.to_string()))
            {
                return invalid1(
                    StatusCode::BAD_REQUEST,
                    &nick,
                    &format!("{t} is not published in {release}"),
                );
            }
        }
    }
    if !st.world.uploaders.contains(&nick) {
        let first = triggers.first().cloned().unwrap_or_default();
        return invalid1(
            StatusCode::FORBIDDEN,
            &nick,
            &format!("You are not allowed to upload {package} or {first} to Ubuntu, thus you are not allowed to use this service."),
        );
    }
    let mut sorted = triggers.clone();
    sorted.sort();
    // Each arch is checked and queued in turn, as the real app does.
    for arch in &arches {
        if !known_arches.contains(arch) {
            return invalid1(
                StatusCode::NOT_FOUND,
                &nick,
                &format!("arch {arch} not found"),
            );
        }
        let running = st.running.iter().any(|j| {
            j.release == release && j.arch == *arch && j.package == package && {
                let mut t = j.triggers.clone();
                t.sort();
                t == sorted
            }
        });
        if running {
            return invalid(
                StatusCode::FORBIDDEN,
                &nick,
                &[
                    "Test already running:".into(),
                    format!("release: {release}"),
                    format!("pkg: {package}"),
                    format!("arch: {arch}"),
                    format!("triggers: {}", triggers.join(", ")),
                ],
            );
        }
        let job = Job {
            release: release.clone(),
            arch: arch.clone(),
            package: package.clone(),
            triggers: triggers.clone(),
            all_proposed,
            ppas: ppas.clone(),
            requester: nick.clone(),
        };
        st.queued.push(job.clone());
        st.accepted.push(job);
    }
    let mut dl = String::new();
    if ppas.is_empty() {
        dl.push_str("<dt>Result history</dt>\n");
        for arch in &arches {
            let h = format!("http://localhost/packages/{package}/{release}/{arch}");
            dl.push_str(&format!("<dd><a href=\"{h}\">{h}</a></dd>\n"));
        }
    }
    let quoted = |v: &[String]| {
        format!(
            "[{}]",
            v.iter()
                .map(|t| format!("'{t}'"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let mut fields = vec![("arch", arches.join(", ")), ("package", package.clone())];
    if all_proposed {
        fields.insert(0, ("all-proposed", "1".to_string()));
    }
    if !ppas.is_empty() {
        fields.push(("ppas", quoted(&ppas)));
    }
    fields.extend([
        ("release", release),
        ("requester", nick.clone()),
        ("triggers", quoted(&triggers)),
    ]);
    for (k, v) in fields {
        dl.push_str(&format!("<dt>{k}</dt>\n<dd>{}</dd>\n", escape(&v)));
    }
    html(
        StatusCode::OK,
        &format!("\n<p><a href=\"/logout\">Logout {nick}</a></p>\n\n<p>Test request submitted.</p>\n<dl>\n{dl}\n</dl>\n"),
    )
}

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

async fn running_json(State(s): State<Shared>) -> Json<Value> {
    let st = lock(&s);
    let mut out = serde_json::Map::new();
    for (i, j) in st.running.iter().enumerate() {
        let pkg = out.entry(j.package.clone()).or_insert_with(|| json!({}));
        pkg[format!("{}-hash{i}", j.package)] =
            json!({ j.release.clone(): { j.arch.clone(): [params(j), 60, "\n0s starting\n"] } });
    }
    Json(Value::Object(out))
}

async fn queues_json(State(s): State<Shared>) -> Json<Value> {
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

#[cfg(test)]
#[path = "sim_tests.rs"]
mod tests;
