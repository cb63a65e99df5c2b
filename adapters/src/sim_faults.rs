//! A flaky service, for any simulator: a share of requests, drawn at
//! random, answered 502 or 503 without being handled, or — one fault in
//! ten — handled and answered late. Set "late" beyond the client's
//! timeout and that is a timeout after the work was done: the answer
//! lost on its way back, which a client must survive without doing the
//! work twice. A test may also name the next request of a path to fail
//! in a given way, so a case it must see is not left to chance.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;

/// One fault drawn for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drawn {
    /// Answer with this gateway status instead.
    Status(u16),
    /// Answer this much later.
    Late(Duration),
}

#[derive(Default)]
struct Setting {
    percent: u32,
    late: Duration,
    /// (path prefix, fault) for the next requests of those paths.
    forced: Vec<(String, Drawn)>,
}

/// The rate and how many faults were drawn; clones share them.
#[derive(Clone, Default)]
pub struct RandomFaults {
    setting: Arc<Mutex<Setting>>,
    drawn: Arc<AtomicU64>,
}

impl RandomFaults {
    /// From now on `percent` of requests fail (0 = none); a late answer
    /// comes `late` after the work.
    pub fn set(&self, percent: u32, late: Duration) {
        let mut s = self.setting.lock().unwrap_or_else(|p| p.into_inner());
        s.percent = percent.min(100);
        s.late = late;
    }

    /// The next request whose path starts with `path` gets `fault`
    /// (whatever the rate; in the order they were named).
    pub fn force_next(&self, path: &str, fault: Drawn) {
        let mut s = self.setting.lock().unwrap_or_else(|p| p.into_inner());
        s.forced.push((path.to_string(), fault));
    }

    /// A request's fault, if it gets one: the one named for its path,
    /// else at the set rate, 502 and 503 alike, one in ten late.
    pub fn draw_for(&self, path: &str) -> Option<Drawn> {
        let (percent, late) = {
            let mut s = self.setting.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(i) = s.forced.iter().position(|(p, _)| path.starts_with(p)) {
                self.drawn.fetch_add(1, Ordering::Relaxed);
                return Some(s.forced.remove(i).1);
            }
            (s.percent, s.late)
        };
        if percent == 0 || fastrand::u32(0..100) >= percent {
            return None;
        }
        self.drawn.fetch_add(1, Ordering::Relaxed);
        Some(match fastrand::u32(0..10) {
            0 => Drawn::Late(late),
            n if n % 2 == 1 => Drawn::Status(502),
            _ => Drawn::Status(503),
        })
    }

    /// [`Self::draw_for`] a request no fault was named for.
    pub fn draw(&self) -> Option<Drawn> {
        self.draw_for("")
    }

    /// Faults drawn so far (named ones too): a test can tell it met some.
    pub fn drawn(&self) -> u64 {
        self.drawn.load(Ordering::Relaxed)
    }

    /// `router` with every request passing through [`Self::draw_for`] first.
    pub fn around<S: Clone + Send + Sync + 'static>(&self, router: Router<S>) -> Router<S> {
        router.layer(middleware::from_fn_with_state(self.clone(), flaky))
    }
}

/// A fault status's reason phrase (`Bad Gateway`, `Service Unavailable`),
/// the body a simulator answers it with.
pub fn reason(code: u16) -> &'static str {
    StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Service Unavailable")
}

async fn flaky(State(faults): State<RandomFaults>, req: Request, next: Next) -> Response {
    match faults.draw_for(req.uri().path()) {
        None => next.run(req).await,
        Some(Drawn::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            (status, reason(code)).into_response()
        }
        Some(Drawn::Late(late)) => {
            let answer = next.run(req).await;
            tokio::time::sleep(late).await;
            answer
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn about_the_set_share_of_draws_fail_and_each_is_counted() {
        let f = RandomFaults::default();
        assert_eq!((0..1000).filter_map(|_| f.draw()).count(), 0);
        f.set(20, Duration::from_secs(3));
        let drawn: Vec<Drawn> = (0..10_000).filter_map(|_| f.draw()).collect();
        assert!((1_700..2_300).contains(&drawn.len()), "{}", drawn.len());
        assert_eq!(f.drawn(), drawn.len() as u64);
        let late = drawn.iter().filter(|d| matches!(d, Drawn::Late(_))).count();
        assert!((100..320).contains(&late), "{late} late");
        for code in [502, 503] {
            assert!(drawn.contains(&Drawn::Status(code)), "no {code}");
        }
        assert!(drawn.contains(&Drawn::Late(Duration::from_secs(3))));
    }

    #[test]
    fn a_named_fault_goes_to_the_next_request_of_its_path_only() {
        let f = RandomFaults::default();
        let late = Drawn::Late(Duration::from_secs(6));
        f.force_next("/request.cgi", late);
        f.force_next("/request.cgi", Drawn::Status(502));
        assert_eq!(f.draw_for("/queues.json"), None);
        assert_eq!(f.draw_for("/request.cgi"), Some(late));
        assert_eq!(f.draw_for("/request.cgi"), Some(Drawn::Status(502)));
        assert_eq!(f.draw_for("/request.cgi"), None);
        assert_eq!(f.drawn(), 2);
    }
}
