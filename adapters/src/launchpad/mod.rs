//! Launchpad. So far: webhook deliveries — their signature and payloads.
//! Facts: shared reference launchpad-api, §7.

pub mod payload;
pub mod signature;
