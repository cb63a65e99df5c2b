//! One `sources` entry of update_excuses.yaml, parsed as YAML, read into
//! an [`Excuse`]: its identity and verdict (required), then whatever
//! policies it has — tests, bugs, hints, dependencies — each optional.

use std::sync::Arc;

use super::{Excuse, Hint, Status, TestResult};
use crate::britney::yaml::Node;

fn text(n: Option<&Node<'_>>) -> Option<String> {
    n.and_then(Node::as_str).map(str::to_string)
}

fn strings(n: Option<&Node<'_>>) -> Vec<String> {
    n.map(|n| {
        n.as_seq()
            .iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    })
    .unwrap_or_default()
}

fn required(item: &Node<'_>, key: &str) -> Result<String, String> {
    text(item.get(key)).ok_or_else(|| format!("missing `{key}`"))
}

/// Bug → epoch entries of block-bugs / update-excuse, without `verdict`.
fn bug_entries(policy: Option<&Node<'_>>) -> Vec<(String, i64)> {
    policy
        .map(|p| {
            p.entries()
                .iter()
                .filter(|(k, _)| k != "verdict")
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        v.as_str().and_then(|s| s.parse().ok()).unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// One `sources` entry; only its identity and verdict are required.
pub(super) fn excuse(item: &Node<'_>) -> Result<Excuse, String> {
    if !matches!(item, Node::Map(_)) {
        return Err("entry is not a mapping".into());
    }
    let deps = item.get("dependencies");
    let missing = item.get("missing-builds");
    let mut e = Excuse {
        item_name: required(item, "item-name")?,
        source: required(item, "source")?,
        old_version: required(item, "old-version")?,
        new_version: required(item, "new-version")?,
        verdict: required(item, "migration-policy-verdict")?,
        is_candidate: text(item.get("is-candidate")).as_deref() == Some("true"),
        reasons: strings(item.get("reason")),
        excuses: strings(item.get("excuses")),
        maintainer: text(item.get("maintainer")),
        component: text(item.get("component")),
        missing_builds: strings(missing.and_then(|m| m.get("on-architectures"))),
        missing_builds_unimportant: strings(
            missing.and_then(|m| m.get("on-unimportant-architectures")),
        ),
        blocked_by: strings(deps.and_then(|d| d.get("blocked-by"))),
        migrate_after: strings(deps.and_then(|d| d.get("migrate-after"))),
        unsatisfiable_dependencies: strings(deps.and_then(|d| d.get("unsatisfiable-dependencies"))),
        invalidated_by_other_package: text(item.get("invalidated-by-other-package")).as_deref()
            == Some("true"),
        hints: item
            .get("hints")
            .map(|h| {
                h.as_seq()
                    .iter()
                    .map(|h| Hint {
                        from: text(h.get("hint-from")).unwrap_or_default(),
                        kind: text(h.get("hint-type")).unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        forced_reason: strings(item.get("forced-reason")),
        detailed_info: strings(item.get("detailed-info")),
        old_binaries: item
            .get("old-binaries")
            .map(|o| {
                o.entries()
                    .iter()
                    .map(|(k, v)| (k.to_string(), strings(Some(v))))
                    .collect()
            })
            .unwrap_or_default(),
        manual_approval_status: text(item.get("manual-approval-status")),
        ..Excuse::default()
    };
    if let Some(policy) = item.get("policy_info") {
        policies(&mut e, policy);
    }
    Ok(e)
}

/// What `policy_info` says: each policy's verdict, the age, bugs, the
/// source-ppa grouping, skipped dependency checks and the test results.
fn policies(e: &mut Excuse, policy: &Node<'_>) {
    let pol = |name: &str| policy.get(name);
    let age = pol("age");
    e.age_days = age
        .and_then(|a| text(a.get("current-age")))
        .and_then(|s| s.parse().ok());
    e.age_required = age
        .and_then(|a| text(a.get("age-requirement")))
        .and_then(|s| s.parse().ok());
    e.autopkgtest_verdict = pol("autopkgtest").and_then(|a| text(a.get("verdict")));
    e.policy_verdicts = policy
        .entries()
        .iter()
        .filter_map(|(k, v)| Some((k.to_string(), text(v.get("verdict"))?)))
        .collect();
    e.block_bugs = bug_entries(pol("block-bugs"));
    e.update_excuse_bugs = bug_entries(pol("update-excuse"));
    e.source_ppa = pol("source-ppa")
        .map(|p| {
            p.entries()
                .iter()
                .filter(|(k, _)| k != "verdict")
                .filter_map(|(k, v)| Some((k.to_string(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    e.skip_dep_check = strings(pol("depends").and_then(|d| d.get("skip_dep_check")));
    if let Some(adt) = pol("autopkgtest") {
        e.tests = tests(adt);
        // Snapshots are kept in memory between polls: no growth slack.
        e.tests.shrink_to_fit();
    }
}

/// Flattens `policy_info.autopkgtest`: `pkg[/version] → arch → [status, log,
/// history, artifacts, retry]`, skipping the `verdict` string among them.
fn tests(adt: &Node<'_>) -> Vec<TestResult> {
    let mut out = Vec::new();
    for (key, arches) in adt.entries() {
        if key == "verdict" || !matches!(arches, Node::Map(_)) {
            continue;
        }
        let (package, version): (Arc<str>, Option<Arc<str>>) = match key.split_once('/') {
            Some((p, v)) => (Arc::from(p), Some(Arc::from(v))),
            None => (Arc::from(key.as_ref()), None),
        };
        for (arch, result) in arches.entries() {
            let field = |i: usize| result.as_seq().get(i).and_then(Node::as_str);
            let Some(status) = field(0) else { continue };
            out.push(TestResult::new(
                package.clone(),
                version.clone(),
                arch,
                Status::parse(status),
                [field(1), field(2), field(3), field(4)],
            ));
        }
    }
    out
}
