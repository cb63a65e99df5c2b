//! Proposed-migration: `!why`, `!retry`, `!watch` and what they read
//! (the excuses snapshot view), plus the plain-English explanation and the
//! retry selection shared with the offline CLI.

pub mod announce;
pub mod explain;
pub mod offline;
pub mod retry;
pub mod retry_select;
pub mod suggest;
pub mod view;

pub mod why;

pub use view::{MigrationSnapshot, MigrationView, NoMigration, NotFetched};
