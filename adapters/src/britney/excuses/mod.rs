//! `update_excuses.yaml` as typed data: each migration item (`Excuse`)
//! with its verdict, reasons, policies and autopkgtest results, and the
//! items that could not be read (`Skipped`). Every key of the reference is
//! kept (shared reference: britney-autopkgtest, §1.3–§1.5); versions and
//! bug ids stay strings. `results` holds the per-test results, `parse`
//! reads the file.

use thiserror::Error;

mod item;
mod parallel;
mod parse;
mod queue;
mod results;
mod xz_check;

pub use parallel::{parse_bytes, parse_bytes_with, parse_parallel};
pub use parse::{decompress, parse};
pub use results::{Status, TestResult};

// Causes are part of the message, not also `source()`: a chain printed
// whole would say them twice.
#[derive(Debug, Error)]
pub enum ExcusesError {
    #[error("cannot read excuses: {0}")]
    Io(std::io::Error),
    #[error("excuses are not UTF-8")]
    Utf8,
    #[error("not an update_excuses file: {0}")]
    Format(String),
}

impl From<std::io::Error> for ExcusesError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

/// Whether to read britney's prose about each item (`excuses`,
/// `detailed-info`): only `!why` shows it, and it is a sixth of a busy
/// file, the slowest sixth to read (quoted text folded over lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prose {
    #[default]
    Read,
    /// Leave `Excuse::excuses` and `Excuse::detailed_info` empty, without
    /// reading their lines as YAML (see `parse_bytes_with`).
    Skip,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub from: String,
    pub kind: String,
}

/// One migration item of `update_excuses.yaml`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Excuse {
    /// `src`, `-src` (removal) or `src/arch`.
    pub item_name: String,
    pub source: String,
    /// `-` when new to the release.
    pub old_version: String,
    /// `-` for removals.
    pub new_version: String,
    pub verdict: String,
    pub is_candidate: bool,
    pub reasons: Vec<String>,
    pub excuses: Vec<String>,
    pub maintainer: Option<String>,
    /// Absent for main.
    pub component: Option<String>,
    pub age_days: Option<f64>,
    pub age_required: Option<f64>,
    pub tests: Vec<TestResult>,
    pub autopkgtest_verdict: Option<String>,
    /// Verdict of each policy that applied, e.g. `("depends", "REJECTED_PERMANENTLY")`.
    pub policy_verdicts: Vec<(String, String)>,
    /// block-proposed bugs: (bug, epoch seconds).
    pub block_bugs: Vec<(String, i64)>,
    /// update-excuse bugs: (bug, epoch seconds).
    pub update_excuse_bugs: Vec<(String, i64)>,
    pub missing_builds: Vec<String>,
    pub missing_builds_unimportant: Vec<String>,
    pub blocked_by: Vec<String>,
    pub migrate_after: Vec<String>,
    pub unsatisfiable_dependencies: Vec<String>,
    pub invalidated_by_other_package: bool,
    pub hints: Vec<Hint>,
    pub forced_reason: Vec<String>,
    pub detailed_info: Vec<String>,
    /// (old source version, binaries) left behind.
    pub old_binaries: Vec<(String, Vec<String>)>,
    pub manual_approval_status: Option<String>,
    /// source-ppa grouping: (source, ppa).
    pub source_ppa: Vec<(String, String)>,
    /// depends policy: arches where dependency checks were skipped.
    pub skip_dep_check: Vec<String>,
}

impl Excuse {
    pub fn is_removal(&self) -> bool {
        self.item_name.starts_with('-')
    }

    pub fn regressions(&self) -> impl Iterator<Item = &TestResult> {
        self.tests.iter().filter(|t| t.status == Status::Regression)
    }
}

/// A `sources` entry that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// 0-based position in `sources`.
    pub index: usize,
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Excuses {
    pub generated_date: Option<String>,
    pub items: Vec<Excuse>,
    pub skipped: Vec<Skipped>,
}

impl Excuses {
    pub fn get(&self, item_name: &str) -> Option<&Excuse> {
        self.items.iter().find(|e| e.item_name == item_name)
    }

    /// The item for a source package (its plain item first, then any other).
    pub fn for_source(&self, source: &str) -> Option<&Excuse> {
        self.get(source)
            .or_else(|| self.items.iter().find(|e| e.source == source))
    }
}

#[cfg(test)]
mod tests;
