//! Running ward-core's actions, in order: spawns in batches after the commit
//! that justifies them, signals, timers, events (stored, published, and
//! handed to the watchers and hooks), and what a panic or a removal asks.

use super::{Supervisor, events, persist, ports, spawning};
use crate::ports::runtime::Runtime;
use crate::timers::Timer;
use std::collections::VecDeque;
use ward_core::InstanceId;
use ward_core::deployment::DeployAction;
use ward_core::instance::{Action, Observation};

impl<R: Runtime> Supervisor<R> {
    /// Runs actions in order; the results of spawns feed back as observations.
    pub(super) fn execute(&mut self, actions: Vec<DeployAction>) {
        let mut queue: VecDeque<DeployAction> = actions.into();
        while let Some(action) = queue.pop_front() {
            self.observer.busy(1);
            let (id, action) = match action {
                DeployAction::WakeAt(at) => {
                    self.budget_wake = Some(self.budget_wake.map_or(at, |w| w.min(at)));
                    continue;
                }
                DeployAction::Changed(id) => {
                    self.dirty.insert(id);
                    continue;
                }
                DeployAction::Exit(code) => {
                    self.exit_code = Some(code);
                    continue;
                }
                DeployAction::Instance(id, action) => (id, action),
            };
            self.dirty.insert(id.clone());
            self.rearm.insert(id.clone());
            match action {
                Action::Spawn => {
                    // The spawns next in line go together (`up`, a scale-up):
                    // the keeper forks them back to back.
                    let mut ids = vec![id];
                    while ids.len() < spawning::BATCH {
                        let Some(DeployAction::Instance(next, Action::Spawn)) = queue.front() else { break };
                        let next = next.clone();
                        queue.pop_front();
                        self.observer.busy(1);
                        self.dirty.insert(next.clone());
                        self.rearm.insert(next.clone());
                        ids.push(next);
                    }
                    // What justifies the spawns is on disk first (a restart the
                    // keeper already made is no new effect: it is recorded below).
                    let committed = if ids.iter().any(|id| !self.has_respawned(id)) {
                        self.flush()
                    } else {
                        persist::Committed::by_runtime()
                    };
                    for (id, obs) in self.spawn_all(ids, committed) {
                        let j = self.deployment.service(&id.service).map(|s| s.backoff.jitter).unwrap_or(0.0);
                        let jitter = self.jitter.factor(j);
                        queue.extend(self.deployment.observe(&id, obs, self.clock.now(), jitter));
                    }
                }
                Action::Signal(sig) => {
                    let committed = self.flush();
                    self.disarm(&id); // the keeper must not restart what is being stopped
                    self.signal(&id, sig, &committed)
                }
                Action::Kill => {
                    let committed = self.flush();
                    self.disarm(&id);
                    self.signal(&id, libc::SIGKILL, &committed)
                }
                Action::ArmTimer { at, kind, generation } => {
                    self.timers.arm(Timer { at, id, kind, generation })
                }
                Action::Emit(kind) => self.emit(&id, kind),
                Action::Panic { scope, status } => {
                    tracing::warn!("{id} failed ({status}): shutting down {scope:?}");
                    self.run_hook(ports::health::Hook::Shutdown, &id);
                }
                Action::Replace => tracing::info!("{id} isolated: starting a replacement"),
                Action::CheckGone => {
                    let alive = self.still_alive(&id);
                    let j = self.deployment.service(&id.service).map(|s| s.backoff.jitter).unwrap_or(0.0);
                    let jitter = self.jitter.factor(j);
                    queue.extend(self.deployment.observe(
                        &id,
                        Observation::Checked { alive },
                        self.clock.now(),
                        jitter,
                    ));
                }
                Action::Removed => {
                    self.start_times.remove(&id);
                    self.health.removed(&id);
                }
                // MAINPID (issue #17): see `mainpid`.
                Action::WatchMainPid { pid, previous } => {
                    queue.extend(self.watch_main_pid(&id, pid, previous))
                }
                Action::IgnoreMainPid { pid, why } => tracing::warn!("{id}: MAINPID={pid} ignored: {why}"),
            }
        }
        if !self.batch.open {
            self.settle(); // else at the end of the batch
        }
    }

    /// Records, stores and publishes an event.
    pub(super) fn emit(&mut self, id: &InstanceId, kind: ward_core::event::EventKind) {
        self.observer.event(&kind);
        let dossier = match &kind {
            ward_core::event::EventKind::Exited { status, .. } => Some(self.dossier(id, *status)),
            _ => None,
        };
        let ev = self.events.record_with(&self.clock, id, &kind, dossier);
        if let Err(e) = self.store.record_event(&ev) {
            tracing::error!("store: cannot record event {}: {e}", ev.seq);
        }
        self.dirty.insert(id.clone());
        tracing::info!("{}", events::describe(&ev));
        self.watch_event(id, &kind);
    }

    pub(super) fn signal(&mut self, id: &InstanceId, sig: i32, _committed: &persist::Committed) {
        if let Some(pid) = self.deployment.instance(id).and_then(|i| i.pid()) {
            let native = self.deployment.service(&id.service).is_some_and(|s| s.image.is_none());
            let adopted = if native { self.adopter.signal_group(pid, sig) } else { None };
            if let Some(Err(e)) = &adopted {
                tracing::warn!("{id}: cannot signal adopted process {pid}: {e}");
            }
            if adopted.is_some() {
                return;
            }
            if let Err(e) = self.runtime.signal(id, pid, sig) {
                tracing::warn!("{id}: cannot signal process group {pid}: {e}");
            }
        }
    }
}
