//! Restarts under standing orders: when an instance process exits with a
//! status its order covers, the keeper forks the replacement at once, before
//! the brain hears of the exit, as a bare supervisor loop would.
//!
//! Exits are reported in order. Each one waits, in `in_flight`, until the
//! exec of its replacement (if any) is known to have succeeded; the keeper
//! first takes every input already queued (up to [`MAX_IN_FLIGHT`] forks),
//! so a storm of exits forks all its replacements back to back and they exec
//! in parallel. The brain's spawn requests go the same way: a batch of them
//! (`ward up` of 10,000 instances) is forked back to back too. A replacement whose
//! fork or exec fails is left out of the report: the brain then restarts the
//! instance itself and reports the error.

use super::protocol::{ToBrain, WireLaunch};
use super::{Child, Keeper, Pending};
use crate::runtime::process::{Forked, ProcessRuntime, process_start_time};
use crate::runtime::{Launch, Respawned};
use ward_core::InstanceId;

/// Work whose report waits for an exec under way, in the order it came.
pub(super) enum InFlight {
    /// An exit, with its replacement if one was forked.
    Exit { exit: Pending, replacement: Option<Replacement> },
    /// The brain's spawn request `req`: forked, or already answered.
    Spawn { req: u64, forked: Result<Replacement, String> },
}

/// At most this many execs are waited for at once (each holds a pipe).
pub(super) const MAX_IN_FLIGHT: usize = 64;

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

    /// Forks the process of the brain's spawn request `req`; the answer goes
    /// out once its exec is known (see [`Keeper::settle`]).
    pub(super) fn fork_requested(&mut self, req: u64, w: WireLaunch) {
        let since = super::now();
        let forked = match launch_of(&w) {
            None => Err(format!("bad instance {}", w.instance)),
            Some(launch) => match self.runtime.fork(&launch) {
                Ok(forked) => Ok(Replacement { launch, instance: w.instance, forked, log_len: 0, since }),
                Err(e) => Err(e.to_string()),
            },
        };
        self.in_flight.push(InFlight::Spawn { req, forked });
        if self.in_flight.len() >= MAX_IN_FLIGHT {
            self.settle();
        }
    }

    /// Waits for the execs under way, then answers and reports, in order.
    pub(super) fn settle(&mut self) {
        for work in std::mem::take(&mut self.in_flight) {
            let (mut exit, replacement) = match work {
                InFlight::Exit { exit, replacement } => (exit, replacement),
                InFlight::Spawn { req, forked } => {
                    let answer = forked.and_then(|r| {
                        let pid =
                            ProcessRuntime::finish_fork(&r.launch, r.forked).map_err(|e| e.to_string())?;
                        let start_time = process_start_time(pid);
                        self.children.insert(pid, Child { instance: r.instance, start_time, order: None });
                        Ok(pid)
                    });
                    self.send(&match answer {
                        Ok(pid) => ToBrain::Spawned { req, pid },
                        Err(error) => ToBrain::SpawnFailed { req, error },
                    });
                    continue;
                }
            };
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
