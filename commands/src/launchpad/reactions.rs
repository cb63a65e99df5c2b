//! What a Launchpad webhook delivery says, in words — pure: the bot looks
//! up who hears it (the verifying hook's channels, a package's watchers,
//! the threads of recent `!rebuild`s) and plans the announcements.

use crate::links::Links;
use serde_json::Value;
use shepherd_adapters::launchpad::webhooks::payload::{migration_tag, Bug, SnapBuild};

/// A delivery's announcements, before anyone is chosen to hear them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reaction {
    /// For the channels of the webhook that sent it.
    pub lines: Vec<String>,
    /// Also for the channels watching this source package (bug tags that
    /// hold or explain it in -proposed).
    pub package: Option<String>,
    /// A settled snap build: for the threads of recent `!rebuild`s of it.
    pub rebuild_follow_up: Option<FollowUp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    /// Without the `~`.
    pub owner: String,
    pub snap: String,
    pub text: String,
}

impl Reaction {
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty() && self.rebuild_follow_up.is_none()
    }
}

/// What `event_type` with this payload says. Unknown types and pings say
/// nothing (they are recorded).
pub fn react(event_type: &str, payload: &Value, links: &Links) -> Reaction {
    let text = |k: &str, or: &'static str| {
        payload
            .get(k)
            .and_then(Value::as_str)
            .map_or(or.to_string(), str::to_string)
    };
    let line = |l: String| Reaction {
        lines: vec![l],
        ..Default::default()
    };
    match event_type {
        "snap:build:0.1" => serde_json::from_value::<SnapBuild>(payload.clone())
            .map(|b| snap_build(&b, links))
            .unwrap_or_default(),
        "bug:0.1" | "bug:comment:0.1" => serde_json::from_value::<Bug>(payload.clone())
            .map(|b| bug(&b, links))
            .unwrap_or_default(),
        "git:push:0.1" => {
            let refs: Vec<String> = payload
                .get("ref_changes")
                .and_then(Value::as_object)
                .map(|m| {
                    m.keys()
                        .map(|k| k.trim_start_matches("refs/heads/").to_string())
                        .collect()
                })
                .unwrap_or_default();
            line(format!(
                "push to {}: {}",
                text("git_repository_path", "a repository"),
                refs.join(", ")
            ))
        }
        "merge-proposal:0.1" => line(format!(
            "merge proposal {}: {}",
            text("action", "changed"),
            links.launchpad(&text("merge_proposal", "?"))
        )),
        "livefs:build:0.1" | "ci:build:0.1" => {
            let build = ["livefs_build", "build"]
                .iter()
                .find_map(|k| payload.get(*k))
                .and_then(Value::as_str)
                .unwrap_or("?");
            line(format!(
                "{} {} · {}",
                event_type.trim_end_matches(":0.1"),
                text("status", "?"),
                links.launchpad(build)
            ))
        }
        _ => Reaction::default(),
    }
}

/// Failed builds and failed store uploads for the snap's channel (with a
/// `!rebuild` hint), and a settled build for the threads that asked for it.
fn snap_build(b: &SnapBuild, links: &Links) -> Reaction {
    let link = links.launchpad(&b.snap_build);
    let (name, id) = (b.snap_name(), b.build_id());
    let mut lines = Vec::new();
    if b.build_failed() {
        let status = b.status.as_deref().unwrap_or("failed");
        lines.push(format!(
            "{name} snap build {id} failed ({status}) · {link} — `!rebuild {name}`"
        ));
    } else if b.upload_failed() {
        let status = b.store_upload_status.as_deref().unwrap_or("failed");
        lines.push(format!(
            "{name} snap build {id} built, but the store upload failed ({status}) · {link}"
        ));
    }
    let status = b.status.as_deref().unwrap_or("");
    let upload = b.store_upload_status.as_deref().unwrap_or("");
    let settled = b.build_failed()
        || b.upload_failed()
        || (status == "Successfully built" && upload != "Pending");
    let rebuild_follow_up = match b.owner() {
        Some(owner) if settled => {
            let store = if upload.is_empty() {
                String::new()
            } else {
                format!(", store: {upload}")
            };
            Some(FollowUp {
                owner: owner.trim_start_matches('~').to_string(),
                snap: name.to_string(),
                text: format!("Launchpad: {name} build {id} is {status}{store} · {link}"),
            })
        }
        _ => None,
    };
    Reaction {
        lines,
        package: None,
        rebuild_follow_up,
    }
}

/// `block-proposed[-SERIES]` / `update-excuse` tags added or removed.
fn bug(bug: &Bug, links: &Links) -> Reaction {
    let pkg = bug.source_package();
    let n = bug.number();
    let link = links.bug(n);
    let mut lines = Vec::new();
    for t in bug.added_tags().into_iter().filter(|t| migration_tag(t)) {
        let what = if t == "update-excuse" {
            "now explains"
        } else {
            "now holds"
        };
        lines.push(format!(
            "LP: #{n} {} tagged {t}: it {what} {} in -proposed · {link}",
            pkg.unwrap_or("?"),
            pkg.unwrap_or("the package")
        ));
    }
    for t in bug.removed_tags().into_iter().filter(|t| migration_tag(t)) {
        lines.push(format!(
            "LP: #{n} {}: {t} removed · {link}",
            pkg.unwrap_or("?")
        ));
    }
    Reaction {
        package: (!lines.is_empty())
            .then(|| pkg.map(str::to_string))
            .flatten(),
        lines,
        rebuild_follow_up: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lines(event: &str, payload: Value) -> Vec<String> {
        react(event, &payload, &Links::default()).lines
    }

    #[test]
    fn each_event_type_in_words() {
        let cases: Vec<(&str, Value, Vec<&str>)> = vec![
            (
                "snap:build:0.1",
                json!({"snap_build": "/~o/+snap/maas/+build/7", "snap": "/~o/+snap/maas", "status": "Failed to build", "store_upload_status": "Unscheduled"}),
                vec!["maas snap build 7 failed (Failed to build) · https://launchpad.net/~o/+snap/maas/+build/7 — `!rebuild maas`"],
            ),
            (
                "snap:build:0.1",
                json!({"snap_build": "/~o/+snap/maas/+build/8", "snap": "/~o/+snap/maas", "status": "Successfully built", "store_upload_status": "Failed to upload"}),
                vec!["maas snap build 8 built, but the store upload failed (Failed to upload) · https://launchpad.net/~o/+snap/maas/+build/8"],
            ),
            (
                "snap:build:0.1",
                json!({"snap_build": "/~o/+snap/maas/+build/9", "snap": "/~o/+snap/maas", "status": "Successfully built", "store_upload_status": "Uploaded"}),
                vec![],
            ),
            (
                "bug:0.1",
                json!({"target": "/ubuntu/+source/glibc", "bug": "/bugs/5", "new": {"tags": ["block-proposed-noble", "x"]}, "old": {"tags": ["update-excuse"]}}),
                vec![
                    "LP: #5 glibc tagged block-proposed-noble: it now holds glibc in -proposed · https://bugs.launchpad.net/bugs/5",
                    "LP: #5 glibc: update-excuse removed · https://bugs.launchpad.net/bugs/5",
                ],
            ),
            (
                "bug:0.1",
                json!({"target": "/ubuntu/+source/glibc", "bug": "/bugs/6", "new": {"status": "Triaged", "tags": []}, "old": {"status": "New", "tags": []}}),
                vec![],
            ),
            (
                "git:push:0.1",
                json!({"git_repository": "/~o/p/+git/r", "git_repository_path": "~o/p/+git/r", "ref_changes": {"refs/heads/main": {}}}),
                vec!["push to ~o/p/+git/r: main"],
            ),
            (
                "merge-proposal:0.1",
                json!({"merge_proposal": "/~o/p/+git/r/+merge/3", "action": "reviewed"}),
                vec!["merge proposal reviewed: https://launchpad.net/~o/p/+git/r/+merge/3"],
            ),
            (
                "livefs:build:0.1",
                json!({"livefs_build": "/~o/+livefs/u/r/l/+build/4", "status": "Failed to build"}),
                vec!["livefs:build Failed to build · https://launchpad.net/~o/+livefs/u/r/l/+build/4"],
            ),
            ("ping", json!({"ping": true}), vec![]),
            ("snap:build:0.1", json!("not an object"), vec![]),
        ];
        for (event, payload, want) in cases {
            assert_eq!(lines(event, payload.clone()), want, "{event} {payload}");
        }
    }

    #[test]
    fn settled_builds_follow_up_and_tag_changes_reach_the_package() {
        let done = react(
            "snap:build:0.1",
            &json!({"snap_build": "/~maas-committers/+snap/maas/+build/9", "snap": "/~maas-committers/+snap/maas", "status": "Successfully built", "store_upload_status": "Uploaded"}),
            &Links::default(),
        );
        assert_eq!(
            done.rebuild_follow_up,
            Some(FollowUp {
                owner: "maas-committers".into(),
                snap: "maas".into(),
                text: "Launchpad: maas build 9 is Successfully built, store: Uploaded · https://launchpad.net/~maas-committers/+snap/maas/+build/9".into(),
            })
        );
        let uploading = react(
            "snap:build:0.1",
            &json!({"snap_build": "/~m/+snap/maas/+build/9", "snap": "/~m/+snap/maas", "status": "Successfully built", "store_upload_status": "Pending"}),
            &Links::default(),
        );
        assert!(uploading.is_empty(), "{uploading:?}");
        let tagged = react(
            "bug:0.1",
            &json!({"target": "/ubuntu/+source/glibc", "bug": "/bugs/5", "new": {"tags": ["block-proposed"]}, "old": {"tags": []}}),
            &Links::default(),
        );
        assert_eq!(tagged.package.as_deref(), Some("glibc"));
    }
}
