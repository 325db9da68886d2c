//! The simulated OS and keeper: processes that live and die when the world
//! says, a keeper that forks, reaps, restarts under standing orders, numbers
//! exits by epoch, keeps unacknowledged exits across brains and a journal
//! across its own crashes. [`FakeRuntime`] is the brain's port to it.

use super::rng::Rng;
use crate::protocol::exit_number;
use crate::runtime::{Exit, KnownChild, Launch, Report, Respawned, Runtime, SpawnError};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use ward_core::deployment::StandingOrder;
use ward_core::{ExitStatus, InstanceId};

/// Simulated pids start above any real pid (pid_max is at most 2^22), so
/// no query of the real /proc can ever match one.
const FIRST_PID: u32 = 10_000_000;

/// A simulated process.
#[derive(Clone, Debug)]
pub(super) struct Proc {
    pub instance: String,
    pub alive: bool,
    pub start: u64,
    /// Its journal token.
    pub token: String,
    /// Ignores SIGTERM (only SIGKILL ends it).
    pub stubborn: bool,
}

/// The keeper's state: lost when it crashes.
#[derive(Default)]
pub(super) struct Keeper {
    pub epoch: u64,
    counter: u64,
    tokens: u64,
    /// Unreaped children.
    pub children: BTreeSet<u32>,
    /// Exits reported and not acknowledged, in order.
    pub pending: VecDeque<Exit>,
    orders: HashMap<u32, (StandingOrder, String)>,
    /// Messages to the attached brain, in order.
    pub outbox: VecDeque<Report>,
    /// Tokens started and not ended, with their instance.
    journal: BTreeMap<String, String>,
    /// What an earlier keeper left running, for the brain to judge.
    strays: Vec<KnownChild>,
}

/// The simulated machine.
pub(super) struct Os {
    pub rng: Rng,
    pub procs: BTreeMap<u32, Proc>,
    next_pid: u32,
    next_start: u64,
    pub keeper: Keeper,
    /// Chance that an exec fails.
    pub spawn_fail: f64,
    /// Chance that a new process ignores SIGTERM.
    pub stubborn: f64,
}

/// A handle on the simulated machine, shared by the world and the brain's port.
pub(super) type SharedOs = Arc<Mutex<Os>>;

/// Locks the simulated machine.
pub(super) fn lock(os: &SharedOs) -> MutexGuard<'_, Os> {
    os.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Os {
    pub fn new(rng: Rng, epoch: u64) -> Os {
        let keeper = Keeper { epoch, ..Keeper::default() };
        Os {
            rng,
            procs: BTreeMap::new(),
            next_pid: FIRST_PID,
            next_start: 1,
            keeper,
            spawn_fail: 0.1,
            stubborn: 0.2,
        }
    }

    /// The keeper forks a process of `instance`.
    /// The start time the keeper tells with a start, as the real one does
    /// when the fork fell within one clock tick: here, every other start.
    fn told_start(&self, pid: u32) -> Option<u64> {
        self.procs.get(&pid).map(|p| p.start).filter(|start| start % 2 == 0)
    }

    fn fork(&mut self, instance: &str) -> u32 {
        let pid = self.next_pid;
        self.next_pid += 1;
        self.next_start += 1;
        self.keeper.tokens += 1;
        let token = format!("{}.{}", self.keeper.epoch, self.keeper.tokens);
        self.keeper.journal.insert(token.clone(), instance.to_owned());
        let odds = self.stubborn;
        let stubborn = self.rng.chance(odds);
        let p = Proc { instance: instance.to_owned(), alive: true, start: self.next_start, token, stubborn };
        self.procs.insert(pid, p);
        self.keeper.children.insert(pid);
        pid
    }

    /// Process `pid` ends with `status`. A child of the keeper is reaped and
    /// reported (restarted first if its standing order covers the status);
    /// returns true for a process that is not the keeper's child (adopted),
    /// whose end only a pidfd would show.
    pub fn die(&mut self, pid: u32, status: ExitStatus) -> bool {
        let Some(p) = self.procs.get_mut(&pid).filter(|p| p.alive) else { return false };
        p.alive = false;
        let (instance, token) = (p.instance.clone(), p.token.clone());
        if !self.keeper.children.remove(&pid) {
            return true;
        }
        self.keeper.journal.remove(&token);
        self.keeper.counter += 1;
        let seq = exit_number(self.keeper.epoch, self.keeper.counter);
        let respawned = match self.keeper.orders.remove(&pid) {
            Some((order, instance)) if order.covers(status) => {
                let pid = self.fork(&instance);
                Some(Respawned { pid, log_len: 0, spawn_us: 0, start_time: self.told_start(pid) })
            }
            _ => None,
        };
        let _ = instance;
        let exit = Exit { seq, pid, status, rusage: None, respawned, cgroup: None };
        self.keeper.pending.push_back(exit);
        self.keeper.outbox.push_back(Report::Exit(exit));
        false
    }

    /// A signal to process `pid`: what the process does with it.
    pub fn deliver(&mut self, pid: u32, sig: i32) -> bool {
        let Some(p) = self.procs.get(&pid).filter(|p| p.alive) else { return false };
        let ends = sig == libc::SIGKILL || (sig == libc::SIGTERM && !p.stubborn);
        ends && self.die(pid, ExitStatus::Signal(sig))
    }

    /// A brain attaches: orders are dropped, unacknowledged exits re-sent;
    /// returns what its hello says (children, strays).
    pub fn attach(&mut self) -> (Vec<KnownChild>, Vec<KnownChild>) {
        self.keeper.orders.clear();
        self.keeper.outbox = self.keeper.pending.iter().map(|e| Report::Exit(*e)).collect();
        let mut children: Vec<KnownChild> = self
            .keeper
            .children
            .iter()
            .map(|pid| KnownChild {
                pid: *pid,
                instance: self.procs[pid].instance.clone(),
                start_time: Some(self.procs[pid].start),
            })
            .collect();
        for e in &self.keeper.pending {
            children.push(KnownChild { pid: e.pid, instance: String::new(), start_time: None });
        }
        let strays = self.keeper.strays.iter().filter(|s| self.procs[&s.pid].alive).cloned().collect();
        (children, strays)
    }

    /// The keeper crashes and a new one (epoch `epoch`) starts: its children
    /// live on, orphaned; what it had not reported is lost; its journal names
    /// what still runs.
    pub fn keeper_crash(&mut self, epoch: u64) {
        let journal = std::mem::take(&mut self.keeper.journal);
        let mut strays: Vec<(String, KnownChild)> = Vec::new();
        for (pid, p) in &self.procs {
            if p.alive && journal.contains_key(&p.token) {
                let child = KnownChild { pid: *pid, instance: p.instance.clone(), start_time: Some(p.start) };
                strays.push((p.token.clone(), child));
            }
        }
        let journal = strays.iter().map(|(t, c)| (t.clone(), c.instance.clone())).collect();
        self.keeper = Keeper {
            epoch,
            journal,
            strays: strays.into_iter().map(|(_, c)| c).collect(),
            ..Keeper::default()
        };
    }
}

/// The brain's port to the simulated keeper.
pub(super) struct FakeRuntime {
    pub os: SharedOs,
    pub children: Vec<KnownChild>,
    pub strays: Vec<KnownChild>,
    /// Where the brain dies: nothing it says after that reaches the keeper.
    pub crash: Arc<super::brain::CrashPoint>,
}

impl Runtime for FakeRuntime {
    type Error = SpawnError;
    fn request(&mut self, batch: Vec<(u64, Launch)>) -> Vec<(u64, Result<u32, SpawnError>)> {
        if !self.crash.effect() {
            return Vec::new();
        }
        let mut os = lock(&self.os);
        for (req, launch) in batch {
            let fail = os.spawn_fail;
            let result = if os.rng.chance(fail) {
                Err("simulated exec failure".to_owned())
            } else {
                Ok(os.fork(&launch.id.to_string()))
            };
            let start_time = result.as_ref().ok().and_then(|&pid| os.told_start(pid));
            os.keeper.outbox.push_back(Report::Answer { req, result, start_time });
        }
        Vec::new()
    }

    fn signal(&mut self, _id: &InstanceId, pid: u32, signal: i32) -> std::io::Result<()> {
        if !self.crash.effect() {
            return Ok(());
        }
        let mut os = lock(&self.os);
        if os.keeper.children.contains(&pid) {
            os.deliver(pid, signal);
        }
        Ok(())
    }

    fn cleanup(&mut self, _id: &InstanceId, pid: u32) {
        // As the keeper's: SIGKILL to the group while its leader is an unreaped child.
        if !self.crash.effect() {
            return;
        }
        let mut os = lock(&self.os);
        if os.keeper.children.contains(&pid) {
            os.deliver(pid, libc::SIGKILL);
        }
    }

    fn ack(&mut self, seq: u64) {
        if !self.crash.effect() {
            return;
        }
        lock(&self.os).keeper.pending.retain(|e| e.seq > seq);
    }

    fn arm(&mut self, order: &StandingOrder, launch: &Launch) {
        if !self.crash.effect() {
            return;
        }
        let mut os = lock(&self.os);
        if os.keeper.children.contains(&order.pid) {
            os.keeper.orders.insert(order.pid, (order.clone(), launch.id.to_string()));
        }
    }

    fn disarm(&mut self, pid: u32) {
        if !self.crash.effect() {
            return;
        }
        lock(&self.os).keeper.orders.remove(&pid);
    }

    fn known_children(&self) -> Vec<KnownChild> {
        self.children.clone()
    }

    fn strays(&self) -> Vec<KnownChild> {
        self.strays.clone()
    }

    fn start_time(&self, pid: u32) -> Option<u64> {
        lock(&self.os).procs.get(&pid).filter(|p| p.alive).map(|p| p.start)
    }

    fn alive(&self, pid: u32) -> bool {
        lock(&self.os).procs.get(&pid).is_some_and(|p| p.alive)
    }
}
