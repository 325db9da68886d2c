//! Starting instances: the spawns the deployment asks for go to the runtime
//! as one batch (the keeper forks a batch back to back and its processes
//! exec in parallel), or, for a restart the keeper already made under a
//! standing order, that replacement is taken.
//!
//! The supervisor never waits for a spawn: each request has a number, the
//! instance stays `starting`, and the answer comes back later as an input
//! ([`Report::Answer`]). A spawn fails when its answer has not come
//! [`ANSWER_TIMEOUT`] after its request while the runtime answered nothing
//! else either (a runtime busy with 10,000 starts is slow, not stuck: each
//! answer it gives extends the wait of those still queued); should the
//! answer come after all, its process is named by no instance and is killed.

use super::{Supervisor, launch};
use crate::clock::Stopwatch;
use crate::ports::runtime::Runtime;
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;
use ward_core::instance::Observation;
use ward_core::{InstanceId, MonoTime};

/// At most this many spawns go to the runtime at once.
pub(super) const BATCH: usize = 256;

/// How long a spawn may wait for its answer before it counts as failed.
pub(super) const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// Spawns asked for and not yet answered.
#[derive(Default)]
pub(super) struct Spawns {
    next_req: u64,
    /// By request: the instance, where its output will start, since when.
    awaiting: HashMap<u64, (InstanceId, u64, Stopwatch)>,
    /// Deadlines of the requests, in request order (so earliest first).
    deadlines: VecDeque<(MonoTime, u64)>,
    /// Requests given up on: a late success is a process to kill.
    abandoned: HashSet<u64>,
    /// When the runtime last answered a spawn: it is alive and working.
    last_answer: Option<MonoTime>,
}

impl Spawns {
    /// When the oldest unanswered request times out: `ANSWER_TIMEOUT` after
    /// its request, or after the runtime's last answer if that is later.
    pub(super) fn next_deadline(&self) -> Option<MonoTime> {
        let (at, _) = self.deadlines.front()?;
        Some(match self.last_answer {
            Some(last) => (*at).max(last + ANSWER_TIMEOUT),
            None => *at,
        })
    }
}

impl<R: Runtime> Supervisor<R> {
    /// Starts each of `ids`; returns the observations known at once, in
    /// order. The others come later through [`Supervisor::on_answer`].
    pub(super) fn spawn_all(
        &mut self,
        ids: Vec<InstanceId>,
        _committed: super::persist::Committed,
    ) -> Vec<(InstanceId, Observation)> {
        let mut out = Vec::with_capacity(ids.len());
        let mut batch = Vec::new();
        let deadline = self.clock.now() + ANSWER_TIMEOUT;
        for id in ids {
            if let Some(r) = self.take_respawned(&id) {
                // Started by the keeper the moment the last process exited.
                self.observer.spawn_took(Duration::from_micros(r.spawn_us));
                self.output.run_started(&id, r.log_len);
                self.started(&id, r.pid, r.log_len, r.start_time);
                out.push((id, Observation::Spawned { pid: r.pid }));
                continue;
            }
            let Some(spec) = self.deployment.service(&id.service) else {
                out.push((id, Observation::SpawnFailed { error: "service no longer in the spec".into() }));
                continue;
            };
            let settings = &self.settings;
            let mut launch =
                launch::launch(spec, &id, &settings.spec_dir, self.output.path(&id), &settings.state_dir);
            launch.env.extend(self.health.launch_env(&id, spec));
            self.spawns.next_req += 1;
            let req = self.spawns.next_req;
            // Measured before the process exists: it may write before the spawn returns.
            let log_len = self.log_len(&id);
            // Marked in the log index before the process can write.
            self.output.run_started(&id, log_len);
            self.spawns.awaiting.insert(req, (id, log_len, Stopwatch::start()));
            self.spawns.deadlines.push_back((deadline, req));
            batch.push((req, launch));
        }
        if batch.is_empty() {
            return out;
        }
        for (req, result) in self.runtime.request(batch) {
            let result = result.map_err(|e| e.to_string());
            if let Some(obs) = self.answer(req, result, None) {
                out.push(obs);
            }
        }
        out
    }

    /// The runtime answered spawn `req`: the instance's observation.
    pub(super) fn on_answer(&mut self, req: u64, result: Result<u32, String>, start_time: Option<u64>) {
        self.runtime.answered(req, result.as_ref().ok().copied());
        if let Some((id, obs)) = self.answer(req, result, start_time) {
            self.observe(&id, obs);
        }
    }

    fn answer(
        &mut self,
        req: u64,
        result: Result<u32, String>,
        start_time: Option<u64>,
    ) -> Option<(InstanceId, Observation)> {
        let Some((id, log_len, since)) = self.spawns.awaiting.remove(&req) else {
            if let (true, Ok(pid)) = (self.spawns.abandoned.remove(&req), &result) {
                tracing::warn!("pid {pid} came after its spawn was given up on; stopping it");
                self.kill_unnamed(*pid);
            }
            return None; // a helper's (containers), or given up on
        };
        self.observer.spawn_took(since.elapsed());
        self.spawns.last_answer = Some(self.clock.now());
        // Answered deadlines go, so that an idle ward does not wake for them.
        while let Some(&(_, r)) = self.spawns.deadlines.front() {
            if self.spawns.awaiting.contains_key(&r) {
                break;
            }
            self.spawns.deadlines.pop_front();
        }
        Some(match result {
            Ok(pid) => {
                self.started(&id, pid, log_len, start_time);
                (id, Observation::Spawned { pid })
            }
            Err(error) => (id, Observation::SpawnFailed { error }),
        })
    }

    /// Spawns whose answer is overdue fail.
    pub(super) fn expire_spawns(&mut self, now: MonoTime) {
        while let (Some(at), Some(&(_, req))) = (self.spawns.next_deadline(), self.spawns.deadlines.front()) {
            if at > now {
                break;
            }
            self.spawns.deadlines.pop_front();
            if let Some((id, _, _)) = self.spawns.awaiting.remove(&req) {
                self.spawns.abandoned.insert(req);
                let error = format!(
                    "no answer from the keeper within {}s (and no other answer meanwhile)",
                    ANSWER_TIMEOUT.as_secs()
                );
                tracing::error!("{id}: {error}");
                self.observe(&id, Observation::SpawnFailed { error });
            }
        }
    }

    /// Kills process `pid`, which no instance names (its exit arrives as an orphan's).
    fn kill_unnamed(&mut self, pid: u32) {
        if let Ok(name) = ward_core::ServiceName::new("orphan") {
            if let Err(e) = self.runtime.signal(&InstanceId::new(name, 0), pid, libc::SIGKILL) {
                tracing::warn!("cannot stop pid {pid}: {e}");
            }
        }
    }

    /// Does the process of `id` (same pid, same start time, not a zombie)
    /// still live? When it does not, it is forgotten: a late exit of its pid
    /// is an orphan's.
    pub(super) fn still_alive(&mut self, id: &InstanceId) -> bool {
        let Some(pid) = self.deployment.instance(id).and_then(|i| i.pid()) else { return false };
        let known = self.start_times.get(id).copied();
        let alive = self.runtime.alive(pid) && (known.is_none() || self.runtime.start_time(pid) == known);
        if alive {
            tracing::warn!("{id}: pid {pid} still lives after SIGKILL; killing it again");
        } else {
            tracing::warn!("{id}: pid {pid} is gone but its exit never arrived; counting it as lost");
            if let Some(queue) = self.pids.get_mut(&pid) {
                queue.retain(|other| other != id);
                if queue.is_empty() {
                    self.pids.remove(&pid);
                }
            }
        }
        alive
    }

    /// Process `pid` of `id` runs; its output starts at `log_len` in its
    /// log; `start_time` when the runtime told it (else it is asked).
    fn started(&mut self, id: &InstanceId, pid: u32, log_len: u64, start_time: Option<u64>) {
        // One instance per pid, nearly always: room for one, not the default four.
        self.pids.entry(pid).or_insert_with(|| VecDeque::with_capacity(1)).push_back(id.clone());
        self.run_starts.insert(id.clone(), log_len);
        if let Some(st) = start_time.or_else(|| self.runtime.start_time(pid)) {
            self.start_times.insert(id.clone(), st);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_extends_the_wait_of_the_requests_still_queued() {
        let t = |ms| MonoTime::from_millis(ms);
        let mut s = Spawns::default();
        s.deadlines.push_back((t(10_000), 1));
        assert_eq!(s.next_deadline(), Some(t(10_000)), "no answer yet: 10 s after the request");
        s.last_answer = Some(t(9_000));
        assert_eq!(s.next_deadline(), Some(t(19_000)), "the runtime answers: it is busy, not stuck");
        s.last_answer = Some(t(0));
        assert_eq!(s.next_deadline(), Some(t(10_000)), "an older answer changes nothing");
        s.deadlines.clear();
        assert_eq!(s.next_deadline(), None, "nothing to wait for: no wake-up");
    }
}
