//! The Snap Store's world-changing steps: releasing one revision to a
//! channel, closing channels. Both are idempotent in the store, and each
//! step looks at the channel map first (already so = done) and after
//! (seen there = done), so a repeat after a crash changes nothing.

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use shepherd_adapters::snapstore::{Channel, Credentials, SnapStoreClient, StoreError};
use tokio::sync::Mutex;

use crate::executor::{Applied, ApplyError, StepCall};
use crate::redaction::Redactor;
use crate::store::{now_ms, Store};

/// The store's name for the Snap Store's renewed credentials.
pub const CREDENTIALS: &str = "snapstore";

fn apply_error(e: StoreError) -> ApplyError {
    ApplyError::from_service(&e, e.is_transient())
}

/// Keeps the credentials a refresh renewed, so the next start uses them;
/// every new discharge is scrubbed from what the bot says.
pub struct CredentialKeeper {
    store: Store,
    redactor: Arc<Redactor>,
    last: Mutex<String>,
}

impl CredentialKeeper {
    pub fn new(store: Store, redactor: Arc<Redactor>, client: &SnapStoreClient) -> Self {
        let last = client.credentials().discharge().expose_secret().to_string();
        Self {
            store,
            redactor,
            last: Mutex::new(last),
        }
    }

    /// After a call: persist the discharge if the client refreshed it.
    pub async fn keep(&self, client: &SnapStoreClient) {
        let now = client.credentials();
        let mut last = self.last.lock().await;
        if now.discharge().expose_secret() == last.as_str() {
            return;
        }
        self.redactor.add(now.discharge().clone());
        // Only the discharge (and which root it is for): the root stays
        // where the operator put it.
        let kept = SecretString::from(format!(
            "{}:{}",
            root_fingerprint(&now),
            now.discharge().expose_secret()
        ));
        match self
            .store
            .keep_credentials(CREDENTIALS, &kept, now_ms())
            .await
        {
            Ok(()) => *last = now.discharge().expose_secret().to_string(),
            Err(e) => {
                tracing::warn!(error = %e, "renewed Snap Store credentials not kept; the next start refreshes again")
            }
        }
    }
}

/// Which root a kept discharge belongs to (FNV-1a of the root: stable
/// across versions; telling roots apart, not a secret).
pub fn root_fingerprint(c: &Credentials) -> String {
    let hash = c
        .root()
        .expose_secret()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    format!("{hash:016x}")
}

pub struct SnapStoreApplier {
    client: SnapStoreClient,
    keeper: Arc<CredentialKeeper>,
    /// How long after the first apply a release may take to show.
    timeout: Duration,
    poll: Duration,
}

impl SnapStoreApplier {
    pub fn new(client: SnapStoreClient, keeper: Arc<CredentialKeeper>, poll: Duration) -> Self {
        Self {
            client,
            keeper,
            timeout: Duration::from_secs(10 * 60),
            poll,
        }
    }

    fn channel(name: &str) -> Result<Channel, ApplyError> {
        Channel::parse(name).map_err(|e| ApplyError::Permanent(e.to_string()))
    }

    fn wait_or_give_up(&self, step: &StepCall<'_>, note: String) -> Result<Applied, ApplyError> {
        if now_ms() - step.first_applied_at > self.timeout.as_millis() as i64 {
            return Err(ApplyError::Permanent(format!(
                "{note} after {} min",
                self.timeout.as_secs() / 60
            )));
        }
        Ok(Applied::Waiting {
            note,
            recheck_in: self.poll,
            follow_ref: None,
        })
    }

    /// `revision` of `snap` for `arch` in `channel`, unless it is there.
    pub async fn release(
        &self,
        snap: &str,
        revision: u64,
        channel: &str,
        arch: &str,
        step: &StepCall<'_>,
    ) -> Result<Applied, ApplyError> {
        let ch = Self::channel(channel)?;
        let held = |map: &shepherd_adapters::snapstore::ChannelMap| {
            map.revision(&ch, arch) == Some(revision)
        };
        let map = self.client.channel_map(snap).await.map_err(apply_error);
        self.keeper.keep(&self.client).await;
        if held(&map?) {
            let how = if step.following {
                "released"
            } else {
                "already"
            };
            return Ok(Applied::Done(format!(
                "{how}: {snap} r{revision} in {channel} ({arch})"
            )));
        }
        if !step.following {
            let sent = self
                .client
                .release(snap, revision, std::slice::from_ref(&ch))
                .await;
            self.keeper.keep(&self.client).await;
            sent.map_err(apply_error)?;
            let map = self.client.channel_map(snap).await.map_err(apply_error)?;
            if held(&map) {
                return Ok(Applied::Done(format!(
                    "released {snap} r{revision} to {channel} ({arch})"
                )));
            }
        }
        self.wait_or_give_up(
            step,
            format!(
                "{snap} r{revision} released to {channel} ({arch}), not in the channel map yet"
            ),
        )
    }

    /// Closes those of `channels` that hold anything.
    pub async fn close(
        &self,
        snap: &str,
        channels: &[String],
        step: &StepCall<'_>,
    ) -> Result<Applied, ApplyError> {
        let wanted: Vec<Channel> = channels
            .iter()
            .map(|c| Self::channel(c))
            .collect::<Result<_, _>>()?;
        let open = |map: &shepherd_adapters::snapstore::ChannelMap| -> Vec<Channel> {
            wanted
                .iter()
                // A row without a revision is a closed risk following a
                // stabler one: closed already.
                .filter(|c| {
                    map.entries
                        .iter()
                        .any(|e| &e.channel == *c && e.revision.is_some())
                })
                .cloned()
                .collect()
        };
        let map = self.client.channel_map(snap).await.map_err(apply_error);
        self.keeper.keep(&self.client).await;
        let still = open(&map?);
        if still.is_empty() {
            let how = if step.following {
                "closed"
            } else {
                "already closed"
            };
            return Ok(Applied::Done(format!(
                "{how}: {snap} {}",
                channels.join(", ")
            )));
        }
        if !step.following {
            let sent = self.client.close_by_name(snap, &still).await;
            self.keeper.keep(&self.client).await;
            sent.map_err(apply_error)?;
            let map = self.client.channel_map(snap).await.map_err(apply_error)?;
            if open(&map).is_empty() {
                return Ok(Applied::Done(format!(
                    "closed {snap} {}",
                    channels.join(", ")
                )));
            }
        }
        self.wait_or_give_up(
            step,
            format!(
                "{snap} {} closed, still in the channel map",
                channels.join(", ")
            ),
        )
    }
}
