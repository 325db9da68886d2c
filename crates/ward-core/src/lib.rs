//! ward-core: the pure policy core of the ward supervisor.
//!
//! Everything ward decides is decided here, as plain functions of their
//! inputs: no async runtime, no I/O, no clock reads and no randomness. Time
//! ([`MonoTime`]) and jitter come in as arguments, so every rule can be tested
//! to the millisecond, and any Rust program that supervises things of its own
//! can reuse these rules.
//!
//! - [`spec`]: the YAML spec, parsed and validated with positioned errors.
//! - [`access`]: who may do what on the TCP API (tokens, roles, origins, listen addresses).
//! - [`gate`]: the restart gate: exponential backoff and the crash-loop window.
//! - [`policy`]: restart and panic policies: what an exit means, what comes next.
//! - [`instance`]: the per-instance state machine, `handle(input, now) -> actions`.
//! - [`deployment`]: every instance of a spec, reconcile, dependencies, panics that reach further.
//! - [`event`]: the one event vocabulary (API stream, store, hooks, logs).
//! - [`name`], [`exit`], [`time`]: validated names, exit statuses, monotonic time.

#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod access;
pub mod deployment;
pub mod event;
pub mod exit;
pub mod gate;
pub mod instance;
pub mod name;
pub mod policy;
pub mod spec;
pub mod time;

pub use exit::ExitStatus;
pub use name::{InstanceId, ServiceName, Target};
pub use time::MonoTime;
