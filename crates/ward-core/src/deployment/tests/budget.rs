//! The node's restart budget: restarts queued fairly and released at its
//! rate, and a restart parked while its dependency is down spends none.

use super::*;

#[test]
fn the_restart_budget_queues_restarts_fairly_and_releases_them_at_its_rate() {
    let mut spec = spec_of(vec![svc("a", zero_backoff), svc("b", zero_backoff), svc("c", zero_backoff)]);
    spec.restart_budget = Some(crate::spec::RestartBudgetSpec { rate: 10.0, burst: 1 });
    let mut d = Deployment::new(spec);
    let out = d.up(t(0));
    assert_eq!(spawned(&out).len(), 3, "first starts do not draw from the budget");
    settle_spawns(&mut d, out, t(0));
    let crash = Observation::Exited { status: ExitStatus::Code(1) };
    let mut wakes = vec![];
    let mut restarted = vec![];
    for name in ["a/0", "b/0", "c/0"] {
        let out = d.observe(&id(name), crash.clone(), t(1000), 1.0);
        restarted.extend(spawned(&out));
        wakes.extend(out.iter().filter_map(|a| match a {
            DeployAction::WakeAt(at) => Some(*at),
            _ => None,
        }));
    }
    assert_eq!(restarted, ["a/0"], "the burst of one");
    assert_eq!(wakes, [t(1100), t(1100)]);
    assert_eq!(d.budget().unwrap().position(&id("c/0")), Some(1));
    assert_eq!(state(&d, "b/0"), "starting");
    let out = d.tick(t(1099));
    assert!(spawned(&out).is_empty(), "no token yet");
    let out = d.tick(t(1100));
    assert_eq!(spawned(&out), ["b/0"], "first come, first served");
    assert!(out.contains(&DeployAction::WakeAt(t(1200))));
    assert_eq!(spawned(&d.tick(t(1200))), ["c/0"]);
    assert_eq!(d.budget().unwrap().waiting(), 0);
}

#[test]
fn a_restart_whose_dependency_is_down_waits_without_spending_the_budget() {
    let mut spec = spec_of(vec![
        svc("db", |s| s.backoff.initial = Duration::from_secs(5)),
        svc("api", |s| {
            zero_backoff(s);
            s.depends_on = vec![crate::spec::Dependency::ready(ServiceName::new("db").unwrap())];
        }),
    ]);
    spec.restart_budget = Some(crate::spec::RestartBudgetSpec { rate: 1.0, burst: 1 });
    let mut d = Deployment::new(spec);
    let out = d.up(t(0));
    settle_spawns(&mut d, out, t(0));
    let crash = Observation::Exited { status: ExitStatus::Code(1) };
    d.observe(&id("db/0"), crash.clone(), t(10), 1.0);
    assert_eq!(state(&d, "db/0"), "backoff");
    let out = d.observe(&id("api/0"), crash, t(20), 1.0);
    assert!(spawned(&out).is_empty());
    assert_eq!(state(&d, "api/0"), "waiting", "parked: its dependency is down");
    // db's gate opens; its restart takes the one token; api follows it up
    // without needing a token of its own.
    let generation = d.instance(&id("db/0")).unwrap().generation();
    let timer = Observation::Timer { kind: crate::instance::TimerKind::Restart, generation };
    let out = d.observe(&id("db/0"), timer, t(5010), 1.0);
    assert_eq!(spawned(&out), ["db/0"]);
    let out = d.observe(&id("db/0"), Observation::Spawned { pid: 7 }, t(5010), 1.0);
    assert_eq!(spawned(&out), ["api/0"], "resumed on the dependency's start");
}

#[test]
fn a_restart_stopped_in_the_queue_ends_when_a_reload_drops_the_budget() {
    let services = || vec![svc("a", zero_backoff), svc("b", zero_backoff)];
    let mut spec = spec_of(services());
    spec.restart_budget = Some(crate::spec::RestartBudgetSpec { rate: 1.0, burst: 1 });
    let mut d = Deployment::new(spec);
    let out = d.up(t(0));
    settle_spawns(&mut d, out, t(0));
    let crash = Observation::Exited { status: ExitStatus::Code(1) };
    assert_eq!(spawned(&d.observe(&id("a/0"), crash.clone(), t(10), 1.0)), ["a/0"]);
    assert!(spawned(&d.observe(&id("b/0"), crash, t(10), 1.0)).is_empty());
    assert_eq!(d.budget().unwrap().position(&id("b/0")), Some(0));
    d.command(&target("b/0"), Command::Stop, t(20)).unwrap();
    // The budget goes before a token came: b/0 neither waits for ever nor spawns.
    let out = d.reload(spec_of(services()), t(30));
    assert!(!spawned(&out).contains(&"b/0".to_string()), "{out:?}");
    assert_eq!(state(&d, "b/0"), "stopped");
    assert!(d.budget().is_none());
}
