//! Supervising a service from a program (a [`Handle`](crate::Handle)), and
//! no longer supervising it: the running spec with that service added,
//! replaced or removed goes to ward-core's reconcile, exactly as a reload
//! of a changed spec file would (new instances start after their
//! dependencies, a changed launch restarts, a removed service stops and goes).
//!
//! A service given in code has no file behind it, so what the YAML parser
//! checks is checked here instead ([`check_service`]): a command, known
//! dependencies and no cycle, sane backoff and crash-loop settings.

use super::Supervisor;
use crate::ports::runtime::Runtime;
use crate::requests::RequestError;
use std::collections::BTreeSet;
use ward_core::ServiceName;
use ward_core::deployment::Phase;
use ward_core::spec::{ServiceSpec, Spec};

impl<R: Runtime> Supervisor<R> {
    /// Adds `service` to the running deployment, or replaces the service of
    /// the same name; says which, in words.
    pub(super) fn supervise(&mut self, service: ServiceSpec) -> Result<String, RequestError> {
        self.check_up()?;
        let mut spec = self.deployment.spec().clone();
        check_service(&service, &spec)?;
        let name = service.name.clone();
        let verb = match spec.services.insert(name.clone(), service) {
            None => "supervised",
            Some(before) if Some(&before) == spec.services.get(&name) => {
                return Ok(format!("{name}: unchanged"));
            }
            Some(_) => "updated",
        };
        self.apply(spec);
        Ok(format!("{name}: {verb}"))
    }

    /// Removes service `name`: its instances stop and go.
    pub(super) fn unsupervise(&mut self, name: &str) -> Result<String, RequestError> {
        self.check_up()?;
        let mut spec = self.deployment.spec().clone();
        let Some(key) = spec.services.keys().find(|k| k.as_str() == name).cloned() else {
            return Err(RequestError::NotFound(format!("no service named {name}")));
        };
        if let Some(user) = spec.services.values().find(|s| s.depends_on.iter().any(|d| d.service == key)) {
            return Err(RequestError::Conflict(format!(
                "{} depends on {name}: stop supervising {} first",
                user.name, user.name
            )));
        }
        spec.services.remove(&key);
        self.apply(spec);
        Ok(format!("{name}: removing"))
    }

    fn check_up(&self) -> Result<(), RequestError> {
        match self.deployment.phase() {
            Phase::Up => Ok(()),
            _ => Err(RequestError::Conflict("everything is stopping".into())),
        }
    }

    fn apply(&mut self, spec: Spec) {
        let actions = self.deployment.reload(spec, self.clock.now());
        self.touch_all();
        self.execute(actions);
    }
}

/// Whether `service` may join `spec` (replacing its namesake): every
/// problem, in words, as [`RequestError::Invalid`].
pub fn check_service(service: &ServiceSpec, spec: &Spec) -> Result<(), RequestError> {
    let name = &service.name;
    let mut problems = Vec::new();
    if service.image.is_none() && service.command.first().is_none_or(|c| c.is_empty()) {
        problems.push(format!("{name}: command is empty (help: give the program and its arguments)"));
    }
    for dep in &service.depends_on {
        if dep.service == *name {
            problems.push(format!("{name}: depends on itself"));
        } else if !spec.services.contains_key(&dep.service) {
            problems.push(format!(
                "{name}: depends on {}, which is not supervised (help: supervise {} first)",
                dep.service, dep.service
            ));
        }
    }
    let b = &service.backoff;
    if !(0.0..=1.0).contains(&b.jitter) {
        problems.push(format!("{name}: backoff jitter is {}, expected a fraction from 0 to 1", b.jitter));
    }
    if b.factor < 1.0 {
        problems.push(format!("{name}: backoff factor is {}, expected 1 or more", b.factor));
    }
    if service.crash_loop.threshold == 0 {
        problems.push(format!("{name}: crash_loop threshold is 0, expected 1 or more"));
    }
    if problems.is_empty() && closes_cycle(service, spec) {
        problems.push(format!("{name}: its dependencies lead back to it (a cycle)"));
    }
    if problems.is_empty() { Ok(()) } else { Err(RequestError::Invalid(problems.join("\n"))) }
}

/// True when a dependency of `service` depends, through others, on `service`.
fn closes_cycle(service: &ServiceSpec, spec: &Spec) -> bool {
    let mut seen: BTreeSet<&ServiceName> = BTreeSet::new();
    let mut stack: Vec<&ServiceName> = service.depends_on.iter().map(|d| &d.service).collect();
    while let Some(next) = stack.pop() {
        if next == &service.name {
            return true;
        }
        if seen.insert(next) {
            if let Some(s) = spec.services.get(next) {
                stack.extend(s.depends_on.iter().map(|d| &d.service));
            }
        }
    }
    false
}

#[cfg(test)]
mod tests;
