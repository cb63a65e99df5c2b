//! Which webhook target a delivery is about, as its payload names it
//! (shared reference launchpad-api, §7.1 and §7.4). A delivery is verified
//! with the secret of *that* target's webhook, and announced in *that*
//! target's channels — never in those of another object the payload merely
//! mentions, so a low-trust target's secret cannot speak for another.

use serde_json::Value;

/// The target path (`/~maas-committers/+snap/maas`, `/ubuntu/+source/glibc`,
/// `/~o/p/+git/r`) of the webhook that sent this payload, or `None` when
/// the payload names none (a ping, an unknown event type).
pub fn delivery_target(event_type: &str, payload: &Value) -> Option<String> {
    let field = |k: &str| {
        payload
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| s.starts_with('/'))
            .map(str::to_string)
    };
    // Each kind of target has one shape; anything else names nothing (so a
    // path like `/~o/+snap/maas/+snap/other` cannot pass for `maas`).
    let shaped = |path: Option<String>, ok: fn(&[&str]) -> bool| path.filter(|p| ok(&segments(p)));
    match event_type {
        "snap:build:0.1" => shaped(
            field("snap"),
            |s| matches!(s, [o, "+snap", n] if owner(o) && plain(n)),
        ),
        "livefs:build:0.1" => shaped(
            field("livefs"),
            |s| matches!(s, [o, "+livefs", d, r, n] if owner(o) && [d, r, n].iter().all(|x| plain(x))),
        ),
        "git:push:0.1" | "ci:build:0.1" => shaped(field("git_repository"), git_repository),
        // The webhook sits on the proposal's target repository.
        "merge-proposal:0.1" => shaped(
            field("merge_proposal")
                .and_then(|p| p.split_once("/+merge/").map(|(repo, _)| repo.to_string())),
            git_repository,
        ),
        "bug:0.1" | "bug:comment:0.1" => shaped(field("target"), |s| match s {
            [p] => plain(p),
            [d, "+source", p] => plain(d) && plain(p),
            [p, s] => plain(p) && plain(s),
            _ => false,
        }),
        _ => None,
    }
}

fn segments(path: &str) -> Vec<&str> {
    path.trim_start_matches('/').split('/').collect()
}

/// A name: not empty, no `+` (Launchpad's traversal marker), no `~`.
fn plain(s: &str) -> bool {
    !s.is_empty() && !s.starts_with('+') && !s.starts_with('~')
}

fn owner(s: &str) -> bool {
    s.strip_prefix('~').is_some_and(plain)
}

/// `/~owner/+git/repo` or `/~owner/project/+git/repo`.
fn git_repository(s: &[&str]) -> bool {
    match s {
        [o, "+git", r] => owner(o) && plain(r),
        [o, p, "+git", r] => owner(o) && plain(p) && plain(r),
        _ => false,
    }
}

/// Does a webhook on `hook` hear about `target`? Its own target, and —
/// for bugs only — a distribution's hook hears about its source
/// packages (`/ubuntu` hears `/ubuntu/+source/glibc`).
pub fn hears(hook: &str, event_type: &str, target: &str) -> bool {
    let hook = hook.trim_end_matches('/');
    if hook.is_empty() {
        return false;
    }
    if target == hook {
        return true;
    }
    matches!(event_type, "bug:0.1" | "bug:comment:0.1")
        && target
            .strip_prefix(hook)
            .is_some_and(|rest| rest.starts_with("/+source/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_event_type_names_its_target() {
        let cases = [
            (
                "snap:build:0.1",
                json!({"snap_build": "/~o/+snap/s/+build/1", "snap": "/~o/+snap/s"}),
                Some("/~o/+snap/s"),
            ),
            (
                "git:push:0.1",
                json!({"git_repository": "/~o/p/+git/r", "git_repository_path": "~o/p/+git/r"}),
                Some("/~o/p/+git/r"),
            ),
            (
                "ci:build:0.1",
                json!({"build": "/~o/p/+git/r/+build/3", "git_repository": "/~o/p/+git/r"}),
                Some("/~o/p/+git/r"),
            ),
            (
                "merge-proposal:0.1",
                json!({"merge_proposal": "/~o/p/+git/r/+merge/7", "action": "created"}),
                Some("/~o/p/+git/r"),
            ),
            (
                "livefs:build:0.1",
                json!({"livefs_build": "/~o/+livefs/u/s/l/+build/4", "livefs": "/~o/+livefs/u/s/l"}),
                Some("/~o/+livefs/u/s/l"),
            ),
            (
                "bug:0.1",
                json!({"target": "/ubuntu/+source/glibc", "bug": "/bugs/1"}),
                Some("/ubuntu/+source/glibc"),
            ),
            ("ping", json!({"ping": true}), None),
            // A header naming one type and a payload shaped for another names nothing.
            ("snap:build:0.1", json!({"target": "/maas"}), None),
            ("snap:build:0.1", json!({"snap": 3}), None),
        ];
        for (event, payload, want) in cases {
            assert_eq!(
                delivery_target(event, &payload).as_deref(),
                want,
                "{event} {payload}"
            );
        }
    }

    #[test]
    fn only_well_shaped_targets_count() {
        for (event, payload) in [
            (
                "snap:build:0.1",
                json!({"snap": "/~o/+snap/maas/+snap/other"}),
            ),
            ("snap:build:0.1", json!({"snap": "/o/+snap/maas"})),
            ("snap:build:0.1", json!({"snap": "/~o/+snap/+maas"})),
            (
                "git:push:0.1",
                json!({"git_repository": "/~o/p/+git/r/extra"}),
            ),
            ("bug:0.1", json!({"target": "/ubuntu/+source/glibc/+bug/1"})),
            ("bug:0.1", json!({"target": "/"})),
        ] {
            assert_eq!(delivery_target(event, &payload), None, "{event} {payload}");
        }
        // Only the shape is checked: whatever the name, it names one snap
        // (routing compares whole targets, never patterns).
        assert_eq!(
            delivery_target("snap:build:0.1", &json!({"snap": "/~o/+snap/%"})).as_deref(),
            Some("/~o/+snap/%")
        );
    }

    #[test]
    fn a_hook_hears_its_own_target_and_a_distribution_its_packages_bugs() {
        assert!(hears("/~o/+snap/maas", "snap:build:0.1", "/~o/+snap/maas"));
        assert!(!hears(
            "/~o/+snap/maas",
            "snap:build:0.1",
            "/~o/+snap/maas-agent"
        ));
        assert!(!hears("/~o", "snap:build:0.1", "/~o/+snap/maas"));
        assert!(hears("/ubuntu", "bug:0.1", "/ubuntu/+source/glibc"));
        assert!(hears("/ubuntu/", "bug:0.1", "/ubuntu/+source/glibc"));
        assert!(!hears("/ubuntu", "bug:0.1", "/ubuntu-rtm/+source/glibc"));
        assert!(!hears("/", "bug:0.1", "/ubuntu"));
        assert!(!hears("", "bug:0.1", "/ubuntu"));
    }
}
