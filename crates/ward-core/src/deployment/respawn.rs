//! Standing orders: which exits of an instance's live process restart it at
//! once, computed before the exit happens.
//!
//! The shell hands a [`StandingOrder`] to whatever reaps the process (the
//! keeper), which then forks the replacement the moment the exit comes,
//! without waiting for the policy to be asked. The order is exact: it says
//! "restart at once" for a status only when feeding that exit to the
//! deployment right now would emit `exited`, `restarted` and a spawn of this
//! instance with nothing in between (no delay, no crash-loop, no parking, no
//! budget). It stays true later as long as nothing else changes: time only
//! drops crashes out of the crash-loop window and lengthens the run. Anything
//! else that changes (a command, a reload, a dependency, the phase) calls for
//! a new order, and the shell still feeds the exit to the deployment when it
//! arrives and keeps the early spawn only if the deployment asks for it.

use super::{Deployment, Phase};
use crate::exit::ExitStatus;
use crate::instance::{Action, Observation};
use crate::name::InstanceId;
use crate::time::MonoTime;

/// The exits of process `pid` after which its instance restarts at once.
///
/// Statuses are matched by their shell code (`N` for exit code N, `128 + N`
/// for signal N), which is all the policies look at: codes listed in
/// `except` go against `others`, every other code follows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StandingOrder {
    /// The live process the order is about.
    pub pid: u32,
    /// Whether a status not in `except` restarts at once.
    pub others: bool,
    /// Shell codes that do the opposite of `others`, sorted.
    pub except: Vec<i32>,
}

impl StandingOrder {
    /// True when an exit with `status` restarts the instance at once.
    pub fn covers(&self, status: ExitStatus) -> bool {
        match status {
            ExitStatus::Unknown => false,
            ExitStatus::Code(_) | ExitStatus::Signal(_) => {
                self.others != self.except.binary_search(&status.shell_code()).is_ok()
            }
        }
    }
}

impl Deployment {
    /// The standing order for the live process of `id` at `now`, or `None`
    /// when no exit of it would restart it at once (or it has no process).
    ///
    /// Restarts that draw from a restart budget never get one: the budget
    /// exists to throttle a storm, which early spawns would run ahead of.
    /// Containers (their bundle is prepared per start) and services with
    /// `ready: { notify: true }` (their notify socket is bound per start)
    /// never get one either: a replacement must be prepared by the shell.
    pub fn standing_order(&self, id: &InstanceId, now: MonoTime) -> Option<StandingOrder> {
        if self.phase != Phase::Up || self.budget.is_some() || !self.dependencies_ready(&id.service) {
            return None;
        }
        let spec = self.service(&id.service)?;
        if spec.image.is_some() || matches!(spec.ready, Some(crate::spec::ReadySpec::Notify { .. })) {
            return None;
        }
        let inst = self.instances.get(id)?;
        let pid = inst.pid()?;
        let codes = &inst.policy().exit_codes;
        let mut listed: Vec<i32> = std::iter::once(0)
            .chain(codes.success.iter().copied())
            .chain(codes.no_restart.iter().copied())
            .filter(|c| (0..=255).contains(c))
            .collect();
        listed.sort_unstable();
        listed.dedup();
        // Every unlisted code is decided alike: try one of them for all.
        let at_once = |code: i32| {
            let mut copy = inst.clone();
            let actions = copy.observe(Observation::Exited { status: ExitStatus::Code(code) }, now, 1.0);
            restarts_at_once(&actions)
        };
        let others = (1..=255).find(|c| listed.binary_search(c).is_err()).is_some_and(at_once);
        let except: Vec<i32> = listed.into_iter().filter(|&c| at_once(c) != others).collect();
        (others || !except.is_empty()).then_some(StandingOrder { pid, others, except })
    }
}

/// True when an instance's actions for an exit are a restart with no wait:
/// `exited`, `restarted`, then the spawn, and nothing that holds it back.
fn restarts_at_once(actions: &[Action]) -> bool {
    use crate::event::EventKind;
    matches!(
        actions,
        [Action::Emit(EventKind::Exited { .. }), Action::Emit(EventKind::Restarted { .. }), Action::Spawn]
    )
}

#[cfg(test)]
#[path = "respawn_tests.rs"]
mod tests;
