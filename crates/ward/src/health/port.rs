//! ward's health watchers behind the supervisor's health port.

use super::Health;
use super::hooks::{self, Hook, Subject};
use ward_core::InstanceId;
use ward_core::spec::ServiceSpec;
use ward_supervisor::ports::health::{Health as HealthPort, HealthReport, Verdict};

impl HealthPort for Health {
    fn launch_env(&mut self, id: &InstanceId, spec: &ServiceSpec) -> Vec<(String, String)> {
        Health::launch_env(self, id, spec)
    }

    fn started(&mut self, id: &InstanceId, pid: u32, spec: &ServiceSpec) {
        Health::started(self, id, pid, spec)
    }

    fn is_watched(&self, id: &InstanceId) -> bool {
        Health::is_watched(self, id)
    }

    fn last_pid(&self, id: &InstanceId) -> Option<u32> {
        Health::last_pid(self, id)
    }

    fn quiet(&mut self, id: &InstanceId) {
        Health::quiet(self, id)
    }

    fn gone(&mut self, id: &InstanceId) {
        Health::gone(self, id)
    }

    fn removed(&mut self, id: &InstanceId) {
        Health::removed(self, id)
    }

    fn accept(&mut self, report: HealthReport, current: Option<u32>) -> Vec<Verdict> {
        Health::accept(self, report, current)
    }

    fn listens(&self, id: &InstanceId) -> bool {
        Health::listens(self, id)
    }

    fn drain(&mut self, id: &InstanceId, pid: u32) -> Vec<Verdict> {
        Health::drain(self, id, pid)
    }

    fn moved(&mut self, id: &InstanceId, pid: u32) {
        Health::moved(self, id, pid)
    }

    fn status_text(&self, id: &InstanceId) -> Option<String> {
        Health::status_text(self, id)
    }

    fn stopping(&self, id: &InstanceId) -> bool {
        Health::stopping(self, id)
    }

    fn run_hook(&mut self, hook: Hook, spec: &ServiceSpec, subject: Subject) {
        hooks::run(hook, &spec.hooks, &subject, self.spec_dir().to_path_buf())
    }
}
