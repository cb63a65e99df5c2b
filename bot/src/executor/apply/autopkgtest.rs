//! autopkgtest-cloud's one write, a test request through request.cgi, and
//! what becomes of it: the step is followed (a waiting step, no worker
//! held) while the test is queued and running, then until britney's next
//! excuses show its result — pass or fail, said once, with the log link.
//! Without excuses to read (or when none shows a newer result within
//! `result_wait`), it ends at "finished running" with the history link.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use shepherd_adapters::autopkgtest::queues::{find, InFlight, InFlightState};
use shepherd_adapters::autopkgtest::{AutopkgtestClient, ClientError, TestRequest};
use shepherd_adapters::britney::excuses::Status;
use shepherd_commands::links::Links;
use shepherd_commands::proposed_migration::{MigrationSnapshot, MigrationView};

use crate::executor::{Applied, ApplyError, StepCall};
use crate::store::now_ms;

pub struct AutopkgtestApplier {
    client: AutopkgtestClient,
    /// The excuses the bot polls, where results show up.
    results: Option<Arc<dyn MigrationView>>,
    /// How often a followed test is looked at.
    follow: Duration,
    /// How long after it finished running its result may take to appear.
    result_wait: Duration,
    links: Links,
    /// running.json and queues.json — or why they could not be read —
    /// read once per look for every followed test (production's
    /// running.json is megabytes): the lock is held while one is fetched.
    in_flight: tokio::sync::Mutex<Option<(Instant, Result<Arc<Vec<InFlight>>, ApplyError>)>>,
}

/// What a followed request remembers between looks (the step's follow_ref).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Followed {
    /// The test's log in the excuses before it ran: a different one, in
    /// excuses fetched after it finished, is the new result.
    before: Option<String>,
    /// Whether `before` was read (the excuses were loaded): without it no
    /// result can be told from the old one.
    #[serde(default)]
    known: bool,
    /// Looks in a row that found it neither queued nor running: queues.json
    /// is regenerated now and then, so one miss is not "finished".
    #[serde(default)]
    unseen: u32,
    /// When it was taken as finished (Unix ms).
    finished_at: Option<i64>,
}

/// Looks in a row without the test in the queues before it counts as run.
const UNSEEN_LOOKS: u32 = 2;
/// A followed test that has not settled after this long is let go.
const FOLLOW_LIMIT: Duration = Duration::from_secs(48 * 3600);

fn classify(e: ClientError) -> ApplyError {
    ApplyError::from_service(&e, e.is_transient())
}

/// A test's result as the excuses show it.
struct Seen {
    status: Status,
    log: Option<String>,
    /// When the excuses that show it were fetched (Unix ms).
    fetched_at: i64,
}

impl AutopkgtestApplier {
    pub fn new(
        client: AutopkgtestClient,
        results: Option<Arc<dyn MigrationView>>,
        follow: Duration,
        result_wait: Duration,
        links: Links,
    ) -> Self {
        Self {
            client,
            results,
            follow,
            result_wait,
            links,
            in_flight: tokio::sync::Mutex::new(None),
        }
    }

    /// Requests the test (once), then follows it to its result.
    pub async fn apply(&self, r: &TestRequest, step: &StepCall<'_>) -> Result<Applied, ApplyError> {
        let (pkg, arch) = (&r.package, &r.arches[0]);
        if !step.following {
            let sent = format!("{pkg} on {arch}: {}", self.request(r, step.retried).await?);
            let mut followed = Followed::default();
            self.note_before(r, &mut followed).await;
            return Ok(self.wait(sent, &followed));
        }
        let mut followed: Followed = step
            .follow_ref
            .and_then(|f| serde_json::from_str(f).ok())
            .unwrap_or_default();
        let history = self.links.history(pkg, &r.release, arch);
        if now_ms() - step.first_applied_at > FOLLOW_LIMIT.as_millis() as i64 {
            return Ok(Applied::Done(format!(
                "{pkg} on {arch}: not settled after {} h; its results are on {history}",
                FOLLOW_LIMIT.as_secs() / 3600
            )));
        }
        if let Some(f) = self.find(r, false).await? {
            let state = match f.state {
                InFlightState::Queued => "queued",
                InFlightState::Running => "running",
            };
            // Seen again: whatever an earlier look thought, it has not run.
            followed.unseen = 0;
            followed.finished_at = None;
            self.note_before(r, &mut followed).await;
            let note = format!("{pkg} on {arch}: {state} · {}", self.links.running(pkg));
            return Ok(self.wait(note, &followed));
        }
        followed.unseen += 1;
        if followed.unseen < UNSEEN_LOOKS {
            return Ok(self.wait(
                format!("{pkg} on {arch}: no longer listed as queued or running; looking again"),
                &followed,
            ));
        }
        let finished_at = *followed.finished_at.get_or_insert_with(now_ms);
        if let Some(done) = self.settled(r, &followed, finished_at).await {
            return Ok(Applied::Done(done));
        }
        let waited = Duration::from_millis((now_ms() - finished_at).max(0) as u64);
        if self.results.is_none() || waited >= self.result_wait {
            return Ok(Applied::Done(format!(
                "{pkg} on {arch}: finished running; its result is on {history}"
            )));
        }
        Ok(self.wait(
            format!(
                "{pkg} on {arch}: finished running; its result shows in britney's next excuses"
            ),
            &followed,
        ))
    }

    /// Remembers the result the excuses show before the test ran, once
    /// they can be read.
    async fn note_before(&self, r: &TestRequest, followed: &mut Followed) {
        if followed.known {
            return;
        }
        if let Some(seen) = self.seen(r).await {
            followed.before = seen.and_then(|s| s.log);
            followed.known = true;
        }
    }

    /// The test's outcome, once excuses fetched after it finished show a
    /// result other than the one before it ran; `None` until then.
    async fn settled(
        &self,
        r: &TestRequest,
        followed: &Followed,
        finished_at: i64,
    ) -> Option<String> {
        let (pkg, arch) = (&r.package, &r.arches[0]);
        let snap = self.snapshot(r).await?;
        let (source, version) = trigger(r)?;
        let Some(item) = snap.excuses.for_source(source) else {
            return Some(format!(
                "{pkg} on {arch}: ran; {source} has left -proposed, so its tests no longer hold it"
            ));
        };
        if item.new_version != version {
            return Some(format!(
                "{pkg} on {arch}: ran; {source} {} has replaced {version} in -proposed, and its own tests decide now",
                item.new_version
            ));
        }
        let seen = test_in(&snap, r)?;
        let new = followed.known
            && seen.fetched_at > finished_at
            && !seen.status.is_running()
            && seen.log.is_some()
            && seen.log != followed.before;
        new.then(|| {
            format!(
                "{pkg} on {arch}: {} · {}",
                verdict(&seen.status),
                seen.log.unwrap_or_default()
            )
        })
    }

    fn wait(&self, note: String, followed: &Followed) -> Applied {
        Applied::Waiting {
            note,
            recheck_in: self.follow,
            follow_ref: serde_json::to_string(followed).ok(),
        }
    }

    /// Reads before it writes: a test already queued or running (say, after
    /// a crash between sending and recording) is not requested a second time.
    /// `retried`: an earlier attempt may have queued it (a timeout after
    /// request.cgi acted), so the queues are read now — a copy read before
    /// that attempt, here or on another replica, would not show it.
    async fn request(&self, r: &TestRequest, retried: bool) -> Result<String, ApplyError> {
        if let Some(f) = self.find(r, retried).await? {
            let state = format!("{:?}", f.state).to_lowercase();
            return Ok(format!(
                "already {state} on autopkgtest-cloud; not requested again · {}",
                self.links.running(&r.package)
            ));
        }
        match self.client.request(r).await {
            Ok(s) => Ok(format!(
                "queued ✓ (requester {}) · {}",
                s.field("requester").unwrap_or("?"),
                self.links.running(&r.package)
            )),
            Err(ClientError::Refused(e)) if e.is_duplicate() => {
                Ok(format!("{e} on autopkgtest-cloud; not sent twice"))
            }
            Err(e) => Err(classify(e)),
        }
    }

    /// This request among the tests queued or running, read at most once
    /// per half a follow interval (a failure too: an outage is not asked
    /// about by every followed test every few seconds).
    /// `now`: read them now whatever the copy's age (the copy is renewed).
    async fn find(&self, r: &TestRequest, now: bool) -> Result<Option<InFlight>, ApplyError> {
        let fresh = self.follow / 2;
        let mut cache = self.in_flight.lock().await;
        let all = match cache.as_ref() {
            Some((at, all)) if !now && at.elapsed() < fresh => all.clone(),
            _ => {
                // Its age counts from the asking: what changed while it
                // was read may not be in it.
                let asked = Instant::now();
                let all = self
                    .client
                    .in_flight()
                    .await
                    .map(Arc::new)
                    .map_err(classify);
                *cache = Some((asked, all.clone()));
                all
            }
        }?;
        drop(cache);
        let triggers = r.sorted_triggers();
        Ok(find(
            &all,
            &r.release,
            &r.arches[0],
            &r.package,
            &triggers,
            r.all_proposed,
        )
        .cloned())
    }

    /// The test's result in the loaded excuses: `None` = no excuses to
    /// read; `Some(None)` = they hold no result for it.
    async fn seen(&self, r: &TestRequest) -> Option<Option<Seen>> {
        let snap = self.snapshot(r).await?;
        Some(test_in(&snap, r))
    }

    async fn snapshot(&self, r: &TestRequest) -> Option<Arc<MigrationSnapshot>> {
        let view = self.results.as_ref()?;
        view.snapshot(&r.release).await.ok()
    }
}

/// The test's result under its trigger's excuse.
fn test_in(snap: &MigrationSnapshot, r: &TestRequest) -> Option<Seen> {
    let item = snap.excuses.for_source(trigger(r)?.0)?;
    item.tests
        .iter()
        .find(|t| &*t.package == r.package.as_str() && &*t.arch == r.arches[0].as_str())
        .map(|t| Seen {
            status: t.status.clone(),
            log: t.log_url().map(str::to_string),
            fetched_at: snap.fetched_at_ms,
        })
}

/// A result in words: what it means for the migration.
fn verdict(status: &Status) -> String {
    match status {
        Status::Pass | Status::OldPass => "✓ passed".into(),
        s if s.blocks() => format!("✗ {} (still blocks)", s.as_str()),
        Status::Neutral | Status::OldNeutral => {
            format!(
                "○ {} (nothing ran that could fail; does not block)",
                status.as_str()
            )
        }
        s => format!("✗ {} (does not block)", s.as_str()),
    }
}

/// The request's first trigger (`libsepol/3.8-1`): the source whose
/// excuse lists the test's result, and its version.
fn trigger(r: &TestRequest) -> Option<(&str, &str)> {
    r.triggers.first()?.split_once('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_say_whether_they_block() {
        let rows = [
            ("PASS", "✓ passed"),
            ("OLD_PASS", "✓ passed"),
            (
                "NEUTRAL",
                "○ NEUTRAL (nothing ran that could fail; does not block)",
            ),
            ("ALWAYSFAIL", "✗ ALWAYSFAIL (does not block)"),
            ("IGNORE-FAIL", "✗ IGNORE-FAIL (does not block)"),
            ("REGRESSION", "✗ REGRESSION (still blocks)"),
        ];
        for (status, words) in rows {
            assert_eq!(verdict(&Status::parse(status)), words, "{status}");
        }
    }
}
