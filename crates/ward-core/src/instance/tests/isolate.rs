//! An operator's isolate: out of rotation, the process kept, no restart.

use super::*;

use InstanceState as S;

#[test]
fn isolating_a_running_instance_keeps_its_process_and_never_restarts_it() {
    let mut i = running(&spec(), t(0));
    let out = cmd(&mut i, Command::Isolate, t(10));
    assert_eq!(out, vec![Action::Emit(EventKind::Isolated)]);
    assert_eq!((i.state(), i.pid()), (S::Isolated, Some(42)));
    assert!(!i.in_rotation());
    assert_eq!(
        i.command(Command::Start, t(11)).unwrap_err().why,
        "its process is kept for debugging: stop it first"
    );
    // The kept process ends by itself: still isolated, no restart.
    let out = obs(&mut i, exited(1), t(20));
    assert_eq!(out, vec![Action::Emit(EventKind::Exited { status: ExitStatus::Code(1), run_ms: 20 })]);
    assert_eq!((i.state(), i.pid()), (S::Isolated, None));
    assert_eq!(i.command(Command::Isolate, t(21)).unwrap_err().why, "already isolated");
    assert_eq!(cmd(&mut i, Command::Start, t(30)), vec![Action::Spawn]);
}

#[test]
fn isolating_during_backoff_cancels_the_restart() {
    let mut i = running(&spec(), t(0));
    obs(&mut i, exited(1), t(1000));
    let timer = restart_timer(&i);
    assert_eq!(cmd(&mut i, Command::Isolate, t(1100)), vec![Action::Emit(EventKind::Isolated)]);
    assert_eq!(obs(&mut i, timer, t(1500)), vec![], "the gate's timer is stale");
    assert_eq!(i.state(), S::Isolated);
    let stopped = instance(&spec());
    let r = stopped.clone().command(Command::Isolate, t(0)).unwrap_err();
    assert_eq!((r.state, r.why), ("stopped", "nothing runs and no restart is pending: nothing to isolate"));
}
