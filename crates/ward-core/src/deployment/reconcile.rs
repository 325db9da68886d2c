//! Reconcile: make the instances match the spec. New services and missing
//! replicas are created and started (after their dependencies), extra
//! replicas and removed services are stopped and removed, and a service whose
//! spec changed restarts its instances with the new spec.

use super::{DeployAction, Deployment, Phase};
use crate::instance::{Command, Instance, InstanceState, Snapshot};
use crate::name::{InstanceId, ServiceName};
use crate::spec::{ServiceSpec, Spec};
use crate::time::MonoTime;

/// How many instances one `fill_replicas` must create before the map is
/// rebuilt packed (below that the halved nodes cost little).
const COMPACT_AFTER: u32 = 64;

impl Deployment {
    /// Creates and starts every instance of the spec (`ward up`).
    pub fn up(&mut self, now: MonoTime) -> Vec<DeployAction> {
        let mut out = Vec::new();
        let names: Vec<ServiceName> = self.spec.services.keys().cloned().collect();
        for name in names {
            self.fill_replicas(&name, now, &mut out);
        }
        self.after_change(now, &mut out);
        out
    }

    /// Applies a new, already validated spec (`ward reload`).
    pub fn reload(&mut self, spec: Spec, now: MonoTime) -> Vec<DeployAction> {
        let mut out = Vec::new();
        if !matches!(self.phase, Phase::Up) {
            return out;
        }
        let old = std::mem::replace(&mut self.spec, spec);
        self.spec_generation += 1;
        match (self.spec.restart_budget, &mut self.budget) {
            (Some(b), Some(budget)) => budget.set_spec(b, now),
            (Some(b), None) => self.budget = Some(super::Budget::new(b, now)),
            (None, _) => {
                // No budget any more: release every queued restart now.
                let queued = self.budget.take().map(|b| b.into_queue()).unwrap_or_default();
                for id in queued {
                    self.release_queued(id, now, &mut out);
                }
            }
        }
        let ids: Vec<InstanceId> = self.instances.keys().cloned().collect();
        for id in ids {
            match (old.services.get(&id.service), self.spec.services.get(&id.service)) {
                (_, None) => self.command_one(&id, Command::Remove, now, &mut out),
                (Some(before), Some(after)) if launch_changed(before, after) => {
                    let after = after.clone();
                    if let Some(inst) = self.instances.get_mut(&id) {
                        inst.set_policy(&after);
                        if inst.is_alive() {
                            self.command_one(&id, Command::Restart, now, &mut out);
                        }
                    }
                }
                (_, Some(after)) => {
                    let after = after.clone();
                    if let Some(inst) = self.instances.get_mut(&id) {
                        inst.set_policy(&after);
                    }
                }
            }
        }
        let names: Vec<ServiceName> = self.spec.services.keys().cloned().collect();
        for name in names {
            self.scale_down(&name, now, &mut out);
            self.fill_replicas(&name, now, &mut out);
        }
        self.after_change(now, &mut out);
        out
    }

    /// Creates and starts instances until the service has `replicas` active ones.
    pub(super) fn fill_replicas(
        &mut self,
        service: &ServiceName,
        now: MonoTime,
        out: &mut Vec<DeployAction>,
    ) {
        let Some(spec) = self.spec.services.get(service).cloned() else { return };
        let active = self.active(service).len() as u32;
        let deps_ready = self.dependencies_ready(service);
        let mut from = 0;
        for _ in active..spec.replicas {
            let replica = self.free_replica(service, from);
            from = replica.saturating_add(1);
            let id = InstanceId::new(service.clone(), replica);
            self.instances.insert(id.clone(), Instance::new(id.clone(), &spec));
            self.command_one(&id, Command::StartWhenReady { deps_ready }, now, out);
        }
        if spec.replicas.saturating_sub(active) >= COMPACT_AFTER {
            self.compact();
        }
    }

    /// Rebuilds the instance map with full nodes. Inserting in key order
    /// splits every node in two halves, so a map filled by `up` takes twice
    /// the memory it needs (at 10,000 instances, about 4 MB more); a map
    /// built from a sorted sequence packs its nodes.
    fn compact(&mut self) {
        self.instances = std::mem::take(&mut self.instances).into_iter().collect();
    }

    fn scale_down(&mut self, service: &ServiceName, now: MonoTime, out: &mut Vec<DeployAction>) {
        let Some(replicas) = self.spec.services.get(service).map(|s| s.replicas) else { return };
        let active = self.active(service);
        for id in active.into_iter().skip(replicas as usize) {
            self.command_one(&id, Command::Remove, now, out);
        }
    }

    /// Instances that count toward the replica count: not isolated, not being removed.
    fn active(&self, service: &ServiceName) -> Vec<InstanceId> {
        self.of_service(service)
            .filter(|i| {
                !matches!(
                    i.state(),
                    InstanceState::Isolated
                        | InstanceState::Stopping { then: crate::instance::AfterStop::Remove }
                )
            })
            .map(|i| i.id().clone())
            .collect()
    }

    /// The lowest free replica index from `from` on.
    fn free_replica(&self, service: &ServiceName, from: u32) -> u32 {
        (from..)
            .find(|r| !self.instances.contains_key(&InstanceId::new(service.clone(), *r)))
            .unwrap_or(u32::MAX)
    }

    pub(super) fn command_one(
        &mut self,
        id: &InstanceId,
        cmd: Command,
        now: MonoTime,
        out: &mut Vec<DeployAction>,
    ) {
        if let Some(inst) = self.instances.get_mut(id) {
            if let Ok(actions) = inst.command(cmd, now) {
                self.absorb(id, actions, now, out);
            }
        }
    }
}

/// True when a change to the service needs its processes restarted (not only new policy).
fn launch_changed(before: &ServiceSpec, after: &ServiceSpec) -> bool {
    before.command != after.command
        || before.image != after.image
        || before.resources != after.resources
        || before.env != after.env
        || before.workdir != after.workdir
        || before.user != after.user
        || before.ports != after.ports
        || before.health != after.health
        || before.ready != after.ready
}

impl Deployment {
    /// Resumes the instances a previous run of ward recorded (after a crash of
    /// ward), re-arming the timers of those waiting on their gate. Instances
    /// of services no longer in the spec are not resumed: they are returned,
    /// so the shell can stop whatever process they still have.
    pub fn restore(
        &mut self,
        snapshots: Vec<(InstanceId, Snapshot)>,
        now: MonoTime,
    ) -> (Vec<DeployAction>, Vec<(InstanceId, Snapshot)>) {
        let mut out = Vec::new();
        let mut dropped = Vec::new();
        for (id, snap) in snapshots {
            let Some(spec) = self.spec.services.get(&id.service) else {
                dropped.push((id, snap));
                continue;
            };
            let mut inst = Instance::from_snapshot(id.clone(), spec, &snap);
            // A spawn that never happened, a stop under way, a gate's wait.
            for action in inst.resume(now) {
                out.push(DeployAction::Instance(id.clone(), action));
            }
            self.instances.insert(id, inst);
        }
        if self.instances.len() >= COMPACT_AFTER as usize {
            self.compact();
        }
        let names: Vec<ServiceName> = self.spec.services.keys().cloned().collect();
        for name in names {
            self.scale_down(&name, now, &mut out);
        }
        (out, dropped)
    }
}
