//! Starting instances: the spawns the deployment asks for, in order, as one
//! batch for the runtime (the keeper forks a batch back to back and its
//! processes exec in parallel), or, for a restart the keeper already made
//! under a standing order, taking that replacement.

use super::{Supervisor, launch};
use crate::runtime::Runtime;
use crate::runtime::process::process_start_time;
use std::path::PathBuf;
use std::time::Duration;
use ward_core::InstanceId;
use ward_core::instance::Observation;

/// At most this many spawns go to the runtime at once.
pub(super) const BATCH: usize = 256;

impl<R: Runtime> Supervisor<R> {
    /// Starts each of `ids`; returns what became of each, in order.
    pub(super) fn spawn_all(&mut self, ids: Vec<InstanceId>) -> Vec<(InstanceId, Observation)> {
        let mut out = Vec::with_capacity(ids.len());
        let mut launches = Vec::new();
        // For each launch: its place in `out`, and where its output will start.
        let mut slots = Vec::new();
        let dir = self.spec_path.parent().map(PathBuf::from).unwrap_or_default();
        for id in ids {
            if let Some(r) = self.take_respawned(&id) {
                // Started by the keeper the moment the last process exited.
                self.metrics.observe_spawn(Duration::from_micros(r.spawn_us));
                self.started(&id, r.pid, r.log_len);
                out.push((id, Observation::Spawned { pid: r.pid }));
                continue;
            }
            let Some(spec) = self.deployment.service(&id.service) else {
                out.push((id, Observation::SpawnFailed { error: "service no longer in the spec".into() }));
                continue;
            };
            let mut launch = launch::launch(spec, &id, &dir, self.logs.path(&id), &self.state_dir);
            launch.env.extend(self.health.launch_env(&id, spec));
            // Measured before the process exists: it may write before the spawn returns.
            slots.push((out.len(), self.log_len(&id)));
            launches.push(launch);
            out.push((id, Observation::SpawnFailed { error: String::new() }));
        }
        if launches.is_empty() {
            return out;
        }
        let watch = crate::metrics::Stopwatch::start();
        let results = self.runtime.spawn_many(&launches);
        let each = watch.elapsed() / launches.len() as u32;
        for ((slot, log_len), result) in slots.into_iter().zip(results) {
            self.metrics.observe_spawn(each);
            let obs = match result {
                Ok(pid) => {
                    let id = out[slot].0.clone();
                    self.started(&id, pid, log_len);
                    Observation::Spawned { pid }
                }
                Err(e) => Observation::SpawnFailed { error: e.to_string() },
            };
            out[slot].1 = obs;
        }
        out
    }

    /// Process `pid` of `id` runs; its output starts at `log_len` in its log.
    fn started(&mut self, id: &InstanceId, pid: u32, log_len: u64) {
        self.pids.entry(pid).or_default().push_back(id.clone());
        self.run_starts.insert(id.clone(), log_len);
        if let Some(st) = process_start_time(pid) {
            self.start_times.insert(id.clone(), st);
        }
    }
}
