//! An operator's isolate: the instance leaves rotation and stays as it is,
//! for debugging. A live process is kept (as after a failed health check
//! under `on_panic: isolate`); an instance waiting out its gate stays down.

use super::{Action, Instance, InstanceState as S, Rejection};
use crate::event::EventKind;

impl Instance {
    pub(super) fn cmd_isolate(&mut self, out: &mut Vec<Action>) -> Result<(), Rejection> {
        match self.state {
            S::Running | S::Ready => self.kept_alive = true,
            S::Backoff { .. } | S::CrashLoop { .. } => {}
            S::Isolated => return Err(self.reject("already isolated")),
            S::Starting => {
                return Err(self.reject("its process is not confirmed yet: isolate it once it runs"));
            }
            S::Stopping { .. } => return Err(self.reject("it is stopping")),
            S::Waiting | S::Stopped | S::Shutdown | S::Completed | S::Failed => {
                return Err(self.reject("nothing runs and no restart is pending: nothing to isolate"));
            }
        }
        // A new generation: the gate's restart timer, if any, is stale now.
        self.set_state(S::Isolated);
        out.push(Action::Emit(EventKind::Isolated));
        Ok(())
    }
}
