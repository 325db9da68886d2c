//! Supervising and unsupervising services on a running supervisor.

use super::check_service;
use crate::requests::{Request, RequestError};
use crate::testing::{Rig, service};
use ward_core::ExitStatus;
use ward_core::spec::{Dependency, ServiceSpec, Spec};

fn supervise(rig: &mut Rig, s: ServiceSpec) -> Result<String, RequestError> {
    rig.ask(|reply| Request::Supervise { service: Box::new(s), reply })
}

fn unsupervise(rig: &mut Rig, name: &str) -> Result<String, RequestError> {
    rig.ask(|reply| Request::Unsupervise { service: name.into(), reply })
}

#[test]
fn a_supervised_service_starts_and_a_changed_one_restarts() {
    let mut rig = Rig::new(vec![], |p| p);
    assert_eq!(supervise(&mut rig, service("web")).unwrap(), "web: supervised");
    assert_eq!(rig.state("web/0").as_deref(), Some("running"));
    let first = rig.control.pid_of("web/0").unwrap();
    assert_eq!(supervise(&mut rig, service("web")).unwrap(), "web: unchanged");
    assert_eq!(rig.control.pid_of("web/0"), Some(first), "an unchanged service is left alone");

    let mut changed = service("web");
    changed.command.push("--verbose".into());
    changed.replicas = 2;
    assert_eq!(supervise(&mut rig, changed).unwrap(), "web: updated");
    let second = rig.control.pid_of("web/0").expect("restarted");
    assert_ne!(second, first);
    assert_eq!(rig.control.launches().last().unwrap().argv, ["web", "--verbose"]);
    assert_eq!(rig.state("web/1").as_deref(), Some("running"));
}

#[test]
fn an_unsupervised_service_stops_and_leaves() {
    let mut rig = Rig::new(vec![service("db"), service("cache")], |p| p);
    let mut web = service("web");
    web.depends_on.push(Dependency::ready("db".parse().unwrap()));
    supervise(&mut rig, web).unwrap();
    let refused = unsupervise(&mut rig, "db").unwrap_err();
    assert!(matches!(refused, RequestError::Conflict(_)), "{refused}");
    assert_eq!(refused.to_string(), "web depends on db: stop supervising web first");
    assert!(matches!(unsupervise(&mut rig, "nope"), Err(RequestError::NotFound(_))));

    let pid = rig.control.pid_of("cache/0").unwrap();
    assert_eq!(unsupervise(&mut rig, "cache").unwrap(), "cache: removing");
    assert!(!rig.control.live().iter().any(|p| p.pid == pid), "its process got SIGTERM");
    assert_eq!(rig.state("cache/0"), None, "gone once its process exited");
    assert!(!rig.sup.deployment().spec().services.keys().any(|k| k.as_str() == "cache"));
}

#[test]
fn nothing_is_supervised_while_going_down() {
    let mut rig = Rig::new(vec![service("db")], |p| p);
    rig.control.on_signal("db", crate::ports::runtime::fake::OnSignal::OnlyKill);
    rig.ask(|reply| Request::Down { reply });
    let refused = supervise(&mut rig, service("web")).unwrap_err();
    assert_eq!(refused.to_string(), "everything is stopping");
    assert!(matches!(unsupervise(&mut rig, "db"), Err(RequestError::Conflict(_))));
}

#[test]
fn a_crash_of_a_supervised_service_goes_through_its_gate() {
    let mut rig = Rig::new(vec![], |p| p);
    supervise(&mut rig, service("web")).unwrap();
    rig.control.end_instance("web/0", ExitStatus::Code(1)).unwrap();
    rig.pump();
    assert_eq!(rig.state("web/0").as_deref(), Some("backoff"));
    rig.advance(2_000);
    assert_eq!(rig.state("web/0").as_deref(), Some("running"));
}

#[test]
fn every_problem_of_a_service_is_told() {
    let spec = Spec::new([service("db")]);
    let mut bad = ServiceSpec::new("web".parse().unwrap(), vec![]);
    bad.depends_on.push(Dependency::ready("web".parse().unwrap()));
    bad.depends_on.push(Dependency::ready("queue".parse().unwrap()));
    bad.backoff.jitter = 2.0;
    bad.crash_loop.threshold = 0;
    let e = check_service(&bad, &spec).unwrap_err().to_string();
    assert_eq!(
        e,
        "web: command is empty (help: give the program and its arguments)\n\
         web: depends on itself\n\
         web: depends on queue, which is not supervised (help: supervise queue first)\n\
         web: backoff jitter is 2, expected a fraction from 0 to 1\n\
         web: crash_loop threshold is 0, expected 1 or more"
    );
    // db → web → db: replacing db with a dependency on web closes a cycle.
    let mut web = service("web");
    web.depends_on.push(Dependency::ready("db".parse().unwrap()));
    let spec = Spec::new([service("db"), web]);
    let mut db = service("db");
    db.depends_on.push(Dependency::ready("web".parse().unwrap()));
    let e = check_service(&db, &spec).unwrap_err().to_string();
    assert_eq!(e, "db: its dependencies lead back to it (a cycle)");
    assert!(check_service(&service("api"), &spec).is_ok());
}
