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
//!
//! Layout: `world` is what it holds at start and `state` what it holds
//! while it runs; `routes` reads a request and picks who answers it, one
//! file per subject (`archive`, `snaps`, `builds`, `hooks`, `projects`,
//! `bugs`); `responses` gives answers Launchpad's shapes; `faults` is the
//! trouble tests inject.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::http::Method;
use axum::Router;

mod archive;
mod bugs;
mod builds;
mod faults;
mod hooks;
mod projects;
mod responses;
mod routes;
mod snaps;
mod state;
mod world;

pub use faults::Received;
pub use state::{SimHook, Writes};
pub use world::{BugDef, LpWorld, ProjectDef, Publication, SnapDef, TaskDef};

use faults::{Fault, Trouble};
use state::{lock, Build, Inner};

/// The body of an error status injected by `fail_next` and `fail_next_on`.
const UNAVAILABLE: &str = "Service temporarily unavailable";

/// A running simulator; clones share it. Dropping it does not stop the
/// server task, which lives as long as the runtime.
#[derive(Clone)]
pub struct LaunchpadSim {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

impl LaunchpadSim {
    pub async fn start(world: LpWorld) -> std::io::Result<Self> {
        let milestones = world
            .milestones
            .iter()
            .map(|(project, series, name, active)| state::MilestoneRec {
                project: project.clone(),
                series: series.clone(),
                name: name.clone(),
                active: *active,
                released: false,
            })
            .collect();
        let inner = Arc::new(Mutex::new(Inner {
            world,
            milestones,
            next_id: 2_789_000,
            ..Default::default()
        }));
        let app = Router::new()
            .fallback(routes::handle)
            .with_state(inner.clone());
        let addr = crate::loopback::serve(app).await?;
        // No request can arrive before `start` returns the address.
        lock(&inner).root = format!("http://{addr}/devel");
        Ok(Self { addr, inner })
    }

    /// Tags a release in a git repository (`~owner/project/+git/name`).
    pub fn add_tag(&self, repository: &str, tag: &str) {
        lock(&self.inner)
            .world
            .git_tags
            .entry(repository.trim_start_matches('~').to_string())
            .or_default()
            .push(tag.to_string());
    }

    /// Bug tasks of `project` (bug id, status, milestone), for assertions.
    pub fn tasks(&self, project: &str) -> Vec<(u64, String, Option<String>)> {
        let st = lock(&self.inner);
        st.world
            .bugs
            .iter()
            .flat_map(|b| {
                b.tasks
                    .iter()
                    .filter(|t| t.project == project)
                    .map(|t| (b.id, t.status.clone(), t.milestone.clone()))
            })
            .collect()
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

    /// From now on, `percent` of requests (at random) get 502 or 503, or
    /// — one fault in ten — are answered `timeout` late (set it beyond the
    /// client's timeout).
    pub fn fail_at_random(&self, percent: u32, timeout: std::time::Duration) {
        lock(&self.inner).random.set(percent, timeout);
    }

    /// Bug `id` is locked: every edit of its tasks is refused (401), for good.
    pub fn lock_bug(&self, id: u64) {
        lock(&self.inner).locked_bugs.push(id);
    }

    /// The next request of `method` is answered `delay` late.
    pub fn slow_next_on(&self, method: Method, delay: std::time::Duration) {
        self.fault(Some(method), 1, Trouble::Slow(delay));
    }

    fn fault(&self, method: Option<Method>, n: usize, trouble: Trouble) {
        let fault = Fault { method, trouble };
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
        let id = s.new_id();
        let series = s
            .world
            .snaps
            .iter()
            .find(|d| d.owner == owner && d.name == snap)
            .map(SnapDef::build_series)
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

#[cfg(test)]
mod release_tests;
#[cfg(test)]
mod tests;

#[cfg(test)]
mod protocol_tests;
