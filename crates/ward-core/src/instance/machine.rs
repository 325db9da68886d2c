//! The transitions of an instance: one exhaustive `match` per input kind.

use super::{Action, AfterStop, Instance, InstanceState, Observation, TimerKind};
use crate::event::EventKind;
use crate::exit::ExitStatus;
use crate::gate::GateState;
use crate::policy::{self, Decision};
use crate::spec::RestartPolicy;
use crate::time::MonoTime;
use InstanceState as S;

impl Instance {
    /// Feeds an observation at `now`; `jitter` is the shell's draw in
    /// `[1 - j, 1 + j]` for a backoff this input may start.
    pub fn observe(&mut self, obs: Observation, now: MonoTime, jitter: f64) -> Vec<Action> {
        let mut out = Vec::new();
        match obs {
            Observation::Spawned { pid } => self.on_spawned(pid, now, &mut out),
            Observation::SpawnFailed { error } => self.on_spawn_failed(error, now, jitter, &mut out),
            Observation::Exited { status } => self.on_exited(status, now, jitter, &mut out),
            Observation::Timer { kind, generation } if generation == self.generation => {
                self.on_timer(kind, now, &mut out)
            }
            Observation::Timer { .. } => {} // stale: armed for an earlier generation
            Observation::Ready => {
                if self.state == S::Running {
                    self.set_state(S::Ready);
                    out.push(Action::Emit(EventKind::Ready));
                }
            }
            Observation::HealthFailed { reason } => self.on_health_failed(reason, now, &mut out),
            Observation::DependenciesReady => {
                if self.state == S::Waiting {
                    self.spawn(&mut out);
                }
            }
            Observation::Checked { alive } => self.on_checked(alive, now, jitter, &mut out),
            Observation::MainPid { pid, kin } => self.on_main_pid(pid, kin, &mut out),
        }
        out
    }

    fn on_spawned(&mut self, pid: u32, now: MonoTime, out: &mut Vec<Action>) {
        match self.state {
            S::Starting => {
                self.pid = Some(pid);
                self.started_at = Some(now);
                self.set_state(S::Running);
                out.push(Action::Emit(EventKind::Started { pid }));
            }
            S::Stopping { then } => {
                // A stop raced the spawn: stop the new process at once.
                self.pid = Some(pid);
                self.started_at = Some(now);
                out.push(Action::Emit(EventKind::Started { pid }));
                self.begin_stop(then, now, out);
            }
            S::Waiting
            | S::Running
            | S::Ready
            | S::Stopped
            | S::Backoff { .. }
            | S::CrashLoop { .. }
            | S::Isolated
            | S::Shutdown
            | S::Completed
            | S::Failed => debug_assert!(false, "{}: spawned while {}", self.id, self.state.word()),
        }
    }

    fn on_spawn_failed(&mut self, error: String, now: MonoTime, jitter: f64, out: &mut Vec<Action>) {
        match self.state {
            S::Starting => {
                self.decision = Some(format!("it could not be spawned ({error})"));
                out.push(Action::Emit(EventKind::SpawnFailed { error }));
                if self.policy.restart == RestartPolicy::Never {
                    self.note(", and `restart: never` does not try again");
                    self.set_state(S::Failed);
                } else {
                    let gate = self.gate.on_crash(now, std::time::Duration::ZERO, jitter);
                    self.hold(gate, now, out);
                }
            }
            S::Stopping { then } => {
                out.push(Action::Emit(EventKind::SpawnFailed { error }));
                self.finish_stop(then, ExitStatus::Unknown, now, 1.0, out);
            }
            S::Waiting
            | S::Running
            | S::Ready
            | S::Stopped
            | S::Backoff { .. }
            | S::CrashLoop { .. }
            | S::Isolated
            | S::Shutdown
            | S::Completed
            | S::Failed => debug_assert!(false, "{}: spawn failed while {}", self.id, self.state.word()),
        }
    }

    fn on_exited(&mut self, status: ExitStatus, now: MonoTime, jitter: f64, out: &mut Vec<Action>) {
        let run = self.started_at.map(|t| now.saturating_since(t)).unwrap_or_default();
        let exited = EventKind::Exited { status, run_ms: run.as_millis() as u64 };
        match self.state {
            S::Starting | S::Running | S::Ready => {
                self.forget_process(status);
                out.push(Action::Emit(exited));
                self.after_exit(
                    status,
                    policy::decide(
                        status,
                        self.policy.restart,
                        self.policy.on_panic,
                        &self.policy.exit_codes,
                    ),
                    now,
                    jitter,
                    out,
                );
            }
            S::Stopping { then } => {
                self.forget_process(status);
                out.push(Action::Emit(exited));
                self.finish_stop(then, status, now, jitter, out);
            }
            S::Isolated => {
                // The process kept for debugging ended by itself: still isolated.
                self.forget_process(status);
                self.kept_alive = false;
                out.push(Action::Emit(exited));
            }
            S::Waiting
            | S::Stopped
            | S::Backoff { .. }
            | S::CrashLoop { .. }
            | S::Shutdown
            | S::Completed
            | S::Failed => debug_assert!(false, "{}: exited while {}", self.id, self.state.word()),
        }
    }

    fn on_timer(&mut self, kind: TimerKind, now: MonoTime, out: &mut Vec<Action>) {
        match (self.state, kind) {
            (S::Backoff { .. } | S::CrashLoop { .. }, TimerKind::Restart) => {
                self.gate.expire(now);
                self.restart_now(out);
            }
            (S::Stopping { .. }, TimerKind::StopTimeout) => self.kill(now, out),
            (S::Stopping { .. }, TimerKind::KillTimeout) => out.push(Action::CheckGone),
            (S::Backoff { .. } | S::CrashLoop { .. }, TimerKind::StopTimeout | TimerKind::KillTimeout)
            | (S::Stopping { .. }, TimerKind::Restart)
            | (
                S::Waiting
                | S::Starting
                | S::Running
                | S::Ready
                | S::Stopped
                | S::Isolated
                | S::Shutdown
                | S::Completed
                | S::Failed,
                _,
            ) => {}
        }
    }

    fn on_health_failed(&mut self, reason: String, now: MonoTime, out: &mut Vec<Action>) {
        if !matches!(self.state, S::Running | S::Ready) {
            return;
        }
        self.decision = Some(format!("its health check failed ({reason})"));
        out.push(Action::Emit(EventKind::HealthFailed { reason }));
        match policy::panic_decision(self.policy.restart, self.policy.on_panic) {
            Decision::Isolate { replace } => {
                self.note(", and `on_panic: isolate` keeps it out of rotation for debugging");
                self.kept_alive = true;
                self.set_state(S::Isolated);
                out.push(Action::Emit(EventKind::Isolated));
                if replace {
                    out.push(Action::Replace);
                }
            }
            Decision::Complete
            | Decision::RestartClean
            | Decision::RestartCrash
            | Decision::GiveUp
            | Decision::NoRestart
            | Decision::Shutdown(_) => self.begin_stop(AfterStop::Fail, now, out),
        }
    }

    /// What an exit leads to once it has been recorded.
    fn after_exit(
        &mut self,
        status: ExitStatus,
        decision: Decision,
        now: MonoTime,
        jitter: f64,
        out: &mut Vec<Action>,
    ) {
        let run = self.started_at.map(|t| now.saturating_since(t)).unwrap_or_default();
        let reason = super::decision::of_exit(status, decision, &self.policy);
        self.decision = Some(match self.decision.take() {
            // A stop after a failed health check: that came first.
            Some(first) if matches!(self.state, S::Stopping { then: AfterStop::Fail }) => {
                format!("{first}; then {reason}")
            }
            _ => reason,
        });
        match decision {
            Decision::Complete => {
                self.set_state(S::Completed);
                out.push(Action::Emit(EventKind::Completed));
            }
            Decision::RestartClean => {
                let gate = self.gate.on_completion(now, run, jitter);
                self.hold(gate, now, out);
            }
            Decision::RestartCrash => {
                let gate = self.gate.on_crash(now, run, jitter);
                self.hold(gate, now, out);
            }
            Decision::GiveUp | Decision::NoRestart => self.set_state(S::Failed),
            Decision::Shutdown(scope) => {
                self.set_state(S::Shutdown);
                out.push(Action::Emit(EventKind::Shutdown));
                out.push(Action::Panic { scope, status });
            }
            Decision::Isolate { replace } => {
                self.set_state(S::Isolated);
                out.push(Action::Emit(EventKind::Isolated));
                if replace {
                    out.push(Action::Replace);
                }
            }
        }
    }

    /// Waits out the gate, or restarts at once when its wait is already over.
    fn hold(&mut self, gate: GateState, now: MonoTime, out: &mut Vec<Action>) {
        let threshold = self.gate.threshold();
        self.note(&super::decision::of_gate(gate, now, threshold));
        let (state, until, event) = match gate {
            GateState::Idle => return self.restart_now(out),
            GateState::BackingOff { until } => (S::Backoff { until }, until, EventKind::Backoff { until }),
            GateState::CrashLoop { until } => (S::CrashLoop { until }, until, EventKind::Crashloop { until }),
        };
        if until <= now && matches!(gate, GateState::BackingOff { .. }) {
            self.gate.expire(now);
            return self.restart_now(out);
        }
        self.set_state(state);
        out.push(Action::Emit(event));
        out.push(Action::ArmTimer { at: until, kind: TimerKind::Restart, generation: self.generation });
    }

    pub(super) fn finish_stop(
        &mut self,
        then: AfterStop,
        status: ExitStatus,
        now: MonoTime,
        jitter: f64,
        out: &mut Vec<Action>,
    ) {
        match then {
            AfterStop::Stay => {
                self.decision = Some("stopped by request (an operator, or `down`)".into());
                self.set_state(S::Stopped);
                out.push(Action::Emit(EventKind::Stopped));
            }
            AfterStop::Restart => {
                out.push(Action::Emit(EventKind::Stopped));
                self.restart_now(out);
            }
            AfterStop::Shutdown => {
                self.decision = Some("stopped by `on_panic: shutdown` of another instance".into());
                self.set_state(S::Shutdown);
                out.push(Action::Emit(EventKind::Shutdown));
            }
            AfterStop::Remove => {
                self.set_state(S::Stopped);
                out.push(Action::Emit(EventKind::Stopped));
                out.push(Action::Removed);
            }
            AfterStop::Fail => {
                // Stopped because it failed a health check: the exit is a failure,
                // whatever its code.
                let clean = !policy::is_crash(status, &self.policy.exit_codes);
                let failed = if clean { ExitStatus::Unknown } else { status };
                let decision = policy::panic_decision(self.policy.restart, self.policy.on_panic);
                self.after_exit(failed, decision, now, jitter, out);
            }
        }
    }

    /// SIGKILL now, and a look [`KILL_GRACE`](super::io::KILL_GRACE) later
    /// in case the exit never arrives.
    fn kill(&mut self, now: MonoTime, out: &mut Vec<Action>) {
        out.push(Action::Kill);
        let at = now + super::io::KILL_GRACE;
        out.push(Action::ArmTimer { at, kind: TimerKind::KillTimeout, generation: self.generation });
    }

    /// The answer to a [`Action::CheckGone`]: a stopping instance whose
    /// process is gone is `lost` and its stop completes with an unknown
    /// exit; one that lives is killed again. `down` never waits for a
    /// message that will not come.
    fn on_checked(&mut self, alive: bool, now: MonoTime, jitter: f64, out: &mut Vec<Action>) {
        if !matches!(self.state, S::Stopping { .. }) || self.pid.is_none() {
            return; // its exit came meanwhile
        }
        if alive {
            return self.kill(now, out);
        }
        let reason = "its process is gone after SIGKILL, but its exit never arrived".to_string();
        out.push(Action::Emit(EventKind::Lost { reason }));
        self.on_exited(ExitStatus::Unknown, now, jitter, out);
    }

    /// Asks the process to stop: stop signal now, SIGKILL at the timeout.
    pub(super) fn begin_stop(&mut self, then: AfterStop, now: MonoTime, out: &mut Vec<Action>) {
        self.set_state(S::Stopping { then });
        if self.pid.is_some() {
            out.push(Action::Signal(self.policy.stop.signal));
            let at = now + self.policy.stop.timeout;
            out.push(Action::ArmTimer { at, kind: TimerKind::StopTimeout, generation: self.generation });
        }
    }

    /// Counts a restart and spawns.
    pub(super) fn restart_now(&mut self, out: &mut Vec<Action>) {
        self.restarts += 1;
        out.push(Action::Emit(EventKind::Restarted { restarts: self.restarts }));
        self.spawn(out);
    }

    /// Holds a restart back until its dependencies are ready again (`waiting`).
    pub(crate) fn park(&mut self) {
        self.note(", but its dependencies are not ready: it waits for them");
        self.set_state(S::Waiting);
    }

    pub(super) fn spawn(&mut self, out: &mut Vec<Action>) {
        self.set_state(S::Starting);
        out.push(Action::Spawn);
    }

    /// Changes what follows a stop already under way, keeping its SIGKILL timer.
    pub(super) fn retarget_stop(&mut self, then: AfterStop) {
        self.state = S::Stopping { then };
    }

    fn forget_process(&mut self, status: ExitStatus) {
        self.pid = None;
        self.kept_alive = false;
        self.last_exit = Some(status);
    }

    /// Adds to the reason of the decision being taken.
    fn note(&mut self, more: &str) {
        if let Some(d) = &mut self.decision {
            d.push_str(more);
        }
    }

    pub(super) fn set_state(&mut self, state: InstanceState) {
        self.state = state;
        self.generation += 1;
    }
}
