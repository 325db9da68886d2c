//! Reload: scaling up and down, restarting changed services only, removing
//! a removed service, and policy and backoff changes without a restart.

use super::*;

#[test]
fn reload_scales_up_and_down() {
    let mut d = started(vec![svc("api", |s| s.replicas = 2)]);
    let out = d.reload(spec_of(vec![svc("api", |s| s.replicas = 3)]), t(10));
    assert_eq!((spawned(&out), out.len()), (vec!["api/2".to_string()], 1));
    settle_spawns(&mut d, out, t(10));

    let out = d.reload(spec_of(vec![plain("api")]), t(20));
    assert_eq!(signalled(&out), ["api/1", "api/2"]);
    assert_eq!(ids(&d).len(), 3, "still there until they exit");
    let out = exit_signalled(&mut d, &out, t(30));
    assert_eq!(who(&out, |a| *a == Action::Removed), ["api/1", "api/2"]);
    assert_eq!(ids(&d), ["api/0"]);
    assert_eq!(spawned(&out), Vec::<String>::new());
}

#[test]
fn reload_restarts_changed_services_and_leaves_the_others_alone() {
    let mut d = started(vec![plain("a"), plain("b")]);
    let a = svc("a", |s| s.command = vec!["./a".into(), "--v2".into()]);
    let out = d.reload(spec_of(vec![a, plain("b")]), t(10));
    assert_eq!(signalled(&out), ["a/0"]);
    assert!(who(&out, |_| true).iter().all(|i| i == "a/0"), "b untouched: {out:?}");
    assert_eq!(state(&d, "a/0"), "stopping");
    let out = exit_signalled(&mut d, &out, t(20));
    assert_eq!(spawned(&out), ["a/0"]);
    settle_spawns(&mut d, out, t(30));
    assert_eq!((state(&d, "a/0"), state(&d, "b/0")), ("running", "running"));
    assert_eq!(d.service(&ServiceName::new("a").unwrap()).unwrap().command[1], "--v2");
}

#[test]
fn reload_stops_and_removes_a_removed_service() {
    let mut d = started(vec![plain("a"), plain("b")]);
    let out = d.reload(spec_of(vec![plain("a")]), t(10));
    assert_eq!(signalled(&out), ["b/0"]);
    let out = exit_signalled(&mut d, &out, t(20));
    assert!(out.contains(&DeployAction::Instance(id("b/0"), Action::Removed)));
    assert_eq!(ids(&d), ["a/0"]);
    assert!(d.service(&ServiceName::new("b").unwrap()).is_none());
    assert_eq!(d.command(&target("b"), Command::Start, t(30)), Err(CommandError::UnknownService("b".into())));
}

#[test]
fn reload_applies_a_policy_change_without_a_restart() {
    let mut d = started(vec![plain("a")]);
    let out = d.reload(spec_of(vec![svc("a", |s| s.restart = RestartPolicy::Never)]), t(10));
    assert_eq!(out, vec![]);
    d.observe(&id("a/0"), Observation::Exited { status: ExitStatus::Code(1) }, t(20), 1.0);
    assert_eq!(state(&d, "a/0"), "failed");
}

#[test]
fn reload_applies_a_new_backoff_to_running_instances() {
    let mut d = started(vec![plain("a")]);
    let slow = svc("a", |s| s.backoff.initial = Duration::from_secs(2));
    assert_eq!(d.reload(spec_of(vec![slow]), t(10)), vec![]);
    d.observe(&id("a/0"), Observation::Exited { status: ExitStatus::Code(1) }, t(1000), 1.0);
    assert_eq!(d.instance(&id("a/0")).unwrap().state(), InstanceState::Backoff { until: t(3000) });
}
