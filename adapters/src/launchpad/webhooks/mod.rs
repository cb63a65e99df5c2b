//! Launchpad's webhooks (shared reference launchpad-api, §7): registering
//! one on a target (`registration`), and the deliveries it then sends —
//! received and checked (`receiver`, with `signature`), what they are
//! about (`target`) and what they say (`payload`).

pub mod payload;
pub mod receiver;
mod registration;
pub mod signature;
pub mod target;
