//! A loopback simulator of autopkgtest-cloud's web side: `request.cgi`,
//! `static/running.json` and `queues.json`, with state. A request is
//! validated in the real app's order and answered with the same pages
//! (fixtures/excuses/request-cgi); an accepted one is queued, then runs,
//! then finishes as the test (or sandbox) calls [`AutopkgtestSim::advance`].
//!
//! Faithful quirks: the queued-duplicate check of the real app never
//! matches (reference §3.2), so only running duplicates are refused here
//! too — clients must check queues.json themselves.
//!
//! Layout: this file holds the world, the queue and the handle tests drive;
//! `request_cgi` validates and queues a request, `pages` renders its HTML
//! answers, and `queues` renders the JSON views of what is queued and running.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::routing::get;
use axum::Router;

mod pages;
mod queues;
mod request_cgi;

use queues::{queues_json, running_json};
use request_cgi::request_cgi;

use crate::sim_faults::{Drawn, RandomFaults};

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
    random: RandomFaults,
}

type Shared = Arc<Mutex<Inner>>;

/// The state, even if a handler panicked while holding it: the simulator
/// keeps answering.
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
        let random = RandomFaults::default();
        let app = Router::new()
            .route("/request.cgi", get(request_cgi).post(request_cgi))
            .route("/static/running.json", get(running_json))
            .route("/queues.json", get(queues_json));
        let app = random.around(app).with_state(inner.clone());
        let addr = crate::loopback::serve(app).await?;
        Ok(Self {
            addr,
            inner,
            random,
        })
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

    /// From now on `percent` of all requests fail at random: 502 or 503
    /// unhandled, or (one in ten) handled and answered `late` — beyond
    /// the client's timeout, a test queued whose answer never came.
    pub fn fail_at_random(&self, percent: u32, late: std::time::Duration) {
        self.random.set(percent, late);
    }

    /// Faults drawn at random so far.
    pub fn random_faults(&self) -> u64 {
        self.random.drawn()
    }

    /// The next request to request.cgi is handled at once and answered
    /// `late` (beyond the client's timeout: a test queued whose answer
    /// never came).
    pub fn answer_late_next(&self, late: std::time::Duration) {
        self.random.force_next("/request.cgi", Drawn::Late(late));
    }

    pub fn publish(&self, release: &str, source: &str, version: &str) {
        lock(&self.inner)
            .world
            .published
            .insert((release.into(), source.into(), version.into()));
    }
}

#[cfg(test)]
mod tests;
