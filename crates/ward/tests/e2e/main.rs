//! End-to-end tests: the real `ward` binary on real child processes,
//! asserting what a user sees (states, events, exit codes, files).

#![allow(clippy::disallowed_methods)] // deadlines of the test harness read the real clock

mod harness;

mod api_input;
mod binds;
mod brain;
mod cgroup;
mod chaos;
mod cli;
mod cli_habits;
mod daemons;
mod dashboard;
mod durable;
mod explain;
mod frozen;
mod full_disk;
mod health;
mod idle;
mod import;
mod init;
mod logs_stream;
mod mainpid;
mod metrics;
mod oci;
mod orders;
mod policies;
mod prometheus;
mod restart;
mod spec_env;
mod status;
mod stop;
mod systemd;
mod tcp;
mod top;
mod trust;
mod wait;
