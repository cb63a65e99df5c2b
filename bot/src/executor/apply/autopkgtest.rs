//! autopkgtest-cloud's one write, a test request through request.cgi, and
//! what becomes of it: the step is followed (a waiting step, no worker
//! held) while the test is queued and running, then until britney's next
//! excuses show its result — pass or fail, said once, with the log link.
//! Without excuses to read (or when none shows a newer result within
//! `result_wait`), it ends at "finished running" with the history link.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use shepherd_adapters::autopkgtest::queues::{find, InFlight, InFlightState};
use shepherd_adapters::autopkgtest::{AutopkgtestClient, ClientError, TestRequest};
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
    /// running.json and queues.json, read once per look for every followed
    /// test (production's running.json is megabytes).
    in_flight: Mutex<Option<(Instant, Arc<Vec<InFlight>>)>>,
}

/// What a followed request remembers between looks (the step's follow_ref).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Followed {
    /// The test's log in the excuses when it was requested: a different
    /// one is the new result.
    before: Option<String>,
    /// When it was first seen neither queued nor running (Unix ms).
    finished_at: Option<i64>,
}

fn classify(e: ClientError) -> ApplyError {
    ApplyError::from_service(&e, e.is_transient())
}

impl AutopkgtestApplier {
    pub fn new(
        client: AutopkgtestClient,
        results: Option<Arc<dyn MigrationView>>,
        follow: Duration,
        result_wait: Duration,
    ) -> Self {
        let links = Links::from_roots(None, Some(client.request_url()));
        Self {
            client,
            results,
            follow,
            result_wait,
            links,
            in_flight: Mutex::new(None),
        }
    }

    /// Requests the test (once), then follows it to its result.
    pub async fn apply(&self, r: &TestRequest, step: &StepCall<'_>) -> Result<Applied, ApplyError> {
        let (pkg, arch) = (&r.package, &r.arches[0]);
        if !step.following {
            let sent = format!("{pkg} on {arch}: {}", self.request(r).await?);
            let followed = Followed {
                before: self.result(r).await.and_then(|(_, log)| log),
                finished_at: None,
            };
            return Ok(self.wait(sent, &followed));
        }
        let mut followed: Followed = step
            .follow_ref
            .and_then(|f| serde_json::from_str(f).ok())
            .unwrap_or_default();
        if let Some(f) = self.find(r).await? {
            let state = match f.state {
                InFlightState::Queued => "queued",
                InFlightState::Running => "running",
            };
            let note = format!("{pkg} on {arch}: {state} · {}", self.links.running(pkg));
            return Ok(self.wait(note, &followed));
        }
        let finished_at = *followed.finished_at.get_or_insert_with(now_ms);
        match self.result(r).await {
            Some((status, log)) if log.is_some() && log != followed.before => {
                let log = log.unwrap_or_default();
                return Ok(Applied::Done(format!(
                    "{pkg} on {arch}: {} · {log}",
                    verdict(&status)
                )));
            }
            None if self.results.is_some() && self.trigger_left(r).await => {
                return Ok(Applied::Done(format!(
                    "{pkg} on {arch}: ran; {} has left -proposed, so its tests no longer hold it",
                    trigger_source(r).unwrap_or("the trigger")
                )));
            }
            _ => {}
        }
        let waited = Duration::from_millis((now_ms() - finished_at).max(0) as u64);
        if self.results.is_none() || waited >= self.result_wait {
            let history = self.links.history(pkg, &r.release, arch);
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

    fn wait(&self, note: String, followed: &Followed) -> Applied {
        Applied::Waiting {
            note,
            recheck_in: self.follow,
            follow_ref: serde_json::to_string(followed).ok(),
        }
    }

    /// Reads before it writes: a test already queued or running (say, after
    /// a crash between sending and recording) is not requested a second time.
    async fn request(&self, r: &TestRequest) -> Result<String, ApplyError> {
        if let Some(f) = self.find(r).await? {
            return Ok(format!(
                "already {:?} on autopkgtest-cloud; not requested again",
                f.state
            )
            .to_lowercase());
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
    /// per half a follow interval.
    async fn find(&self, r: &TestRequest) -> Result<Option<InFlight>, ApplyError> {
        let fresh = self.follow / 2;
        let cached = self
            .in_flight
            .lock()
            .ok()
            .and_then(|c| c.clone())
            .filter(|(at, _)| at.elapsed() < fresh)
            .map(|(_, all)| all);
        let all = match cached {
            Some(all) => all,
            None => {
                let all = Arc::new(self.client.in_flight().await.map_err(classify)?);
                if let Ok(mut c) = self.in_flight.lock() {
                    *c = Some((Instant::now(), all.clone()));
                }
                all
            }
        };
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

    /// The test's status and log in the excuses, under its trigger's entry.
    async fn result(&self, r: &TestRequest) -> Option<(String, Option<String>)> {
        let snap = self.snapshot(r).await?;
        let item = snap.excuses.for_source(trigger_source(r)?)?;
        item.tests
            .iter()
            .find(|t| &*t.package == r.package.as_str() && &*t.arch == r.arches[0].as_str())
            .map(|t| {
                (
                    t.status.as_str().to_string(),
                    t.log_url().map(str::to_string),
                )
            })
    }

    async fn trigger_left(&self, r: &TestRequest) -> bool {
        match (self.snapshot(r).await, trigger_source(r)) {
            (Some(s), Some(src)) => s.excuses.for_source(src).is_none(),
            _ => false,
        }
    }

    async fn snapshot(&self, r: &TestRequest) -> Option<Arc<MigrationSnapshot>> {
        let view = self.results.as_ref()?;
        view.snapshot(&r.release).await.ok()
    }
}

/// A result in words: what it means for the migration.
fn verdict(status: &str) -> String {
    match status {
        "PASS" => "✓ passed".into(),
        "NEUTRAL" => "○ NEUTRAL (nothing ran that could fail; does not block)".into(),
        "ALWAYSFAIL" => "✗ ALWAYSFAIL (fails without the trigger too; does not block)".into(),
        "REGRESSION" => "✗ REGRESSION (still blocks)".into(),
        other => format!("✗ {other}"),
    }
}

/// The source of the request's first trigger (`libsepol/3.8-1` → libsepol),
/// whose excuse lists the test's result.
fn trigger_source(r: &TestRequest) -> Option<&str> {
    r.triggers.first()?.split('/').next()
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_say_whether_they_block() {
        let rows = [
            ("PASS", "✓ passed"),
            (
                "NEUTRAL",
                "○ NEUTRAL (nothing ran that could fail; does not block)",
            ),
            (
                "ALWAYSFAIL",
                "✗ ALWAYSFAIL (fails without the trigger too; does not block)",
            ),
            ("REGRESSION", "✗ REGRESSION (still blocks)"),
            ("RUNNING-REFERENCE", "✗ RUNNING-REFERENCE"),
        ];
        for (status, words) in rows {
            assert_eq!(super::verdict(status), words, "{status}");
        }
    }
}
