//! Tests of the instance state machine.
//!
//! - `flows`: one scenario per test: spawn, crash and the restart gate.
//! - `stops`: stops, restarts, panic policies, health checks, and the bugs found.
//! - `isolate`: an operator's isolate: out of rotation, the process kept, no restart.
//! - `main_pid`: a process naming its successor (`MAINPID=`).
//! - `matrix`: every (state, input) pair, against a table of legal successors.

mod flows;
mod isolate;
mod main_pid;
mod matrix;
mod stops;

use super::{Action, AfterStop, Command, Instance, InstanceState, Observation, TimerKind};
use crate::event::EventKind;
use crate::exit::ExitStatus;
use crate::gate::GateState;
use crate::name::{InstanceId, ServiceName};
use crate::spec::{HooksSpec, OnPanic, PanicAction, PanicScope, RestartPolicy, ServiceSpec, StopSpec};
use crate::time::MonoTime;
use std::time::Duration;

fn t(ms: u64) -> MonoTime {
    MonoTime::from_millis(ms)
}

/// A service with every default of the spec: `on-failure`, panic `restart`,
/// backoff 500ms ×2, crash-loop 5 in 60s for 5m, stable after 60s, SIGTERM then 10s.
fn spec() -> ServiceSpec {
    let mut s = ServiceSpec::new(ServiceName::new("api").unwrap(), vec!["./api".to_string()]);
    s.hooks = HooksSpec::default();
    s
}

/// The default spec, changed by `f`.
fn with(f: impl FnOnce(&mut ServiceSpec)) -> ServiceSpec {
    let mut s = spec();
    f(&mut s);
    s
}

fn panic_policy(action: PanicAction, scope: PanicScope, replace: bool) -> ServiceSpec {
    with(|s| s.on_panic = OnPanic { action, scope, replace })
}

/// A new (stopped) instance `api/0`.
fn instance(spec: &ServiceSpec) -> Instance {
    Instance::new(InstanceId::new(spec.name.clone(), 0), spec)
}

/// An instance started and spawned (pid 42) at `at`.
fn running(spec: &ServiceSpec, at: MonoTime) -> Instance {
    let mut i = instance(spec);
    cmd(&mut i, Command::Start, at);
    obs(&mut i, Observation::Spawned { pid: 42 }, at);
    assert_eq!(i.state(), InstanceState::Running);
    i
}

/// Observes with jitter 1.0.
fn obs(i: &mut Instance, o: Observation, now: MonoTime) -> Vec<Action> {
    i.observe(o, now, 1.0)
}

/// Runs a command that must be accepted.
fn cmd(i: &mut Instance, c: Command, now: MonoTime) -> Vec<Action> {
    i.command(c, now).unwrap_or_else(|r| panic!("{c:?} rejected: {r}"))
}

fn exited(code: i32) -> Observation {
    Observation::Exited { status: ExitStatus::Code(code) }
}

/// The restart timer of the instance's current generation.
fn restart_timer(i: &Instance) -> Observation {
    Observation::Timer { kind: TimerKind::Restart, generation: i.generation() }
}

/// The event kinds among `actions`, in order.
fn events(actions: &[Action]) -> Vec<EventKind> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Emit(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}
