//! Tests of dependency conditions, blocked dependents and wait verdicts.

use super::*;
use crate::ExitStatus;
use crate::deployment::DeployAction;
use crate::instance::{Action, Observation};
use crate::name::InstanceId;
use crate::spec::{LogSpec, ReadySpec, RestartPolicy, ServiceSpec, Spec};
use crate::time::MonoTime;

fn name(s: &str) -> ServiceName {
    ServiceName::new(s).unwrap()
}

fn id(s: &str) -> InstanceId {
    InstanceId::new(name(s), 0)
}

fn svc(n: &str, deps: &[(&str, Condition)]) -> ServiceSpec {
    let mut s = ServiceSpec::new(name(n), vec![format!("./{n}")]);
    s.depends_on = deps.iter().map(|(d, c)| Dependency { service: name(d), condition: *c }).collect();
    s
}

fn one_shot(n: &str) -> ServiceSpec {
    let mut s = svc(n, &[]);
    s.restart = RestartPolicy::Never;
    s
}

/// `api` waits for `migrate` (a one-shot) to complete, `db` to be ready and `cache` to start.
fn deployment() -> Deployment {
    let mut db = svc("db", &[]);
    db.ready = Some(ReadySpec::Notify { watchdog: None });
    let api = svc(
        "api",
        &[("migrate", Condition::Completed), ("db", Condition::Ready), ("cache", Condition::Started)],
    );
    let services = [api, db, one_shot("migrate"), svc("cache", &[])];
    let spec = Spec {
        version: 1,
        logs: LogSpec::default(),
        restart_budget: None,
        api: None,
        services: services.into_iter().map(|s| (s.name.clone(), s)).collect(),
    };
    let mut d = Deployment::new(spec);
    let out = d.up(MonoTime::ZERO);
    for started in spawned(&out) {
        d.observe(&id(&started), Observation::Spawned { pid: 10 }, MonoTime::ZERO, 1.0);
    }
    d
}

fn spawned(out: &[DeployAction]) -> Vec<String> {
    out.iter()
        .filter_map(|a| match a {
            DeployAction::Instance(id, Action::Spawn) => Some(id.service.to_string()),
            _ => None,
        })
        .collect()
}

fn exit(d: &mut Deployment, service: &str, code: i32) -> Vec<DeployAction> {
    d.observe(
        &id(service),
        Observation::Exited { status: ExitStatus::Code(code) },
        MonoTime::from_millis(5),
        1.0,
    )
}

#[test]
fn each_condition_holds_when_its_state_is_reached() {
    let mut d = deployment();
    assert_eq!(d.instance(&id("api")).unwrap().state(), InstanceState::Waiting);
    assert_eq!(
        d.unmet_dependencies(&name("api")),
        ["waits for migrate to complete", "waits for db to be ready"],
        "cache runs, so `started` holds"
    );
    d.observe(&id("db"), Observation::Ready, MonoTime::from_millis(1), 1.0);
    assert_eq!(d.unmet_dependencies(&name("api")), ["waits for migrate to complete"]);
    assert_eq!(d.instance(&id("api")).unwrap().state(), InstanceState::Waiting);
    let out = exit(&mut d, "migrate", 0);
    assert_eq!(spawned(&out), ["api"], "the one-shot completed: api starts");
    assert!(d.unmet_dependencies(&name("api")).is_empty());
}

#[test]
fn a_failed_one_shot_blocks_its_dependents_with_a_reason() {
    let mut d = deployment();
    d.observe(&id("db"), Observation::Ready, MonoTime::from_millis(1), 1.0);
    let out = exit(&mut d, "migrate", 3);
    assert!(spawned(&out).is_empty());
    assert_eq!(d.instance(&id("migrate")).unwrap().state(), InstanceState::Failed);
    assert_eq!(
        d.unmet_dependencies(&name("api")),
        ["waits for migrate to complete; migrate failed with code 3"]
    );
    let failed = Verdict::Failed {
        instance: id("api"),
        reason: "api/0 waits for migrate; migrate failed with code 3".into(),
    };
    assert_eq!(d.wait_verdict(&name("api"), None, WaitFor::Settled), failed);
    assert_eq!(d.wait_verdict(&name("api"), Some(0), WaitFor::Running), failed);
    let migrate_failed =
        Verdict::Failed { instance: id("migrate"), reason: "migrate failed with code 3".into() };
    assert_eq!(d.wait_verdict(&name("migrate"), None, WaitFor::Completed), migrate_failed);
    assert_eq!(d.wait_verdict(&name("migrate"), None, WaitFor::Stopped), Verdict::Holds);
}

#[test]
fn a_started_dependency_that_completes_blocks_a_start() {
    let mut d = deployment();
    exit(&mut d, "cache", 0);
    let reasons = d.unmet_dependencies(&name("api"));
    assert_eq!(
        reasons.last().map(String::as_str),
        Some("waits for cache to start; cache completed and does not run")
    );
}

#[test]
fn wait_verdicts_follow_the_states() {
    let mut d = deployment();
    assert_eq!(d.wait_verdict(&name("db"), None, WaitFor::Running), Verdict::Holds);
    assert_eq!(d.wait_verdict(&name("db"), None, WaitFor::Ready), Verdict::Pending, "db declares ready:");
    assert_eq!(d.wait_verdict(&name("cache"), None, WaitFor::Ready), Verdict::Holds, "running, no ready:");
    assert_eq!(d.wait_verdict(&name("migrate"), None, WaitFor::Completed), Verdict::Pending);
    assert_eq!(d.wait_verdict(&name("api"), None, WaitFor::Settled), Verdict::Pending);
    d.observe(&id("db"), Observation::Ready, MonoTime::from_millis(1), 1.0);
    let out = exit(&mut d, "migrate", 0);
    for s in spawned(&out) {
        d.observe(&id(&s), Observation::Spawned { pid: 11 }, MonoTime::from_millis(6), 1.0);
    }
    for s in ["api", "db", "migrate", "cache"] {
        assert_eq!(d.wait_verdict(&name(s), None, WaitFor::Settled), Verdict::Holds, "{s}");
    }
    assert_eq!(d.wait_verdict(&name("api"), None, WaitFor::Stopped), Verdict::Pending);
    let failed =
        Verdict::Failed { instance: id("migrate"), reason: "migrate completed and does not run".into() };
    assert_eq!(d.wait_verdict(&name("migrate"), None, WaitFor::Running), failed);
}

#[test]
fn wait_words_round_trip() {
    for word in WaitFor::WORDS {
        assert_eq!(WaitFor::from_word(word).map(WaitFor::word), Some(word));
    }
    assert_eq!(WaitFor::from_word("healthy"), None);
}
