//! `binds_to`: a dependency that goes down stops its bound dependents (they
//! wait for it and start again once it is ready); unbound dependents keep running.

use super::*;
use crate::exit::ExitStatus;
use crate::instance::Action;

fn t(ms: u64) -> MonoTime {
    MonoTime::from_millis(ms)
}

fn id(text: &str) -> InstanceId {
    let (service, replica) = text.split_once('/').unwrap_or((text, "0"));
    InstanceId::new(ServiceName::new(service).unwrap(), replica.parse().unwrap())
}

fn state(d: &Deployment, text: &str) -> &'static str {
    d.instance(&id(text)).map_or("gone", |i| i.state().word())
}

/// Plays the shell: confirms spawns (pid 100, 101, …) and makes signalled
/// processes exit, until nothing is left to do.
fn settle(d: &mut Deployment, mut out: Vec<DeployAction>, now: MonoTime, pid: &mut u32) {
    while !out.is_empty() {
        let mut next = Vec::new();
        for a in out {
            let DeployAction::Instance(i, action) = a else { continue };
            let obs = match action {
                Action::Spawn => {
                    *pid += 1;
                    Observation::Spawned { pid: *pid }
                }
                Action::Signal(_) => Observation::Exited { status: ExitStatus::Signal(15) },
                _ => continue,
            };
            next.extend(d.observe(&i, obs, now, 1.0));
        }
        out = next;
    }
}

/// db ← api (bound) and db ← web (not bound); db declares readiness.
fn deployment() -> (Deployment, u32) {
    let yaml = r#"version: 1
services:
  db: { command: ["db"], ready: { notify: true } }
  api: { command: ["api"], depends_on: [db], binds_to: true }
  web: { command: ["web"], depends_on: [db] }
"#;
    let spec = crate::spec::parse(yaml, "t.yaml").unwrap();
    let mut d = Deployment::new(spec);
    let mut pid = 100;
    let out = d.up(t(0));
    settle(&mut d, out, t(0), &mut pid);
    assert_eq!((state(&d, "db"), state(&d, "api"), state(&d, "web")), ("running", "waiting", "waiting"));
    let out = d.observe(&id("db"), Observation::Ready, t(1), 1.0);
    settle(&mut d, out, t(1), &mut pid);
    assert_eq!((state(&d, "api"), state(&d, "web")), ("running", "running"));
    (d, pid)
}

#[test]
fn a_dependency_that_goes_down_stops_only_bound_dependents_until_it_is_back() {
    let (mut d, mut pid) = deployment();
    let web_pid = d.instance(&id("web")).and_then(|i| i.pid());
    // db crashes: api (bound) stops and waits; web keeps running.
    let out = d.observe(&id("db"), Observation::Exited { status: ExitStatus::Code(1) }, t(2), 1.0);
    settle(&mut d, out, t(2), &mut pid);
    assert_eq!(state(&d, "db"), "backoff");
    assert_eq!(state(&d, "api"), "waiting");
    assert_eq!(d.instance(&id("api")).and_then(|i| i.pid()), None);
    assert_eq!(state(&d, "web"), "running");
    assert_eq!(d.instance(&id("web")).and_then(|i| i.pid()), web_pid);
    // db restarts; running is not enough (it declares readiness), ready is.
    let generation = d.instance(&id("db")).map(|i| i.generation()).unwrap_or(0);
    let timer = Observation::Timer { kind: crate::instance::TimerKind::Restart, generation };
    let out = d.observe(&id("db"), timer, t(5_000), 1.0);
    settle(&mut d, out, t(5_000), &mut pid);
    assert_eq!((state(&d, "db"), state(&d, "api")), ("running", "waiting"));
    let out = d.observe(&id("db"), Observation::Ready, t(5_001), 1.0);
    settle(&mut d, out, t(5_001), &mut pid);
    assert_eq!(state(&d, "api"), "running");
}

#[test]
fn an_operator_stop_of_the_dependency_also_stops_bound_dependents() {
    let (mut d, mut pid) = deployment();
    let out = d.command(&"db".parse().unwrap(), Command::Stop, t(2)).unwrap();
    settle(&mut d, out, t(2), &mut pid);
    assert_eq!((state(&d, "db"), state(&d, "api"), state(&d, "web")), ("stopped", "waiting", "running"));
    let out = d.command(&"db".parse().unwrap(), Command::Start, t(3)).unwrap();
    settle(&mut d, out, t(3), &mut pid);
    let out = d.observe(&id("db"), Observation::Ready, t(4), 1.0);
    settle(&mut d, out, t(4), &mut pid);
    assert_eq!(state(&d, "api"), "running");
}
