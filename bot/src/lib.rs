//! Shepherd's runtime: configuration, dispatch, the executor, the store, the
//! scheduler and the HTTP server. The binary (`main.rs`) is a thin CLI on top.

pub mod chat;
pub mod cli;
pub mod config;
pub mod dispatch;
pub mod events;
pub mod executor;
pub mod http;
pub mod metrics;

pub mod permissions;
pub mod redaction;
pub mod runtime;
pub mod sandbox;
pub mod schedule;
pub mod store;
pub mod supervise;
pub mod views;
