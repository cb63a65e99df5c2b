//! Launchpad: `!copy`, `!rebuild`, `!builds`, `!webhook register`, and
//! what they read from Launchpad while planning.

pub mod copy;
pub mod deliveries;
pub mod reactions;
pub mod rebuild;
pub mod view;
pub mod webhook;

pub use view::{latest_per_arch, snap_owner, LaunchpadView, NoLaunchpad};
