//! The Snap Store: a focused client for the publisher ("dashboard") API —
//! channel map, release history, release, close — authenticated with the
//! Ubuntu One macaroons `snapcraft export-login` writes, and a loopback
//! simulator of the same protocol. Facts: shared reference snapstore-maas
//! (§1 and its Addendum).
//!
//! - `channel`: `track/risk[/branch]`, always sent fully qualified;
//! - `credentials`: the three export-login encodings, the `Authorization` header;
//! - `macaroon`: v1/v2 macaroons and pymacaroons-exact discharge binding;
//! - `client` and `exchange`: the calls, and how each is sent, refreshed, retried;
//! - `model`: typed, lenient channel maps and release histories;
//! - `error`: typed errors that keep the store's codes and name the request;
//! - `sim`: the simulator (tests and the sandbox).

pub mod channel;
pub mod client;
pub mod credentials;
pub mod error;
mod exchange;
mod macaroon;
pub mod model;
#[cfg(any(test, feature = "sim"))]
pub mod sim;

pub use channel::{Channel, ChannelError, Risk};
pub use client::{Closed, Released, SnapStoreClient, DASHBOARD_URL, SSO_URL};
pub use credentials::{Credentials, CredentialsError};
pub use error::{StoreError, StoreErrorItem, StoreErrors};
pub use macaroon::{bind_discharge, MacaroonError};
pub use model::{
    ChannelInfo, ChannelMap, MapEntry, Progressive, ReleaseEvent, ReleaseHistory, Revision,
    SnapInfo, Track,
};
