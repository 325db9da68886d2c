//! Every instance of a spec, and the rules that reach across instances:
//! reconcile (desired replicas vs the instances there are), dependencies
//! (start after, stop before), panics whose scope is a service or everything,
//! replacements for isolated instances, and `down`.
//!
//! - `reconcile`: creating, scaling, reloading.
//! - `order`: dependency readiness and the order of `down`.
//! - `conditions`: `started`/`ready`/`completed` dependencies, blocked dependents, `wait` verdicts.
//! - `budget`: the node's restart budget, and parking restarts whose dependencies are down.
//! - `respawn`: standing orders, the exits that restart an instance at once.

mod budget;
mod conditions;
mod order;
mod reconcile;
pub mod recovery;
mod respawn;

pub use budget::Budget;
pub use conditions::{Verdict, WaitFor};
pub use respawn::StandingOrder;

use crate::instance::{Action, Command, Instance, Observation, Rejection};
use crate::name::{InstanceId, ServiceName, Target};
use crate::spec::{PanicScope, ServiceSpec, Spec};
use crate::time::MonoTime;
use std::collections::BTreeMap;

/// What the shell must do, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum DeployAction {
    /// An action for one instance.
    Instance(InstanceId, Action),
    /// Everything is down: `ward up` exits with this code.
    Exit(i32),
    /// Call [`Deployment::tick`] at this time (restarts wait for the budget).
    WakeAt(MonoTime),
    /// The state of this instance changed with nothing to run (a stop of an
    /// instance whose spawn is not answered yet, as `down` goes on): record it.
    Changed(InstanceId),
}

/// Why a command was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// No such service in the spec.
    #[error("no service named {0}")]
    UnknownService(String),
    /// No such replica of the service.
    #[error("no instance {0}")]
    UnknownInstance(String),
    /// The instance's state does not allow it.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The deployment is going down.
    #[error("ward is shutting down")]
    GoingDown,
}

/// Whether the deployment runs or is going down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// Services run and restart.
    Up,
    /// Everything is being stopped; `ward up` will exit with `code`.
    GoingDown {
        /// The exit code of `ward up`.
        code: i32,
        /// Stopped by a panic (`shutdown`) rather than by `down`.
        panic: bool,
    },
    /// Everything is down.
    Down {
        /// The exit code of `ward up`.
        code: i32,
    },
}

/// Every instance of the current spec.
#[derive(Debug)]
pub struct Deployment {
    spec: Spec,
    instances: BTreeMap<InstanceId, Instance>,
    phase: Phase,
    budget: Option<Budget>,
    /// Counts reloads: what was derived from the spec may be stale when it changed.
    spec_generation: u64,
}

impl Deployment {
    /// A deployment of `spec` with no instance yet; call [`Deployment::up`].
    pub fn new(spec: Spec) -> Self {
        let budget = spec.restart_budget.map(|b| Budget::new(b, MonoTime::ZERO));
        Deployment { spec, instances: BTreeMap::new(), phase: Phase::Up, budget, spec_generation: 0 }
    }

    /// The current spec.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// How many times the spec was reloaded: anything derived from the spec
    /// (a standing order, a launch) is stale once it moved.
    pub fn spec_generation(&self) -> u64 {
        self.spec_generation
    }

    /// The spec of a service, if it is still in the spec.
    pub fn service(&self, name: &ServiceName) -> Option<&ServiceSpec> {
        self.spec.services.get(name)
    }

    /// Every instance, ordered by service then replica.
    pub fn instances(&self) -> impl Iterator<Item = &Instance> {
        self.instances.values()
    }

    /// The instances of one service, by replica.
    pub fn of_service<'a>(&'a self, service: &ServiceName) -> impl Iterator<Item = &'a Instance> + 'a {
        let first = InstanceId::new(service.clone(), 0);
        let last = InstanceId::new(service.clone(), u32::MAX);
        self.instances.range(first..=last).map(|(_, i)| i)
    }

    /// One instance.
    pub fn instance(&self, id: &InstanceId) -> Option<&Instance> {
        self.instances.get(id)
    }

    /// Mutable access for restoring state from a store.
    pub fn instance_mut(&mut self, id: &InstanceId) -> Option<&mut Instance> {
        self.instances.get_mut(id)
    }

    /// Up, going down, or down.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Feeds an observation about one instance.
    pub fn observe(
        &mut self,
        id: &InstanceId,
        obs: Observation,
        now: MonoTime,
        jitter: f64,
    ) -> Vec<DeployAction> {
        let Some(inst) = self.instances.get_mut(id) else { return Vec::new() };
        let actions = inst.observe(obs, now, jitter);
        let mut out = Vec::new();
        self.absorb(id, actions, now, &mut out);
        self.after_change(now, &mut out);
        out
    }

    /// Runs an operator's command on a service or one instance.
    pub fn command(
        &mut self,
        target: &Target,
        cmd: Command,
        now: MonoTime,
    ) -> Result<Vec<DeployAction>, CommandError> {
        if !matches!(self.phase, Phase::Up) {
            return Err(CommandError::GoingDown);
        }
        if !self.spec.services.contains_key(&target.service) {
            return Err(CommandError::UnknownService(target.service.to_string()));
        }
        let mut out = Vec::new();
        if matches!(cmd, Command::Start | Command::Restart) && target.replica.is_none() {
            self.fill_replicas(&target.service, now, &mut out);
        }
        let ids: Vec<InstanceId> = match target.replica {
            Some(r) => {
                let id = InstanceId::new(target.service.clone(), r);
                if !self.instances.contains_key(&id) {
                    return Err(CommandError::UnknownInstance(id.to_string()));
                }
                vec![id]
            }
            None => self.of_service(&target.service).map(|i| i.id().clone()).collect(),
        };
        let mut first_rejection = None;
        let mut applied = 0;
        for id in &ids {
            let Some(inst) = self.instances.get_mut(id) else { continue };
            match inst.command(cmd, now) {
                Ok(actions) => {
                    applied += 1;
                    self.absorb(id, actions, now, &mut out);
                }
                Err(r) => first_rejection = first_rejection.or(Some(r)),
            }
        }
        if applied == 0 && out.is_empty() {
            if let Some(r) = first_rejection {
                return Err(r.into());
            }
        }
        self.after_change(now, &mut out);
        Ok(out)
    }

    /// Stops everything in dependency order; `ward up` then exits with `code`.
    pub fn down(&mut self, code: i32, now: MonoTime) -> Vec<DeployAction> {
        let mut out = Vec::new();
        if matches!(self.phase, Phase::Up) {
            self.phase = Phase::GoingDown { code, panic: false };
        }
        self.after_change(now, &mut out);
        out
    }

    /// Runs the deployment-level meaning of an instance's actions, and passes them on.
    fn absorb(&mut self, id: &InstanceId, actions: Vec<Action>, now: MonoTime, out: &mut Vec<DeployAction>) {
        let mut restarting = false;
        for action in actions {
            match action {
                Action::Emit(crate::event::EventKind::Restarted { .. }) => {
                    restarting = true;
                    out.push(DeployAction::Instance(id.clone(), action));
                }
                Action::Spawn if restarting => {
                    restarting = false;
                    if self.admit_restart(id, now, out) {
                        out.push(DeployAction::Instance(id.clone(), Action::Spawn));
                    }
                }
                Action::Panic { scope: PanicScope::Service, .. } => {
                    out.push(DeployAction::Instance(id.clone(), action));
                    self.shutdown_service(&id.service, now, out);
                }
                Action::Panic { scope: PanicScope::All, status } => {
                    out.push(DeployAction::Instance(id.clone(), action));
                    if matches!(self.phase, Phase::Up) {
                        self.phase = Phase::GoingDown { code: status.shell_code(), panic: true };
                    }
                }
                Action::Replace => {
                    out.push(DeployAction::Instance(id.clone(), Action::Replace));
                    if matches!(self.phase, Phase::Up) {
                        self.fill_replicas(&id.service, now, out);
                    }
                }
                Action::Removed => {
                    self.instances.remove(id);
                    out.push(DeployAction::Instance(id.clone(), Action::Removed));
                }
                other => out.push(DeployAction::Instance(id.clone(), other)),
            }
        }
    }

    fn shutdown_service(&mut self, service: &ServiceName, now: MonoTime, out: &mut Vec<DeployAction>) {
        let ids: Vec<InstanceId> = self.of_service(service).map(|i| i.id().clone()).collect();
        for id in ids {
            let Some(inst) = self.instances.get_mut(&id) else { continue };
            if inst.state() == crate::instance::InstanceState::Shutdown {
                continue;
            }
            let before = inst.state();
            if let Ok(actions) = inst.command(Command::Shutdown, now) {
                if actions.is_empty() && inst.state() != before {
                    out.push(DeployAction::Changed(id.clone()));
                }
                self.absorb(&id, actions, now, out);
            }
        }
    }

    /// After any change: wake waiting dependents, go on with `down`.
    fn after_change(&mut self, now: MonoTime, out: &mut Vec<DeployAction>) {
        loop {
            let before = out.len();
            match self.phase {
                // Without dependencies there is nobody to wake: skip the scan.
                Phase::Up if self.spec.services.values().any(|s| !s.depends_on.is_empty()) => {
                    self.wake_dependents(now, out)
                }
                Phase::Up => {}
                Phase::GoingDown { code, panic } => self.step_down(code, panic, now, out),
                Phase::Down { .. } => {}
            }
            if out.len() == before {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests;
