//! Commands on an instance: an operator's (start, stop, restart, unblock,
//! isolate) or the deployment's (start when ready, shutdown, remove).

use super::{Action, AfterStop, Command, Instance, InstanceState, Rejection};
use crate::event::EventKind;
use crate::exit::ExitStatus;
use crate::time::MonoTime;
use InstanceState as S;

impl Instance {
    /// Feeds an operator's (or the deployment's) command at `now`.
    pub fn command(&mut self, cmd: Command, now: MonoTime) -> Result<Vec<Action>, Rejection> {
        let mut out = Vec::new();
        match cmd {
            Command::Start => self.cmd_start(&mut out)?,
            Command::StartWhenReady { deps_ready } => {
                if matches!(self.state, S::Stopped) {
                    if deps_ready {
                        self.spawn(&mut out);
                    } else {
                        self.set_state(S::Waiting);
                    }
                }
            }
            Command::Stop => self.cmd_stop(AfterStop::Stay, now, &mut out),
            Command::Shutdown => self.cmd_stop(AfterStop::Shutdown, now, &mut out),
            Command::Remove => self.cmd_stop(AfterStop::Remove, now, &mut out),
            Command::Restart => self.cmd_restart(now, &mut out),
            Command::Unblock => self.cmd_unblock(&mut out)?,
            Command::Isolate => self.cmd_isolate(&mut out)?,
        }
        let by_request = match cmd {
            Command::Start => Some("started by request"),
            Command::Restart => Some("restarted by request"),
            Command::Unblock => Some("unblocked by request: its gate and crash history were reset"),
            Command::Isolate => Some("isolated by request: kept out of rotation for debugging"),
            _ => None,
        };
        if let Some(why) = by_request {
            self.decision = Some(why.to_string());
        }
        Ok(out)
    }

    pub(super) fn reject(&self, why: &'static str) -> Rejection {
        Rejection { instance: self.id.to_string(), state: self.state.word(), why }
    }

    fn cmd_start(&mut self, out: &mut Vec<Action>) -> Result<(), Rejection> {
        match self.state {
            S::Starting | S::Running | S::Ready => return Err(self.reject("already running")),
            S::Isolated if self.kept_alive => {
                return Err(self.reject("its process is kept for debugging: stop it first"));
            }
            S::Stopping { .. } => self.retarget_stop(AfterStop::Restart),
            S::Backoff { .. } | S::CrashLoop { .. } => {
                self.gate.unblock();
                out.push(Action::Emit(EventKind::Unblocked));
                self.spawn(out);
            }
            S::Waiting | S::Stopped | S::Isolated | S::Shutdown | S::Completed | S::Failed => {
                self.gate.unblock();
                self.spawn(out);
            }
        }
        Ok(())
    }

    fn cmd_stop(&mut self, then: AfterStop, now: MonoTime, out: &mut Vec<Action>) {
        match self.state {
            S::Starting | S::Running | S::Ready => self.begin_stop(then, now, out),
            S::Isolated if self.kept_alive => self.begin_stop(then, now, out),
            S::Stopping { .. } => self.retarget_stop(then),
            S::Waiting
            | S::Stopped
            | S::Backoff { .. }
            | S::CrashLoop { .. }
            | S::Isolated
            | S::Shutdown
            | S::Completed
            | S::Failed => self.finish_stop(then, ExitStatus::Unknown, now, 1.0, out),
        }
    }

    fn cmd_restart(&mut self, now: MonoTime, out: &mut Vec<Action>) {
        match self.state {
            S::Starting | S::Running | S::Ready => self.begin_stop(AfterStop::Restart, now, out),
            S::Isolated if self.kept_alive => self.begin_stop(AfterStop::Restart, now, out),
            S::Stopping { .. } => self.retarget_stop(AfterStop::Restart),
            S::Waiting
            | S::Stopped
            | S::Backoff { .. }
            | S::CrashLoop { .. }
            | S::Isolated
            | S::Shutdown
            | S::Completed
            | S::Failed => {
                self.gate.unblock();
                self.restart_now(out);
            }
        }
    }

    fn cmd_unblock(&mut self, out: &mut Vec<Action>) -> Result<(), Rejection> {
        match self.state {
            S::Backoff { .. } | S::CrashLoop { .. } => {
                self.gate.unblock();
                out.push(Action::Emit(EventKind::Unblocked));
                self.restart_now(out);
            }
            S::Starting | S::Running | S::Ready => return Err(self.reject("no restart gate holds it")),
            S::Waiting
            | S::Stopping { .. }
            | S::Stopped
            | S::Isolated
            | S::Shutdown
            | S::Completed
            | S::Failed => return Err(self.reject("no restart gate holds it; use `ward start`")),
        }
        Ok(())
    }
}
