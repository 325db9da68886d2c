//! Tests of the deployment: up, dependencies, down, panics that reach
//! further, replacements, reload, and command errors. A small fake shell
//! confirms spawns and makes signalled processes exit.

use super::*;
use crate::exit::ExitStatus;
use crate::instance::InstanceState;
use crate::spec::{BackoffSpec, HooksSpec, OnPanic, PanicAction, ReadySpec, RestartPolicy};
use std::time::Duration;

fn t(ms: u64) -> MonoTime {
    MonoTime::from_millis(ms)
}

/// A service with the spec's defaults, changed by `f`.
fn svc(name: &str, f: impl FnOnce(&mut ServiceSpec)) -> ServiceSpec {
    let mut s = ServiceSpec::new(ServiceName::new(name).unwrap(), vec![format!("./{name}")]);
    s.hooks = HooksSpec::default();
    f(&mut s);
    s
}

fn plain(name: &str) -> ServiceSpec {
    svc(name, |_| {})
}

fn needs(name: &str, dep: &str) -> ServiceSpec {
    svc(name, |s| s.depends_on = vec![crate::spec::Dependency::ready(ServiceName::new(dep).unwrap())])
}

fn spec_of(services: Vec<ServiceSpec>) -> Spec {
    Spec::new(services)
}

/// `"api/0"` → its id.
fn id(text: &str) -> InstanceId {
    let (service, replica) = text.split_once('/').unwrap();
    InstanceId::new(ServiceName::new(service).unwrap(), replica.parse().unwrap())
}

fn target(text: &str) -> Target {
    text.parse().unwrap()
}

/// The instances that got an action matching `pred`, in order.
fn who(out: &[DeployAction], pred: impl Fn(&Action) -> bool) -> Vec<String> {
    out.iter()
        .filter_map(|a| match a {
            DeployAction::Instance(id, action) if pred(action) => Some(id.to_string()),
            _ => None,
        })
        .collect()
}

fn spawned(out: &[DeployAction]) -> Vec<String> {
    who(out, |a| *a == Action::Spawn)
}

fn signalled(out: &[DeployAction]) -> Vec<String> {
    who(out, |a| matches!(a, Action::Signal(_)))
}

fn state(d: &Deployment, text: &str) -> &'static str {
    d.instance(&id(text)).map_or("gone", |i| i.state().word())
}

fn ids(d: &Deployment) -> Vec<String> {
    d.instances().map(|i| i.id().to_string()).collect()
}

/// Confirms every spawn in `out` (pid 100 + position); returns what followed.
fn confirm(d: &mut Deployment, out: &[DeployAction], now: MonoTime) -> Vec<DeployAction> {
    let mut next = Vec::new();
    for (n, name) in spawned(out).iter().enumerate() {
        next.extend(d.observe(&id(name), Observation::Spawned { pid: 100 + n as u32 }, now, 1.0));
    }
    next
}

/// Makes every signalled process in `out` exit by its signal; returns what followed.
fn exit_signalled(d: &mut Deployment, out: &[DeployAction], now: MonoTime) -> Vec<DeployAction> {
    let mut next = Vec::new();
    for name in signalled(out) {
        next.extend(d.observe(&id(&name), Observation::Exited { status: ExitStatus::Signal(15) }, now, 1.0));
    }
    next
}

/// Confirms spawns until nothing more is spawned.
fn settle_spawns(d: &mut Deployment, mut out: Vec<DeployAction>, now: MonoTime) {
    while !spawned(&out).is_empty() {
        out = confirm(d, &out, now);
    }
}

/// Makes signalled processes exit (and confirms respawns) until nothing is left to do;
/// returns every action seen on the way.
fn settle(d: &mut Deployment, mut out: Vec<DeployAction>, now: MonoTime) -> Vec<DeployAction> {
    let mut seen = Vec::new();
    while !out.is_empty() {
        let mut next = exit_signalled(d, &out, now);
        next.extend(confirm(d, &out, now));
        seen.extend(out);
        out = next;
    }
    seen
}

fn started(services: Vec<ServiceSpec>) -> Deployment {
    let mut d = Deployment::new(spec_of(services));
    let out = d.up(t(0));
    settle_spawns(&mut d, out, t(0));
    assert!(d.instances().all(|i| i.state() == InstanceState::Running), "{:?}", ids(&d));
    d
}

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

#[test]
fn commands_name_known_services_and_replicas() {
    let mut d = started(vec![svc("api", |s| s.replicas = 2)]);
    let now = t(10);
    assert_eq!(
        d.command(&target("nope"), Command::Stop, now),
        Err(CommandError::UnknownService("nope".into()))
    );
    assert_eq!(
        d.command(&target("api/7"), Command::Stop, now),
        Err(CommandError::UnknownInstance("api/7".into()))
    );
    assert!(matches!(d.command(&target("api"), Command::Start, now), Err(CommandError::Rejected(_))));
    // Unblock releases a held instance at once.
    d.observe(&id("api/1"), Observation::Exited { status: ExitStatus::Code(1) }, now, 1.0);
    let out = d.command(&target("api/1"), Command::Unblock, t(20)).unwrap();
    assert_eq!(spawned(&out), ["api/1"]);
    // Stop and start a whole service.
    let out = d.command(&target("api"), Command::Stop, t(30)).unwrap();
    assert_eq!(signalled(&out), ["api/0"]);
    assert_eq!(state(&d, "api/1"), "stopping", "its spawn is not confirmed yet");
}

#[test]
fn unblock_on_a_running_service_is_rejected() {
    let mut d = started(vec![svc("api", |s| s.replicas = 2)]);
    let got = d.command(&target("api"), Command::Unblock, t(10));
    assert!(matches!(got, Err(CommandError::Rejected(_))), "{got:?}");
    let got = d.command(&target("api/0"), Command::Unblock, t(10));
    assert!(matches!(got, Err(CommandError::Rejected(_))), "{got:?}");
}

#[test]
fn commands_and_reloads_while_going_down_are_refused() {
    let mut d = started(vec![plain("a"), needs("b", "a")]);
    let out = d.down(0, t(10));
    for cmd in [Command::Start, Command::Stop, Command::Restart, Command::Unblock] {
        assert_eq!(d.command(&target("a"), cmd, t(20)), Err(CommandError::GoingDown), "{cmd:?}");
    }
    assert_eq!(d.command(&target("nope"), Command::Stop, t(20)), Err(CommandError::GoingDown));
    assert_eq!(d.reload(spec_of(vec![plain("a")]), t(20)), vec![]);
    assert!(d.service(&ServiceName::new("b").unwrap()).is_some(), "the spec is unchanged");
    let seen = settle(&mut d, out, t(30));
    assert_eq!(seen.last(), Some(&DeployAction::Exit(0)));
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

fn zero_backoff(s: &mut ServiceSpec) {
    s.backoff = BackoffSpec { initial: Duration::ZERO, factor: 1.0, max: Duration::ZERO, jitter: 0.0 };
}

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
