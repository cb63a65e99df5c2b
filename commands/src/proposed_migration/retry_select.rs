//! Which autopkgtest requests a retry makes, shared by `!retry` and the
//! offline `shepherd retry`.
//!
//! Semantics follow ubuntu-archive-tools' retry-autopkgtest-regressions
//! (shared reference britney-autopkgtest, §4.2): items in file order;
//! `--min-age` skips younger items, `--max-age` stops at the first older one
//! (the file is sorted by age); one request per (test package, arch) with
//! every collected trigger merged, in order of first appearance. Unlike
//! r1324 it never crashes on the `verdict` key and never repeats a trigger.

use shepherd_adapters::autopkgtest::{TestRequest, MIGRATION_REFERENCE};
use shepherd_adapters::britney::{Excuse, Excuses, Status};

#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Which results to retry (default REGRESSION).
    pub state: Option<String>,
    /// Only these arches (empty = all).
    pub arches: Vec<String>,
    /// Extra triggers added to every request.
    pub extra_triggers: Vec<String>,
    pub all_proposed: bool,
    pub ppas: Vec<String>,
    /// Trigger `migration-reference/0` only (a baseline run).
    pub reference: bool,
    /// Trigger the tested package's own version instead of the item's.
    pub no_proposed: bool,
    pub min_age: Option<f64>,
    pub max_age: Option<f64>,
    /// Only items whose source is this.
    pub blocks: Option<String>,
}

/// One request to make, and what it retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub request: TestRequest,
    /// The run ids (from log URLs) of the results being retried: a later
    /// failure of the same test is a new run id, so it can be retried again.
    pub retried_runs: Vec<String>,
}

impl Planned {
    /// release/arch/package/sorted triggers/options/retried runs.
    pub fn key(&self) -> String {
        let r = &self.request;
        format!(
            "autopkgtest/{}/{}/{}/{}/{}{}/{}",
            r.release,
            r.arches.join("+"),
            r.package,
            r.sorted_triggers().join(","),
            if r.all_proposed { "all-proposed" } else { "-" },
            r.ppas
                .iter()
                .map(|p| format!("+ppa:{p}"))
                .collect::<String>(),
            if self.retried_runs.is_empty() {
                "-".to_string()
            } else {
                self.retried_runs.join(",")
            }
        )
    }
}

/// The run id in a result's log URL (`…/<run_id>/log.gz`), if any.
pub fn run_id(log_url: &str) -> Option<&str> {
    let trimmed = log_url.strip_suffix("/log.gz")?;
    trimmed.rsplit('/').next().filter(|r| !r.is_empty())
}

fn wanted_state(sel: &Selection) -> Status {
    Status::parse(sel.state.as_deref().unwrap_or("REGRESSION"))
}

/// Requests for the whole file (offline CLI semantics).
pub fn select(series: &str, excuses: &Excuses, sel: &Selection) -> Vec<Planned> {
    let mut out: Vec<Planned> = Vec::new();
    for item in &excuses.items {
        if sel.blocks.as_deref().is_some_and(|b| b != item.source) {
            continue;
        }
        let age = item.age_days;
        if let (Some(min), Some(age)) = (sel.min_age, age) {
            if age < min {
                continue;
            }
        }
        if let (Some(max), Some(age)) = (sel.max_age, age) {
            if age > max {
                break;
            }
        }
        collect(series, item, sel, &mut out);
    }
    out
}

/// Requests for one item (`!retry PKG`).
pub fn select_item(series: &str, item: &Excuse, sel: &Selection) -> Vec<Planned> {
    let mut out = Vec::new();
    collect(series, item, sel, &mut out);
    out
}

fn push_unique(list: &mut Vec<String>, value: &str) {
    if !list.iter().any(|v| v == value) {
        list.push(value.to_string());
    }
}

fn collect(series: &str, item: &Excuse, sel: &Selection, out: &mut Vec<Planned>) {
    let state = wanted_state(sel);
    for t in item.tests.iter().filter(|t| t.status == state) {
        if !sel.arches.is_empty() && !sel.arches.iter().any(|a| **a == *t.arch) {
            continue;
        }
        let trigger = if sel.reference {
            MIGRATION_REFERENCE.to_string()
        } else if sel.no_proposed {
            // The tested version itself; a key without a version has none to give.
            match &t.version {
                Some(v) => format!("{}/{v}", t.package),
                None => continue,
            }
        } else if item.is_removal() || item.new_version == "-" {
            continue;
        } else {
            format!("{}/{}", item.source, item.new_version)
        };
        let at = out
            .iter()
            .position(|p| p.request.package == *t.package && p.request.arches[0] == *t.arch);
        let planned = match at {
            Some(i) => &mut out[i],
            None => {
                out.push(Planned {
                    request: TestRequest {
                        release: series.to_string(),
                        arches: vec![t.arch.to_string()],
                        package: t.package.to_string(),
                        triggers: Vec::new(),
                        all_proposed: sel.all_proposed,
                        ppas: sel.ppas.clone(),
                    },
                    retried_runs: Vec::new(),
                });
                out.last_mut().expect("just pushed")
            }
        };
        push_unique(&mut planned.request.triggers, &trigger);
        if !sel.reference {
            for extra in &sel.extra_triggers {
                push_unique(&mut planned.request.triggers, extra);
            }
        }
        if let Some(run) = t.log_url().and_then(run_id) {
            push_unique(&mut planned.retried_runs, run);
        }
    }
}

#[cfg(test)]
#[path = "retry_select_tests.rs"]
mod tests;
