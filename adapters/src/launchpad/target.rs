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
    match event_type {
        "snap:build:0.1" => field("snap"),
        "livefs:build:0.1" => field("livefs"),
        "git:push:0.1" | "ci:build:0.1" => field("git_repository"),
        // The webhook sits on the proposal's target repository (or branch):
        // the proposal's path is under it.
        "merge-proposal:0.1" => field("merge_proposal")
            .and_then(|p| p.split_once("/+merge/").map(|(repo, _)| repo.to_string())),
        "bug:0.1" | "bug:comment:0.1" => field("target"),
        "oci-recipe:build:0.1" => field("recipe").or_else(|| field("oci_recipe")),
        "charm-recipe:build:0.1" => field("recipe").or_else(|| field("charm_recipe")),
        "craft-recipe:build:0.1" => field("recipe").or_else(|| field("craft_recipe")),
        _ => None,
    }
}

/// Is `path` the webhook target `target` or an object under it? (A hook on
/// `/ubuntu` hears about `/ubuntu/+source/glibc`'s bugs.) Whole path
/// segments only: `/~maas/+snap/maas` is not under `/~maas/+snap/ma`.
pub fn is_under(path: &str, target: &str) -> bool {
    let target = target.trim_end_matches('/');
    path == target
        || path
            .strip_prefix(target)
            .is_some_and(|rest| rest.starts_with('/'))
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
    fn under_means_whole_segments() {
        assert!(is_under("/ubuntu/+source/glibc", "/ubuntu"));
        assert!(is_under("/ubuntu", "/ubuntu"));
        assert!(is_under("/ubuntu", "/ubuntu/"));
        assert!(!is_under("/ubuntu-rtm", "/ubuntu"));
        assert!(!is_under("/~maas/+snap/maas", "/~maas/+snap/ma"));
        assert!(!is_under(
            "/~maas-committers/+snap/maas-3.5",
            "/~low-trust/+snap/toy"
        ));
    }
}
