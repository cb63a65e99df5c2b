//! Release management: moving one release's binaries through its stages
//! (PPAs and snap channels), never rebuilding them.

pub mod version;
