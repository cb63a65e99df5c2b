//! Commands about plans themselves: `!jobs`, `!show`, `!audit`,
//! `!confirm`, `!cancel`.

pub mod confirm;
pub mod jobs;
