//! Tests of the deployment: up, dependencies, down, panics that reach
//! further, replacements, reload, and command errors. A small fake shell
//! confirms spawns and makes signalled processes exit.
//!
//! - `up`: every replica spawned; dependencies start in order, after readiness.
//! - `down`: dependents stop first, pending spawns are waited for, nothing new starts.
//! - `panics`: shutdowns of a service or of everything; isolated replicas replaced.
//! - `reload`: scaling, restarts of changed services, removals, policy changes.
//! - `commands`: targets naming services and replicas; refusals while going down.
//! - `resume`: a snapshot taken up by a new run of ward.
//! - `budget`: the restart budget, and restarts parked while a dependency is down.

mod budget;
mod commands;
mod down;
mod panics;
mod reload;
mod resume;
mod up;

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

fn zero_backoff(s: &mut ServiceSpec) {
    s.backoff = BackoffSpec { initial: Duration::ZERO, factor: 1.0, max: Duration::ZERO, jitter: 0.0 };
}
