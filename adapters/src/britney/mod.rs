//! britney's published files: `update_excuses.yaml` (plain, .xz or .gz),
//! `update_output.txt`, and the diff between two excuses snapshots.
//! Facts: shared reference britney-autopkgtest, §1–§2.

pub mod diff;
pub mod excuses;
pub mod fetch;
pub mod file;
pub mod output;
#[cfg(any(test, feature = "sim"))]
pub mod site;
pub mod yaml;

pub use diff::{diff, Change, Leaving, Transition};
pub use excuses::{
    decompress, parse, parse_bytes, parse_bytes_with, parse_parallel, Excuse, Excuses,
    ExcusesError, Prose, Status, TestResult,
};
pub use output::UpdateOutput;

/// A vendored test fixture: `path` under the workspace's `tests/` folder
/// (`fixtures/…`, provenance in `tests/fixtures/README.md`).
#[cfg(test)]
pub(crate) fn fixture(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests")
        .join(path)
}
