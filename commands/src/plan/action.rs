//! The world-changing calls a plan is made of.

use serde::{Deserialize, Serialize};

/// One world-changing call. New variants will not compile until their audit
/// text and danger rule are decided below (no wildcard arms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// Post a message to a chat channel — in a thread of it, when given.
    Announce {
        channel: String,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        thread: Option<String>,
    },
    /// Copy one source (and its binaries) from one PPA to another for one
    /// series, then follow it until it is published in the destination.
    CopyPackage {
        name: String,
        version: String,
        /// `owner/ppa`.
        from: String,
        to: String,
        series: String,
        include_binaries: bool,
    },
    /// Build a snap on one architecture (its auto-build archive, pocket and
    /// channels), then follow the build to its end.
    RequestSnapBuild {
        owner: String,
        snap: String,
        arch: String,
        /// The arch's latest build when planned: any newer build of the
        /// arch is this step's own (requested before a crash, or by
        /// Launchpad itself), so it is followed rather than doubled.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after_build: Option<u64>,
        /// The series to build for, when the snap names none
        /// (`distro_series_link` null) and no earlier build of the arch does.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        series: Option<String>,
    },
    /// Create (or re-key) a Launchpad webhook on `target` pointing at this
    /// bot, with a secret generated when applied and kept in the store.
    RegisterWebhook {
        target: String,
        events: Vec<String>,
        channel: Option<String>,
    },
    /// Release one revision (one architecture's build) of a snap to a
    /// fully qualified channel, then see it there in the channel map.
    ReleaseSnap {
        snap: String,
        revision: u64,
        channel: String,
        arch: String,
    },
    /// Close channels of a snap (each then follows the next more stable
    /// risk of its track), then see them gone from the channel map.
    CloseChannels { snap: String, channels: Vec<String> },
    /// Create a milestone on a project series (nothing, if it exists).
    CreateMilestone {
        project: String,
        series: String,
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        date_targeted: Option<String>,
    },
    /// Release a milestone (a product release, unless it has one) and
    /// deactivate it.
    ReleaseMilestone {
        project: String,
        name: String,
        date_released: String,
    },
    /// Change one bug task: its status and/or milestone. `etag` is the
    /// task as planned (`If-Match`): changed since, it is read again; as
    /// wanted already = done; no longer as planned (`from_status`,
    /// `from_milestone`: someone reopened or moved it) = left alone.
    UpdateBugTask {
        task: String,
        bug: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<String>,
        /// The milestone's name (of the task's project).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        milestone: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        etag: Option<String>,
        /// Its status when planned.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from_status: Option<String>,
        /// Its milestone's name when planned.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from_milestone: Option<String>,
    },
    /// One request.cgi call: re-run `package`'s tests on `arch`.
    RequestAutopkgtest {
        release: String,
        arch: String,
        package: String,
        triggers: Vec<String>,
        all_proposed: bool,
        ppas: Vec<String>,
    },
}

impl Action {
    /// The action's kind, as stored (the serde tag): a short, bounded name
    /// for logs and metrics labels.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Announce { .. } => "announce",
            Action::CopyPackage { .. } => "copy_package",
            Action::RequestSnapBuild { .. } => "request_snap_build",
            Action::RegisterWebhook { .. } => "register_webhook",
            Action::ReleaseSnap { .. } => "release_snap",
            Action::CloseChannels { .. } => "close_channels",
            Action::CreateMilestone { .. } => "create_milestone",
            Action::ReleaseMilestone { .. } => "release_milestone",
            Action::UpdateBugTask { .. } => "update_bug_task",
            Action::RequestAutopkgtest { .. } => "request_autopkgtest",
        }
    }

    /// Must every earlier step of the plan be done (not just sent) first?
    /// Closing a channel: its users fall back to the next risk, which must
    /// show the new release before they do.
    pub fn after_earlier_done(&self) -> bool {
        matches!(self, Action::CloseChannels { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `kind` is the stored tag: a metrics label and the stored JSON agree.
    #[test]
    fn kind_is_the_serde_tag() {
        let s = String::new;
        let actions = [
            Action::Announce {
                channel: s(),
                text: s(),
                thread: None,
            },
            Action::CopyPackage {
                name: s(),
                version: s(),
                from: s(),
                to: s(),
                series: s(),
                include_binaries: false,
            },
            Action::RequestSnapBuild {
                owner: s(),
                snap: s(),
                arch: s(),
                after_build: None,
                series: None,
            },
            Action::RegisterWebhook {
                target: s(),
                events: Vec::new(),
                channel: None,
            },
            Action::ReleaseSnap {
                snap: s(),
                revision: 1,
                channel: s(),
                arch: s(),
            },
            Action::CloseChannels {
                snap: s(),
                channels: Vec::new(),
            },
            Action::CreateMilestone {
                project: s(),
                series: s(),
                name: s(),
                date_targeted: None,
            },
            Action::ReleaseMilestone {
                project: s(),
                name: s(),
                date_released: s(),
            },
            Action::UpdateBugTask {
                task: s(),
                bug: 1,
                status: None,
                milestone: None,
                etag: None,
                from_status: None,
                from_milestone: None,
            },
            Action::RequestAutopkgtest {
                release: s(),
                arch: s(),
                package: s(),
                triggers: Vec::new(),
                all_proposed: false,
                ppas: Vec::new(),
            },
        ];
        let mut kinds: Vec<&str> = Vec::new();
        for a in &actions {
            let json = serde_json::to_value(a).unwrap();
            assert_eq!(json["type"].as_str(), Some(a.kind()), "{a:?}");
            kinds.push(a.kind());
        }
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(kinds.len(), actions.len(), "one kind per variant");
    }
}
