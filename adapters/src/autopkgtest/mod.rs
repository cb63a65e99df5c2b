//! autopkgtest-cloud: request.cgi and the running/queued views, plus a
//! loopback simulator speaking the same protocol. Facts: shared reference
//! britney-autopkgtest, §3.

pub mod client;
pub mod queues;
pub mod request;
pub mod response;
#[cfg(any(test, feature = "sim"))]
pub mod sim;

pub use client::{Auth, AutopkgtestClient, ClientError};
pub use queues::{InFlight, InFlightState};
pub use request::{TestRequest, MIGRATION_REFERENCE};
pub use response::{RequestError, Submitted};
