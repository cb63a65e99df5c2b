//! What the simulator holds while it runs, beyond its world: builds and
//! copy jobs on their way, build requests, milestones, registered webhooks,
//! each entity's ETag version, and the record of writes and requests that
//! tests assert on. One lock guards it all; a handler holds it throughout,
//! so every request sees and leaves a consistent state.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::http::{header, HeaderMap};

use super::faults::{Fault, Received};
use super::world::{LpWorld, Publication};

pub(super) type Shared = Arc<Mutex<Inner>>;

/// The state, even if a handler panicked while holding it: the simulator
/// keeps answering.
pub(super) fn lock(s: &Shared) -> MutexGuard<'_, Inner> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Default)]
pub(super) struct Inner {
    pub world: LpWorld,
    pub builds: Vec<Build>,
    pub jobs: Vec<CopyJob>,
    /// Copies that failed asynchronously (not visible through the API, as on Launchpad).
    pub copy_failures: Vec<String>,
    pub writes: Writes,
    pub faults: VecDeque<Fault>,
    /// Every request received, in order.
    pub received: Vec<Received>,
    /// Added before every answer (a slow Launchpad; beyond the client's timeout, a timeout).
    pub latency: Duration,
    /// Builds stay where they are (no progress on each look).
    pub frozen: bool,
    /// A share of requests answered 502 or 503, or left to time out, at
    /// random: a flaky Launchpad (here a late answer comes before the work).
    pub random: crate::sim_faults::RandomFaults,
    /// Bugs whose tasks refuse every edit (locked bugs: 401, for good).
    pub locked_bugs: Vec<u64>,
    pub next_id: u64,
    /// `owner/name` → (store channels, write version) of snaps changed by PATCH.
    pub snap_edits: HashMap<String, (Vec<String>, u64)>,
    pub hooks: Vec<SimHook>,
    pub milestones: Vec<MilestoneRec>,
    /// Write-part of each entity's ETag, by path.
    pub versions: HashMap<String, u64>,
    /// Build requests: (id, owner, snap, completed). The first look
    /// completes one, making a build per processor.
    pub requests: Vec<(u64, String, String, bool)>,
    /// The service root, `http://127.0.0.1:N/devel`.
    pub root: String,
}

impl Inner {
    /// A fresh id for a build, build request or webhook.
    pub fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// The entity's ETag: its write version, changed by every PATCH.
    pub fn etag(&self, path: &str) -> String {
        format!("\"r-w{}\"", self.versions.get(path).copied().unwrap_or(0))
    }

    /// Sent an `If-Match` that is not the entity's current ETag (→ 412).
    pub fn stale(&self, path: &str, headers: &HeaderMap) -> bool {
        headers
            .get(header::IF_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|sent| sent != self.etag(path))
    }

    /// Records a write to the entity: a new ETag, one more PATCH counted.
    pub fn patched(&mut self, path: &str) {
        *self.versions.entry(path.to_string()).or_default() += 1;
        self.writes.patches += 1;
    }
}

/// States a build passes through before its result; looking at a build
/// moves it one stage on.
pub(super) const BUILD_STATES: [&str; 2] = ["Needs building", "Currently building"];

#[derive(Debug, Clone)]
pub(super) struct Build {
    pub id: u64,
    pub owner: String,
    pub snap: String,
    /// The series it was built for (from `distro_arch_series`).
    pub series: String,
    pub arch: String,
    /// An index into `BUILD_STATES`; past its end, the build is finished.
    pub stage: usize,
    pub fails: bool,
    pub upload: bool,
    /// The build request that made it, if any.
    pub request: Option<u64>,
}

/// A `copyPackage` on its way: queued, then a Pending publication, then Published.
#[derive(Debug, Clone)]
pub(super) struct CopyJob {
    pub publication: Publication,
    pub stage: u8,
    /// Copy the source's binaries too (`include_binaries`), from this PPA.
    pub binaries_from: Option<String>,
}

#[derive(Debug, Clone)]
pub(super) struct MilestoneRec {
    pub project: String,
    pub series: String,
    pub name: String,
    pub active: bool,
    pub released: bool,
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
