//! What changed between two excuses snapshots, as typed transitions.
//!
//! Items are matched by `item-name`; test results by (test source, arch),
//! because a test key's version changes between runs and disappears while
//! every arch is running (shared reference britney-autopkgtest, §1.7).

use std::collections::{BTreeSet, HashMap};

use super::excuses::{Excuse, Excuses, Status};
use super::output::UpdateOutput;

/// Why an item is no longer in the excuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leaving {
    /// `update_output.txt` shows britney committed it.
    Migrated,
    /// A newer upload of the same source replaced it in -proposed.
    Superseded { by: String },
    /// Neither the output nor the versions tell (migrated or removed).
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Appeared {
        version: String,
    },
    Left {
        version: String,
        how: Leaving,
    },
    NewVersion {
        from: String,
        to: String,
    },
    VerdictChanged {
        from: String,
        to: String,
    },
    NewRegression {
        test: String,
        arch: String,
        log_url: Option<String>,
    },
    RegressionCleared {
        test: String,
        arch: String,
        now: Option<Status>,
    },
    Blocked {
        bug: String,
    },
    Unblocked {
        bug: String,
    },
    BecameCandidate,
    AgeReached {
        days: f64,
        required: f64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub item: String,
    pub source: String,
    pub maintainer: Option<String>,
    pub change: Change,
}

fn regressions(e: &Excuse) -> BTreeSet<(&str, &str)> {
    e.regressions().map(|t| (&*t.package, &*t.arch)).collect()
}

fn status_of<'e>(e: &'e Excuse, test: &str, arch: &str) -> Option<&'e Status> {
    e.tests
        .iter()
        .find(|t| &*t.package == test && &*t.arch == arch)
        .map(|t| &t.status)
}

/// The transitions from `old` to `new`, in the new file's order, then
/// departures in the old file's order. `output` is the new run's
/// `update_output.txt`, when available.
pub fn diff(old: &Excuses, new: &Excuses, output: Option<&UpdateOutput>) -> Vec<Transition> {
    let before: HashMap<&str, &Excuse> = old
        .items
        .iter()
        .map(|e| (e.item_name.as_str(), e))
        .collect();
    let after: HashMap<&str, &Excuse> = new
        .items
        .iter()
        .map(|e| (e.item_name.as_str(), e))
        .collect();
    let mut out = Vec::new();
    for n in &new.items {
        let changes = match before.get(n.item_name.as_str()) {
            None => vec![Change::Appeared {
                version: n.new_version.clone(),
            }],
            Some(o) => changes(o, n),
        };
        out.extend(changes.into_iter().map(|change| transition(n, change)));
    }
    for o in &old.items {
        if after.contains_key(o.item_name.as_str()) {
            continue;
        }
        let change = Change::Left {
            version: o.new_version.clone(),
            how: leaving(o, new, output),
        };
        out.push(transition(o, change));
    }
    out
}

fn transition(e: &Excuse, change: Change) -> Transition {
    Transition {
        item: e.item_name.clone(),
        source: e.source.clone(),
        maintainer: e.maintainer.clone(),
        change,
    }
}

/// What changed in an item present in both snapshots, in a fixed order:
/// version, verdict, regressions, block bugs, candidacy, age.
fn changes(o: &Excuse, n: &Excuse) -> Vec<Change> {
    let mut out = Vec::new();
    if o.new_version != n.new_version {
        out.push(Change::NewVersion {
            from: o.new_version.clone(),
            to: n.new_version.clone(),
        });
    }
    if o.verdict != n.verdict {
        out.push(Change::VerdictChanged {
            from: o.verdict.clone(),
            to: n.verdict.clone(),
        });
    }
    let (was, now) = (regressions(o), regressions(n));
    for (test, arch) in now.difference(&was) {
        let log_url = n
            .regressions()
            .find(|t| &*t.package == *test && &*t.arch == *arch)
            .and_then(|t| t.log_url().map(str::to_string));
        out.push(Change::NewRegression {
            test: test.to_string(),
            arch: arch.to_string(),
            log_url,
        });
    }
    for (test, arch) in was.difference(&now) {
        out.push(Change::RegressionCleared {
            test: test.to_string(),
            arch: arch.to_string(),
            now: status_of(n, test, arch).cloned(),
        });
    }
    let bugs = |e: &Excuse| {
        e.block_bugs
            .iter()
            .map(|(b, _)| b.clone())
            .collect::<BTreeSet<_>>()
    };
    let (old_bugs, new_bugs) = (bugs(o), bugs(n));
    for bug in new_bugs.difference(&old_bugs) {
        out.push(Change::Blocked { bug: bug.clone() });
    }
    for bug in old_bugs.difference(&new_bugs) {
        out.push(Change::Unblocked { bug: bug.clone() });
    }
    if !o.is_candidate && n.is_candidate {
        out.push(Change::BecameCandidate);
    }
    if let (Some(before), Some(now), Some(required)) = (o.age_days, n.age_days, n.age_required) {
        if required > 0.0 && before < required && now >= required {
            out.push(Change::AgeReached {
                days: now,
                required,
            });
        }
    }
    out
}

/// Why `o` is gone from `new`: migrated (as the run's output says),
/// superseded by a newer upload, or unknown.
fn leaving(o: &Excuse, new: &Excuses, output: Option<&UpdateOutput>) -> Leaving {
    if output.is_some_and(|out| out.migrated(&o.item_name)) {
        return Leaving::Migrated;
    }
    match new
        .items
        .iter()
        .find(|n| n.source == o.source && n.new_version != o.new_version && !n.is_removal())
    {
        Some(newer) => Leaving::Superseded {
            by: newer.new_version.clone(),
        },
        None => Leaving::Unknown,
    }
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
