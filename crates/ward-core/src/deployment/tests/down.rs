//! Down: dependents stop first, instances without a process are not waited
//! for, a pending spawn is, and nothing new starts while going down.

use super::*;

#[test]
fn down_stops_dependents_first_then_exits() {
    let mut d = started(vec![plain("a"), needs("b", "a"), needs("c", "b")]);
    let out = d.down(0, t(100));
    assert_eq!(signalled(&out), ["c/0"]);
    assert_eq!(d.phase(), Phase::GoingDown { code: 0, panic: false });
    let out = exit_signalled(&mut d, &out, t(200));
    assert_eq!(signalled(&out), ["b/0"]);
    assert_eq!((state(&d, "c/0"), state(&d, "a/0")), ("stopped", "running"));
    let out = exit_signalled(&mut d, &out, t(300));
    assert_eq!(signalled(&out), ["a/0"]);
    assert!(!out.contains(&DeployAction::Exit(0)));
    let out = exit_signalled(&mut d, &out, t(400));
    assert_eq!(out.last(), Some(&DeployAction::Exit(0)));
    assert_eq!(out.iter().filter(|a| matches!(a, DeployAction::Exit(_))).count(), 1);
    assert_eq!(d.phase(), Phase::Down { code: 0 });
    assert!(d.instances().all(|i| i.state() == InstanceState::Stopped));
    assert_eq!(d.command(&target("a"), Command::Start, t(500)), Err(CommandError::GoingDown));
}

#[test]
fn down_does_not_wait_for_instances_that_hold_no_process() {
    let mut d = started(vec![plain("a"), plain("b")]);
    let out = d.observe(&id("b/0"), Observation::Exited { status: ExitStatus::Code(1) }, t(10), 1.0);
    assert!(matches!(d.instance(&id("b/0")).unwrap().state(), InstanceState::Backoff { .. }));
    let out = [out, d.down(5, t(20))].concat();
    let seen = settle(&mut d, out, t(30));
    assert_eq!(seen.last(), Some(&DeployAction::Exit(5)));
    assert_eq!((state(&d, "a/0"), state(&d, "b/0")), ("stopped", "stopped"));
    assert_eq!(d.down(0, t(40)), vec![], "down twice does nothing more");
    assert_eq!(d.phase(), Phase::Down { code: 5 });
}

#[test]
fn down_says_which_instance_it_stopped_with_nothing_to_run() {
    // a restarts at once; its spawn is not answered when down reaches it.
    let mut d = started(vec![svc("a", zero_backoff), needs("b", "a")]);
    let out = d.observe(&id("a/0"), Observation::Exited { status: ExitStatus::Code(1) }, t(10), 1.0);
    assert_eq!(spawned(&out), ["a/0"]);
    let out = d.down(0, t(20));
    assert_eq!(signalled(&out), ["b/0"], "dependents first");
    let out = d.observe(&id("b/0"), Observation::Exited { status: ExitStatus::Signal(15) }, t(30), 1.0);
    assert_eq!(state(&d, "a/0"), "stopping");
    assert!(out.contains(&DeployAction::Changed(id("a/0"))), "the shell records it: {out:?}");
}

#[test]
fn down_waits_for_a_dependent_whose_spawn_is_pending() {
    // `c` is independent: its stop makes `down` take one more step at once.
    let mut d = Deployment::new(spec_of(vec![plain("a"), needs("b", "a"), plain("c")]));
    let out = d.up(t(0));
    let out = confirm(&mut d, &out, t(10));
    assert_eq!(spawned(&out), ["b/0"]);
    let out = d.down(0, t(20));
    assert_eq!(signalled(&out), ["c/0"], "b has no pid yet, and a must wait for b");
    assert_eq!(state(&d, "a/0"), "running");
    // Once b's process appears it is signalled; a stops after b exited.
    let out = d.observe(&id("b/0"), Observation::Spawned { pid: 7 }, t(30), 1.0);
    assert_eq!(signalled(&out), ["b/0"]);
    let out = exit_signalled(&mut d, &out, t(40));
    assert_eq!(signalled(&out), ["a/0"]);
}

#[test]
fn nothing_new_starts_while_going_down() {
    let a = svc("a", |s| {
        s.on_panic = OnPanic { action: PanicAction::Isolate, scope: PanicScope::Service, replace: true }
    });
    let mut d = started(vec![a, needs("b", "a")]);
    let out = d.down(0, t(10));
    assert_eq!(signalled(&out), ["b/0"]);
    let out = d.observe(&id("a/0"), Observation::Exited { status: ExitStatus::Code(1) }, t(20), 1.0);
    assert_eq!(spawned(&out), Vec::<String>::new());
    assert_eq!(ids(&d), ["a/0", "b/0"]);
}
