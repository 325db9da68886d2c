//! A runtime with no processes behind it, for tests and examples.
//!
//! [`FakeRuntime`] gives each spawn a made-up pid at once and keeps the
//! "process" in a table; a [`FakeControl`] (the test's or example's side)
//! ends one with a status, makes spawns fail, sets what an instance's
//! cgroup counts, or lists what runs. An ended
//! process's exit arrives at the supervisor as a [`Report::Exit`] on the
//! channel given to [`FakeRuntime::new`], exactly as a real runtime's would.
//! A signal ends a process by a simple rule ([`OnSignal`]): by default any
//! signal but 0 ends it, killed by that signal.

use super::{Exit, Launch, Report, Runtime};
use crate::ports::usage::CgroupStats;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::mpsc::UnboundedSender;
use ward_core::{ExitStatus, InstanceId};

/// The first pid the fake hands out.
pub const FIRST_PID: u32 = 1000;

/// What a signal does to a fake process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OnSignal {
    /// Any signal but 0 ends the process, killed by that signal (the default).
    #[default]
    Ends,
    /// Only SIGKILL ends it: a process that ignores SIGTERM (the supervisor
    /// then waits for its stop timeout and kills it).
    OnlyKill,
}

/// Why a fake spawn failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FakeSpawnError(pub String);

/// One live fake process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeProcess {
    /// Its pid.
    pub pid: u32,
    /// The instance it was started for.
    pub id: InstanceId,
    /// Its argv, as launched.
    pub argv: Vec<String>,
}

#[derive(Debug)]
struct World {
    next_pid: u32,
    live: BTreeMap<u32, FakeProcess>,
    /// Spawns of these services fail, with this message.
    failing: HashMap<String, String>,
    /// The signal rule of these services (others: the default).
    rules: HashMap<String, OnSignal>,
    /// Every launch so far, oldest first.
    launches: Vec<Launch>,
    /// What the "cgroups" of these instances (`web/0`) count.
    usage: HashMap<String, CgroupStats>,
    reports: UnboundedSender<Report>,
}

impl World {
    /// Ends `pid` with `status` and reports its exit; false when it is not live.
    fn end(&mut self, pid: u32, status: ExitStatus) -> bool {
        if self.live.remove(&pid).is_none() {
            return false;
        }
        let exit = Exit { seq: 0, pid, status, rusage: None, respawned: None, cgroup: None };
        // A supervisor that is gone does not care about exits any more.
        let _ = self.reports.send(Report::Exit(exit));
        true
    }
}

type Shared = Arc<Mutex<World>>;

fn lock(world: &Shared) -> MutexGuard<'_, World> {
    // The table stays consistent under every method: a panic elsewhere
    // does not make it unusable.
    world.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The supervisor's side of the fake: implements [`Runtime`].
#[derive(Debug)]
pub struct FakeRuntime {
    world: Shared,
}

/// The test's side of the fake: ends processes, makes spawns fail, looks.
/// Cheap to clone; every clone controls the same fake.
#[derive(Clone, Debug)]
pub struct FakeControl {
    world: Shared,
}

impl FakeRuntime {
    /// A fake whose exits go to `reports` (give it the supervisor's
    /// [`Feeds::exits`](crate::Feeds::exits)), and its control.
    pub fn new(reports: UnboundedSender<Report>) -> (FakeRuntime, FakeControl) {
        let world = Arc::new(Mutex::new(World {
            next_pid: FIRST_PID,
            live: BTreeMap::new(),
            failing: HashMap::new(),
            rules: HashMap::new(),
            launches: Vec::new(),
            usage: HashMap::new(),
            reports,
        }));
        (FakeRuntime { world: world.clone() }, FakeControl { world })
    }
}

impl FakeControl {
    /// Ends process `pid` with `status`; its exit goes to the supervisor.
    /// False when no such process lives.
    pub fn end(&self, pid: u32, status: ExitStatus) -> bool {
        lock(&self.world).end(pid, status)
    }

    /// Ends the live process of `instance` (`"web/0"`) with `status`; its pid,
    /// or `None` when that instance has no live process.
    pub fn end_instance(&self, instance: &str, status: ExitStatus) -> Option<u32> {
        let mut w = lock(&self.world);
        let pid = w.live.values().find(|p| p.id.to_string() == instance)?.pid;
        w.end(pid, status).then_some(pid)
    }

    /// The live process of `instance` (`"web/0"`).
    pub fn pid_of(&self, instance: &str) -> Option<u32> {
        lock(&self.world).live.values().find(|p| p.id.to_string() == instance).map(|p| p.pid)
    }

    /// Every live process, by pid.
    pub fn live(&self) -> Vec<FakeProcess> {
        lock(&self.world).live.values().cloned().collect()
    }

    /// Every launch so far, oldest first.
    pub fn launches(&self) -> Vec<Launch> {
        lock(&self.world).launches.clone()
    }

    /// Makes every spawn of `service` fail with `error` (`None`: succeed again).
    pub fn fail_spawns(&self, service: &str, error: Option<&str>) {
        let mut w = lock(&self.world);
        match error {
            Some(e) => w.failing.insert(service.to_string(), e.to_string()),
            None => w.failing.remove(service),
        };
    }

    /// Sets what a signal does to the processes of `service`.
    pub fn on_signal(&self, service: &str, rule: OnSignal) {
        lock(&self.world).rules.insert(service.to_string(), rule);
    }

    /// Sets what the runtime's [`usage`](Runtime::usage) answers for
    /// `instance` (`"web/0"`); `None`: nothing (the default).
    pub fn set_usage(&self, instance: &str, usage: Option<CgroupStats>) {
        let mut w = lock(&self.world);
        match usage {
            Some(u) => w.usage.insert(instance.to_string(), u),
            None => w.usage.remove(instance),
        };
    }
}

impl Runtime for FakeRuntime {
    type Error = FakeSpawnError;

    fn request(&mut self, batch: Vec<(u64, Launch)>) -> Vec<(u64, Result<u32, FakeSpawnError>)> {
        let mut w = lock(&self.world);
        let mut out = Vec::with_capacity(batch.len());
        for (req, launch) in batch {
            let service = launch.id.service.to_string();
            w.launches.push(launch.clone());
            if let Some(error) = w.failing.get(&service) {
                out.push((req, Err(FakeSpawnError(error.clone()))));
                continue;
            }
            let pid = w.next_pid;
            w.next_pid += 1;
            w.live.insert(pid, FakeProcess { pid, id: launch.id, argv: launch.argv });
            out.push((req, Ok(pid)));
        }
        out
    }

    fn signal(&mut self, _id: &InstanceId, pid: u32, signal: i32) -> std::io::Result<()> {
        let mut w = lock(&self.world);
        let Some(service) = w.live.get(&pid).map(|p| p.id.service.to_string()) else {
            return Ok(()); // already gone: not an error
        };
        let rule = w.rules.get(&service).copied().unwrap_or_default();
        let ends = match rule {
            OnSignal::Ends => signal != 0,
            OnSignal::OnlyKill => signal == libc::SIGKILL,
        };
        if ends {
            w.end(pid, ExitStatus::Signal(signal));
        }
        Ok(())
    }

    fn cleanup(&mut self, _id: &InstanceId, pid: u32) {
        // A process named by no instance (an orphan) just goes.
        lock(&self.world).live.remove(&pid);
    }

    fn exited(&mut self, _id: &InstanceId, _pid: u32) {}

    fn start_time(&self, pid: u32) -> Option<u64> {
        // Pids are never reused here: the pid itself tells processes apart.
        lock(&self.world).live.contains_key(&pid).then_some(u64::from(pid))
    }

    fn alive(&self, pid: u32) -> bool {
        lock(&self.world).live.contains_key(&pid)
    }

    fn usage(&self, id: &InstanceId) -> Option<CgroupStats> {
        lock(&self.world).usage.get(&id.to_string()).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc;

    fn launch(instance: &str) -> Launch {
        let (service, replica) = instance.split_once('/').unwrap();
        Launch {
            id: InstanceId::new(service.parse().unwrap(), replica.parse().unwrap()),
            argv: vec!["x".into()],
            env: vec![],
            workdir: None,
            user: None,
            log: "/dev/null".into(),
            image: None,
            process: Default::default(),
        }
    }

    #[test]
    fn spawns_get_pids_and_ends_are_reported() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (mut rt, control) = FakeRuntime::new(tx);
        let answers = rt.request(vec![(1, launch("web/0")), (2, launch("web/1"))]);
        assert_eq!(answers.len(), 2);
        assert_eq!(answers[0].1.as_ref().ok(), Some(&FIRST_PID));
        assert_eq!(control.pid_of("web/1"), Some(FIRST_PID + 1));
        assert_eq!(control.end_instance("web/0", ExitStatus::Code(3)), Some(FIRST_PID));
        assert!(!control.end(FIRST_PID, ExitStatus::Code(3)), "already gone");
        let Ok(Report::Exit(exit)) = rx.try_recv() else { panic!("no exit") };
        assert_eq!((exit.pid, exit.status), (FIRST_PID, ExitStatus::Code(3)));
        assert!(!rt.alive(FIRST_PID) && rt.alive(FIRST_PID + 1));
    }

    #[test]
    fn signals_end_by_the_rule_and_spawns_fail_when_told() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (mut rt, control) = FakeRuntime::new(tx);
        control.on_signal("db", OnSignal::OnlyKill);
        rt.request(vec![(1, launch("db/0")), (2, launch("web/0"))]);
        let (db, web) = (FIRST_PID, FIRST_PID + 1);
        rt.signal(&launch("db/0").id, db, libc::SIGTERM).unwrap();
        rt.signal(&launch("web/0").id, web, libc::SIGTERM).unwrap();
        let Ok(Report::Exit(exit)) = rx.try_recv() else { panic!("no exit") };
        assert_eq!((exit.pid, exit.status), (web, ExitStatus::Signal(libc::SIGTERM)));
        assert!(rt.alive(db), "db ignores SIGTERM");
        rt.signal(&launch("db/0").id, db, libc::SIGKILL).unwrap();
        assert!(!rt.alive(db));
        control.fail_spawns("web", Some("no image"));
        let answers = rt.request(vec![(3, launch("web/0"))]);
        assert_eq!(answers[0].1, Err(FakeSpawnError("no image".into())));
        assert_eq!(control.launches().len(), 3);
    }
}
