//! The supervisor's side of the store: rows from instances, writes before
//! effects, and resuming the instances of a previous run after a crash of ward.
//!
//! A clean end (everything down) marks the store `clean`; the next `ward up`
//! then starts every instance afresh, keeping only the event history. After
//! a crash, it resumes each recorded instance: a process still alive with the
//! same pid *and* start time is adopted (watched through a pidfd; its exit
//! code will be unknown), a process that is gone counts as an exit of unknown
//! status, and gates keep their state, delays and crash history.
//!
//! What the keeper started and the store does not name (a restart or spawn
//! the last brain did not live to record; strays of a keeper that crashed,
//! found through its journal) is adopted or discarded as ward-core's
//! `recovery` decides: at most one process per instance, none unnamed.

use super::Supervisor;
use crate::ports::runtime::{KnownChild, Runtime};
use crate::ports::store::InstanceRow;
use crate::view::ExitJson;
use std::time::Duration;
use ward_core::deployment::recovery::{Found, adopt_or_discard};
use ward_core::event::EventKind;
use ward_core::gate::GateState;
use ward_core::instance::{Instance, InstanceState, Observation, Snapshot};
use ward_core::{ExitStatus, InstanceId, MonoTime};

/// Proof that what justifies an effect (a spawn, a signal) was committed to
/// the store: made only by [`Supervisor::flush`], asked for by every effect
/// that state decides.
pub(super) struct Committed(());

impl Committed {
    /// A spawn the runtime already made under a standing order: no new
    /// effect, recorded with the exit it came with.
    pub(super) fn by_runtime() -> Committed {
        Committed(())
    }
}

impl<R: Runtime> Supervisor<R> {
    /// Writes the rows of changed instances (and the last exit number
    /// decided) and commits: called before each effect and at the end of
    /// each input (or batch of reports). Effects take the [`Committed`]
    /// it returns, so none can run before what justifies it is on disk.
    pub(super) fn flush(&mut self) -> Committed {
        let now_ms = self.clock.wall_ms();
        let written = std::mem::take(&mut self.dirty);
        for id in &written {
            let result = match self.deployment.instance(id) {
                Some(inst) => {
                    let row = self.row(inst);
                    self.store.put_instance(&row, now_ms)
                }
                None => self.store.remove_instance(id.service.as_str(), id.replica),
            };
            if let Err(e) = result {
                tracing::error!("store: cannot record {id}: {e}");
            }
        }
        self.record_exit_seq();
        let watch = crate::clock::Stopwatch::start();
        match self.store.commit() {
            Ok(()) => self.batch.committed(),
            Err(e) => {
                // Rolled back (a full disk): supervision goes on from what
                // this brain holds; the rows it held and the exit number go
                // into the next commit, and no exit is acknowledged until then.
                tracing::error!("store: commit failed: {e}");
                self.dirty.extend(written);
                self.batch.not_committed();
            }
        }
        self.observer.commit_took(watch.elapsed());
        Committed(())
    }

    fn row(&self, inst: &Instance) -> InstanceRow {
        let snap = inst.snapshot();
        let walls = self.clock.walls();
        let wall = |t: MonoTime| walls.of(t);
        InstanceRow {
            service: inst.id().service.to_string(),
            replica: inst.id().replica,
            state: snap.state.word().to_string(),
            pid: snap.pid,
            start_time: snap.pid.and_then(|_| self.start_times.get(inst.id()).copied()),
            started_ms: snap.started_at.map(wall),
            restarts: snap.restarts,
            last_exit: snap.last_exit.map(|e| serde_json::to_string(&ExitJson::from(e)).unwrap_or_default()),
            gate_state: snap.gate.word().to_string(),
            gate_until_ms: snap.gate.until().map(wall),
            next_delay_ms: snap.next_delay.as_millis() as u64,
            crashes_ms: snap.crashes.iter().map(|t| wall(*t)).collect(),
            decision: snap.decision,
        }
    }

    /// Resumes what the store recorded, unless the last run ended cleanly.
    pub(super) fn resume(&mut self) {
        let clean = !matches!(self.store.meta("clean"), Ok(Some(v)) if v == "no");
        let rows = self.store.instances().unwrap_or_else(|e| {
            tracing::error!("store: cannot read instances: {e}");
            Vec::new()
        });
        if clean || rows.is_empty() {
            let _ = self.store.clear_instances();
            // Nothing is resumed, so nothing an earlier keeper left may run on.
            for stray in self.runtime.strays() {
                self.discard(&stray.instance, stray.pid, false);
            }
        } else {
            self.resume_rows(rows);
        }
        if let Err(e) = self.store.set_meta("clean", "no") {
            tracing::error!("store: {e}");
        }
        self.flush();
    }

    /// Stops `pid`, a process of `instance` that no instance will name: a
    /// child of the keeper, or a stray of an earlier one.
    fn discard(&mut self, instance: &str, pid: u32, keeper_child: bool) {
        tracing::warn!("{instance}: pid {pid} is a second copy (started before a crash); stopping it");
        if keeper_child {
            if let Ok(target) = instance.parse::<ward_core::Target>() {
                let id = InstanceId::new(target.service, target.replica.unwrap_or(0));
                let _ = self.runtime.signal(&id, pid, libc::SIGKILL);
            }
            return;
        }
        // Not a child of this keeper: watched and killed through its pidfd.
        match self.adopter.watch(pid) {
            Ok(()) => {
                if let Some(Err(e)) = self.adopter.signal_group(pid, libc::SIGKILL) {
                    tracing::warn!("cannot stop pid {pid}: {e}");
                }
            }
            Err(e) => tracing::warn!("cannot stop pid {pid}: {e}"),
        }
    }

    fn resume_rows(&mut self, mut rows: Vec<InstanceRow>) {
        // Processes the keeper holds are ours still: the keeper reports their
        // exits. Strays are what an earlier keeper started and still runs.
        let known: std::collections::HashMap<u32, KnownChild> =
            self.runtime.known_children().into_iter().map(|c| (c.pid, c)).collect();
        // Oldest first: an earlier keeper's strays, then this keeper's children.
        let mut mine: Vec<KnownChild> = known.values().cloned().collect();
        mine.sort_by_key(|c| c.pid);
        let mut started: Vec<(KnownChild, bool)> =
            self.runtime.strays().into_iter().map(|c| (c, false)).collect();
        started.extend(mine.into_iter().map(|c| (c, true)));
        let mut adopted_strays = std::collections::HashSet::new();
        let mut ended_unseen: Vec<(String, u32)> = Vec::new();
        let mut started_unseen: Vec<(String, u32)> = Vec::new();
        for row in &mut rows {
            let name = format!("{}/{}", row.service, row.replica);
            let recorded = row.pid.map(|pid| Found {
                pid,
                alive: known.contains_key(&pid)
                    || (row.start_time.is_some() && self.runtime.start_time(pid) == row.start_time),
            });
            // A recorded process the keeper holds (alive, or its exit on its
            // way) is the keeper's to report: its other children for this
            // instance are named by that report (a replacement), not judged here.
            let recorded_held = row.pid.is_some_and(|p| known.contains_key(&p));
            let mine: Vec<&(KnownChild, bool)> = started
                .iter()
                .filter(|(c, keeper_child)| c.instance == name && !(recorded_held && *keeper_child))
                .collect();
            let found: Vec<Found> = mine.iter().map(|(c, _)| Found { pid: c.pid, alive: true }).collect();
            let verdict = adopt_or_discard(recorded, &found);
            for pid in &verdict.discard {
                let keeper_child = known.contains_key(pid);
                self.discard(&name, *pid, keeper_child);
            }
            if let (Some(pid), true) = (verdict.adopt, verdict.unrecorded) {
                // A restart or spawn the last brain did not live to record.
                let child = mine.iter().find(|(c, _)| c.pid == pid).map(|(c, _)| c.clone());
                tracing::info!("{name}: taking pid {pid}, started before the crash and not yet recorded");
                if let Some(old) = row.pid {
                    // The recorded process ended unseen; the one found replaced it.
                    row.restarts += 1;
                    ended_unseen.push((name.clone(), old));
                }
                row.pid = Some(pid);
                row.start_time = child.and_then(|c| c.start_time).or_else(|| self.runtime.start_time(pid));
                row.state = "running".into();
                if known.contains_key(&pid) {
                    // A spawn it asked for whose answer it did not live to see.
                    started_unseen.push((name.clone(), pid));
                } else {
                    adopted_strays.insert(pid);
                }
            }
        }
        // Strays of instances with no record: nothing names them.
        let named: std::collections::HashSet<String> =
            rows.iter().map(|r| format!("{}/{}", r.service, r.replica)).collect();
        for (c, keeper_child) in &started {
            if !named.contains(&c.instance) && !c.instance.is_empty() {
                self.discard(&c.instance, c.pid, *keeper_child);
            }
        }
        let (now, wall_now) = (self.clock.now().as_millis() as i128, self.clock.wall_ms() as i128);
        let mono = move |ms: u64| MonoTime::from_millis((now + ms as i128 - wall_now).max(0) as u64);
        let mut snapshots = Vec::new();
        let mut gone = Vec::new();
        for row in rows {
            let Ok(service) = row.service.parse() else { continue };
            let id = InstanceId::new(service, row.replica);
            let snap = snapshot(&row, mono);
            if let Some(pid) = row.pid.filter(|p| known.contains_key(p)) {
                self.pids.entry(pid).or_default().push_back(id.clone());
                if let Some(st) = row.start_time {
                    self.start_times.insert(id.clone(), st);
                }
                snapshots.push((id, snap, false));
                continue;
            }
            let alive = row.pid.is_some_and(|pid| {
                adopted_strays.contains(&pid)
                    || (row.start_time.is_some() && self.runtime.start_time(pid) == row.start_time)
            });
            if row.pid.is_some() && !alive {
                gone.push(id.clone());
            }
            if alive {
                let pid = row.pid.unwrap_or_default();
                if let Err(e) = self.adopter.watch(pid) {
                    tracing::warn!("{id}: cannot watch adopted pid {pid}: {e}");
                }
                self.pids.entry(pid).or_default().push_back(id.clone());
                if let Some(st) = row.start_time {
                    self.start_times.insert(id.clone(), st);
                }
            }
            snapshots.push((id, snap, alive));
        }
        let adopted: Vec<(InstanceId, u32)> = snapshots
            .iter()
            .filter(|(_, s, alive)| *alive && s.pid.is_some())
            .map(|(i, s, _)| (i.clone(), s.pid.unwrap_or_default()))
            .collect();
        let snaps = snapshots.into_iter().map(|(i, s, _)| (i, s)).collect();
        let (actions, dropped) = self.deployment.restore(snaps, self.clock.now());
        // Restored rows are written again as the supervisor holds them.
        let ids: Vec<InstanceId> = self.deployment.instances().map(|i| i.id().clone()).collect();
        self.dirty.extend(ids);
        for (id, snap) in dropped {
            if let Some(pid) = snap.pid {
                tracing::info!("{id}: its service left the spec while ward was down; stopping pid {pid}");
                let _ = self.runtime.signal(&id, pid, libc::SIGTERM);
            }
        }
        for (name, old) in ended_unseen {
            // Its exit is recorded once, as unknown: what ran is in the history.
            if let Ok(t) = name.parse::<ward_core::Target>() {
                let id = InstanceId::new(t.service, t.replica.unwrap_or(0));
                tracing::info!("{id}: pid {old} ended while ward was down");
                self.emit(&id, EventKind::Exited { status: ExitStatus::Unknown, run_ms: 0 });
                let restarts = self.deployment.instance(&id).map_or(0, |i| i.restarts());
                self.emit(&id, EventKind::Restarted { restarts });
            }
        }
        for (name, pid) in started_unseen {
            if let Ok(t) = name.parse::<ward_core::Target>() {
                self.emit(&InstanceId::new(t.service, t.replica.unwrap_or(0)), EventKind::Started { pid });
            }
        }
        for (id, pid) in adopted {
            self.emit(&id, EventKind::Adopted { pid });
        }
        self.execute(actions);
        // Processes that died while ward was down: an exit nobody saw.
        for id in gone {
            self.observe(&id, Observation::Exited { status: ExitStatus::Unknown });
        }
    }
}

fn snapshot(row: &InstanceRow, mono: impl Fn(u64) -> MonoTime) -> Snapshot {
    let until = row.gate_until_ms.map(&mono);
    let state = match (row.state.as_str(), until) {
        ("waiting", _) => InstanceState::Waiting,
        ("starting", _) => InstanceState::Starting,
        ("running", _) => InstanceState::Running,
        ("stopping", _) => InstanceState::Stopping { then: ward_core::instance::AfterStop::Stay },
        ("ready", _) => InstanceState::Ready,
        ("backoff", Some(until)) => InstanceState::Backoff { until },
        ("crashloop", Some(until)) => InstanceState::CrashLoop { until },
        ("isolated", _) => InstanceState::Isolated,
        ("shutdown", _) => InstanceState::Shutdown,
        ("completed", _) => InstanceState::Completed,
        ("failed", _) => InstanceState::Failed,
        _ => InstanceState::Stopped,
    };
    let gate = match (row.gate_state.as_str(), until) {
        ("backing-off", Some(until)) => GateState::BackingOff { until },
        ("crash-loop", Some(until)) => GateState::CrashLoop { until },
        _ => GateState::Idle,
    };
    let last_exit =
        row.last_exit.as_deref().and_then(|j| serde_json::from_str::<ExitJson>(j).ok()).map(|e| {
            match (e.code, e.signal) {
                (Some(c), _) => ExitStatus::Code(c),
                (None, Some(s)) => ExitStatus::Signal(s),
                _ => ExitStatus::Unknown,
            }
        });
    Snapshot {
        state,
        pid: row.pid,
        started_at: row.started_ms.map(&mono),
        restarts: row.restarts,
        last_exit,
        gate,
        next_delay: Duration::from_millis(row.next_delay_ms),
        crashes: row.crashes_ms.iter().map(|ms| mono(*ms)).collect(),
        decision: row.decision.clone(),
    }
}
