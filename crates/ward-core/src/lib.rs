//! ward-core: the pure policy core of the ward supervisor.
//!
//! Everything ward decides is decided here, as plain functions of their
//! inputs: no async runtime, no I/O, no clock reads and no randomness. Time
//! ([`MonoTime`]) and jitter come in as arguments, so every rule can be tested
//! to the millisecond, and any Rust program that supervises things of its own
//! can reuse these rules.
//!
//! Always there (no dependency but `thiserror`):
//!
//! - [`gate`]: the restart gate: exponential backoff and the crash-loop window;
//!   [`gate::Gates`] tracks many named things with one configuration.
//! - [`policy`]: restart and panic policies: what an exit means, what comes next.
//! - [`access`]: who may do what on the TCP API (tokens, roles, origins, listen addresses).
//! - [`event`]: the one event vocabulary (API stream, store, hooks, logs).
//! - [`name`], [`exit`], [`time`]: validated names, exit statuses, monotonic time.
//!
//! With the `spec` feature (on by default; it brings serde, serde-saphyr,
//! humantime and shell-words):
//!
//! - `spec`: the YAML spec, parsed and validated with positioned errors.
//! - `instance`: the per-instance state machine, `handle(input, now) -> actions`.
//! - `deployment`: every instance of a spec, reconcile, dependencies, panics that reach further.
//!
//! The `serde` feature (implied by `spec`) derives `Serialize`/`Deserialize` on
//! [`ExitStatus`].
//!
//! # Example: the gate alone
//!
//! ```
//! use std::time::Duration;
//! use ward_core::MonoTime;
//! use ward_core::gate::{Admission, GateConfig, Gates};
//!
//! let mut gates = Gates::new(GateConfig::default());
//! let t0 = MonoTime::from_millis(0);
//! gates.record_crash("db", t0, Duration::from_secs(2), 1.0);
//! // The first crash waits the initial delay (500ms by default).
//! assert_eq!(gates.admission("db", t0), Admission::Wait(Duration::from_millis(500)));
//! assert_eq!(gates.admission("db", t0 + Duration::from_millis(500)), Admission::Now);
//! ```

#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod access;
#[cfg(feature = "spec")]
pub mod deployment;
pub mod event;
pub mod exit;
pub mod gate;
#[cfg(feature = "spec")]
pub mod instance;
pub mod name;
pub mod policy;
#[cfg(feature = "spec")]
pub mod spec;
pub mod time;

pub use exit::ExitStatus;
pub use name::{InstanceId, ServiceName, Target};
pub use time::MonoTime;

/// The examples of the crate's README, run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
