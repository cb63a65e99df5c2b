//! Webhook payloads, read leniently: every object reference is a local
//! path (`/~owner/+snap/name/+build/123`), unknown fields are ignored, and a
//! missing field is `None` rather than an error (shared reference
//! launchpad-api, §7.4).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct SnapBuild {
    pub snap_build: String,
    pub action: Option<String>,
    pub snap: String,
    pub build_request: Option<String>,
    pub status: Option<String>,
    pub store_upload_status: Option<String>,
}

/// Store upload states that mean the snap did not reach the store.
const FAILED_UPLOAD: &[&str] = &["Failed to upload", "Failed to release to channels"];

impl SnapBuild {
    /// `maas-3.5` from `/~owner/+snap/maas-3.5`.
    pub fn snap_name(&self) -> &str {
        self.snap.rsplit("/+snap/").next().unwrap_or(&self.snap)
    }

    /// `~owner` from `/~owner/+snap/name`.
    pub fn owner(&self) -> Option<&str> {
        self.snap
            .trim_start_matches('/')
            .split('/')
            .next()
            .filter(|o| o.starts_with('~'))
    }

    /// `2789012` from `…/+build/2789012`.
    pub fn build_id(&self) -> &str {
        self.snap_build
            .rsplit('/')
            .next()
            .unwrap_or(&self.snap_build)
    }

    pub fn build_failed(&self) -> bool {
        self.status
            .as_deref()
            .is_some_and(crate::launchpad::snaps::build_failed)
    }

    pub fn upload_failed(&self) -> bool {
        self.store_upload_status
            .as_deref()
            .is_some_and(|s| FAILED_UPLOAD.contains(&s))
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
pub struct BugState {
    pub title: Option<String>,
    pub status: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Bug {
    pub action: Option<String>,
    /// `/ubuntu/+source/glibc`, `/maas`, …
    pub target: Option<String>,
    /// `/bugs/123`.
    pub bug: String,
    #[serde(default)]
    pub new: Option<BugState>,
    #[serde(default)]
    pub old: Option<BugState>,
}

impl Bug {
    pub fn number(&self) -> &str {
        self.bug.rsplit('/').next().unwrap_or(&self.bug)
    }

    /// The Ubuntu source package the bug task is on, if any.
    pub fn source_package(&self) -> Option<&str> {
        self.target.as_deref()?.strip_prefix("/ubuntu/+source/")
    }

    /// Tags present now and not before.
    pub fn added_tags(&self) -> Vec<&str> {
        let old: &[String] = self.old.as_ref().map_or(&[], |o| &o.tags);
        self.new
            .as_ref()
            .map(|n| {
                n.tags
                    .iter()
                    .filter(|t| !old.contains(t))
                    .map(String::as_str)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Tags present before and not now.
    pub fn removed_tags(&self) -> Vec<&str> {
        let new: &[String] = self.new.as_ref().map_or(&[], |n| &n.tags);
        self.old
            .as_ref()
            .map(|o| {
                o.tags
                    .iter()
                    .filter(|t| !new.contains(t))
                    .map(String::as_str)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Tags that change what britney does with a package (reference §6.4):
/// `block-proposed` (optionally `-SERIES`) holds it, `update-excuse` explains it.
pub fn migration_tag(tag: &str) -> bool {
    tag == "block-proposed" || tag.starts_with("block-proposed-") || tag == "update-excuse"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snap_build_payload_from_the_reference() {
        let p: SnapBuild = serde_json::from_str(
            r#"{"snap_build": "/~maas-committers/+snap/maas-3.5/+build/2789012", "action": "status-changed",
                "snap": "/~maas-committers/+snap/maas-3.5", "build_request": "/~maas-committers/+snap/maas-3.5/+build-request/87654321",
                "status": "Failed to build", "store_upload_status": "Unscheduled", "future_field": 1}"#,
        )
        .unwrap();
        assert_eq!(
            (p.snap_name(), p.owner(), p.build_id()),
            ("maas-3.5", Some("~maas-committers"), "2789012")
        );
        assert!(p.build_failed() && !p.upload_failed());
    }

    #[test]
    fn bug_tag_changes() {
        let p: Bug = serde_json::from_str(
            r#"{"action": "tags-changed", "target": "/ubuntu/+source/glibc", "bug": "/bugs/2100001",
                "new": {"tags": ["block-proposed", "foo"], "status": "New"}, "old": {"tags": ["foo", "update-excuse"]}}"#,
        )
        .unwrap();
        assert_eq!(p.number(), "2100001");
        assert_eq!(p.source_package(), Some("glibc"));
        assert_eq!(p.added_tags(), ["block-proposed"]);
        assert_eq!(p.removed_tags(), ["update-excuse"]);
        assert!(migration_tag("block-proposed-noble") && !migration_tag("foo"));
    }
}
