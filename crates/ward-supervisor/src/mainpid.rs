//! MAINPID (issue #17): the supervisor's side of a process that hands its
//! place over to another (sd_notify `MAINPID=`); ward-core decides
//! (`ward_core::instance` `main_pid`), this runs what it decides.
//!
//! - Before the exit of an instance's main process is taken as the
//!   instance's, what the instance said until then is heard
//!   ([`Health::drain`](crate::ports::health::Health::drain)): a daemon's
//!   parent sends `MAINPID=` and exits at once.
//! - The process named is looked at by the runtime
//!   ([`Runtime::kinship`]: its cgroup, its parents) and ward-core takes it
//!   or not.
//! - A process taken is watched through the adoption port (it need not be
//!   the runtime's child, so its exit status is unknown), signals go to it,
//!   the old main process's exit is nobody's, and the runtime keeps what is
//!   left of the instance (its cgroup) for the new one
//!   ([`Runtime::handover`]).

use super::Supervisor;
use crate::ports::health::Verdict;
use crate::ports::runtime::{Family, Runtime};
use ward_core::deployment::DeployAction;
use ward_core::instance::{Kinship, Observation};
use ward_core::{ExitStatus, InstanceId};

impl<R: Runtime> Supervisor<R> {
    /// What the watchers of `id` found, in order.
    pub(super) fn on_verdicts(&mut self, id: &InstanceId, verdicts: Vec<Verdict>) {
        for verdict in verdicts {
            let obs = match verdict {
                Verdict::Observe(obs) => obs,
                Verdict::MainPid(pid) => Observation::MainPid { pid, kin: self.kinship(id, pid) },
            };
            self.observe(id, obs);
        }
    }

    /// The exit of `pid` arrived: first, what its instance said before it.
    pub(super) fn hear_before_exit(&mut self, pid: u32) {
        // Only a notify socket can have said anything (no clone on other restarts).
        let Some(id) = self.pids.get(&pid).and_then(|q| q.front()) else { return };
        if !self.health.listens(id) {
            return;
        }
        let id = id.clone();
        let verdicts = self.health.drain(&id, pid);
        self.on_verdicts(&id, verdicts);
    }

    /// How process `pid` relates to instance `id`.
    fn kinship(&self, id: &InstanceId, pid: u32) -> Kinship {
        let Some(spec) = self.deployment.service(&id.service) else { return Kinship::Stranger };
        if spec.image.is_some() {
            return Kinship::Container;
        }
        let Some(main) = self.deployment.instance(id).and_then(|i| i.pid()) else { return Kinship::Stranger };
        let is_instance = |p: u32| self.pids.contains_key(&p);
        let family = Family {
            main,
            main_start: self.start_times.get(id).copied(),
            cgroup: super::launch::in_cgroup(spec),
            is_instance: &is_instance,
        };
        self.runtime.kinship(id, pid, &family)
    }

    /// ward-core took `pid` as the main process of `id` instead of `previous`.
    pub(super) fn watch_main_pid(&mut self, id: &InstanceId, pid: u32, previous: u32) -> Vec<DeployAction> {
        tracing::info!("{id}: pid {previous} handed over to pid {pid} (MAINPID=)");
        if let Some(queue) = self.pids.get_mut(&previous) {
            queue.retain(|other| other != id);
            if queue.is_empty() {
                self.pids.remove(&previous);
            }
        }
        self.pids.entry(pid).or_default().push_back(id.clone());
        match self.runtime.start_time(pid) {
            Some(st) => self.start_times.insert(id.clone(), st),
            None => self.start_times.remove(id),
        };
        self.health.moved(id, pid);
        self.disarm(id);
        self.runtime.handover(id, previous, pid);
        match self.adopter.watch(pid) {
            Ok(()) => Vec::new(),
            Err(e) => {
                // Gone already (or not ours to watch): its end is the instance's exit.
                tracing::warn!("{id}: cannot watch pid {pid}: {e}; counting it as ended");
                let j = self.deployment.service(&id.service).map(|s| s.backoff.jitter).unwrap_or(0.0);
                let jitter = self.jitter.factor(j);
                let exited = Observation::Exited { status: ExitStatus::Unknown };
                self.deployment.observe(id, exited, self.clock.now(), jitter)
            }
        }
    }
}
