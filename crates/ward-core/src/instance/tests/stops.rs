//! One scenario per test: stops, restarts, panic policies, health checks,
//! and the bugs found (ignored until fixed).

use super::*;
use crate::instance::KILL_GRACE;

use InstanceState as S;

#[test]
fn stop_signals_then_kills_at_the_timeout_and_the_exit_stays_stopped() {
    let mut i = running(&spec(), t(0));
    let out = cmd(&mut i, Command::Stop, t(1000));
    let at = t(11_000);
    let timeout = Action::ArmTimer { at, kind: TimerKind::StopTimeout, generation: i.generation() };
    assert_eq!(out, vec![Action::Signal(15), timeout]);
    assert_eq!(i.state(), S::Stopping { then: AfterStop::Stay });
    let fire = Observation::Timer { kind: TimerKind::StopTimeout, generation: i.generation() };
    let look =
        Action::ArmTimer { at: at + KILL_GRACE, kind: TimerKind::KillTimeout, generation: i.generation() };
    assert_eq!(obs(&mut i, fire.clone(), at), vec![Action::Kill, look]);
    assert_eq!(i.state(), S::Stopping { then: AfterStop::Stay });
    let out = obs(&mut i, Observation::Exited { status: ExitStatus::Signal(9) }, at);
    let exit = EventKind::Exited { status: ExitStatus::Signal(9), run_ms: 11_000 };
    assert_eq!(out, vec![Action::Emit(exit), Action::Emit(EventKind::Stopped)]);
    assert_eq!((i.state(), i.pid(), i.is_alive()), (S::Stopped, None, false));
    assert_eq!(i.gate().crashes_in_window(at), 0, "the exit of a stop is not a crash");
    assert_eq!(obs(&mut i, fire, at), vec![], "no kill once it is gone");
}

#[test]
fn stop_uses_the_signal_and_timeout_of_the_spec() {
    let s = with(|s| s.stop = StopSpec { signal: 2, timeout: Duration::from_secs(3) });
    let mut i = running(&s, t(0));
    let out = cmd(&mut i, Command::Stop, t(100));
    assert_eq!(out[0], Action::Signal(2));
    assert!(matches!(out[1], Action::ArmTimer { at, .. } if at == t(3100)));
    // A crash code after a stop does not restart either.
    assert_eq!(events(&obs(&mut i, exited(1), t(200)))[1], EventKind::Stopped);
    assert_eq!(i.state(), S::Stopped);
}

#[test]
fn restart_stops_then_spawns_again_after_the_exit() {
    let mut i = running(&spec(), t(0));
    assert_eq!(cmd(&mut i, Command::Restart, t(100))[0], Action::Signal(15));
    assert_eq!(i.state(), S::Stopping { then: AfterStop::Restart });
    let out = obs(&mut i, Observation::Exited { status: ExitStatus::Signal(15) }, t(200));
    let expected = vec![
        Action::Emit(EventKind::Exited { status: ExitStatus::Signal(15), run_ms: 200 }),
        Action::Emit(EventKind::Stopped),
        Action::Emit(EventKind::Restarted { restarts: 1 }),
        Action::Spawn,
    ];
    assert_eq!(out, expected);
    assert_eq!(i.state(), S::Starting);
    obs(&mut i, Observation::Spawned { pid: 77 }, t(210));
    assert_eq!((i.state(), i.pid()), (S::Running, Some(77)));
}

#[test]
fn a_stop_that_races_the_spawn_signals_right_after_spawned() {
    let mut i = instance(&spec());
    cmd(&mut i, Command::Start, t(0));
    assert_eq!(cmd(&mut i, Command::Stop, t(10)), vec![], "nothing to signal yet");
    assert_eq!(i.state(), S::Stopping { then: AfterStop::Stay });
    let out = obs(&mut i, Observation::Spawned { pid: 9 }, t(50));
    let timeout =
        Action::ArmTimer { at: t(10_050), kind: TimerKind::StopTimeout, generation: i.generation() };
    assert_eq!(out, vec![Action::Emit(EventKind::Started { pid: 9 }), Action::Signal(15), timeout]);
    obs(&mut i, exited(143), t(60));
    assert_eq!(i.state(), S::Stopped);

    // The spawn fails instead: stopped at once.
    let mut i = instance(&spec());
    cmd(&mut i, Command::Start, t(0));
    cmd(&mut i, Command::Stop, t(10));
    let out = obs(&mut i, Observation::SpawnFailed { error: "ENOENT".into() }, t(20));
    assert_eq!(events(&out), [EventKind::SpawnFailed { error: "ENOENT".into() }, EventKind::Stopped]);
    assert_eq!(i.state(), S::Stopped);
}
#[test]
fn isolate_on_a_crash_takes_the_instance_out_and_asks_for_a_replacement() {
    for replace in [true, false] {
        let mut i = running(&panic_policy(PanicAction::Isolate, PanicScope::Service, replace), t(0));
        let out = obs(&mut i, exited(1), t(5));
        assert_eq!(events(&out)[1..], [EventKind::Isolated]);
        assert_eq!(out.contains(&Action::Replace), replace);
        assert_eq!((i.state(), i.pid(), i.in_rotation()), (S::Isolated, None, false));
        assert_eq!(i.last_exit(), Some(ExitStatus::Code(1)), "its exit status is kept");
        assert_eq!(cmd(&mut i, Command::Start, t(9)), vec![Action::Spawn], "an operator may start it");
    }
}

#[test]
fn the_shutdown_policy_stays_down_and_reaches_its_scope() {
    for scope in [PanicScope::Service, PanicScope::All] {
        let mut i = running(&panic_policy(PanicAction::Shutdown, scope, false), t(0));
        let status = ExitStatus::Code(3);
        let out = obs(&mut i, Observation::Exited { status }, t(5));
        let expected = vec![
            Action::Emit(EventKind::Exited { status, run_ms: 5 }),
            Action::Emit(EventKind::Shutdown),
            Action::Panic { scope, status },
        ];
        assert_eq!(out, expected);
        assert_eq!((i.state(), i.pid()), (S::Shutdown, None));
    }
}

#[test]
fn a_failed_health_check_under_isolate_keeps_the_process_until_a_stop() {
    let mut i = running(&panic_policy(PanicAction::Isolate, PanicScope::Service, true), t(0));
    let out = obs(&mut i, Observation::HealthFailed { reason: "timeout".into() }, t(100));
    let expected = vec![
        Action::Emit(EventKind::HealthFailed { reason: "timeout".into() }),
        Action::Emit(EventKind::Isolated),
        Action::Replace,
    ];
    assert_eq!(out, expected, "no signal: the process is kept");
    assert_eq!((i.state(), i.pid(), i.is_alive(), i.in_rotation()), (S::Isolated, Some(42), true, false));
    assert!(i.command(Command::Start, t(200)).is_err(), "kept for debugging");
    let out = cmd(&mut i, Command::Stop, t(300));
    assert_eq!(out[0], Action::Signal(15));
    assert_eq!(i.state(), S::Stopping { then: AfterStop::Stay });
    obs(&mut i, Observation::Exited { status: ExitStatus::Signal(15) }, t(400));
    assert_eq!((i.state(), i.pid()), (S::Stopped, None));

    // If the kept process ends by itself, the instance stays isolated.
    let mut i = running(&panic_policy(PanicAction::Isolate, PanicScope::Service, false), t(0));
    obs(&mut i, Observation::HealthFailed { reason: "x".into() }, t(1));
    assert_eq!(events(&obs(&mut i, exited(1), t(2))).len(), 1);
    assert_eq!((i.state(), i.pid()), (S::Isolated, None));
}

#[test]
fn a_failed_health_check_under_restart_stops_the_process_then_goes_through_the_gate() {
    let mut i = running(&spec(), t(0));
    let out = obs(&mut i, Observation::HealthFailed { reason: "503".into() }, t(2000));
    let timeout =
        Action::ArmTimer { at: t(12_000), kind: TimerKind::StopTimeout, generation: i.generation() };
    let failed = Action::Emit(EventKind::HealthFailed { reason: "503".into() });
    assert_eq!(out, vec![failed, Action::Signal(15), timeout]);
    assert_eq!(i.state(), S::Stopping { then: AfterStop::Fail });
    // Even a clean exit after a failed check is a failure.
    let out = obs(&mut i, exited(0), t(2100));
    assert_eq!(events(&out)[1..], [EventKind::Backoff { until: t(2600) }]);
    assert_eq!(i.gate().crashes_in_window(t(2100)), 1);
    assert_eq!(i.last_exit(), Some(ExitStatus::Code(0)));

    // Under `shutdown`, the panic carries the failure.
    let mut i = running(&panic_policy(PanicAction::Shutdown, PanicScope::All, false), t(0));
    obs(&mut i, Observation::HealthFailed { reason: "x".into() }, t(1));
    let out = obs(&mut i, exited(0), t(2));
    assert_eq!(out.last(), Some(&Action::Panic { scope: PanicScope::All, status: ExitStatus::Unknown }));
    assert_eq!(i.state(), S::Shutdown);
}
#[test]
fn the_stop_timeout_survives_a_second_stop_command() {
    for second in [Command::Stop, Command::Remove, Command::Shutdown, Command::Restart, Command::Start] {
        let mut i = running(&spec(), t(0));
        let mut timers = cmd(&mut i, Command::Stop, t(0));
        timers.extend(cmd(&mut i, second, t(1000)));
        // The process ignores SIGTERM; whichever timers were armed fire at their time.
        let killed = timers.iter().any(|a| match *a {
            Action::ArmTimer { at, kind, generation } => {
                obs(&mut i, Observation::Timer { kind, generation }, at).contains(&Action::Kill)
            }
            _ => false,
        });
        assert!(killed, "Stop then {second:?}: no Kill ever");
    }
}

#[test]
fn an_isolated_instance_whose_process_was_stopped_earlier_can_start_again() {
    let mut i = running(&panic_policy(PanicAction::Isolate, PanicScope::Service, false), t(0));
    obs(&mut i, Observation::HealthFailed { reason: "x".into() }, t(1));
    cmd(&mut i, Command::Stop, t(2));
    obs(&mut i, exited(143), t(3));
    assert_eq!(i.state(), S::Stopped);
    cmd(&mut i, Command::Start, t(4));
    obs(&mut i, Observation::Spawned { pid: 2 }, t(4));
    obs(&mut i, exited(1), t(5));
    assert_eq!((i.state(), i.pid()), (S::Isolated, None), "isolated, and nothing alive");
    let mut stop = i.clone();
    assert_eq!(cmd(&mut stop, Command::Stop, t(6)), vec![Action::Emit(EventKind::Stopped)]);
    assert_eq!(stop.state(), S::Stopped, "not stuck in stopping with no process");
    assert_eq!(i.command(Command::Start, t(6)), Ok(vec![Action::Spawn]));
}

#[test]
fn a_pending_spawn_counts_as_alive_while_stopping() {
    let mut i = instance(&spec());
    cmd(&mut i, Command::Start, t(0));
    assert!(i.is_alive(), "starting");
    cmd(&mut i, Command::Stop, t(10));
    assert!(i.is_alive(), "the spawn is still pending: a process may appear");
}

#[test]
fn a_stop_whose_exit_never_arrives_ends_lost_once_the_process_is_gone() {
    let mut i = running(&spec(), t(0));
    cmd(&mut i, Command::Stop, t(1000));
    let generation = i.generation();
    let out = obs(&mut i, Observation::Timer { kind: TimerKind::StopTimeout, generation }, t(11_000));
    assert!(out.contains(&Action::Kill));
    // KILL_GRACE later the exit has not come: look.
    let look = Observation::Timer { kind: TimerKind::KillTimeout, generation };
    assert_eq!(obs(&mut i, look.clone(), t(14_000)), vec![Action::CheckGone]);
    // Still alive (uninterruptible sleep): killed again, looked at again.
    let again = Action::ArmTimer { at: t(17_000), kind: TimerKind::KillTimeout, generation };
    assert_eq!(obs(&mut i, Observation::Checked { alive: true }, t(14_000)), vec![Action::Kill, again]);
    assert_eq!(i.state(), S::Stopping { then: AfterStop::Stay });
    // Gone without an exit: lost, and the stop completes with an unknown exit.
    let out = obs(&mut i, Observation::Checked { alive: false }, t(17_000));
    let lost =
        EventKind::Lost { reason: "its process is gone after SIGKILL, but its exit never arrived".into() };
    assert_eq!(out[0], Action::Emit(lost));
    assert!(out.contains(&Action::Emit(EventKind::Stopped)), "{out:?}");
    assert_eq!((i.state(), i.pid(), i.last_exit()), (S::Stopped, None, Some(ExitStatus::Unknown)));
    // A late exit or answer changes nothing.
    assert_eq!(obs(&mut i, Observation::Checked { alive: false }, t(18_000)), vec![]);
    assert_eq!(obs(&mut i, look, t(18_000)), vec![]);
}
