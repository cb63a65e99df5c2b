//! `shepherd-adapters`: every byte that crosses a wire. Chat platforms now;
//! Launchpad, the Snap Store, autopkgtest-cloud and britney's files join as
//! their issues land (see DESIGN.md for where each goes).

pub mod autopkgtest;
pub mod britney;
pub mod chat;
pub mod launchpad;
#[cfg(any(test, feature = "sim"))]
pub mod loopback;
pub mod webhook;
pub mod wire;

#[cfg(test)]
mod fuzz;
