//! One scenario per test: spawn, crash and the restart gate.

use super::*;

use InstanceState as S;

#[test]
fn spawn_emits_started_and_runs() {
    let mut i = instance(&spec());
    assert_eq!(i.state(), S::Stopped);
    assert_eq!(cmd(&mut i, Command::Start, t(0)), vec![Action::Spawn]);
    assert_eq!(i.state(), S::Starting);
    assert!(i.is_alive() && i.pid().is_none());
    let out = obs(&mut i, Observation::Spawned { pid: 42 }, t(5));
    assert_eq!(out, vec![Action::Emit(EventKind::Started { pid: 42 })]);
    assert_eq!((i.state(), i.pid(), i.started_at()), (S::Running, Some(42), Some(t(5))));
    assert!(i.in_rotation());
    assert_eq!(obs(&mut i, Observation::Ready, t(6)), vec![Action::Emit(EventKind::Ready)]);
    assert_eq!(i.state(), S::Ready);
}

#[test]
fn crash_backs_off_then_the_timer_restarts() {
    let mut i = running(&spec(), t(0));
    let out = obs(&mut i, exited(1), t(1000));
    let until = t(1500);
    let expected = vec![
        Action::Emit(EventKind::Exited { status: ExitStatus::Code(1), run_ms: 1000 }),
        Action::Emit(EventKind::Backoff { until }),
        Action::ArmTimer { at: until, kind: TimerKind::Restart, generation: i.generation() },
    ];
    assert_eq!(out, expected);
    assert_eq!((i.state(), i.pid(), i.last_exit()), (S::Backoff { until }, None, Some(ExitStatus::Code(1))));
    assert_eq!(i.gate().crashes_in_window(t(1000)), 1);
    let timer = restart_timer(&i);
    let out = obs(&mut i, timer, until);
    assert_eq!(out, vec![Action::Emit(EventKind::Restarted { restarts: 1 }), Action::Spawn]);
    assert_eq!((i.state(), i.restarts(), i.gate().state()), (S::Starting, 1, GateState::Idle));
}

#[test]
fn each_crash_doubles_the_delay_and_jitter_is_clamped_to_the_spec() {
    let mut i = running(&spec(), t(0));
    obs(&mut i, exited(1), t(1000));
    let timer = restart_timer(&i);
    obs(&mut i, timer, t(1500));
    obs(&mut i, Observation::Spawned { pid: 43 }, t(1500));
    obs(&mut i, exited(1), t(2000));
    assert_eq!(i.state(), S::Backoff { until: t(3000) }, "500ms then 1s");

    // Jitter 0.1 (the default): a draw of 1.1 stretches, 0.5 is clamped to 0.9.
    let mut i = running(&spec(), t(0));
    i.observe(exited(1), t(1000), 1.1);
    assert_eq!(i.state(), S::Backoff { until: t(1550) });
    let mut i = running(&spec(), t(0));
    i.observe(exited(1), t(1000), 0.5);
    assert_eq!(i.state(), S::Backoff { until: t(1450) });
}

#[test]
fn a_stale_timer_does_nothing() {
    let mut i = running(&spec(), t(0));
    obs(&mut i, exited(1), t(1000));
    let first = restart_timer(&i);
    let stale = Observation::Timer { kind: TimerKind::Restart, generation: i.generation() - 1 };
    assert_eq!(obs(&mut i, stale, t(1500)), vec![]);
    assert_eq!(i.state(), S::Backoff { until: t(1500) });

    // Unblocked before its timer fired: the timer of that backoff is stale.
    cmd(&mut i, Command::Unblock, t(1200));
    obs(&mut i, Observation::Spawned { pid: 43 }, t(1200));
    let before = (i.state(), i.generation(), i.restarts());
    assert_eq!(obs(&mut i, first.clone(), t(1500)), vec![]);
    assert_eq!((i.state(), i.generation(), i.restarts()), before);

    // In a later backoff, the old timer is still stale.
    obs(&mut i, exited(1), t(1300));
    assert!(matches!(i.state(), S::Backoff { .. }));
    assert_eq!(obs(&mut i, first, t(1800)), vec![]);
    assert!(matches!(i.state(), S::Backoff { .. }));
}

#[test]
fn exit_zero_under_always_restarts_after_the_flat_initial_delay_without_counting() {
    let mut i = running(&with(|s| s.restart = RestartPolicy::Always), t(0));
    for round in 0..3u64 {
        let now = t(100 + round * 1000);
        let out = obs(&mut i, exited(0), now);
        let until = now + Duration::from_millis(500);
        assert_eq!(events(&out)[1..], [EventKind::Backoff { until }], "round {round}: flat delay");
        assert_eq!(i.state(), S::Backoff { until });
        assert_eq!(i.gate().crashes_in_window(now), 0, "a clean exit is not a crash");
        let timer = restart_timer(&i);
        assert_eq!(obs(&mut i, timer, until).last(), Some(&Action::Spawn));
        obs(&mut i, Observation::Spawned { pid: 50 }, until);
    }
    assert_eq!(i.restarts(), 3);
    // The curve did not advance: the first crash still waits `initial`.
    obs(&mut i, exited(1), t(5000));
    assert_eq!(i.state(), S::Backoff { until: t(5500) });
}

#[test]
fn exit_zero_under_on_failure_or_never_completes() {
    for restart in [RestartPolicy::OnFailure, RestartPolicy::Never] {
        let mut i = running(&with(|s| s.restart = restart), t(0));
        let out = obs(&mut i, exited(0), t(700));
        let exit = EventKind::Exited { status: ExitStatus::Code(0), run_ms: 700 };
        assert_eq!(out, vec![Action::Emit(exit), Action::Emit(EventKind::Completed)], "{restart:?}");
        assert_eq!((i.state(), i.pid()), (S::Completed, None));
        assert!(i.state().is_at_rest());
    }
    // Exit 0 is not a panic: a shutdown policy does not fire.
    let mut i = running(&panic_policy(PanicAction::Shutdown, PanicScope::All, false), t(0));
    assert!(!obs(&mut i, exited(0), t(1)).iter().any(|a| matches!(a, Action::Panic { .. })));
    assert_eq!(i.state(), S::Completed);
}

#[test]
fn a_crash_under_never_fails() {
    for status in [ExitStatus::Code(1), ExitStatus::Signal(9), ExitStatus::Unknown] {
        let mut i = running(&with(|s| s.restart = RestartPolicy::Never), t(0));
        let out = obs(&mut i, Observation::Exited { status }, t(10));
        assert_eq!(out, vec![Action::Emit(EventKind::Exited { status, run_ms: 10 })]);
        assert_eq!((i.state(), i.pid()), (S::Failed, None));
    }
}

#[test]
fn the_threshold_th_crash_trips_crash_loop_and_the_cooldown_gives_a_fresh_start() {
    let s = with(|s| s.crash_loop.threshold = 3);
    let mut i = running(&s, t(0));
    for (crash, restart) in [(1000, 1500), (2000, 3000)] {
        obs(&mut i, exited(1), t(crash));
        assert_eq!(i.state(), S::Backoff { until: t(restart) });
        let timer = restart_timer(&i);
        obs(&mut i, timer, t(restart));
        obs(&mut i, Observation::Spawned { pid: 7 }, t(restart));
    }
    let out = obs(&mut i, exited(1), t(3100));
    let until = t(3100 + 300_000);
    assert_eq!(
        out[1..],
        [
            Action::Emit(EventKind::Crashloop { until }),
            Action::ArmTimer { at: until, kind: TimerKind::Restart, generation: i.generation() },
        ]
    );
    assert_eq!((i.state(), i.gate().state()), (S::CrashLoop { until }, GateState::CrashLoop { until }));
    let timer = restart_timer(&i);
    assert_eq!(
        obs(&mut i, timer, until),
        vec![Action::Emit(EventKind::Restarted { restarts: 3 }), Action::Spawn]
    );
    assert_eq!(i.gate().state(), GateState::Idle);
    obs(&mut i, Observation::Spawned { pid: 8 }, until);
    obs(&mut i, exited(1), until + Duration::from_millis(1));
    assert_eq!(i.state(), S::Backoff { until: until + Duration::from_millis(501) }, "history was cleared");
}

#[test]
fn unblock_releases_backoff_and_crash_loop_at_once() {
    for threshold in [5, 1] {
        let mut i = running(&with(|s| s.crash_loop.threshold = threshold), t(0));
        obs(&mut i, exited(1), t(1000));
        let held = restart_timer(&i);
        let out = cmd(&mut i, Command::Unblock, t(1001));
        let expected = vec![
            Action::Emit(EventKind::Unblocked),
            Action::Emit(EventKind::Restarted { restarts: 1 }),
            Action::Spawn,
        ];
        assert_eq!(out, expected, "threshold {threshold}");
        assert_eq!((i.state(), i.gate().state()), (S::Starting, GateState::Idle));
        assert_eq!(i.gate().crashes_in_window(t(1001)), 0);
        obs(&mut i, Observation::Spawned { pid: 9 }, t(1001));
        assert_eq!(obs(&mut i, held, t(400_000)), vec![], "the held timer is stale");
        assert_eq!(i.state(), S::Running);
    }
}

#[test]
fn unblock_is_rejected_when_no_gate_holds_the_instance() {
    let mut i = instance(&spec());
    let r = i.command(Command::Unblock, t(0)).unwrap_err();
    assert_eq!((r.instance.as_str(), r.state), ("api/0", "stopped"));
    assert!(r.to_string().starts_with("api/0 is stopped: "), "{r}");
    assert_eq!(i.state(), S::Stopped);
    let mut done = running(&spec(), t(0));
    obs(&mut done, exited(0), t(1));
    assert_eq!(done.command(Command::Unblock, t(2)).unwrap_err().state, "completed");
}
#[test]
fn a_failed_spawn_backs_off_like_a_crash() {
    let mut i = instance(&spec());
    cmd(&mut i, Command::Start, t(0));
    let failed = Observation::SpawnFailed { error: "no such file".into() };
    let out = obs(&mut i, failed.clone(), t(0));
    let expected = vec![
        Action::Emit(EventKind::SpawnFailed { error: "no such file".into() }),
        Action::Emit(EventKind::Backoff { until: t(500) }),
        Action::ArmTimer { at: t(500), kind: TimerKind::Restart, generation: i.generation() },
    ];
    assert_eq!(out, expected);
    let timer = restart_timer(&i);
    assert_eq!(obs(&mut i, timer, t(500)).last(), Some(&Action::Spawn));
    obs(&mut i, failed.clone(), t(500));
    assert_eq!(i.state(), S::Backoff { until: t(1500) }, "counted as a crash: the delay doubled");

    let mut i = instance(&with(|s| s.restart = RestartPolicy::Never));
    cmd(&mut i, Command::Start, t(0));
    assert_eq!(events(&obs(&mut i, failed, t(0))).len(), 1);
    assert_eq!(i.state(), S::Failed);
}
#[test]
fn a_stable_run_resets_the_backoff_delay() {
    // Run lengths around `stable_after` (60s): the third crash waits 2s, or 500ms after a stable run.
    for (run, delay) in [(59_999, 2000), (60_000, 500)] {
        let mut i = running(&spec(), t(0));
        for (crash, restart) in [(1000, 1500), (2000, 3000)] {
            obs(&mut i, exited(1), t(crash));
            let timer = restart_timer(&i);
            obs(&mut i, timer, t(restart));
            obs(&mut i, Observation::Spawned { pid: 5 }, t(restart));
        }
        obs(&mut i, exited(1), t(3000 + run));
        assert_eq!(i.state(), S::Backoff { until: t(3000 + run + delay) }, "run {run}ms");
    }
}

#[test]
fn a_zero_initial_delay_restarts_without_a_timer() {
    let mut i = running(&with(|s| s.backoff.initial = Duration::ZERO), t(0));
    let out = obs(&mut i, exited(1), t(10));
    assert_eq!(out[1..], [Action::Emit(EventKind::Restarted { restarts: 1 }), Action::Spawn]);
    assert_eq!(i.state(), S::Starting);
}
