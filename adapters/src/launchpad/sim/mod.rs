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

use crate::autopkgtest::request::{parse_query, unquote_plus};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// `owner/name` of the PPA.
    pub archive: String,
    pub name: String,
    pub version: String,
    pub series: String,
    pub status: String,
}

#[derive(Debug, Clone)]
pub struct SnapDef {
    pub owner: String,
    pub name: String,
    pub series: String,
    pub processors: Vec<String>,
    /// Arches whose builds fail.
    pub failing: Vec<String>,
    pub store_upload: bool,
    pub channels: Option<Value>,
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
    faults: VecDeque<u16>,
    /// Added before every answer (a slow Launchpad; beyond the client's timeout, a timeout).
    latency: std::time::Duration,
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
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Mutex::new(Inner {
            world,
            next_id: 2_789_000,
            root: format!("http://{addr}/devel"),
            ..Default::default()
        }));
        let app = Router::new().fallback(handle).with_state(inner.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
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

    /// The next `n` requests get HTTP `status`.
    pub fn fail_next(&self, n: usize, status: u16) {
        lock(&self.inner)
            .faults
            .extend(std::iter::repeat_n(status, n));
    }

    /// Adds a finished build (history for `!builds` and `!rebuild`).
    pub fn add_build(&self, owner: &str, snap: &str, arch: &str, succeeded: bool) {
        let mut s = lock(&self.inner);
        s.next_id += 1;
        let id = s.next_id;
        s.builds.push(Build {
            id,
            owner: owner.into(),
            snap: snap.into(),
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
        let rest: Vec<String> = query
            .iter()
            .filter(|(k, _)| k != "ws.start" && k != "ws.size")
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    crate::autopkgtest::request::quote_plus(k),
                    crate::autopkgtest::request::quote_plus(v)
                )
            })
            .collect();
        let sep = if rest.is_empty() {
            String::new()
        } else {
            format!("{}&", rest.join("&"))
        };
        p["next_collection_link"] = json!(format!(
            "{base}?{sep}memo={}&ws.size={size}&ws.start={}",
            start + size,
            start + size
        ));
    }
    p
}

async fn handle(
    State(s): State<Shared>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let latency = lock(&s).latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut st = lock(&s);
    if let Some(code) = st.faults.pop_front() {
        return text(
            StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            "Service temporarily unavailable",
        );
    }
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
        (_, [owner, "+archive", "ubuntu", name], op) if owner.starts_with('~') => {
            let archive = format!("{}/{name}", owner.trim_start_matches('~'));
            if !st.world.ppa_writers.contains_key(&archive) {
                return text(StatusCode::NOT_FOUND, format!("No such ppa: '{name}'."));
            }
            match (method, op) {
                (Method::GET, None) => ok_json(json!({
                    "self_link": base, "resource_type_link": format!("{}/#archive", st.root), "name": name,
                    "reference": format!("{owner}/ubuntu/{name}"), "http_etag": "\"a-1\"",
                })),
                (Method::GET, Some("getPublishedBinaries")) => {
                    let wanted = param("binary_name").unwrap_or_default();
                    let root = st.root.clone();
                    let entries: Vec<Value> = st
                        .world
                        .binaries
                        .iter()
                        .filter(|(a, n, ..)| *a == archive && *n == wanted)
                        .map(|(_, n, v, arch, status)| json!({
                            "binary_package_name": n, "binary_package_version": v, "status": status,
                            "distro_arch_series_link": format!("{root}/ubuntu/noble/{arch}"),
                        }))
                        .collect();
                    ok_json(page(entries, &query, &base))
                }
                (Method::GET, Some("getPublishedSources")) => {
                    advance_copies(&mut st);
                    let name_q = param("source_name").unwrap_or_default();
                    let exact = param("exact_match").as_deref() == Some("true");
                    let version = param("version").map(|v| v.trim_matches('"').to_string());
                    let series = param("distro_series")
                        .map(|s| s.rsplit('/').next().unwrap_or("").to_string());
                    let root = st.root.clone();
                    let entries: Vec<Value> = st
                        .world
                        .publications
                        .iter()
                        .filter(|p| p.archive == archive)
                        .filter(|p| {
                            if exact {
                                p.name == name_q
                            } else {
                                p.name.contains(&name_q)
                            }
                        })
                        .filter(|p| version.as_ref().is_none_or(|v| *v == p.version))
                        .filter(|p| series.as_ref().is_none_or(|s| *s == p.series))
                        .enumerate()
                        .map(|(i, p)| {
                            json!({
                                "self_link": format!("{base}/+sourcepub/{}", 1000 + i),
                                "source_package_name": p.name, "source_package_version": p.version,
                                "status": p.status, "pocket": "Release",
                                "distro_series_link": format!("{root}/ubuntu/{}", p.series),
                            })
                        })
                        .collect();
                    ok_json(page(entries, &query, &base))
                }
                (Method::POST, Some("copyPackage")) => copy_package(&mut st, who, &archive, &param),
                (Method::POST, Some("syncSources")) => {
                    let names: Vec<String> = param("source_names")
                        .and_then(|v| serde_json::from_str(&v).ok())
                        .unwrap_or_default();
                    let from = param("from_archive").unwrap_or_default();
                    let from_ref = from
                        .split("/~")
                        .nth(1)
                        .map(|r| r.replace("/+archive/ubuntu/", "/"))
                        .unwrap_or_default();
                    let mut last = ok_json(Value::Null);
                    for name in names {
                        let version = st
                            .world
                            .publications
                            .iter()
                            .rev()
                            .find(|p| {
                                p.archive == from_ref && p.name == name && p.status == "Published"
                            })
                            .map(|p| p.version.clone())
                            .unwrap_or_default();
                        let one = |k: &str| match k {
                            "source_name" => Some(name.clone()),
                            "version" => Some(version.clone()),
                            "from_archive" => Some(from.clone()),
                            other => param(other),
                        };
                        last = copy_package(&mut st, who.clone(), &archive, &one);
                        if !last.status().is_success() {
                            return last;
                        }
                    }
                    last
                }
                _ => text(
                    StatusCode::BAD_REQUEST,
                    format!("No such operation: {}", op.unwrap_or("")),
                ),
            }
        }
        (_, [owner, "+snap", name, rest @ ..], op) if owner.starts_with('~') => {
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
                (Method::GET, [], None) => ok_json(snap_json(&st, &def)),
                (Method::PATCH, [], None) => patch_snap(&mut st, who, &def, &headers, &body),
                (Method::POST, [], Some("requestBuild")) => {
                    request_build(&mut st, who, &def, &param, &base)
                }
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
                        return ok_json(page(entries, &query, &base));
                    }
                    ok_json(
                        json!({ "self_link": base, "status": "Completed", "error_message": null, "builds_collection_link": format!("{base}/builds") }),
                    )
                }
                (Method::POST, [], Some("newWebhook")) => {
                    new_webhook(&mut st, who, &path, &param, &base)
                }
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
                    ok_json(page(entries, &query, &base))
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
                    let mut entries: Vec<Value> = st
                        .builds
                        .iter()
                        .filter(|b| b.owner == def.owner && b.snap == def.name)
                        .filter(|b| match *coll {
                            "pending_builds" => b.stage < 2,
                            "completed_builds" => b.stage >= 2,
                            _ => true,
                        })
                        .map(|b| build_json(&root, &def, b))
                        .collect();
                    entries.reverse();
                    ok_json(page(entries, &query, &base))
                }
                (Method::GET, ["+build", id], None) => {
                    let root = st.root.clone();
                    let Some(b) = st
                        .builds
                        .iter_mut()
                        .find(|b| b.id.to_string() == *id && b.snap == def.name)
                    else {
                        return text(StatusCode::NOT_FOUND, format!("Object: snap, name: '{id}'"));
                    };
                    b.stage += 1;
                    ok_json(build_json(&root, &def, b))
                }
                _ => text(
                    StatusCode::BAD_REQUEST,
                    format!("No such operation: {}", op.unwrap_or("")),
                ),
            }
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
mod registry;
mod snaps;

pub use registry::{BugDef, ProjectDef, TaskDef};

use archive::{advance_copies, copy_package};
use snaps::{build_json, new_webhook, patch_snap, request_build, snap_json};

#[cfg(test)]
mod tests;
