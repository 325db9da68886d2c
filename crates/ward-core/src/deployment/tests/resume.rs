//! A snapshot of the instances, taken up by a new run of ward: running
//! ones kept, gated ones re-armed, those no longer in the spec dropped.

use super::*;

#[test]
fn a_snapshot_resumes_running_and_gated_instances() {
    let mut d = Deployment::new(spec_of(vec![svc("api", |s| s.replicas = 2), plain("db")]));
    let out = d.up(t(0));
    settle_spawns(&mut d, out, t(0));
    // api/1 crashes: backoff until 500ms.
    d.observe(&id("api/1"), Observation::Exited { status: ExitStatus::Code(1) }, t(0), 1.0);
    assert_eq!(state(&d, "api/1"), "backoff");
    let snaps: Vec<(InstanceId, crate::instance::Snapshot)> =
        d.instances().map(|i| (i.id().clone(), i.snapshot())).collect();
    // A new run of ward, where `db` left the spec.
    let mut fresh = Deployment::new(spec_of(vec![svc("api", |s| s.replicas = 2)]));
    let (out, dropped) = fresh.restore(snaps, t(0));
    assert_eq!(dropped.iter().map(|(i, _)| i.to_string()).collect::<Vec<_>>(), ["db/0"]);
    assert_eq!(state(&fresh, "api/0"), "running");
    assert_eq!(fresh.instance(&id("api/0")).unwrap().pid(), d.instance(&id("api/0")).unwrap().pid());
    let generation = fresh.instance(&id("api/1")).unwrap().generation();
    assert_eq!(
        out,
        vec![DeployAction::Instance(
            id("api/1"),
            Action::ArmTimer { at: t(500), kind: crate::instance::TimerKind::Restart, generation }
        )]
    );
    assert_eq!(fresh.instance(&id("api/1")).unwrap().restarts(), 0);
    assert_eq!(fresh.instance(&id("api/1")).unwrap().gate().crashes_in_window(t(1)), 1);
    // Nothing more to start: both replicas exist.
    assert!(spawned(&fresh.up(t(1))).is_empty());
    // The re-armed timer restarts it.
    let out = fresh.observe(
        &id("api/1"),
        Observation::Timer { kind: crate::instance::TimerKind::Restart, generation },
        t(500),
        1.0,
    );
    assert_eq!(spawned(&out), ["api/1"]);
}
