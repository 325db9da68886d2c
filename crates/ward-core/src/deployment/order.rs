//! Dependencies: a service starts once each service it depends on has a ready
//! instance (or a running one, when that service declares no readiness), and
//! `down` stops a service only once nothing that depends on it still runs.
//!
//! A dependency that goes down (no ready instance any more) does not stop its
//! dependents, unless they say `binds_to: true`: then their running instances
//! restart, and the restart waits in `waiting` until the dependencies are
//! ready again.

use super::{DeployAction, Deployment, Phase};
use crate::instance::{Command, InstanceState, Observation};
use crate::name::{InstanceId, ServiceName};
use crate::time::MonoTime;

impl Deployment {
    /// True when the condition of every dependency of `service` holds (see `conditions`).
    pub fn dependencies_ready(&self, service: &ServiceName) -> bool {
        let Some(spec) = self.spec.services.get(service) else { return false };
        spec.depends_on.iter().all(|dep| self.dependency_met(dep))
    }

    /// True when `service` has an instance that is ready (or running, without readiness checks).
    pub fn service_ready(&self, service: &ServiceName) -> bool {
        let needs_ready = self.spec.services.get(service).is_some_and(|s| s.ready.is_some());
        self.of_service(service).any(|i| match i.state() {
            InstanceState::Ready => true,
            InstanceState::Running => !needs_ready,
            _ => false,
        })
    }

    /// Stops bound dependents of dependencies that went down, then starts
    /// waiting instances whose dependencies became ready.
    pub(super) fn wake_dependents(&mut self, now: MonoTime, out: &mut Vec<DeployAction>) {
        self.unbind_dependents(now, out);
        let waiting: Vec<InstanceId> = self
            .instances
            .values()
            .filter(|i| i.state() == InstanceState::Waiting)
            .map(|i| i.id().clone())
            .filter(|id| self.dependencies_ready(&id.service))
            .collect();
        for id in waiting {
            if let Some(inst) = self.instances.get_mut(&id) {
                let actions = inst.observe(Observation::DependenciesReady, now, 1.0);
                self.absorb(&id, actions, now, out);
            }
        }
    }

    /// `binds_to: true`: a running instance whose dependencies are not all
    /// ready any more restarts; its restart waits for them (see `admit_restart`).
    fn unbind_dependents(&mut self, now: MonoTime, out: &mut Vec<DeployAction>) {
        let unbound: Vec<InstanceId> = self
            .instances
            .values()
            .filter(|i| matches!(i.state(), InstanceState::Running | InstanceState::Ready))
            .filter(|i| self.spec.services.get(&i.id().service).is_some_and(|s| s.binds_to))
            .map(|i| i.id().clone())
            .filter(|id| !self.dependencies_ready(&id.service))
            .collect();
        for id in unbound {
            if let Some(inst) = self.instances.get_mut(&id) {
                if let Ok(actions) = inst.command(Command::Restart, now) {
                    self.absorb(&id, actions, now, out);
                }
            }
        }
    }

    /// The services that some instance still alive depends on (one pass over
    /// the instances, not one per candidate: `down` of 10,000 stays linear per step).
    fn depended_on_by_the_living(&self) -> std::collections::BTreeSet<&ServiceName> {
        let mut needed = std::collections::BTreeSet::new();
        let mut seen: Option<&ServiceName> = None;
        for i in self.instances.values().filter(|i| i.is_alive()) {
            let service = &i.id().service;
            if seen == Some(service) {
                continue; // instances come by service: look its deps up once
            }
            seen = Some(service);
            if let Some(spec) = self.spec.services.get(service) {
                needed.extend(spec.depends_on.iter().map(|d| &d.service));
            }
        }
        needed
    }

    /// One step of `down`: stop every service that nothing live depends on.
    pub(super) fn step_down(&mut self, code: i32, panic: bool, now: MonoTime, out: &mut Vec<DeployAction>) {
        let cmd = if panic { Command::Shutdown } else { Command::Stop };
        let needed = self.depended_on_by_the_living();
        let candidates: Vec<InstanceId> = self
            .instances
            .values()
            .filter(|i| !matches!(i.state(), InstanceState::Stopping { .. }))
            .filter(|i| !i.state().is_at_rest() || i.is_alive())
            .filter(|i| !needed.contains(&i.id().service))
            .map(|i| i.id().clone())
            .collect();
        for id in candidates {
            if let Some(inst) = self.instances.get_mut(&id) {
                let before = inst.state();
                if let Ok(actions) = inst.command(cmd, now) {
                    if actions.is_empty() && inst.state() != before {
                        out.push(DeployAction::Changed(id.clone()));
                    }
                    self.absorb(&id, actions, now, out);
                }
            }
        }
        let anything_left = self.instances.values().any(|i| i.is_alive() || !i.state().is_at_rest());
        if !anything_left {
            self.phase = Phase::Down { code };
            out.push(DeployAction::Exit(code));
        }
    }
}

#[cfg(test)]
#[path = "binds_tests.rs"]
mod binds_tests;
