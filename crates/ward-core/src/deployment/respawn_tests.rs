//! Standing orders: each one is checked against what the deployment really
//! does when the exit comes, for every shell code.

use super::*;
use crate::deployment::DeployAction;
use crate::event::EventKind;
use crate::name::ServiceName;
use crate::spec::{
    BackoffSpec, CrashLoopSpec, HooksSpec, LogSpec, OnPanic, PanicAction, RestartBudgetSpec, RestartPolicy,
    ServiceSpec, Spec,
};
use std::time::Duration;

fn t(ms: u64) -> MonoTime {
    MonoTime::from_millis(ms)
}

/// A service restarted at once on a crash (`initial: 0s`), changed by `f`.
fn svc(name: &str, f: impl FnOnce(&mut ServiceSpec)) -> ServiceSpec {
    let mut s = ServiceSpec::new(ServiceName::new(name).unwrap(), vec![format!("./{name}")]);
    s.hooks = HooksSpec::default();
    s.backoff = BackoffSpec { initial: Duration::ZERO, ..BackoffSpec::default() };
    f(&mut s);
    s
}

fn deployment(services: Vec<ServiceSpec>, budget: Option<RestartBudgetSpec>) -> Deployment {
    let spec = Spec {
        version: 1,
        logs: LogSpec::default(),
        restart_budget: budget,
        api: None,
        services: services.into_iter().map(|s| (s.name.clone(), s)).collect(),
    };
    let mut d = Deployment::new(spec);
    let mut out = d.up(t(0));
    let mut pid = 100;
    while !out.is_empty() {
        let mut next = Vec::new();
        for action in out {
            if let DeployAction::Instance(id, Action::Spawn) = action {
                pid += 1;
                next.extend(d.observe(&id, Observation::Spawned { pid }, t(0), 1.0));
            }
        }
        out = next;
    }
    d
}

fn id(name: &str) -> InstanceId {
    InstanceId::new(ServiceName::new(name).unwrap(), 0)
}

/// Whether feeding `status` to a copy of the deployment restarts `name` at once.
fn really_restarts_at_once(d: &Deployment, name: &str, status: ExitStatus, now: MonoTime) -> bool {
    let mut copy = Deployment {
        spec: d.spec.clone(),
        instances: d.instances.clone(),
        phase: d.phase,
        budget: d.budget.clone(),
        spec_generation: d.spec_generation,
    };
    let out = copy.observe(&id(name), Observation::Exited { status }, now, 1.0);
    let mine: Vec<&Action> = out
        .iter()
        .filter_map(|a| match a {
            DeployAction::Instance(i, action) if *i == id(name) => Some(action),
            _ => None,
        })
        .collect();
    matches!(
        mine.as_slice(),
        [
            Action::Emit(EventKind::Exited { .. }),
            Action::Emit(EventKind::Restarted { .. }),
            Action::Spawn,
            ..
        ]
    )
}

/// The order agrees with the deployment on every code and on a few signals.
fn assert_exact(d: &Deployment, name: &str, now: MonoTime) {
    let order = d.standing_order(&id(name), now);
    let statuses = (0..=255).map(ExitStatus::Code).chain([9, 15, 11].map(ExitStatus::Signal));
    for status in statuses {
        let covered = order.as_ref().is_some_and(|o| o.covers(status));
        assert_eq!(covered, really_restarts_at_once(d, name, status, now), "{name}: {status:?}, {order:?}");
    }
}

#[test]
fn a_crash_with_no_delay_restarts_at_once_and_a_clean_exit_completes() {
    let d = deployment(vec![svc("api", |_| {})], None);
    let order = d.standing_order(&id("api"), t(10)).expect("an order");
    assert_eq!(order, StandingOrder { pid: 101, others: true, except: vec![0] });
    assert!(order.covers(ExitStatus::Signal(9)) && order.covers(ExitStatus::Code(3)));
    assert!(!order.covers(ExitStatus::Code(0)) && !order.covers(ExitStatus::Unknown));
    assert_exact(&d, "api", t(10));
}

#[test]
fn exit_codes_and_restart_always_are_followed() {
    let d = deployment(
        vec![svc("api", |s| {
            s.restart = RestartPolicy::Always;
            s.exit_codes.success = vec![0, 143];
            s.exit_codes.no_restart = vec![78];
        })],
        None,
    );
    let order = d.standing_order(&id("api"), t(10)).expect("an order");
    assert_eq!(order.except, vec![78], "a clean exit under always waits initial (0s): at once");
    assert!(order.covers(ExitStatus::Signal(15)) && !order.covers(ExitStatus::Code(78)));
    assert_exact(&d, "api", t(10));
}

#[test]
fn no_order_when_the_exit_waits() {
    let delayed = deployment(vec![svc("api", |s| s.backoff.initial = Duration::from_millis(1))], None);
    assert_eq!(delayed.standing_order(&id("api"), t(10)), None, "a backoff delay");
    let never = deployment(vec![svc("api", |s| s.restart = RestartPolicy::Never)], None);
    assert_eq!(never.standing_order(&id("api"), t(10)), None);
    for action in [PanicAction::Isolate, PanicAction::Shutdown] {
        let d = deployment(vec![svc("api", |s| s.on_panic = OnPanic { action, ..s.on_panic })], None);
        assert_eq!(d.standing_order(&id("api"), t(10)), None, "{action:?}");
    }
    let budget = Some(RestartBudgetSpec { rate: 100.0, burst: 100 });
    let budgeted = deployment(vec![svc("api", |_| {})], budget);
    assert_eq!(budgeted.standing_order(&id("api"), t(10)), None, "restarts that draw from a budget");
}

#[test]
fn the_crash_that_would_trip_the_gate_has_no_order_until_the_window_forgets() {
    let loop_of_3 =
        CrashLoopSpec { threshold: 3, window: Duration::from_secs(10), ..CrashLoopSpec::default() };
    let mut d = deployment(vec![svc("api", |s| s.crash_loop = loop_of_3)], None);
    for n in 0..2 {
        let now = t(100 + n);
        assert!(d.standing_order(&id("api"), now).is_some(), "crash {n} restarts at once");
        assert_exact(&d, "api", now);
        d.observe(&id("api"), Observation::Exited { status: ExitStatus::Code(1) }, now, 1.0);
        d.observe(&id("api"), Observation::Spawned { pid: 201 + n as u32 }, now, 1.0);
    }
    assert_eq!(d.standing_order(&id("api"), t(200)), None, "the third crash in 10 s trips the gate");
    assert_exact(&d, "api", t(200));
    assert!(d.standing_order(&id("api"), t(10_100)).is_some(), "the first crash left the window");
    assert_exact(&d, "api", t(10_100));
}

#[test]
fn no_order_while_a_dependency_is_down_or_the_deployment_goes_down() {
    let mut d = deployment(
        vec![
            svc("db", |_| {}),
            svc("api", |s| {
                s.depends_on = vec![crate::spec::Dependency::ready(ServiceName::new("db").unwrap())]
            }),
        ],
        None,
    );
    assert!(d.standing_order(&id("api"), t(10)).is_some());
    d.command(&"db".parse().unwrap(), crate::instance::Command::Stop, t(20)).unwrap();
    assert_eq!(d.standing_order(&id("api"), t(20)), None, "a restart would wait for db");
    assert_exact(&d, "api", t(20));
    let mut d = deployment(vec![svc("api", |_| {})], None);
    d.down(0, t(30));
    assert_eq!(d.standing_order(&id("api"), t(30)), None);
}

#[test]
fn no_order_without_a_live_process() {
    let mut d = deployment(vec![svc("api", |_| {})], None);
    d.command(&"api".parse().unwrap(), crate::instance::Command::Stop, t(10)).unwrap();
    assert_eq!(d.standing_order(&id("api"), t(10)), None, "stopping");
    d.observe(&id("api"), Observation::Exited { status: ExitStatus::Signal(15) }, t(11), 1.0);
    assert_eq!(d.standing_order(&id("api"), t(11)), None, "stopped");
    assert_eq!(d.standing_order(&id("nope"), t(11)), None, "unknown");
}

#[test]
fn no_order_for_containers_or_notify_services() {
    let d = deployment(
        vec![svc("api", |s| s.ready = Some(crate::spec::ReadySpec::Notify { watchdog: None }))],
        None,
    );
    assert_eq!(d.standing_order(&id("api"), t(10)), None, "its notify socket is bound per start");
}
