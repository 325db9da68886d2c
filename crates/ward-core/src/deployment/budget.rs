//! The node's restart budget: a token bucket shared by every service.
//!
//! `rate` tokens are added per second up to `burst`; each restart takes one.
//! A restart that finds the bucket empty (or others already waiting) joins a
//! first-in, first-out queue and is released when a token comes, so a shared
//! outage cannot start a restart storm and no waiting instance starves.
//! First starts (`ward up`, scale-up, `ward start`) do not draw from it.

use super::{DeployAction, Deployment};
use crate::instance::{Action, InstanceState, Observation};
use crate::name::InstanceId;
use crate::spec::RestartBudgetSpec;
use crate::time::MonoTime;
use std::collections::VecDeque;

/// The bucket and its queue.
#[derive(Clone, Debug, PartialEq)]
pub struct Budget {
    spec: RestartBudgetSpec,
    tokens: f64,
    refilled_at: MonoTime,
    queue: VecDeque<InstanceId>,
}

impl Budget {
    /// A full bucket.
    pub fn new(spec: RestartBudgetSpec, now: MonoTime) -> Self {
        Budget { spec, tokens: f64::from(spec.burst), refilled_at: now, queue: VecDeque::new() }
    }

    /// New settings (a reload), keeping the tokens (capped) and the queue.
    pub fn set_spec(&mut self, spec: RestartBudgetSpec, now: MonoTime) {
        self.refill(now);
        self.spec = spec;
        self.tokens = self.tokens.min(f64::from(spec.burst));
    }

    fn refill(&mut self, now: MonoTime) {
        let secs = now.saturating_since(self.refilled_at).as_secs_f64();
        self.tokens = (self.tokens + secs * self.spec.rate).min(f64::from(self.spec.burst));
        self.refilled_at = now;
    }

    /// Takes a token for a restart at `now`, unless the bucket is empty or others wait.
    pub fn try_take(&mut self, now: MonoTime) -> bool {
        self.refill(now);
        if self.queue.is_empty() && self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// When the next token will be there.
    pub fn next_token_at(&self, now: MonoTime) -> MonoTime {
        let missing = (1.0 - self.tokens).max(0.0);
        let ms = (missing / self.spec.rate * 1000.0).ceil().max(1.0);
        now + std::time::Duration::from_millis(ms as u64)
    }

    /// Where `id` waits in the queue (0 = next), if it does.
    pub fn position(&self, id: &InstanceId) -> Option<usize> {
        self.queue.iter().position(|q| q == id)
    }

    /// Restarts waiting for a token.
    pub fn waiting(&self) -> usize {
        self.queue.len()
    }

    /// The queued restarts, first first.
    pub fn into_queue(self) -> VecDeque<InstanceId> {
        self.queue
    }

    /// The settings.
    pub fn spec(&self) -> &RestartBudgetSpec {
        &self.spec
    }
}

impl Deployment {
    /// Whether a restart of `id` may spawn now. If not, it is parked (its
    /// dependencies are not ready: it waits in `waiting` without spending the
    /// budget) or queued for a token (and the shell is told when to call
    /// [`Deployment::tick`]).
    pub(super) fn admit_restart(
        &mut self,
        id: &InstanceId,
        now: MonoTime,
        out: &mut Vec<DeployAction>,
    ) -> bool {
        if !self.dependencies_ready(&id.service) {
            if let Some(inst) = self.instances.get_mut(id) {
                inst.park();
            }
            return false;
        }
        let Some(budget) = &mut self.budget else { return true };
        if budget.try_take(now) {
            return true;
        }
        budget.queue.push_back(id.clone());
        out.push(DeployAction::WakeAt(budget.next_token_at(now)));
        false
    }

    /// Releases the queued restarts that tokens allow now (call at the time
    /// of a [`DeployAction::WakeAt`]).
    pub fn tick(&mut self, now: MonoTime) -> Vec<DeployAction> {
        let mut out = Vec::new();
        while let Some(budget) = &mut self.budget {
            budget.refill(now);
            if budget.tokens < 1.0 || budget.queue.is_empty() {
                if !budget.queue.is_empty() {
                    out.push(DeployAction::WakeAt(budget.next_token_at(now)));
                }
                break;
            }
            budget.tokens -= 1.0;
            let Some(id) = budget.queue.pop_front() else { break };
            // Gone, or started by an operator meanwhile: the token is spent.
            self.release_queued(id, now, &mut out);
        }
        self.after_change(now, &mut out);
        out
    }

    /// A restart of `id` leaves the queue (a token came, or the budget went
    /// away): it spawns now, or, stopped while it waited, ends without a
    /// process. Nothing for an instance gone, or started meanwhile.
    pub(super) fn release_queued(&mut self, id: InstanceId, now: MonoTime, out: &mut Vec<DeployAction>) {
        match self.instances.get(&id).map(|i| (i.state(), i.pid())) {
            Some((InstanceState::Starting, None)) => {
                out.push(DeployAction::Instance(id, Action::Spawn));
            }
            Some((InstanceState::Stopping { .. }, None)) => {
                // Stopped while it waited: the spawn never happens.
                let error = "stopped while waiting for the restart budget".to_string();
                let actions = self.observe(&id, Observation::SpawnFailed { error }, now, 1.0);
                out.extend(actions);
            }
            _ => {}
        }
    }

    /// The restart budget, if the spec sets one.
    pub fn budget(&self) -> Option<&Budget> {
        self.budget.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> MonoTime {
        MonoTime::from_millis(ms)
    }

    #[test]
    fn bucket_refills_at_its_rate_up_to_burst() {
        let mut b = Budget::new(RestartBudgetSpec { rate: 10.0, burst: 2 }, t(0));
        assert!(b.try_take(t(0)));
        assert!(b.try_take(t(0)));
        assert!(!b.try_take(t(0)), "burst spent");
        assert_eq!(b.next_token_at(t(0)), t(100));
        assert!(!b.try_take(t(99)));
        assert!(b.try_take(t(100)));
        assert!(b.try_take(t(10_000)) && b.try_take(t(10_000)) && !b.try_take(t(10_000)), "capped at burst");
    }
}
