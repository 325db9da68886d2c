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

use super::cgroups::{Counted, Reusable};
use super::{Child, Keeper, Pending};
use crate::cgroup::Instance;
use crate::protocol::{ToBrain, WireLaunch, encode};
use crate::runtime::process::{Forked, ProcessRuntime};
use crate::runtime::{Launch, Respawned};
use ward_core::InstanceId;

/// Work whose report waits for an exec under way, in the order it came.
pub(super) enum InFlight {
    /// An exit, with its replacement if one was forked.
    Exit { exit: Pending, replacement: Option<Replacement> },
    /// The brain's spawn request `req`: forked, or already answered.
    Spawn { req: u64, forked: Result<Starting, String> },
}

/// At most this many execs are waited for at once (each holds a pipe).
pub(super) const MAX_IN_FLIGHT: usize = 64;

/// An instance process whose exec is under way.
pub(super) struct Starting {
    launch: Launch,
    instance: String,
    token: String,
    forked: Forked,
    /// The cgroup it was placed in, and what that counted before, when known.
    cgroup: Option<(Instance, Option<Counted>)>,
}

/// A replacement under a standing order, whose exec is under way.
pub(super) struct Replacement {
    start: Starting,
    /// When the keeper took the exit up.
    since: std::time::Instant,
}

impl Keeper {
    /// Forks the process of `w`, in the cgroup of its last process when
    /// `last` gives it.
    fn fork_launch(&mut self, w: WireLaunch, last: Option<Reusable>) -> Result<Starting, String> {
        let mut launch = launch_of(&w).ok_or_else(|| format!("bad instance {}", w.instance))?;
        // In the journal before it exists: a crash right after the fork cannot hide it.
        let token = self.journal.starting(&w.instance);
        launch.env.push((super::journal::VAR.into(), token.clone()));
        self.cgroup_forking(&w.instance);
        let counted = last.as_ref().map(|l| l.counted);
        let last = last.map(|l| (l.inst, l.resources));
        let (forked, cgroup) = match self.runtime.fork_in(&launch, last) {
            // Reused, the folder's counts go on from what they were (made
            // anew, from zero: see `Keeper::child_cgroup`).
            Ok((forked, cgroup)) => (forked, cgroup.map(|inst| (inst, counted))),
            Err(e) => {
                self.journal.ended(&token);
                return Err(e.to_string());
            }
        };
        Ok(Starting { launch, instance: w.instance, token, forked, cgroup })
    }

    /// Waits for the exec of `s`; once it runs, it is one of the keeper's
    /// children: its pid, and its start time when the clock told it.
    fn finish(&mut self, s: Starting) -> Result<(u32, Option<u64>), String> {
        let start_time = s.forked.start_time();
        let pid = match ProcessRuntime::finish_fork(&s.launch, s.forked) {
            Ok(pid) => pid,
            Err(e) => {
                self.journal.ended(&s.token); // it exits with 127, if it was forked at all
                return Err(e.to_string());
            }
        };
        let token = s.token.into_boxed_str();
        // Only a launch placed in a cgroup has one: no folder lookups (path
        // walks in cgroupfs) for the others on every start.
        let resources = s.launch.process.resources();
        let cgroup = s.cgroup.and_then(|(inst, cpu)| Keeper::child_cgroup(inst, resources, cpu));
        let instance = Box::from(s.instance.as_str());
        self.children.insert(pid, Child { instance, token, order: None, cgroup });
        Ok((pid, start_time))
    }

    /// Forks the replacement of an instance process under its standing order
    /// (what the old process left in its group was killed when it was reaped);
    /// `last` is the cgroup of the process that exited, when it may be reused.
    pub(super) fn fork_replacement(&mut self, w: WireLaunch, last: Option<Reusable>) -> Option<Replacement> {
        let since = super::now();
        let instance = w.instance.clone();
        match self.fork_launch(w, last) {
            Ok(start) => Some(Replacement { start, since }),
            Err(e) => {
                tracing::warn!("keeper: cannot restart {instance} at once: {e}; the brain will");
                None
            }
        }
    }

    /// Forks the process of the brain's spawn request `req`; the answer goes
    /// out once its exec is known (see [`Keeper::settle`]).
    pub(super) fn fork_requested(&mut self, req: u64, w: WireLaunch) {
        let forked = self.fork_launch(w, None);
        self.in_flight.push(InFlight::Spawn { req, forked });
        if self.in_flight.len() >= MAX_IN_FLIGHT {
            self.settle();
        }
    }

    /// Waits for the execs under way, then answers and reports, in order.
    pub(super) fn settle(&mut self) {
        if self.in_flight.is_empty() {
            return;
        }
        // Every report of the batch goes out in one write, in order.
        let mut out = Vec::new();
        for work in std::mem::take(&mut self.in_flight) {
            match work {
                InFlight::Spawn { req, forked } => {
                    let answer = forked.and_then(|s| self.finish(s));
                    out.extend(encode(&match answer {
                        Ok((pid, start_time)) => ToBrain::Spawned { req, pid, start_time },
                        Err(error) => ToBrain::SpawnFailed { req, error },
                    }));
                }
                InFlight::Exit { mut exit, replacement } => {
                    if let Some(Replacement { start, since }) = replacement {
                        let instance = start.instance.clone();
                        // Where its output starts in the log file it shares with the last run.
                        let log_len = start.forked.log_len();
                        match self.finish(start) {
                            Ok((pid, start_time)) => {
                                let spawn_us = since.elapsed().as_micros() as u64;
                                exit.respawned = Some(Respawned { pid, log_len, spawn_us, start_time });
                            }
                            Err(e) => tracing::warn!(
                                "keeper: cannot restart {instance} at once: {e}; the brain will"
                            ),
                        }
                    }
                    self.pending.push_back(exit);
                    out.extend(encode(&exit.exit_message()));
                }
            }
        }
        self.send_all(&out);
        // Once every process started is a child (none in flight), so a
        // rewrite names them all.
        let live = self.children.values().map(|c| (&*c.token, &*c.instance));
        self.journal.compact_if_large(live);
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
        process: w.process.clone(),
    })
}
