//! Restarts under standing orders: when an instance process exits with a
//! status its order covers, the keeper forks the replacement at once, before
//! the brain hears of the exit, as a bare supervisor loop would.
//!
//! Exits are reported in order. Each one waits, in `in_flight`, until the
//! exec of its replacement (if any) is known to have succeeded; the keeper
//! first takes every input already queued, so a storm of exits forks all its
//! replacements back to back and they exec in parallel. A replacement whose
//! fork or exec fails is left out of the report: the brain then restarts the
//! instance itself and reports the error.

use super::protocol::WireLaunch;
use super::{Child, Keeper, Pending};
use crate::runtime::process::{Forked, ProcessRuntime, process_start_time};
use crate::runtime::{Launch, Respawned};
use ward_core::InstanceId;

/// An exit not yet reported, with its replacement if one was forked.
pub(super) struct InFlight {
    pub(super) exit: Pending,
    pub(super) replacement: Option<Replacement>,
}

/// A replacement whose exec is under way.
pub(super) struct Replacement {
    launch: Launch,
    instance: String,
    forked: Forked,
    log_len: u64,
    /// When the keeper took the exit up.
    since: std::time::Instant,
}

impl Keeper {
    /// Forks the replacement of `pid` under its standing order, first killing
    /// what the old process left in its group (as the brain's `Cleanup` would).
    pub(super) fn fork_replacement(&mut self, pid: u32, w: WireLaunch) -> Option<Replacement> {
        let since = super::now();
        let _ = self.runtime.signal_group(pid, libc::SIGKILL);
        let launch = launch_of(&w)?;
        // Where this run's output will start in the shared log file.
        let log_len = std::fs::metadata(&launch.log).map(|m| m.len()).unwrap_or(0);
        match self.runtime.fork(&launch) {
            Ok(forked) => Some(Replacement { launch, instance: w.instance, forked, log_len, since }),
            Err(e) => {
                tracing::warn!("keeper: cannot restart {} at once: {e}; the brain will", w.instance);
                None
            }
        }
    }

    /// Waits for the execs under way, then reports their exits, in order.
    pub(super) fn settle(&mut self) {
        for InFlight { mut exit, replacement } in std::mem::take(&mut self.in_flight) {
            if let Some(r) = replacement {
                match ProcessRuntime::finish_fork(&r.launch, r.forked) {
                    Ok(pid) => {
                        let start_time = process_start_time(pid);
                        self.children.insert(pid, Child { instance: r.instance, start_time, order: None });
                        let spawn_us = r.since.elapsed().as_micros() as u64;
                        exit.respawned = Some(Respawned { pid, log_len: r.log_len, spawn_us });
                    }
                    Err(e) => {
                        tracing::warn!("keeper: cannot restart {} at once: {e}; the brain will", r.instance)
                    }
                }
            }
            self.pending.push_back(exit);
            self.send(&exit.exit_message());
        }
    }
}

/// The launch of a wire launch (native processes only), or `None` when its
/// instance is not `service/N`.
pub(super) fn launch_of(w: &WireLaunch) -> Option<Launch> {
    let id = w.instance.parse::<ward_core::Target>().ok()?;
    Some(Launch {
        id: InstanceId::new(id.service, id.replica.unwrap_or(0)),
        argv: w.argv.clone(),
        env: w.env.clone(),
        workdir: w.workdir.clone(),
        user: w.user.clone(),
        log: w.log.clone(),
        image: None,
    })
}
