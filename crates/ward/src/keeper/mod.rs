//! The keeper: what `ward up` runs. A small process with no async runtime
//! that is the parent of every instance, so that a crash of the policy brain
//! loses nothing, exit codes included.
//!
//! ```text
//! ward up ──► keeper (child subreaper; reaps every child and orphan)
//!               ├── brain (`ward __brain`: supervisor, store, API) — restarted if it dies
//!               ├── instance api/0
//!               └── instance api/1 …
//! ```
//!
//! The keeper forks instances when the brain asks, signals their process
//! groups, reaps every child, and reports each instance's exit with its
//! status. Exits stay queued until the brain acknowledges them, so exits that
//! happen while no brain is attached are handed over when one attaches. If
//! the brain dies (panic, OOM, kill -9), the keeper starts a new one at once
//! (after a second, if the last one lived less than a second). SIGTERM,
//! SIGINT and SIGHUP are forwarded to the brain; when the brain reports that
//! everything is down, the keeper exits with its code.
//!
//! Threads: the main thread reaps (each child's pidfd, and a sweep for
//! orphans: see `runtime::reaper`); the keeper's loop, the only owner of
//! state, runs on a thread of its own (`ward-keeper`) and forks there; a
//! listener for the brain's connection and a reader per connection, and a
//! `sigwait` thread. They all feed one channel that the loop drains; what
//! the brain says that can wait comes through its mailbox, which the loop
//! reads before each input.
//!
//! - the messages between keeper and brain are `crate::protocol`.
//! - `brain`: starting a brain, and what one learns when it attaches.
//! - `io`: the threads that turn sockets, exits and signals into inputs.
//! - `respawn`: restarts under the brain's standing orders, the moment of the exit.
//! - `journal`: which processes it started, so that a crash of the keeper loses none.
//! - `mailbox`: what the brain says that can wait until the keeper next acts.

mod brain;
mod cgroups;
mod io;
pub mod journal;
mod mailbox;
mod messages;
mod outgoing;
mod respawn;

use crate::paths::Paths;
use crate::protocol::{ToBrain, WireLaunch};
use crate::runtime::process::ProcessRuntime;
use crate::runtime::{Respawned, reaper};
use anyhow::{Context, Result};
use io::Input;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use ward_core::ExitStatus;
use ward_core::deployment::StandingOrder;

/// An exit not yet acknowledged by a brain.
#[derive(Clone, Copy, Debug)]
struct Pending {
    seq: u64,
    pid: u32,
    status: ExitStatus,
    rusage: Option<crate::runtime::Rusage>,
    respawned: Option<Respawned>,
    cgroup: Option<crate::cgroup::Stats>,
}

impl Pending {
    fn exit_message(&self) -> ToBrain {
        let Pending { seq, pid, status, rusage, respawned, cgroup } = *self;
        ToBrain::Exit { seq, pid, status, rusage, respawned, cgroup }
    }
}

/// The keeper's state; only the main loop touches it.
struct Keeper {
    paths: Paths,
    runtime: ProcessRuntime,
    brain: Option<Brain>,
    /// The connection of the attached brain: its id and a writer that
    /// never waits for it (see `outgoing`).
    conn: Option<(u64, outgoing::Outgoing)>,
    /// The pid of the attached brain (its connection's peer): its mailbox
    /// datagrams are the only ones taken.
    conn_pid: Option<u32>,
    /// Live instance processes, by pid.
    children: HashMap<u32, Child>,
    pending: VecDeque<Pending>,
    next_seq: u64,
    /// Exits not yet reported, in order, with the replacement forked for
    /// each under its standing order (exec under way); see `respawn`.
    in_flight: Vec<respawn::InFlight>,
    /// The brain said everything is down, with this code.
    done: Option<i32>,
    /// How far a stop asked by signal went (see [`brain::Stop`]).
    stop: brain::Stop,
    /// When to start the next brain, if none runs.
    restart_at: Option<Instant>,
    /// The brain died while its connection was still open: how, and when a
    /// new one is due, once everything it sent has been read.
    brain_died: Option<(ExitStatus, Instant)>,
    /// Every instance process it starts, before it starts it.
    journal: journal::Journal,
    /// Processes an earlier keeper started that still run, for the brain to
    /// adopt or discard.
    strays: Vec<journal::Stray>,
    /// Extra environment of every brain (systemd's notify socket, see `crate::sdnotify`).
    brain_env: Vec<(String, String)>,
    /// Cgroups of exited instances, and those still to remove.
    cgroups: cgroups::Book,
    /// What the brain says that can wait (see `mailbox`); `None` when it
    /// could not be bound (the brain then says everything on its connection).
    mailbox: Option<mailbox::Mailbox>,
}

struct Brain {
    pid: u32,
    started: Instant,
}

/// An instance process the keeper started.
struct Child {
    /// `service/N` (copied by the main loop: the reader thread's
    /// allocations, kept for good among its freed ones, would pin their
    /// pages; at 10,000 instances several megabytes).
    instance: Box<str>,
    /// Its token in the journal.
    token: Box<str>,
    /// Its standing order, if the brain gave one: which exits restart it at
    /// once, and with what (the launch as its JSON text: one allocation, a
    /// third of the parsed form's memory, at 10,000 instances it counts).
    order: Option<(StandingOrder, Box<str>)>,
    /// Its cgroup, when it runs in one (boxed: most children have none, and
    /// the map holds 10,000 of them).
    cgroup: Option<Box<cgroups::ChildCgroup>>,
}

/// Runs the keeper until everything is down; returns `ward up`'s exit code.
/// `epoch` is this keeper's, taken from the store (see [`exit_number`]).
/// Every brain gets `brain_env` in its environment.
pub fn run(paths: &Paths, epoch: u64, brain_env: Vec<(String, String)>) -> Result<i32> {
    io::block_signals();
    crate::memory::one_arena();
    let (tx, rx) = std::sync::mpsc::channel();
    let sink = tx.clone();
    let (reaper, sweeper) = reaper::Reaper::start_split(move |exit| {
        let _ = sink.send(Input::Exit(exit));
    })
    .context("cannot start the reaper")?;

    let (journal, strays) = journal::Journal::open(&paths.state.join("keeper.journal"), epoch)
        .context("cannot open the keeper's journal")?;
    for s in &strays {
        tracing::warn!(
            "keeper: {} (pid {}) was started by an earlier keeper and still runs",
            s.instance,
            s.pid
        );
    }
    let mut runtime = ProcessRuntime::new(reaper);
    runtime.set_cgroups(match crate::cgroup::Cgroups::setup(&paths.state) {
        Ok(cgroups) => {
            tracing::info!("keeper: each instance runs in a cgroup of its own ({})", cgroups.describe());
            Ok(cgroups)
        }
        Err(e) => {
            tracing::warn!("ward cannot create cgroups ({e}): instances run in process groups only, and resources: limits are refused");
            Err(e.to_string())
        }
    });
    // Bound before the brain can attach: a brain that finds none says everything on its connection.
    let mailbox = mailbox::Mailbox::bind(&crate::protocol::mailbox_of(&paths.keeper_socket()))
        .map_err(|e| {
            tracing::warn!("keeper: no mailbox for the brain ({e}); it will say everything on its connection")
        })
        .ok();
    io::listen(&paths.keeper_socket(), tx.clone()).context("cannot listen for the brain")?;
    io::wait_signals(tx);
    let keeper = Keeper {
        paths: paths.clone(),
        runtime,
        brain: None,
        conn: None,
        conn_pid: None,
        children: HashMap::new(),
        pending: VecDeque::new(),
        next_seq: exit_number(epoch, 1),
        in_flight: Vec::new(),
        done: None,
        stop: brain::Stop::None,
        restart_at: Some(now()),
        brain_died: None,
        journal,
        strays,
        brain_env,
        cgroups: cgroups::Book::default(),
        mailbox,
    };
    // The keeper forks on a thread of its own: the main thread, to which the
    // kernel re-parents orphans, sweeps for them alone (see `reaper`).
    let finished = Arc::new(AtomicBool::new(false));
    let worker = {
        let finished = Finished(finished.clone());
        std::thread::Builder::new()
            .name("ward-keeper".into())
            .spawn(move || {
                let _finished = finished;
                keeper.serve(&rx)
            })
            .context("cannot start the keeper's thread")?
    };
    sweeper.run(|| finished.load(Ordering::Acquire));
    worker.join().map_err(|_| anyhow::anyhow!("the keeper's thread panicked"))
}

/// Set when the keeper's thread ends (returning or unwinding); a `SIGCHLD`
/// then wakes the main thread's sweep to see it.
struct Finished(Arc<AtomicBool>);

impl Drop for Finished {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
        reaper::wake();
    }
}

impl Keeper {
    /// The keeper's loop, on its own thread: handles each input until
    /// everything is down; returns `ward up`'s exit code.
    fn serve(mut self, rx: &std::sync::mpsc::Receiver<Input>) -> i32 {
        let mut trimmer = crate::memory::Trimmer::default();
        loop {
            // A burst's tail is trimmed once the keeper is quiet (one wake-up).
            let trim_at = trimmer.tail().then(|| now() + crate::memory::Trimmer::QUIET);
            let deadline = self.restart_at.into_iter().chain(trim_at).min();
            let input = match deadline {
                Some(at) => match rx.recv_timeout(at.saturating_duration_since(now())) {
                    Ok(input) => Some(input),
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => None,
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                },
                None => match rx.recv() {
                    Ok(input) => Some(input),
                    Err(_) => break,
                },
            };
            match input {
                None if self.restart_at.is_some_and(|at| at <= now()) => self.start_brain(),
                None => {
                    trimmer.quiet();
                    continue;
                }
                Some(input) => self.handle(input),
            }
            // Take whatever else is there before waiting for the replacements'
            // execs, so that a storm of exits forks its replacements back to back.
            let mut handled = 1;
            while let Ok(input) = rx.try_recv() {
                self.handle(input);
                handled += 1;
            }
            self.settle();
            self.journal.flush();
            trimmer.note(handled);
            trimmer.settled();
            // A forced stop ends once every instance process it killed is reaped.
            let forced_left = self.stop == brain::Stop::Forced && !self.children.is_empty();
            if let (Some(code), None, false) = (self.done, &self.brain, forced_left) {
                self.journal.flush_all();
                self.cgroups_end();
                let _ = std::fs::remove_dir_all(crate::sockets::user_sockets(&self.paths.state));
                let _ = std::fs::remove_file(self.paths.keeper_socket());
                let _ = std::fs::remove_file(crate::protocol::mailbox_of(&self.paths.keeper_socket()));
                return code;
            }
        }
        1
    }
}

impl Keeper {
    fn handle(&mut self, input: Input) {
        // What the brain left in its mailbox was said before this input came.
        self.read_mailbox();
        if matches!(input, Input::Connected(..)) {
            // A new brain learns of every process and exit in its hello. The
            // brain's messages need no settling: they can only be about
            // pids it was told of, which were settled before.
            self.settle();
        }
        match input {
            Input::Exit(exit) => self.on_exit(exit.pid, exit.status, exit.rusage),
            Input::Connected(id, stream) => self.attach(id, stream),
            Input::Message(id, msg) if self.conn.as_ref().is_some_and(|(c, _)| *c == id) => {
                self.on_message(msg)
            }
            Input::Message(..) => {} // from a connection that was replaced
            Input::Disconnected(id) => {
                if self.conn.as_ref().is_some_and(|(c, _)| *c == id) {
                    self.conn = None;
                    self.conn_pid = None;
                    if let Some((status, at)) = self.brain_died.take() {
                        if self.done.is_none() {
                            self.brain_lost(status, at);
                        }
                    }
                }
            }
            Input::Signal(sig) if sig != libc::SIGHUP => self.stop_signal(sig),
            Input::Signal(sig) => {
                if let Some(b) = &self.brain {
                    // SAFETY: kill takes plain integers; the brain is our child.
                    unsafe { libc::kill(b.pid as i32, sig) };
                }
            }
        }
    }

    fn on_exit(&mut self, pid: u32, status: ExitStatus, rusage: Option<crate::runtime::Rusage>) {
        if self.brain.as_ref().is_some_and(|b| b.pid == pid) {
            let brain = self.brain.take();
            if self.done.is_some() {
                return;
            }
            let quick = brain.is_some_and(|b| b.started.elapsed() < Duration::from_secs(1));
            let delay = if quick { Duration::from_secs(1) } else { Duration::ZERO };
            if self.conn.is_some() {
                // What it said last (its `Done`, say) may still be unread:
                // decide once its connection has been read to the end.
                self.brain_died = Some((status, now() + delay));
                return;
            }
            self.brain_lost(status, now() + delay);
            return;
        }
        if !self.children.contains_key(&pid) && !self.in_flight.is_empty() {
            self.settle(); // it may be a replacement that already ended
        }
        let Some(mut child) = self.children.remove(&pid) else {
            self.cgroup_orphan_reaped();
            return; // an orphan, reaped
        };
        let replaced = child.order.as_ref().is_some_and(|(order, _)| order.covers(status));
        let (cgroup, reusable) = self.cgroup_exit(pid, &mut child, replaced);
        let p = Pending { seq: self.next_seq, pid, status, rusage, respawned: None, cgroup };
        self.next_seq += 1;
        let replacement = match child.order {
            Some((order, launch)) if order.covers(status) => {
                match serde_json::from_str::<WireLaunch>(&launch) {
                    Ok(launch) => self.fork_replacement(launch, reusable),
                    Err(_) => None,
                }
            }
            _ => None,
        };
        // After the replacement's fork (its own line went before it): a crash
        // in between leaves this token open, and the next keeper finds no
        // process carrying it.
        self.journal.ended(&child.token);
        self.in_flight.push(respawn::InFlight::Exit { exit: p, replacement });
        if self.in_flight.len() >= respawn::MAX_IN_FLIGHT {
            self.settle();
        }
    }
}

use crate::protocol::exit_number;

/// The keeper's one clock read (it only times brain restarts).
#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}
