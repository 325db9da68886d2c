//! Panics that reach further than their instance: a shutdown of the
//! service or of everything, and isolated replicas replaced by a new index.

use super::*;

#[test]
fn a_service_scoped_shutdown_stops_the_other_replicas_only() {
    let api = svc("api", |s| {
        s.replicas = 3;
        s.on_panic.action = PanicAction::Shutdown;
    });
    let mut d = started(vec![api, plain("web")]);
    let status = ExitStatus::Code(3);
    let out = d.observe(&id("api/1"), Observation::Exited { status }, t(100), 1.0);
    let panic = Action::Panic { scope: PanicScope::Service, status };
    assert!(out.contains(&DeployAction::Instance(id("api/1"), panic)));
    assert_eq!(signalled(&out), ["api/0", "api/2"]);
    let seen = settle(&mut d, out, t(200));
    assert!(!seen.iter().any(|a| matches!(a, DeployAction::Exit(_))));
    for n in 0..3 {
        assert_eq!(state(&d, &format!("api/{n}")), "shutdown");
    }
    assert_eq!((state(&d, "web/0"), d.phase()), ("running", Phase::Up));
}

#[test]
fn an_all_scoped_shutdown_stops_everything_and_exits_with_the_failed_code() {
    for (status, code) in [(ExitStatus::Code(3), 3), (ExitStatus::Signal(9), 137)] {
        let api = svc("api", |s| {
            s.replicas = 3;
            s.on_panic = OnPanic { action: PanicAction::Shutdown, scope: PanicScope::All, replace: false };
        });
        let mut d = started(vec![api, plain("web"), needs("front", "web")]);
        let out = d.observe(&id("api/1"), Observation::Exited { status }, t(100), 1.0);
        assert_eq!(d.phase(), Phase::GoingDown { code, panic: true });
        assert_eq!(signalled(&out), ["api/0", "api/2", "front/0"], "web waits for front");
        let seen = settle(&mut d, out, t(200));
        assert_eq!(seen.last(), Some(&DeployAction::Exit(code)), "{status}");
        assert_eq!(d.phase(), Phase::Down { code });
        assert!(d.instances().all(|i| i.state() == InstanceState::Shutdown), "{status}");
        assert!(spawned(&seen).is_empty());
    }
}

#[test]
fn an_isolated_replica_is_replaced_by_a_new_index() {
    let api = svc("api", |s| {
        s.replicas = 2;
        s.on_panic = OnPanic { action: PanicAction::Isolate, scope: PanicScope::Service, replace: true };
    });
    let mut d = started(vec![api]);
    let out = d.observe(&id("api/0"), Observation::Exited { status: ExitStatus::Code(1) }, t(10), 1.0);
    assert!(out.contains(&DeployAction::Instance(id("api/0"), Action::Replace)));
    assert_eq!(spawned(&out), ["api/2"]);
    assert_eq!((state(&d, "api/0"), state(&d, "api/2")), ("isolated", "starting"));
    // A failed health check: the process is kept, and replaced too.
    let out = d.observe(&id("api/1"), Observation::HealthFailed { reason: "x".into() }, t(20), 1.0);
    assert_eq!((spawned(&out), signalled(&out)), (vec!["api/3".to_string()], vec![]));
    assert_eq!(d.instance(&id("api/1")).unwrap().pid(), Some(101));
    assert_eq!(ids(&d), ["api/0", "api/1", "api/2", "api/3"]);
}
