//! `MAINPID=`: a process hands its place over to another of the instance's.

use super::*;
use crate::instance::Kinship;

use InstanceState as S;

fn main_pid(pid: u32, kin: Kinship) -> Observation {
    Observation::MainPid { pid, kin }
}

#[test]
fn a_process_of_its_own_becomes_the_main_process_and_its_end_is_the_exit() {
    for kin in [Kinship::InCgroup, Kinship::Descendant, Kinship::Orphan] {
        let mut i = running(&spec(), t(0));
        obs(&mut i, Observation::Ready, t(10));
        let generation = i.generation();
        let out = obs(&mut i, main_pid(77, kin), t(20));
        assert_eq!(
            out,
            vec![
                Action::Emit(EventKind::MainPid { pid: 77 }),
                Action::WatchMainPid { pid: 77, previous: 42 }
            ],
            "{kin:?}"
        );
        // The same run: state, start, generation (timers) unchanged.
        assert_eq!((i.state(), i.pid(), i.generation()), (S::Ready, Some(77), generation));
        assert_eq!(i.started_at(), Some(t(0)));
        // Its end is the instance's exit, timed from the run's start.
        let out = obs(&mut i, Observation::Exited { status: ExitStatus::Unknown }, t(5000));
        assert_eq!(events(&out)[0], EventKind::Exited { status: ExitStatus::Unknown, run_ms: 5000 });
        assert!(matches!(i.state(), S::Backoff { .. }), "an unknown exit is a crash");
    }
}

#[test]
fn a_main_pid_that_is_not_the_instances_is_ignored() {
    let cases = [
        (
            Kinship::Stranger,
            77,
            "that process is neither in the instance's cgroup nor of its process's family",
        ),
        (Kinship::Gone, 77, "no such process runs"),
        (Kinship::Container, 77, "a container's pids are numbers of its own pid namespace"),
        (Kinship::InCgroup, 1, "pids 0 and 1 are never an instance's"),
        (Kinship::Descendant, 0, "pids 0 and 1 are never an instance's"),
    ];
    for (kin, pid, why) in cases {
        let mut i = running(&spec(), t(0));
        let generation = i.generation();
        assert_eq!(obs(&mut i, main_pid(pid, kin), t(20)), vec![Action::IgnoreMainPid { pid, why }]);
        assert_eq!((i.state(), i.pid(), i.generation()), (S::Running, Some(42), generation));
    }
    // Naming itself changes nothing.
    let mut i = running(&spec(), t(0));
    assert_eq!(obs(&mut i, main_pid(42, Kinship::InCgroup), t(20)), vec![]);
}

#[test]
fn without_a_live_process_a_main_pid_is_ignored() {
    let mut i = running(&spec(), t(0));
    obs(&mut i, exited(1), t(100));
    assert!(matches!(i.state(), S::Backoff { .. }));
    let ignored = vec![Action::IgnoreMainPid { pid: 77, why: "it has no live process" }];
    assert_eq!(obs(&mut i, main_pid(77, Kinship::InCgroup), t(200)), ignored);
    assert_eq!(i.pid(), None);
}

#[test]
fn a_stop_under_way_reaches_the_new_main_process() {
    let mut i = running(&spec(), t(0));
    cmd(&mut i, Command::Stop, t(10));
    let out = obs(&mut i, main_pid(77, Kinship::InCgroup), t(20));
    assert_eq!(out.last(), Some(&Action::Signal(15)));
    assert_eq!(i.pid(), Some(77));
    let out = obs(&mut i, Observation::Exited { status: ExitStatus::Signal(15) }, t(30));
    assert_eq!(events(&out).last(), Some(&EventKind::Stopped));
    assert_eq!(i.state(), S::Stopped);
}

#[test]
fn a_process_kept_for_debugging_may_hand_over_too() {
    let mut i = running(&spec(), t(0));
    cmd(&mut i, Command::Isolate, t(10));
    let out = obs(&mut i, main_pid(77, Kinship::Orphan), t(20));
    assert!(out.contains(&Action::WatchMainPid { pid: 77, previous: 42 }));
    assert_eq!((i.state(), i.pid()), (S::Isolated, Some(77)));
    // Stopping it stops the new one.
    assert_eq!(cmd(&mut i, Command::Stop, t(30))[0], Action::Signal(15));
}
