//! Launchpad: a focused client for the `devel` web service, the operations
//! Shepherd uses, a loopback simulator of the same protocol, and webhook
//! deliveries. Facts: shared reference launchpad-api.

pub mod client;
mod decode;
pub mod error;
mod exchange;
pub mod oauth;
pub mod ops;
mod param;
pub mod payload;
pub mod registry;
pub mod signature;
#[cfg(any(test, feature = "sim"))]
pub mod sim;
pub mod target;
pub mod webhook;

pub use client::LaunchpadClient;
pub use error::LpError;
pub use oauth::OAuth;
pub use param::{Param, Written};
