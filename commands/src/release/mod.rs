//! Release management: moving one release's binaries through its stages
//! (PPAs and snap channels), never rebuilding them.

pub mod bugs;
mod builds;
pub mod channels;
mod checks;
pub mod milestone;
pub mod product;
pub mod promote;
pub mod status;
pub mod version;
pub mod view;

use crate::Invocation;

/// `!milestone list …`, `!bugs list …`: the read-only form of a command.
pub(crate) fn is_list(inv: &Invocation) -> bool {
    inv.positionals.first().map(String::as_str) == Some("list")
}
