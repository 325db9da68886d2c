//! Up: every replica gets a spawn, and dependencies start in order, once
//! each runs (or, with notify readiness, is ready).

use super::*;

#[test]
fn up_creates_every_replica_each_with_a_spawn() {
    let mut d = Deployment::new(spec_of(vec![svc("api", |s| s.replicas = 3), plain("web")]));
    let out = d.up(t(0));
    assert_eq!(spawned(&out), ["api/0", "api/1", "api/2", "web/0"]);
    assert_eq!(out.len(), 4, "nothing but the spawns: {out:?}");
    assert_eq!(ids(&d), ["api/0", "api/1", "api/2", "web/0"]);
    assert!(d.instances().all(|i| i.state() == InstanceState::Starting));
    assert_eq!(d.phase(), Phase::Up);
}

#[test]
fn a_dependency_chain_starts_in_order_once_each_runs() {
    let mut d = Deployment::new(spec_of(vec![plain("a"), needs("b", "a"), needs("c", "b")]));
    let out = d.up(t(0));
    assert_eq!(spawned(&out), ["a/0"]);
    assert_eq!((state(&d, "b/0"), state(&d, "c/0")), ("waiting", "waiting"));
    let out = confirm(&mut d, &out, t(10));
    assert_eq!(spawned(&out), ["b/0"], "a runs and declares no readiness");
    assert_eq!(state(&d, "c/0"), "waiting", "b is only starting");
    let out = confirm(&mut d, &out, t(20));
    assert_eq!(spawned(&out), ["c/0"]);
}

#[test]
fn with_notify_readiness_dependents_wait_for_ready() {
    let a = svc("a", |s| s.ready = Some(ReadySpec::Notify { watchdog: None }));
    let mut d = Deployment::new(spec_of(vec![a, needs("b", "a")]));
    let out = d.up(t(0));
    let out = confirm(&mut d, &out, t(10));
    assert_eq!(spawned(&out), Vec::<String>::new(), "a runs but is not ready");
    assert_eq!((state(&d, "a/0"), state(&d, "b/0")), ("running", "waiting"));
    let out = d.observe(&id("a/0"), Observation::Ready, t(20), 1.0);
    assert_eq!(spawned(&out), ["b/0"]);
    assert!(d.dependencies_ready(&ServiceName::new("b").unwrap()));
}
