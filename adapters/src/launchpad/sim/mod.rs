//! A loopback simulator of the parts of Launchpad's `devel` web service
//! Shepherd uses, speaking the same protocol: OAuth PLAINTEXT headers,
//! `ws.op` dispatch (GET reads, form POST writes), pages with
//! `next_collection_link`, 201 + `Location` for factory ops, text/plain
//! errors, PATCH with `If-Match` → 412 (shared reference launchpad-api, §9).
//!
//! Time passes when you look: each `getPublishedSources` moves queued
//! copies one stage on (queued → Pending → Published, or a silent failure
//! when the destination already has that version, as on Launchpad), and each
//! read of a snap build moves it one state on. Writes are counted so tests
//! can assert "exactly once"; faults can be injected.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

use crate::wire::form::{encode_query, parse_query, unquote_plus};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// `owner/name` of the PPA.
    pub archive: String,
    pub name: String,
    pub version: String,
    pub series: String,
    pub status: String,
}

#[derive(Debug, Clone, Default)]
pub struct SnapDef {
    pub owner: String,
    pub name: String,
    /// Empty = `distro_series_link: null`, as production snaps that take
    /// their series from snapcraft.yaml's `base` commonly have.
    pub series: String,
    pub processors: Vec<String>,
    /// Arches whose builds fail.
    pub failing: Vec<String>,
    /// Arches whose builds succeed but whose store upload fails.
    pub failing_uploads: Vec<String>,
    pub store_upload: bool,
    pub channels: Option<Value>,
}

/// The series a snap builds for when nothing names one: its own, or (for
/// a snap without `distro_series`) the one its `base` would give — noble.
fn snap_series(d: &SnapDef) -> String {
    if d.series.is_empty() {
        "noble".into()
    } else {
        d.series.clone()
    }
}

/// What the simulated Launchpad holds at start.
#[derive(Debug, Clone, Default)]
pub struct LpWorld {
    /// OAuth token → user name.
    pub tokens: HashMap<String, String>,
    /// PPA `owner/name` → users who may copy into it.
    pub ppa_writers: HashMap<String, Vec<String>>,
    pub publications: Vec<Publication>,
    pub snaps: Vec<SnapDef>,
    /// (PPA `owner/name`, binary, version, arch, status).
    pub binaries: Vec<(String, String, String, String, String)>,
    pub projects: Vec<ProjectDef>,
    pub bugs: Vec<BugDef>,
}

#[derive(Debug, Clone)]
struct Build {
    id: u64,
    owner: String,
    snap: String,
    /// The series it was built for (from `distro_arch_series`).
    series: String,
    arch: String,
    stage: usize,
    fails: bool,
    upload: bool,
    request: Option<u64>,
}

#[derive(Debug, Clone)]
struct CopyJob {
    publication: Publication,
    stage: u8,
}

/// Every write the simulator accepted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Writes {
    /// (to, name, version, series) per accepted copyPackage.
    pub copies: Vec<(String, String, String, String)>,
    /// (snap, arch) per accepted requestBuild.
    pub builds: Vec<(String, String)>,
    pub patches: u64,
}

/// A webhook registered on a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimHook {
    pub target: String,
    pub id: u64,
    pub delivery_url: String,
    pub event_types: Vec<String>,
    pub secret: String,
}

#[derive(Default)]
struct Inner {
    world: LpWorld,
    builds: Vec<Build>,
    jobs: Vec<CopyJob>,
    /// Copies that failed asynchronously (not visible through the API, as on Launchpad).
    copy_failures: Vec<String>,
    writes: Writes,
    faults: VecDeque<faults::Fault>,
    /// Every request received, in order.
    received: Vec<faults::Received>,
    /// Added before every answer (a slow Launchpad; beyond the client's timeout, a timeout).
    latency: std::time::Duration,
    /// Builds stay where they are (no progress on each look).
    frozen: bool,
    next_id: u64,
    snap_edits: HashMap<String, (Vec<String>, u64)>,
    hooks: Vec<SimHook>,
    milestones: Vec<registry::MilestoneRec>,
    /// Write-part of each entity's ETag, by path.
    versions: HashMap<String, u64>,
    /// Build request id → processors it will build, until it completes.
    requests: Vec<(u64, String, String, bool)>,
    root: String,
}

#[derive(Clone)]
pub struct LaunchpadSim {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

type Shared = Arc<Mutex<Inner>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, Inner> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

const BUILD_STATES: [&str; 2] = ["Needs building", "Currently building"];

impl LaunchpadSim {
    pub async fn start(world: LpWorld) -> std::io::Result<Self> {
        let inner = Arc::new(Mutex::new(Inner {
            world,
            next_id: 2_789_000,
            ..Default::default()
        }));
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let addr = crate::loopback::serve(app).await?;
        // No request can arrive before `start` returns the address.
        lock(&inner).root = format!("http://{addr}/devel");
        Ok(Self { addr, inner })
    }

    /// The service root to give the client: `http://127.0.0.1:N/devel/`.
    pub fn service_root(&self) -> String {
        format!("http://{}/devel/", self.addr)
    }

    pub fn writes(&self) -> Writes {
        lock(&self.inner).writes.clone()
    }

    pub fn webhooks(&self) -> Vec<SimHook> {
        lock(&self.inner).hooks.clone()
    }

    pub fn copy_failures(&self) -> Vec<String> {
        lock(&self.inner).copy_failures.clone()
    }

    /// Every answer waits this long first.
    pub fn set_latency(&self, latency: std::time::Duration) {
        lock(&self.inner).latency = latency;
    }

    /// Stops (or resumes) builds progressing as they are looked at.
    pub fn freeze_builds(&self, frozen: bool) {
        lock(&self.inner).frozen = frozen;
    }

    /// Finishes every build (and its store upload) at once, behind the
    /// client's back — as Launchpad does while the bot is down.
    pub fn finish_builds(&self) {
        for b in lock(&self.inner).builds.iter_mut() {
            b.stage = b.stage.max(9);
        }
    }

    /// The next `n` requests get HTTP `status`.
    pub fn fail_next(&self, n: usize, status: u16) {
        self.fault(None, n, Trouble::Status(status, UNAVAILABLE.into()));
    }

    /// The next `n` requests of `method` get HTTP `status`.
    pub fn fail_next_on(&self, method: Method, n: usize, status: u16) {
        self.fault(Some(method), n, Trouble::Status(status, UNAVAILABLE.into()));
    }

    /// The next request gets HTTP `status` with this body.
    pub fn fail_next_with(&self, status: u16, body: &str) {
        self.fault(None, 1, Trouble::Status(status, body.into()));
    }

    /// The next request of `method` is redirected to `location` (a path
    /// under the service root, or a full URL).
    pub fn redirect_next_on(&self, method: Method, status: u16, location: &str) {
        let location = if location.starts_with('/') {
            format!("{}{location}", lock(&self.inner).root)
        } else {
            location.to_string()
        };
        self.fault(Some(method), 1, Trouble::Redirect(status, location));
    }

    /// The next request of `method` is answered `delay` late.
    pub fn slow_next_on(&self, method: Method, delay: std::time::Duration) {
        self.fault(Some(method), 1, Trouble::Slow(delay));
    }

    fn fault(&self, method: Option<Method>, n: usize, trouble: Trouble) {
        let fault = faults::Fault { method, trouble };
        lock(&self.inner)
            .faults
            .extend(std::iter::repeat_n(fault, n));
    }

    /// Every request received so far, faulted ones included.
    pub fn requests(&self) -> Vec<Received> {
        lock(&self.inner).received.clone()
    }

    /// Adds a finished build (history for `!builds` and `!rebuild`).
    pub fn add_build(&self, owner: &str, snap: &str, arch: &str, succeeded: bool) {
        let mut s = lock(&self.inner);
        s.next_id += 1;
        let id = s.next_id;
        let series = s
            .world
            .snaps
            .iter()
            .find(|d| d.owner == owner && d.name == snap)
            .map(snap_series)
            .unwrap_or_else(|| "noble".into());
        s.builds.push(Build {
            id,
            owner: owner.into(),
            snap: snap.into(),
            series,
            arch: arch.into(),
            stage: 9,
            fails: !succeeded,
            upload: true,
            request: None,
        });
    }

    /// Changes a snap's store channels behind the client's back (a 412 race).
    pub fn touch_snap(&self, owner: &str, name: &str, channels: Vec<String>) {
        let mut s = lock(&self.inner);
        let key = format!("{owner}/{name}");
        let version = s.snap_edits.get(&key).map_or(0, |e| e.1) + 1;
        s.snap_edits.insert(key, (channels, version));
    }

    pub fn publications(&self, archive: &str) -> Vec<Publication> {
        lock(&self.inner)
            .world
            .publications
            .iter()
            .filter(|p| p.archive == archive)
            .cloned()
            .collect()
    }
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain;charset=utf-8")],
        body.into(),
    )
        .into_response()
}

fn ok_json(v: Value) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response()
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

fn page(entries: Vec<Value>, query: &[(String, String)], base: &str) -> Value {
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

/// One request, as the route functions read it.
pub(super) struct Req<'a> {
    pub method: Method,
    pub op: Option<&'a str>,
    pub param: &'a dyn Fn(&str) -> Option<String>,
    pub query: &'a [(String, String)],
    pub base: &'a str,
    pub path: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub who: Option<String>,
}

async fn handle(
    State(s): State<Shared>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (latency, trouble) = {
        let mut st = lock(&s);
        st.received
            .push(Received::new(&method, uri.path(), &headers));
        (st.latency, faults::take(&mut st.faults, &method))
    };
    let delay = match &trouble {
        Some(Trouble::Slow(d)) => latency + *d,
        _ => latency,
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some(r) = trouble.as_ref().and_then(faults::answer) {
        return r;
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
        method: method.clone(),
        op: op.as_deref(),
        param: &param,
        query: &query,
        base: &base,
        path: &path,
        headers: &headers,
        body: &body,
        who: who.clone(),
    };
    match (method.clone(), segments.as_slice(), op.as_deref()) {
        (Method::GET, ["+snaps"], Some("getByName")) => {
            let owner = param("owner").unwrap_or_default();
            let owner = owner
                .rsplit('/')
                .next()
                .unwrap_or("")
                .trim_start_matches('~')
                .to_string();
            let name = param("name").unwrap_or_default();
            match st
                .world
                .snaps
                .iter()
                .find(|d| d.owner == owner && d.name == name)
            {
                Some(d) => ok_json(snap_json(&st, d)),
                None => text(
                    StatusCode::NOT_FOUND,
                    format!("No such snap package with this owner: '{name}'."),
                ),
            }
        }
        (_, [owner, "+archive", "ubuntu", name], _) if owner.starts_with('~') => {
            archive::route(&mut st, &req, owner, name)
        }
        (_, [owner, "+snap", name, rest @ ..], _) if owner.starts_with('~') => {
            snaps::route(&mut st, &req, owner, name, rest)
        }
        (Method::GET, [person], None) if person.starts_with('~') => {
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
                    json!({ "self_link": base, "name": name, "display_name": name, "is_team": false }),
                )
            } else {
                text(
                    StatusCode::NOT_FOUND,
                    format!("Object: <root>, name: '{person}'"),
                )
            }
        }
        (_, ["bugs", id], None) => registry::bug(&mut st, &method, id, &headers, &body, who),
        (_, [project, ..], _) if st.world.projects.iter().any(|p| p.name == *project) => {
            registry::project(
                &mut st,
                &method,
                &segments,
                op.as_deref(),
                &param,
                &headers,
                &body,
                who,
            )
        }
        _ => text(
            StatusCode::NOT_FOUND,
            format!(
                "Object: <root>, name: '{}'",
                segments.first().unwrap_or(&"")
            ),
        ),
    }
}

mod archive;
mod faults;
mod registry;
mod snaps;

pub use faults::Received;
use faults::Trouble;

const UNAVAILABLE: &str = "Service temporarily unavailable";

pub use registry::{BugDef, ProjectDef, TaskDef};

use snaps::snap_json;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod protocol_tests;
