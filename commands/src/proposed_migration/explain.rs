//! The plain-English account of why a package is stuck in -proposed, shared
//! by `!why` and the offline `shepherd why`. Leads with the answer, then
//! the evidence, and ends with the next step (TRANSCRIPTS.md).

use crate::links::Links;
use std::collections::BTreeMap;

use shepherd_adapters::britney::{Excuse, Excuses, Status, UpdateOutput};

use super::suggest::{closest, or_list};

/// How britney's reason codes read to a person.
fn reason_words(code: &str) -> &str {
    match code {
        "autopkgtest" => "blocked by autopkgtest",
        "block" => "blocked (hint or block-proposed bug)",
        "depends" => "waiting on dependencies",
        "missingbuild" => "missing builds",
        "no-binaries" => "no binaries built",
        "cruft" => "old binaries left behind",
        "newerintesting" => "a newer version is already in the release",
        "source-ppa" => "waiting for its PPA group",
        "linux-meta-not-ready" => "waiting for its linux-meta",
        "skiptest" => "tests skipped by hint",
        "build-depends" | "build-depends-indep" => "waiting on build-dependencies",
        "implicit-dependency" => "waiting on an implicit dependency",
        "age" => "too young",
        other => other,
    }
}

fn days(e: &Excuse) -> String {
    match e.age_days {
        Some(d) if d >= 2.0 => format!(" · {} days in -proposed", d.floor() as i64),
        Some(d) if d >= 1.0 => " · 1 day in -proposed".to_string(),
        Some(_) => " · less than a day in -proposed".to_string(),
        None => String::new(),
    }
}

fn headline(e: &Excuse) -> String {
    if e.is_candidate {
        return "valid candidate: britney will try to migrate it".to_string();
    }
    let mut words: Vec<&str> = e.reasons.iter().map(|r| reason_words(r)).collect();
    if let (Some(age), Some(req)) = (e.age_days, e.age_required) {
        if age < req {
            words.push("too young");
        }
    }
    if words.is_empty() {
        words.push(match e.verdict.as_str() {
            "REJECTED_WAITING_FOR_ANOTHER_ITEM" => "waiting for another item",
            "REJECTED_BLOCKED_BY_ANOTHER_ITEM" => "blocked by another item",
            "REJECTED_NEEDS_APPROVAL" => "needs approval",
            "REJECTED_TEMPORARILY" => "held temporarily",
            _ => "not a candidate",
        });
    }
    words.join(", ")
}

fn date(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "?".to_string())
}

/// Test package (+version) → arches with this status, in file order.
fn by_test(e: &Excuse, pick: impl Fn(&Status) -> bool) -> Vec<(String, Vec<&str>, Option<&str>)> {
    let mut out: Vec<(String, Vec<&str>, Option<&str>)> = Vec::new();
    for t in e.tests.iter().filter(|t| pick(&t.status)) {
        let name = match &t.version {
            Some(v) => format!("{} {v}", t.package),
            None => t.package.to_string(),
        };
        match out.iter_mut().find(|(n, _, _)| *n == name) {
            Some((_, arches, _)) => arches.push(&t.arch),
            None => out.push((name, vec![&t.arch], t.log_url())),
        }
    }
    out
}

/// The account of one item. `output` adds what migrating would break.
pub fn explain(e: &Excuse, output: Option<&UpdateOutput>, links: &Links) -> String {
    let mut lines = vec![format!(
        "{} {} → {} · {}{}",
        e.source,
        e.old_version,
        e.new_version,
        headline(e),
        days(e)
    )];
    for (test, arches, log) in by_test(e, |s| *s == Status::Regression) {
        let log = log
            .map(|l| format!("  log ({}): {l}", arches[0]))
            .unwrap_or_default();
        lines.push(format!("✗ {test} regressed on {}{log}", arches.join(" ")));
    }
    for (test, arches, _) in by_test(e, |s| {
        matches!(s, Status::Running | Status::RunningReference)
    }) {
        lines.push(format!(
            "⏳ {test} still running on {} (blocking until it finishes)",
            arches.join(" ")
        ));
    }
    let mut quiet: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &e.tests {
        let label = match t.status {
            Status::Pass | Status::OldPass => "passed",
            Status::Neutral | Status::OldNeutral => "neutral",
            Status::AlwaysFail => "always failed",
            Status::IgnoreFail => "failure ignored by hint",
            Status::RunningAlwaysFail => "running (always failed before)",
            Status::Regression | Status::Running | Status::RunningReference | Status::Other(_) => {
                continue
            }
        };
        *quiet.entry(label).or_default() += 1;
    }
    if !quiet.is_empty() {
        let parts: Vec<String> = quiet.iter().map(|(k, n)| format!("{n} {k}")).collect();
        lines.push(format!(
            "· other results, not blocking: {}",
            parts.join(", ")
        ));
    }
    for (bug, since) in &e.block_bugs {
        lines.push(format!(
            "⛔ block-proposed by LP: #{bug} (since {}) · {}",
            date(*since),
            links.bug(bug)
        ));
    }
    for (bug, _) in &e.update_excuse_bugs {
        lines.push(format!(
            "· update-excuse: LP: #{bug} explains this upload · {}",
            links.bug(bug)
        ));
    }
    if !e.missing_builds.is_empty() {
        lines.push(format!(
            "🔨 missing builds on {}",
            e.missing_builds.join(" ")
        ));
    }
    for ex in &e.excuses {
        let text = shepherd_adapters::wire::html::text(ex);
        if text.contains("unsatisfiable Depends")
            || text.contains("uninstallable") && text.contains("Depends")
        {
            lines.push(format!("· {}", text.trim()));
        }
    }
    if !e.migrate_after.is_empty() {
        lines.push(format!(
            "· must migrate after (or with): {}",
            e.migrate_after.join(", ")
        ));
    }
    if !e.blocked_by.is_empty() {
        lines.push(format!(
            "· blocked by items that cannot migrate: {}",
            e.blocked_by.join(", ")
        ));
    }
    for h in &e.hints {
        lines.push(format!("· hint {} by {}", h.kind, h.from));
    }
    if let Some(breaks) = output.and_then(|o| o.breaks(&e.item_name)) {
        for (arch, pkgs) in breaks {
            lines.push(format!(
                "· if {} migrates, {} become{} uninstallable on {arch}",
                e.source,
                pkgs.join(", "),
                if pkgs.len() == 1 { "s" } else { "" }
            ));
        }
    }
    lines.push(next_step(e));
    lines.join("\n")
}

fn next_step(e: &Excuse) -> String {
    let regressions: Vec<_> = e.regressions().collect();
    if !e.block_bugs.is_empty() {
        return "next: the block-proposed bug must be resolved (or its tag removed) first"
            .to_string();
    }
    if let Some(first) = regressions.first() {
        let n = regressions
            .iter()
            .map(|t| (&*t.package, &*t.arch))
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        return format!(
            "next: `!retry {}` ({n} request{}) — or read the {} {} log first",
            e.source,
            if n == 1 { "" } else { "s" },
            first.package,
            first.arch
        );
    }
    if e.tests.iter().any(|t| t.status.blocks()) {
        return format!(
            "next: wait for the running tests — `!watch {}` to hear when they land",
            e.source
        );
    }
    if e.is_candidate {
        return "next: nothing — it should migrate in the next britney run".to_string();
    }
    if !e.missing_builds.is_empty() {
        return "next: fix or retry the missing builds".to_string();
    }
    "next: see the items and hints above".to_string()
}

/// "not in -proposed" with the closest source names, for an unknown package.
pub fn not_found(pkg: &str, excuses: &Excuses) -> String {
    let (close, more) = closest(pkg, excuses.items.iter().map(|e| e.source.as_str()));
    let generated = excuses
        .generated_date
        .as_deref()
        .map(|d| format!(" (excuses of {d})"))
        .unwrap_or_default();
    let more = match more {
        0 => String::new(),
        n => format!(" ({n} more match)"),
    };
    if close.is_empty() {
        format!("{pkg} is not in -proposed{generated}: nothing is holding it, or it has already migrated")
    } else {
        format!(
            "{pkg} is not in -proposed{generated} — did you mean {}{more}?",
            or_list(&close)
        )
    }
}

#[cfg(test)]
#[path = "explain_tests.rs"]
mod tests;
