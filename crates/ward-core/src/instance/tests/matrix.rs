//! Every (state, input) pair: each state is reached by driving inputs, then
//! each observation and each command is applied to a clone, and the result is
//! checked against the table below and against invariants that hold whatever
//! the pair.
//!
//! Cells of the table:
//! - a state label (`running`, `stopping:stay`, …): the state it must end in;
//! - `=`: nothing happens (same state and generation, no action);
//! - `409`: the command is rejected and nothing changes;
//! - `!`: an impossible observation: the `debug_assert!` must fire;
//! - `-`: an impossible pair the machine does not assert on, skipped (listed
//!   in [`IMPOSSIBLE`] with the reason).

use super::*;

use InstanceState as S;

const NOW: u64 = 400_000;

/// The columns: observations, then commands.
const INPUTS: [&str; 24] = [
    "spawned",
    "spfail",
    "exit1",
    "exit0",
    "t:rst",
    "t:stop",
    "stale:rst",
    "stale:stop",
    "ready",
    "health",
    "deps",
    "start",
    "swr+",
    "swr-",
    "stop",
    "restart",
    "unblock",
    "shutdown",
    "remove",
    "t:kill",
    "gone",
    "alive",
    "isolate",
    "mainpid",
];

#[rustfmt::skip]
const TABLE: &[(&str, &str)] = &[
    //                  spawned        spfail   exit1     exit0     t:rst     t:stop         stale:r st:s ready  health         deps     start            swr+     swr-    stop           restart          unblock  shutdown           remove
    ("waiting",        "!              !        !         !         =         =              =       =    =      =              starting starting         =        =       stopped        starting         409      shutdown           stopped    = = = 409 waiting"),
    ("starting",       "running        backoff  backoff   completed =         =              =       =    =      =              =        409              =        =       stopping:stay  stopping:restart 409      stopping:shutdown  stopping:remove    = = = 409 starting"),
    ("running",        "!              !        backoff   completed =         =              =       =    ready  stopping:fail  =        409              =        =       stopping:stay  stopping:restart 409      stopping:shutdown  stopping:remove    = = = isolated running"),
    ("ready",          "!              !        backoff   completed =         =              =       =    =      stopping:fail  =        409              =        =       stopping:stay  stopping:restart 409      stopping:shutdown  stopping:remove    = = = isolated ready"),
    ("stopping:stay",  "stopping:stay  -        stopped   stopped   =         stopping:stay  =       =    =      =              =        stopping:restart =        =       stopping:stay  stopping:restart 409      stopping:shutdown  stopping:remove    stopping:stay stopped stopping:stay 409 stopping:stay"),
    ("stopping:nopid", "stopping:stay  stopped  -         -         =         -              =       =    =      =              =        stopping:restart =        =       stopping:stay  stopping:restart 409      stopping:shutdown  stopping:remove    - = = 409 stopping:stay"),
    ("stopping:restart","stopping:restart - starting  starting  =         stopping:restart =       =    =      =              =        stopping:restart =        =       stopping:stay  stopping:restart 409      stopping:shutdown  stopping:remove    stopping:restart starting stopping:restart 409 stopping:restart"),
    ("stopping:shutdown","stopping:shutdown - shutdown shutdown  =         stopping:shutdown =      =    =      =              =        stopping:restart =        =       stopping:stay  stopping:restart 409      stopping:shutdown  stopping:remove    stopping:shutdown shutdown stopping:shutdown 409 stopping:shutdown"),
    ("stopping:remove","stopping:remove -       stopped   stopped   =         stopping:remove =      =    =      =              =        stopping:restart =        =       stopping:stay  stopping:restart 409      stopping:shutdown  stopping:remove    stopping:remove stopped stopping:remove 409 stopping:remove"),
    ("stopping:fail",  "stopping:fail  -        backoff   backoff   =         stopping:fail  =       =    =      =              =        stopping:restart =        =       stopping:stay  stopping:restart 409      stopping:shutdown  stopping:remove    stopping:fail backoff stopping:fail 409 stopping:fail"),
    ("stopped",        "!              !        !         !         =         =              =       =    =      =              =        starting         starting waiting stopped        starting         409      shutdown           stopped    = = = 409 stopped"),
    ("backoff",        "!              !        !         !         starting  =              =       =    =      =              =        starting         =        =       stopped        starting         starting shutdown           stopped    = = = isolated backoff"),
    ("crashloop",      "!              !        !         !         starting  =              =       =    =      =              =        starting         =        =       stopped        starting         starting shutdown           stopped    = = = isolated crashloop"),
    ("isolated:dead",  "!              !        -         -         =         =              =       =    =      =              =        starting         =        =       stopped        starting         409      shutdown           stopped    = = = 409 isolated"),
    ("isolated:alive", "!              !        isolated  isolated  =         =              =       =    =      =              =        409              =        =       stopping:stay  stopping:restart 409      stopping:shutdown  stopping:remove    = = = 409 isolated"),
    ("shutdown",       "!              !        !         !         =         =              =       =    =      =              =        starting         =        =       stopped        starting         409      shutdown           stopped    = = = 409 shutdown"),
    ("completed",      "!              !        !         !         =         =              =       =    =      =              =        starting         =        =       stopped        starting         409      shutdown           stopped    = = = 409 completed"),
    ("failed",         "!              !        !         !         =         =              =       =    =      =              =        starting         =        =       stopped        starting         409      shutdown           stopped    = = = 409 failed"),
];

/// Pairs that cannot happen and that the machine accepts without a
/// `debug_assert!`, so they are skipped:
/// - `SpawnFailed` while stopping a process that is already running (no spawn is pending);
/// - `Exited` while stopping before the spawn was confirmed (no process yet);
/// - `StopTimeout` or `KillTimeout` of the current generation while stopping
///   before the spawn was confirmed (no stop timer is armed until the signal is sent);
/// - `Exited` while isolated after the process already ended.
const IMPOSSIBLE: &[(&str, &str)] = &[
    ("stopping:stay", "spfail"),
    ("stopping:restart", "spfail"),
    ("stopping:shutdown", "spfail"),
    ("stopping:remove", "spfail"),
    ("stopping:fail", "spfail"),
    ("stopping:nopid", "exit1"),
    ("stopping:nopid", "exit0"),
    ("stopping:nopid", "t:stop"),
    ("stopping:nopid", "t:kill"),
    ("isolated:dead", "exit1"),
    ("isolated:dead", "exit0"),
];

/// The label of a state as the table writes it.
fn label(s: InstanceState) -> String {
    match s {
        S::Stopping { then } => format!("stopping:{}", format!("{then:?}").to_lowercase()),
        other => other.word().to_string(),
    }
}

/// An instance driven into the state a row names.
fn build(row: &str) -> Instance {
    let isolate = panic_policy(PanicAction::Isolate, PanicScope::Service, false);
    let mut i = match row {
        "isolated:dead" | "isolated:alive" => running(&isolate, t(0)),
        "shutdown" => running(&panic_policy(PanicAction::Shutdown, PanicScope::Service, false), t(0)),
        "failed" => running(&with(|s| s.restart = RestartPolicy::Never), t(0)),
        "crashloop" => running(&with(|s| s.crash_loop.threshold = 1), t(0)),
        "waiting" | "starting" | "stopping:nopid" => instance(&spec()),
        _ => running(&spec(), t(0)),
    };
    let now = t(1000);
    match row {
        "waiting" => {
            cmd(&mut i, Command::StartWhenReady { deps_ready: false }, now);
        }
        "starting" => {
            cmd(&mut i, Command::Start, now);
        }
        "running" => {}
        "ready" => {
            obs(&mut i, Observation::Ready, now);
        }
        "stopping:stay" => {
            cmd(&mut i, Command::Stop, now);
        }
        "stopping:nopid" => {
            cmd(&mut i, Command::Start, now);
            cmd(&mut i, Command::Stop, now);
        }
        "stopping:restart" => {
            cmd(&mut i, Command::Restart, now);
        }
        "stopping:shutdown" => {
            cmd(&mut i, Command::Shutdown, now);
        }
        "stopping:remove" => {
            cmd(&mut i, Command::Remove, now);
        }
        "stopping:fail" | "isolated:alive" => {
            obs(&mut i, Observation::HealthFailed { reason: "x".into() }, now);
        }
        "stopped" => {
            cmd(&mut i, Command::Stop, now);
            obs(&mut i, exited(143), now);
        }
        "backoff" | "crashloop" | "isolated:dead" | "shutdown" | "failed" => {
            obs(&mut i, exited(1), now);
        }
        "completed" => {
            obs(&mut i, exited(0), now);
        }
        other => panic!("no row {other}"),
    }
    let want = row.replace(":nopid", ":stay").replace(":dead", "").replace(":alive", "");
    assert_eq!(label(i.state()), want, "building {row}");
    i
}

enum Input {
    Obs(Observation),
    Cmd(Command),
}

fn input(name: &str, i: &Instance) -> Input {
    let timer = |kind, generation| Input::Obs(Observation::Timer { kind, generation });
    let stale = i.generation().wrapping_sub(1);
    match name {
        "spawned" => Input::Obs(Observation::Spawned { pid: 99 }),
        "spfail" => Input::Obs(Observation::SpawnFailed { error: "EACCES".into() }),
        "exit1" => Input::Obs(exited(1)),
        "exit0" => Input::Obs(exited(0)),
        "t:rst" => timer(TimerKind::Restart, i.generation()),
        "t:stop" => timer(TimerKind::StopTimeout, i.generation()),
        "stale:rst" => timer(TimerKind::Restart, stale),
        "stale:stop" => timer(TimerKind::StopTimeout, stale),
        "ready" => Input::Obs(Observation::Ready),
        "health" => Input::Obs(Observation::HealthFailed { reason: "probe".into() }),
        "deps" => Input::Obs(Observation::DependenciesReady),
        "start" => Input::Cmd(Command::Start),
        "swr+" => Input::Cmd(Command::StartWhenReady { deps_ready: true }),
        "swr-" => Input::Cmd(Command::StartWhenReady { deps_ready: false }),
        "stop" => Input::Cmd(Command::Stop),
        "restart" => Input::Cmd(Command::Restart),
        "unblock" => Input::Cmd(Command::Unblock),
        "shutdown" => Input::Cmd(Command::Shutdown),
        "remove" => Input::Cmd(Command::Remove),
        "t:kill" => timer(TimerKind::KillTimeout, i.generation()),
        "gone" => Input::Obs(Observation::Checked { alive: false }),
        "alive" => Input::Obs(Observation::Checked { alive: true }),
        "isolate" => Input::Cmd(Command::Isolate),
        "mainpid" => Input::Obs(Observation::MainPid { pid: 77, kin: crate::instance::Kinship::InCgroup }),
        other => panic!("no input {other}"),
    }
}

/// Invariants every transition keeps, whatever the pair.
fn check_invariants(before: &Instance, after: &Instance, out: &[Action], pair: &str) {
    let state = after.state();
    if out.contains(&Action::Spawn) {
        assert_eq!(state, S::Starting, "{pair}: Spawn only with Starting");
    }
    if state == S::Starting && before.state() != S::Starting {
        assert!(out.contains(&Action::Spawn), "{pair}: Starting entered without Spawn");
    }
    let down = matches!(
        state,
        S::Waiting
            | S::Starting
            | S::Stopped
            | S::Backoff { .. }
            | S::CrashLoop { .. }
            | S::Completed
            | S::Failed
            | S::Shutdown
    );
    if down {
        assert_eq!(after.pid(), None, "{pair}: no pid in {state:?}");
    }
    for a in out {
        match a {
            Action::Signal(_) | Action::Kill => {
                assert!(after.pid().is_some(), "{pair}: {a:?} without a pid")
            }
            Action::ArmTimer { generation, kind, at } => {
                assert_eq!(*generation, after.generation(), "{pair}: timer armed stale");
                assert!(*at >= t(NOW), "{pair}: timer in the past");
                if let (TimerKind::Restart, S::Backoff { until } | S::CrashLoop { until }) = (kind, state) {
                    assert_eq!(*at, until, "{pair}: restart timer at the end of the wait");
                }
            }
            Action::Removed => assert_eq!(state, S::Stopped, "{pair}: removed while {state:?}"),
            Action::Panic { .. } => assert_eq!(state, S::Shutdown, "{pair}: panic while {state:?}"),
            Action::Replace => assert_eq!(state, S::Isolated, "{pair}: replace while {state:?}"),
            Action::CheckGone => {
                assert!(matches!(state, S::Stopping { .. }), "{pair}: check while {state:?}")
            }
            Action::WatchMainPid { pid, .. } => assert_eq!(after.pid(), Some(*pid), "{pair}: watched"),
            Action::Spawn | Action::Emit(_) | Action::IgnoreMainPid { .. } => {}
        }
    }
    let waits = matches!(state, S::Backoff { .. } | S::CrashLoop { .. });
    if waits && state != before.state() {
        let armed = out.iter().any(|a| matches!(a, Action::ArmTimer { kind: TimerKind::Restart, .. }));
        assert!(armed, "{pair}: waiting with no restart timer");
    }
    if matches!(state, S::Stopping { .. }) && after.pid().is_some() && before.pid().is_none() {
        assert!(out.contains(&Action::Signal(15)), "{pair}: a new process to stop is signalled");
    }
    if after.pid().is_some() {
        assert!(after.is_alive(), "{pair}: a pid is alive");
    }
}

fn apply(i: &mut Instance, input: Input) -> Result<Vec<Action>, String> {
    let now = t(NOW);
    match input {
        Input::Obs(o) => Ok(i.observe(o, now, 1.0)),
        Input::Cmd(c) => i.command(c, now).map_err(|r| {
            assert_eq!(r.state, i.state().word(), "a rejection names the state");
            r.to_string()
        }),
    }
}

fn assert_unchanged(before: &Instance, after: &Instance, pair: &str) {
    let key = |i: &Instance| (i.state(), i.generation(), i.pid(), i.restarts());
    assert_eq!(key(after), key(before), "{pair}: changed");
}

#[test]
fn every_state_and_input_pair() {
    let mut walked = 0;
    for (row, cells) in TABLE {
        let cells: Vec<&str> = cells.split_whitespace().collect();
        assert_eq!(cells.len(), INPUTS.len(), "row {row}");
        let start = build(row);
        for (name, want) in INPUTS.iter().zip(cells) {
            let pair = format!("({row}, {name})");
            if want == "-" {
                assert!(IMPOSSIBLE.contains(&(row, name)), "{pair}: skipped but not listed");
                continue;
            }
            walked += 1;
            let mut i = start.clone();
            let inp = input(name, &i);
            if want == "!" {
                let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| apply(&mut i, inp)));
                if cfg!(debug_assertions) {
                    assert!(caught.is_err(), "{pair}: the debug_assert did not fire");
                } else {
                    assert_eq!((i.state(), i.pid()), (start.state(), start.pid()), "{pair}");
                }
                continue;
            }
            let got = apply(&mut i, inp);
            match (want, got) {
                ("409", Err(_)) => assert_unchanged(&start, &i, &pair),
                ("=", Ok(out)) => {
                    assert_eq!(out, vec![], "{pair}: nothing happens");
                    assert_unchanged(&start, &i, &pair);
                }
                ("409", Ok(out)) => panic!("{pair}: expected a rejection, got {out:?}"),
                (_, Err(r)) => panic!("{pair}: rejected: {r}"),
                (want, Ok(out)) => {
                    assert_eq!(label(i.state()), want, "{pair}: actions {out:?}");
                    check_invariants(&start, &i, &out, &pair);
                }
            }
        }
    }
    assert_eq!(walked + IMPOSSIBLE.len(), TABLE.len() * INPUTS.len());
}

#[test]
fn the_table_names_every_state() {
    let words: Vec<&str> = TABLE.iter().map(|(row, _)| row.split(':').next().unwrap_or(row)).collect();
    for word in [
        "waiting",
        "starting",
        "running",
        "ready",
        "stopping",
        "stopped",
        "backoff",
        "crashloop",
        "isolated",
        "shutdown",
        "completed",
        "failed",
    ] {
        assert!(words.contains(&word), "no row for {word}");
    }
    for then in ["stay", "restart", "shutdown", "remove", "fail"] {
        assert!(
            TABLE.iter().any(|(row, _)| *row == format!("stopping:{then}")),
            "no row for stopping:{then}"
        );
    }
}
