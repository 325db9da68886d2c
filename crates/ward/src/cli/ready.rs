//! `ward ready [-f FILE]`: a probe for orchestrators (a Kubernetes
//! `readinessProbe`, a Nomad check, a Docker `HEALTHCHECK`). It prints the
//! one-line status and exits 0 when no instance is still on its way up —
//! the rule behind systemd's `READY=1` (`crate::sdnotify::summary`) — and 1
//! otherwise, or when no ward answers.

use crate::api::client::Client;
use crate::api::types::StatusReply;
use crate::paths::Paths;
use crate::sdnotify::summary::summarize;
use hyper::Method;
use std::collections::BTreeSet;

/// Runs `ward ready`; returns the exit code.
pub fn run(paths: &Paths) -> i32 {
    // Which services declare `ready:`, from the spec file read as `ward up`
    // reads it (variables, env files); a broken file: none.
    let declares_ready: BTreeSet<String> = crate::specfile::read(&paths.spec)
        .ok()
        .map(|(_, spec)| {
            spec.services.iter().filter(|(_, s)| s.ready.is_some()).map(|(n, _)| n.to_string()).collect()
        })
        .unwrap_or_default();
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ward: {e}");
            return 1;
        }
    };
    let client = Client::new(&paths.socket);
    let reply: Result<StatusReply, _> = rt.block_on(client.json(Method::GET, "/v1/status", None));
    match reply {
        Ok(status) => {
            let rows = status.instances.iter().map(|i| (i.service.as_str(), i.state.as_str()));
            let summary = summarize(rows, &declares_ready);
            println!("{}: {}", if summary.ready { "ready" } else { "not ready" }, summary.line);
            if summary.ready { 0 } else { 1 }
        }
        Err(e) => {
            eprintln!("ward: {e}");
            1
        }
    }
}
