//! Launchpad: a focused client for the `devel` web service, the operations
//! Shepherd uses, a loopback simulator of the same protocol, and webhook
//! deliveries. Facts: shared reference launchpad-api.
//!
//! The client: `client` (its generic calls), `exchange` (one request on the
//! wire), `error`, `oauth`, `param` (lazr's value encoding) and `decode`
//! (typed entries). The operations, one file per subject: `archive` (PPAs,
//! publications, copies), `snaps` (snaps, builds, build requests),
//! `milestones`, `bugs`, `hooks` (registering webhooks) and `people`.
//! Webhook deliveries: `webhook` (the receiver), `signature`, `target`,
//! `payload`.

pub mod archive;
pub mod bugs;
pub mod client;
mod decode;
pub mod error;
mod exchange;
mod hooks;
pub mod milestones;
pub mod oauth;
mod param;
pub mod payload;
mod people;
pub mod signature;
#[cfg(any(test, feature = "sim"))]
pub mod sim;
pub mod snaps;
pub mod target;
pub mod webhook;

pub use client::LaunchpadClient;
pub use error::LpError;
pub use oauth::OAuth;
pub use param::{Param, Written};
