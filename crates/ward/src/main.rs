//! ward: a workload supervisor for Linux. One binary: the supervisor
//! (`ward up`) and its command-line client (every other verb).
//!
//! - `cli`: the command line and its verbs.
//! - `supervisor`: the actor that owns every instance.
//! - `runtime`: spawning, signalling, reaping.
//! - `health`: probes, sd_notify readiness, lifecycle hooks.
//! - `api`: the HTTP API on the control socket, and its client.
//! - `logs`: service output files: rotation, tail, follow.
//! - `metrics`: Prometheus counters and histograms for `/metrics`.
//! - `paths`: the state folder and what is in it.
//! - `top`: `ward top`, the live terminal view.
//! - `specfile`: reading a spec with its environment, `.env` and env files.
//! - `sdnotify`: ward's own sd_notify to systemd (`Type=notify` units).
//! - `convert`: other tools' process files as ward specs (`ward import`).

#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod api;
mod brain;
mod cgroup;
mod cli;
mod convert;
mod handshake;
mod health;
mod keeper;
mod kfile;
mod logs;
mod memory;
mod metrics;
mod paths;
mod protocol;
mod runtime;
mod sdnotify;
#[cfg(test)]
mod sim;
mod sockets;
mod specfile;
mod store;
mod top;

fn main() {
    std::process::exit(cli::main());
}

/// Logs to stderr, filtered by `WARD_LOG` (default `info`), coloured on a tty.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(ansi)
        .without_time()
        .try_init();
}
