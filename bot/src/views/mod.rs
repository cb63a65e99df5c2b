//! Read-only views the planners use, one per service. A view holds a
//! client made for someone waiting in chat (short timeout, one quick
//! retry) and no way to change the world: only the executor writes.

pub mod launchpad;
pub mod proposed_migration;
