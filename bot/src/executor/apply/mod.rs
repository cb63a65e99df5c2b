//! The production applier: routes each action to the service that owns it.
//! One file per service; each holds the only write-capable client for it.

pub mod autopkgtest;
pub mod launchpad;
pub mod snapstore;

use std::sync::Arc;

use async_trait::async_trait;
use shepherd_adapters::autopkgtest::TestRequest;
use shepherd_adapters::chat::{nonce_for, Chat};
use shepherd_commands::Action;

use super::{Applied, Applier, ApplyError, StepCall};
use launchpad::LaunchpadApplier;

/// Each service's write client, when the service is configured.
#[derive(Default)]
pub struct ServiceAppliers {
    pub autopkgtest: Option<Arc<autopkgtest::AutopkgtestApplier>>,
    pub launchpad: Option<Arc<LaunchpadApplier>>,
    pub snapstore: Option<Arc<snapstore::SnapStoreApplier>>,
}

pub struct WorldApplier {
    pub chat: Arc<dyn Chat>,
    pub services: ServiceAppliers,
}

#[async_trait]
impl Applier for WorldApplier {
    async fn apply(&self, step: &StepCall<'_>) -> Result<Applied, ApplyError> {
        // One arm per action: each service's applier does the work.
        match step.action {
            Action::Announce {
                channel,
                text,
                thread,
            } => self.announce(channel, thread.as_deref(), text, step).await,
            Action::RequestAutopkgtest { .. } => self.request_test(step).await,
            Action::CopyPackage {
                name,
                version,
                from,
                to,
                series,
                include_binaries,
            } => {
                self.lp()?
                    .copy(name, version, from, to, series, *include_binaries, step)
                    .await
            }
            Action::RequestSnapBuild {
                owner,
                snap,
                arch,
                after_build,
                series,
            } => {
                let ask = launchpad::BuildAsk {
                    owner,
                    snap,
                    arch,
                    after_build: *after_build,
                    series: series.as_deref(),
                };
                self.lp()?.build(&ask, step).await
            }
            Action::RegisterWebhook {
                target,
                events,
                channel,
            } => self
                .lp()?
                .register_webhook(target, events, channel.as_deref())
                .await
                .map(Applied::Done),
            Action::ReleaseSnap {
                snap,
                revision,
                channel,
                arch,
            } => {
                self.store()?
                    .release(snap, *revision, channel, arch, step)
                    .await
            }
            Action::CloseChannels { snap, channels } => {
                self.store()?.close(snap, channels, step).await
            }
            Action::CreateMilestone {
                project,
                series,
                name,
                date_targeted,
            } => {
                self.lp()?
                    .create_milestone(project, series, name, date_targeted.as_deref())
                    .await
            }
            Action::ReleaseMilestone {
                project,
                name,
                date_released,
            } => {
                self.lp()?
                    .release_milestone(project, name, date_released)
                    .await
            }
            Action::UpdateBugTask {
                task,
                status,
                milestone,
                etag,
                from_status,
                from_milestone,
                ..
            } => {
                let change = launchpad::TaskChange {
                    task,
                    status: status.as_deref(),
                    milestone: milestone.as_deref(),
                    etag: etag.as_deref(),
                    from_status: from_status.as_deref(),
                    from_milestone: from_milestone.as_deref(),
                };
                self.lp()?.update_bug_task(&change).await
            }
        }
    }
}

impl WorldApplier {
    /// The attempt is recorded (claimed) before this runs; the nonce lets
    /// a platform that supports it drop a re-send after a crash.
    async fn announce(
        &self,
        channel: &str,
        thread: Option<&str>,
        text: &str,
        step: &StepCall<'_>,
    ) -> Result<Applied, ApplyError> {
        match self
            .chat
            .post_once(channel, thread, text, &nonce_for(step.key))
            .await
        {
            Ok(m) => Ok(Applied::Done(format!("posted to {} ({})", m.channel, m.id))),
            Err(e) => Err(ApplyError::from_service(&e, e.is_transient())),
        }
    }

    async fn request_test(&self, step: &StepCall<'_>) -> Result<Applied, ApplyError> {
        let action = step.action;
        let Action::RequestAutopkgtest {
            release,
            arch,
            package,
            triggers,
            all_proposed,
            ppas,
        } = action
        else {
            return Err(ApplyError::Permanent("not a test request".into()));
        };
        let Some(tests) = &self.services.autopkgtest else {
            return Err(ApplyError::Permanent(
                "autopkgtest-cloud is not configured".into(),
            ));
        };
        let request = TestRequest {
            release: release.clone(),
            arches: vec![arch.clone()],
            package: package.clone(),
            triggers: triggers.clone(),
            all_proposed: *all_proposed,
            ppas: ppas.clone(),
        };
        tests.apply(&request, step).await
    }

    fn store(&self) -> Result<&snapstore::SnapStoreApplier, ApplyError> {
        self.services
            .snapstore
            .as_deref()
            .ok_or_else(|| ApplyError::Permanent("the Snap Store is not configured".into()))
    }

    fn lp(&self) -> Result<&LaunchpadApplier, ApplyError> {
        self.services
            .launchpad
            .as_deref()
            .ok_or_else(|| ApplyError::Permanent("Launchpad is not configured".into()))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use shepherd_adapters::chat::{ChatError, Incoming, SentMessage, ThreadRef};

    use super::*;

    /// A platform that records the nonce each post carries.
    #[derive(Default)]
    struct NonceChat {
        nonces: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl Chat for NonceChat {
        fn platform(&self) -> &str {
            "test"
        }
        async fn next_message(&self) -> Option<Incoming> {
            None
        }
        async fn reply(&self, _: &ThreadRef, _: &str) -> Result<SentMessage, ChatError> {
            Err(ChatError::Closed)
        }
        async fn edit(&self, _: &SentMessage, _: &str) -> Result<(), ChatError> {
            Ok(())
        }
        async fn send(&self, _: &str, _: &str) -> Result<SentMessage, ChatError> {
            Err(ChatError::Closed)
        }
        async fn post_once(
            &self,
            channel: &str,
            _: Option<&str>,
            _: &str,
            nonce: &str,
        ) -> Result<SentMessage, ChatError> {
            self.nonces.lock().unwrap().push(nonce.to_string());
            Ok(SentMessage {
                channel: channel.into(),
                thread: None,
                id: "m1".into(),
            })
        }
    }

    /// An announcement sent again (after a crash) carries the nonce it
    /// carried the first time, so a platform that deduplicates drops it.
    #[tokio::test]
    async fn a_re_sent_announcement_carries_the_same_nonce() {
        let chat = Arc::new(NonceChat::default());
        let applier = WorldApplier {
            chat: chat.clone(),
            services: ServiceAppliers::default(),
        };
        let action = Action::Announce {
            channel: "#release".into(),
            text: "3.6.0 is out".into(),
            thread: None,
        };
        let step = StepCall {
            key: "webhook/launchpad/42/0",
            action: &action,
            following: false,
            first_applied_at: 0,
            follow_ref: None,
            retried: false,
        };
        for _ in 0..2 {
            assert!(matches!(applier.apply(&step).await, Ok(Applied::Done(_))));
        }
        let nonces = chat.nonces.lock().unwrap().clone();
        assert_eq!(nonces, vec![nonce_for("webhook/launchpad/42/0"); 2]);
    }
}
