//! Standing orders: the keeper restarts an instance the moment it exits,
//! when ward-core says that exit restarts it at once anyway.
//!
//! After each input, every instance that changed (and the dependents of its
//! service) gets its order recomputed with
//! [`Deployment::standing_order`](ward_core::deployment::Deployment::standing_order);
//! only a changed order goes to the keeper. An order is withdrawn before any
//! signal to its process, so a stop never races a restart. A reload or a
//! new brain recomputes them all; a deployment going down withdraws them all.
//!
//! When an exit comes with its replacement already started, the exit goes
//! through the deployment as any other: if it asks for a spawn of that
//! instance, the spawn takes the replacement instead of forking; if not (an
//! operator's command came in between), the replacement is killed.
//!
//! Which instances may have an order at all is ward-core's rule too
//! (containers and `ready: notify` services get none).

use super::Supervisor;
use crate::ports::runtime::{Respawned, Runtime};
use std::collections::BTreeSet;
use ward_core::InstanceId;
use ward_core::deployment::Phase;

impl<R: Runtime> Supervisor<R> {
    /// Gives the keeper the orders that changed since the last call.
    pub(super) fn arm_orders(&mut self) {
        if !matches!(self.deployment.phase(), Phase::Up) {
            for (_, order) in std::mem::take(&mut self.armed) {
                self.runtime.disarm(order.pid);
            }
            self.rearm.clear();
            return;
        }
        let ids: BTreeSet<InstanceId> = if self.armed_generation != Some(self.deployment.spec_generation()) {
            self.armed_generation = Some(self.deployment.spec_generation());
            self.rearm.clear();
            self.deployment.instances().map(|i| i.id().clone()).collect()
        } else {
            let mut ids = std::mem::take(&mut self.rearm);
            let dependents = self.dependents_of(&ids);
            ids.extend(dependents);
            ids
        };
        let now = self.clock.now();
        for id in ids {
            let want = self.deployment.standing_order(&id, now);
            match (self.armed.get(&id), want) {
                (Some(have), Some(want)) if *have == want => {}
                (_, Some(want)) => {
                    let Some(spec) = self.deployment.service(&id.service) else { continue };
                    let launch = super::launch::launch(
                        spec,
                        &id,
                        &self.settings.spec_dir,
                        self.output.path(&id),
                        &self.settings.state_dir,
                    );
                    self.runtime.arm(&want, &launch);
                    self.armed.insert(id, want);
                }
                (Some(have), None) => {
                    self.runtime.disarm(have.pid);
                    self.armed.remove(&id);
                }
                (None, None) => {}
            }
        }
    }

    /// Withdraws the order of `id` (before a signal to its process).
    pub(super) fn disarm(&mut self, id: &InstanceId) {
        if let Some(order) = self.armed.remove(id) {
            self.runtime.disarm(order.pid);
        }
    }

    /// The exit of `pid` (of `id`) came, with or without a replacement: its
    /// order is used up.
    pub(super) fn order_used(&mut self, id: &InstanceId, pid: u32) {
        if self.armed.get(id).is_some_and(|o| o.pid == pid) {
            self.armed.remove(id);
        }
    }

    /// The replacement started for `id`, if the exit being handled came with one.
    pub(super) fn take_respawned(&mut self, id: &InstanceId) -> Option<Respawned> {
        match &self.respawned {
            Some((rid, r)) if rid == id => {
                let r = *r;
                self.respawned = None;
                Some(r)
            }
            _ => None,
        }
    }

    /// True when the exit being handled came with a replacement for `id`.
    pub(super) fn has_respawned(&self, id: &InstanceId) -> bool {
        self.respawned.as_ref().is_some_and(|(rid, _)| rid == id)
    }

    /// Where the output of the run that just ended stops, when a replacement
    /// already writes to the same file.
    pub(super) fn run_end(&self, id: &InstanceId) -> Option<u64> {
        self.respawned.as_ref().filter(|(rid, _)| rid == id).map(|(_, r)| r.log_len)
    }

    /// The exit was handled and did not take its replacement: kill it.
    pub(super) fn discard_respawned(&mut self) {
        if let Some((id, r)) = self.respawned.take() {
            let state = self.deployment.instance(&id).map_or("gone", |i| i.state().word());
            tracing::info!(
                "{id}: stopping pid {}, started at once by its standing order, as {id} is {state} now",
                r.pid
            );
            if let Err(e) = self.runtime.signal(&id, r.pid, libc::SIGKILL) {
                tracing::warn!("{id}: cannot stop pid {}: {e}", r.pid);
            }
        }
    }

    /// The instances of services that depend on a service of `ids`.
    fn dependents_of(&self, ids: &BTreeSet<InstanceId>) -> Vec<InstanceId> {
        let spec = self.deployment.spec();
        if spec.services.values().all(|s| s.depends_on.is_empty()) {
            return Vec::new();
        }
        let changed: BTreeSet<_> = ids.iter().map(|id| &id.service).collect();
        spec.services
            .values()
            .filter(|s| s.depends_on.iter().any(|d| changed.contains(&d.service)))
            .flat_map(|s| self.deployment.of_service(&s.name).map(|i| i.id().clone()))
            .collect()
    }
}
