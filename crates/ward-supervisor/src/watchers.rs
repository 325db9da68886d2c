//! The supervisor's side of health, readiness and hooks: watchers start when
//! an instance's process starts (or is adopted) and stop when it is gone;
//! their reports become observations when they are about the instance's
//! current process; `isolated`, `crashloop` and a shutdown panic run hooks.

use super::Supervisor;
use crate::ports::health::{HealthReport, Hook, Subject};
use crate::ports::runtime::Runtime;
use ward_core::InstanceId;
use ward_core::event::EventKind;

impl<R: Runtime> Supervisor<R> {
    /// A watcher's report: an observation if it is about the live process.
    pub fn on_health(&mut self, report: HealthReport) {
        let id = report.id.clone();
        let current = self.deployment.instance(&id).and_then(|i| i.pid());
        let verdicts = self.health.accept(report, current);
        self.on_verdicts(&id, verdicts); // MAINPID (issue #17): verdicts, not one observation
    }

    /// Starts, quiets or stops watchers and runs hooks, on an event of `id`.
    pub(super) fn watch_event(&mut self, id: &InstanceId, kind: &EventKind) {
        match kind {
            EventKind::Lost { reason } => {
                self.lost.insert(id.clone(), reason.clone());
            }
            EventKind::Started { pid } | EventKind::Adopted { pid } => {
                self.lost.remove(id);
                if let Some(spec) = self.deployment.service(&id.service) {
                    self.health.started(id, *pid, spec);
                }
            }
            EventKind::Exited { .. } => self.health.gone(id),
            EventKind::Isolated => {
                self.health.quiet(id);
                self.run_hook(Hook::Isolate, id);
            }
            EventKind::Crashloop { .. } => self.run_hook(Hook::Crashloop, id),
            EventKind::Ready
            | EventKind::Restarted { .. }
            | EventKind::Backoff { .. }
            | EventKind::Unblocked
            | EventKind::Shutdown
            | EventKind::Completed
            | EventKind::HealthFailed { .. }
            | EventKind::Stopped
            | EventKind::SpawnFailed { .. } => {}
            // `EventKind` is non-exhaustive: a newer kind starts no watcher and no hook.
            _ => {}
        }
    }

    /// Watches every live instance restored from the store (a new brain).
    pub(super) fn watch_restored(&mut self) {
        let live: Vec<(InstanceId, u32)> = self
            .deployment
            .instances()
            .filter(|i| i.in_rotation())
            .filter_map(|i| Some((i.id().clone(), i.pid()?)))
            .filter(|(id, _)| !self.health.is_watched(id))
            .collect();
        for (id, pid) in live {
            if let Some(spec) = self.deployment.service(&id.service) {
                self.health.started(&id, pid, spec);
            }
        }
    }

    /// Tells the observer of `hook` about `id`, and runs the hook command of
    /// `id`'s service, if set; neither is waited for.
    pub(super) fn run_hook(&mut self, hook: Hook, id: &InstanceId) {
        let (Some(spec), Some(inst)) = (self.deployment.service(&id.service), self.deployment.instance(id))
        else {
            return;
        };
        let subject = Subject {
            id: id.clone(),
            pid: inst.pid().or_else(|| self.health.last_pid(id)),
            // A live process has no exit yet; an older one's would mislead.
            exit: if inst.pid().is_some() { None } else { inst.last_exit() },
            reason: inst.decision().map(str::to_string),
        };
        self.observer.hook(hook, &subject);
        self.health.run_hook(hook, spec, subject);
    }
}
