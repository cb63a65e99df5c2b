//! Launchpad's world-changing steps: a PPA copy, a snap build, a webhook.
//! Copies and builds are sent once and then *followed*: each later look
//! only reads, and answers Waiting until Launchpad has published the copy
//! or finished the build and its store upload — the worker is free
//! meanwhile. Timeouts count from the step's first apply, across restarts.

mod build;
mod copy;
mod housekeeping;
mod webhook;

pub use build::BuildAsk;
pub use housekeeping::TaskChange;

use std::sync::Arc;
use std::time::Duration;

use shepherd_adapters::launchpad::{LaunchpadClient, LpError};
use shepherd_adapters::wire::Calls;

use crate::config::{Config, LaunchpadConfig};
use crate::executor::{Applied, ApplyError, StepCall};
use crate::redaction::Redactor;
use crate::store::{now_ms, Store};
use shepherd_adapters::launchpad::webhooks::receiver::LaunchpadReceiver;
use shepherd_commands::links::Links;

/// How long one look at a followed copy or build may take.
const LOOK_TIMEOUT: Duration = Duration::from_secs(10);

fn apply_error(e: LpError) -> ApplyError {
    ApplyError::from_service(&e, e.is_transient())
}

pub struct LaunchpadApplier {
    /// Writes, and the reads that decide them: long timeout, retries.
    client: LaunchpadClient,
    /// Looks at what a followed step follows: short timeout, one retry, so
    /// a Launchpad outage does not hold a worker for minutes per look.
    looks: LaunchpadClient,
    store: Store,
    /// Learns the secrets of webhooks the bot registers, so their
    /// deliveries verify at once; the redactor scrubs them from chat.
    receiver: Arc<LaunchpadReceiver>,
    redactor: Arc<Redactor>,
    public_url: Option<String>,
    /// How often a followed copy or build is looked at.
    poll: Duration,
    copy_timeout: Duration,
    build_timeout: Duration,
    /// Pages the results link to (this Launchpad's).
    links: Links,
}

impl LaunchpadApplier {
    /// `c` is `config`'s `[launchpad]`; the webhook address, the links
    /// and the executor's request timeout come from the rest of it.
    pub fn new(
        config: &Config,
        c: &LaunchpadConfig,
        store: Store,
        receiver: Arc<LaunchpadReceiver>,
        redactor: Arc<Redactor>,
        calls: &Calls,
    ) -> Result<Self, LpError> {
        let public_url = config.webhook.public_url.as_ref().map(|u| u.to_string());
        let links = config.links();
        let timeout = config.executor.request_timeout();
        let poll = Duration::from_millis(c.poll_interval_ms.max(10));
        let client = LaunchpadClient::new(c.service_root.as_str(), c.oauth(), timeout)?
            .observed(calls.clone());
        let looks = LaunchpadClient::new(c.service_root.as_str(), c.oauth(), LOOK_TIMEOUT)?
            .with_retry_delays(vec![Duration::from_millis(500)])
            .observed(calls.clone());
        // Short polls (sandbox, tests) get short retry delays too.
        let client = if poll < Duration::from_secs(1) {
            client.with_retry_delays(vec![poll; 3])
        } else {
            client
        };
        Ok(Self {
            client,
            looks,
            store,
            receiver,
            redactor,
            public_url,
            poll,
            copy_timeout: Duration::from_secs(c.copy_timeout_mins * 60),
            build_timeout: Duration::from_secs(c.build_timeout_mins * 60),
            links,
        })
    }

    /// Still within `limit` of the step's first apply?
    fn in_time(step: &StepCall<'_>, limit: Duration) -> bool {
        now_ms() - step.first_applied_at < limit.as_millis() as i64
    }

    fn wait(&self, note: String, follow_ref: Option<String>) -> Result<Applied, ApplyError> {
        Ok(Applied::Waiting {
            note,
            recheck_in: self.poll,
            follow_ref,
        })
    }
}
