//! Dependency conditions and waiting: when a dependency counts as met
//! (`started`, `ready`, `completed`), why a dependent still waits (and
//! whether it ever can), and whether an instance or a service has reached
//! what `ward wait` and `ward up --wait` wait for.
//!
//! - `started`: an instance runs (`running` or `ready`).
//! - `ready`: an instance is ready, or runs when the service declares no `ready:`.
//! - `completed`: every instance exited with success (`completed`).
//!
//! A dependency that is down with nothing pending to bring it back
//! (`failed`, `crashloop`, `isolated`, `shutdown`, `stopped`, or a one-shot
//! that completed when it was to start) blocks its dependents; they stay
//! `waiting`, and the reason says so.

use super::Deployment;
use crate::instance::{Instance, InstanceState};
use crate::name::ServiceName;
use crate::spec::{Condition, Dependency};

/// What `ward wait` waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitFor {
    /// A process runs (`running` or `ready`).
    Running,
    /// Ready, or running when the service declares no `ready:`.
    Ready,
    /// Exited with success.
    Completed,
    /// No process runs and none will start by itself.
    Stopped,
    /// Whatever suits the service (`ward up --wait`): ready (or running),
    /// completed, or stopped by an operator.
    Settled,
}

impl WaitFor {
    /// The words `ward wait --for` takes (`settled` is `ward up --wait`'s).
    pub const WORDS: [&'static str; 5] = ["ready", "running", "completed", "stopped", "settled"];

    /// The condition named by a word of [`WaitFor::WORDS`].
    pub fn from_word(word: &str) -> Option<WaitFor> {
        match word {
            "ready" => Some(WaitFor::Ready),
            "running" => Some(WaitFor::Running),
            "completed" => Some(WaitFor::Completed),
            "stopped" => Some(WaitFor::Stopped),
            "settled" => Some(WaitFor::Settled),
            _ => None,
        }
    }

    /// Its word.
    pub fn word(self) -> &'static str {
        match self {
            WaitFor::Ready => "ready",
            WaitFor::Running => "running",
            WaitFor::Completed => "completed",
            WaitFor::Stopped => "stopped",
            WaitFor::Settled => "settled",
        }
    }
}

/// Whether what is waited for holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// It holds (for every instance waited on).
    Holds,
    /// Not yet; it may still come.
    Pending,
    /// It cannot come without an operator: which instance, and why.
    Failed {
        /// The instance that cannot get there.
        instance: crate::name::InstanceId,
        /// Why, in words.
        reason: String,
    },
}

impl Deployment {
    /// True when `dep`'s condition holds.
    pub fn dependency_met(&self, dep: &Dependency) -> bool {
        match dep.condition {
            Condition::Started => self.of_service(&dep.service).any(|i| is_running(i.state())),
            Condition::Ready => self.service_ready(&dep.service),
            Condition::Completed => {
                let mut all = self.of_service(&dep.service).peekable();
                all.peek().is_some() && all.all(|i| i.state() == InstanceState::Completed)
            }
        }
    }

    /// Why instances of `service` wait, one reason per unmet dependency:
    /// "waits for migrate to complete; migrate failed with code 3".
    pub fn unmet_dependencies(&self, service: &ServiceName) -> Vec<String> {
        let Some(spec) = self.spec.services.get(service) else { return Vec::new() };
        spec.depends_on
            .iter()
            .filter(|d| !self.dependency_met(d))
            .map(|d| {
                let goal = match d.condition {
                    Condition::Started => "to start",
                    Condition::Ready => "to be ready",
                    Condition::Completed => "to complete",
                };
                match self.dependency_blocked(d) {
                    Some(why) => format!("waits for {} {goal}; {why}", d.service),
                    None => format!("waits for {} {goal}", d.service),
                }
            })
            .collect()
    }

    /// Why `dep` cannot be met without an operator, when that is so: every
    /// instance of it is down with nothing pending (see the module's doc).
    pub fn dependency_blocked(&self, dep: &Dependency) -> Option<String> {
        let blocked = |i: &Instance| match i.state() {
            InstanceState::Completed => dep.condition != Condition::Completed,
            s => s.is_at_rest(),
        };
        let mut instances = self.of_service(&dep.service).peekable();
        instances.peek()?;
        let mut reason = None;
        for i in instances {
            if !blocked(i) {
                return None;
            }
            reason = reason.or_else(|| Some(down_reason(i)));
        }
        reason
    }

    /// Whether the instances of `service` (or only `replica`) reached `what`.
    pub fn wait_verdict(&self, service: &ServiceName, replica: Option<u32>, what: WaitFor) -> Verdict {
        let needs_ready = self.spec.services.get(service).is_some_and(|s| s.ready.is_some());
        let mut verdict = Verdict::Holds;
        for i in self.of_service(service).filter(|i| replica.is_none_or(|r| r == i.id().replica)) {
            match self.instance_verdict(i, what, needs_ready) {
                Verdict::Holds => {}
                Verdict::Pending => verdict = Verdict::Pending,
                failed @ Verdict::Failed { .. } => return failed,
            }
        }
        verdict
    }

    fn instance_verdict(&self, i: &Instance, what: WaitFor, needs_ready: bool) -> Verdict {
        let state = i.state();
        let holds = match what {
            WaitFor::Running => is_running(state),
            WaitFor::Ready => {
                state == InstanceState::Ready || (state == InstanceState::Running && !needs_ready)
            }
            WaitFor::Completed => state == InstanceState::Completed,
            WaitFor::Stopped => state.is_at_rest() && !i.is_alive(),
            WaitFor::Settled => match state {
                InstanceState::Completed | InstanceState::Stopped | InstanceState::Ready => true,
                InstanceState::Running => !needs_ready,
                _ => false,
            },
        };
        if holds {
            return Verdict::Holds;
        }
        let failed = |reason: String| Verdict::Failed { instance: i.id().clone(), reason };
        match state {
            _ if what == WaitFor::Stopped => Verdict::Pending,
            InstanceState::Waiting => {
                let spec = self.spec.services.get(&i.id().service);
                let blocked = spec
                    .into_iter()
                    .flat_map(|s| &s.depends_on)
                    .filter(|d| !self.dependency_met(d))
                    .find_map(|d| self.dependency_blocked(d).map(|why| (d, why)));
                match blocked {
                    Some((d, why)) => failed(format!("{} waits for {}; {why}", i.id(), d.service)),
                    None => Verdict::Pending,
                }
            }
            s if s.is_at_rest() || matches!(s, InstanceState::CrashLoop { .. }) => failed(down_reason(i)),
            _ => Verdict::Pending,
        }
    }
}

fn is_running(state: InstanceState) -> bool {
    matches!(state, InstanceState::Running | InstanceState::Ready)
}

/// "migrate failed with code 3", "db is crashloop", "db completed".
fn down_reason(i: &Instance) -> String {
    let service = &i.id().service;
    match (i.state(), i.last_exit()) {
        (InstanceState::Failed, Some(exit)) => format!("{service} failed with {exit}"),
        (InstanceState::Failed, None) => format!("{service} failed: it could not be spawned"),
        (InstanceState::Completed, _) => format!("{service} completed and does not run"),
        (state, _) => format!("{service} is {}", state.word()),
    }
}

#[cfg(test)]
#[path = "conditions_tests.rs"]
mod tests;
