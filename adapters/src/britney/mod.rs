//! britney's published files: `update_excuses.yaml` (plain, .xz or .gz),
//! `update_output.txt`, and the diff between two excuses snapshots.
//! Facts: shared reference britney-autopkgtest, §1–§2.

pub mod yaml;
