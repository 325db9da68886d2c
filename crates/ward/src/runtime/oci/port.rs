//! [`OciRuntime`] as the supervisor's runtime port: requests, signals and
//! cleanup of containers go through the OCI runtime's commands; the rest
//! passes through to the inner runtime.

use super::{ContainerStatus, OciRuntime, state};
use crate::runtime::{KnownChild, Launch, Runtime, SpawnError};
use std::io;
use ward_core::InstanceId;

impl<R: Runtime<Error = SpawnError>> Runtime for OciRuntime<R> {
    type Error = SpawnError;

    fn start_time(&self, pid: u32) -> Option<u64> {
        self.inner.start_time(pid)
    }

    fn alive(&self, pid: u32) -> bool {
        self.inner.alive(pid)
    }

    fn oom_kills(&self) -> Option<u64> {
        self.inner.oom_kills()
    }

    fn usage(&self, id: &ward_core::InstanceId) -> Option<crate::cgroup::Stats> {
        self.inner.usage(id)
    }
    fn request(&mut self, batch: Vec<(u64, Launch)>) -> Vec<(u64, Result<u32, SpawnError>)> {
        let mut answers = Vec::new();
        let mut runs = Vec::with_capacity(batch.len());
        for (req, launch) in batch {
            let Some(image) = launch.image.clone() else {
                runs.push((req, launch));
                continue;
            };
            match self.prepare_container(&launch, &image) {
                Ok((run, container)) => {
                    self.awaiting.insert(req, (launch.id.clone(), container));
                    runs.push((req, run));
                }
                Err(e) => answers.push((req, Err(e))),
            }
        }
        for (req, answer) in self.inner.request(runs) {
            self.answered(req, answer.as_ref().ok().copied());
            answers.push((req, answer));
        }
        answers
    }

    fn answered(&mut self, req: u64, pid: Option<u32>) {
        self.inner.answered(req, pid);
        if let (Some((id, mut container)), Some(pid)) = (self.awaiting.remove(&req), pid) {
            tracing::debug!(instance = %id, pid, container = %container.name, "container started");
            container.pid = pid;
            self.containers.insert(id, container);
        }
    }

    fn signal(&mut self, id: &InstanceId, pid: u32, signal: i32) -> io::Result<()> {
        let Some(container) = self.container(id, pid) else {
            return self.inner.signal(id, pid, signal);
        };
        self.helper(&container.runtime, &["kill", &container.name, &signal.to_string()]);
        if signal == libc::SIGKILL {
            // SIGKILL must not depend on a helper succeeding: also kill the
            // container's init directly, as `runc kill` would (its pid is
            // checked against its start time, so a reused pid is spared).
            let state = state::read_state(&container.runtime.root.join(&container.name));
            let init = state.filter(|s| s.status != ContainerStatus::Stopped).map(|s| s.pid);
            if let Some(pid) = init.and_then(|p| libc::pid_t::try_from(p).ok()).filter(|&p| p > 1) {
                // SAFETY: kill takes plain integers; pid > 1 names one process.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        Ok(())
    }

    fn cleanup(&mut self, id: &InstanceId, pid: u32) {
        self.remove_container(id, pid);
        self.inner.cleanup(id, pid);
    }

    fn exited(&mut self, id: &InstanceId, pid: u32) {
        // Its process is gone (reaped): only a container known already is
        // one; its /proc entry is gone, or another process's by now.
        if self.containers.get(id).is_some_and(|c| c.pid == pid) {
            self.remove_container(id, pid);
        }
        self.inner.exited(id, pid);
    }

    fn ack(&mut self, seq: u64) {
        self.inner.ack(seq);
    }

    fn ready(&mut self) {
        self.inner.ready();
    }

    fn finish(&mut self, code: i32) {
        self.inner.finish(code);
    }

    fn arm(&mut self, order: &ward_core::deployment::StandingOrder, launch: &Launch) {
        // A container's restart needs its old container deleted and a bundle
        // written first: only native processes get standing orders.
        if launch.image.is_none() {
            self.inner.arm(order, launch);
        }
    }

    fn disarm(&mut self, pid: u32) {
        self.inner.disarm(pid);
    }

    fn kinship(
        &self,
        id: &InstanceId,
        pid: u32,
        family: &ward_supervisor::ports::runtime::Family<'_>,
    ) -> ward_core::instance::Kinship {
        self.inner.kinship(id, pid, family)
    }

    fn handover(&mut self, id: &InstanceId, from: u32, to: u32) {
        self.inner.handover(id, from, to);
    }

    fn known_children(&self) -> Vec<KnownChild> {
        self.inner.known_children()
    }

    fn strays(&self) -> Vec<KnownChild> {
        self.inner.strays()
    }

    fn isolation(&self) -> Option<String> {
        self.inner.isolation()
    }
}
