//! britney's published files: `update_excuses.yaml` (plain, .xz or .gz),
//! `update_output.txt`, and the diff between two excuses snapshots.
//! Facts: shared reference britney-autopkgtest, §1–§2.

pub mod diff;
pub mod excuses;
pub mod output;
pub mod site;
pub mod yaml;

pub use diff::{diff, Change, Leaving, Transition};
pub use excuses::{decompress, parse, Excuse, Excuses, ExcusesError, Status, TestResult};
pub use output::UpdateOutput;

/// Where the test fixtures live: `../shared` beside the workspace, or
/// `$SHEPHERD_SHARED` (tests only; the bot never reads ../shared).
#[cfg(test)]
pub(crate) fn shared(path: &str) -> std::path::PathBuf {
    let root = std::env::var("SHEPHERD_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    root.join(path)
}
