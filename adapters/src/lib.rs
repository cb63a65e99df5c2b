//! `shepherd-adapters`: every byte that crosses a wire. One folder per
//! thing Shepherd talks to — `chat`, `launchpad`, `snapstore` (the Snap
//! Store and Ubuntu One's discharge refresh), `autopkgtest`(-cloud) and
//! `britney`'s published files — each with its client or reader and, for
//! tests and the sandbox (the `sim` feature), a loopback simulator speaking
//! the same protocol. `wire` holds what their HTTP clients have in common,
//! `webhook` what their webhook deliveries have in common, `loopback`
//! serves the simulators and `sim_faults` makes any of them flaky.

pub mod autopkgtest;
pub mod britney;
pub mod chat;
#[doc(hidden)]
pub mod fuzzing;
pub mod launchpad;
#[cfg(any(test, feature = "sim"))]
pub mod loopback;
#[cfg(any(test, feature = "sim"))]
pub mod sim_faults;
pub mod snapstore;
pub mod webhook;
pub mod wire;
