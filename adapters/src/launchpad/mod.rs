//! Launchpad: a focused client for the `devel` web service, the operations
//! Shepherd uses, a loopback simulator of the same protocol, and webhook
//! deliveries. Facts: shared reference launchpad-api.
//!
//! The client: `client` (its generic calls), `exchange` (one request on the
//! wire), `error`, `oauth`, `param` (lazr's value encoding) and `decode`
//! (typed entries). The operations, one file per subject: `archive` (PPAs,
//! publications, copies), `snaps` (snaps, builds, build requests),
//! `milestones`, `bugs` and `people`. Webhooks, registered and received:
//! `webhooks/`.

pub mod archive;
pub mod bugs;
pub mod client;
mod decode;
pub mod error;
mod exchange;
mod git;
pub mod milestones;
pub mod oauth;
mod param;
mod people;
#[cfg(any(test, feature = "sim"))]
pub mod sim;
pub mod snaps;
pub mod webhooks;

pub use client::LaunchpadClient;
pub use error::LpError;
pub use oauth::OAuth;
pub use param::{Param, Written};
