//! The supervising actor of ward, as a library: one task that owns every
//! instance of a deployment, runs them through ports, and restarts them by
//! ward-core's rules.
//!
//! A program builds a [`Supervisor`] over a [`Runtime`] (its own, or the
//! shipped [`ProcessRuntime`](ports::runtime::process::ProcessRuntime) for
//! child processes, or [`FakeRuntime`](ports::runtime::fake::FakeRuntime)
//! for tests) and [`Ports`], runs it as a task ([`Supervisor::run`]), and
//! keeps a [`Handle`]: supervise a service, stop supervising it,
//! start/stop/restart/unblock/isolate it, read its status and why, follow
//! its events. Callbacks on isolation and crash-loop go through the
//! [`Observer`] port (see
//! [`OnHook`](ports::observer::OnHook)).
//!
//! ```
//! use ward_core::deployment::Deployment;
//! use ward_core::spec::{ServiceSpec, Spec};
//! use ward_supervisor::ports::runtime::fake::FakeRuntime;
//! use ward_supervisor::{Inputs, MemoryStore, Ports, Settings, Supervisor};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let web = ServiceSpec::new("web".parse()?, vec!["./web".into()]);
//! let (inputs, feeds) = Inputs::channels();
//! let (runtime, world) = FakeRuntime::new(feeds.exits.clone());
//! let supervisor =
//!     Supervisor::new(Deployment::new(Spec::new([web])), runtime, Ports::new(MemoryStore::new()), Settings::new(".", "."));
//! let running = tokio::spawn(supervisor.run(inputs));
//! let handle = feeds.handle();
//! assert_eq!(handle.status().await?.instances[0].state, "running");
//! handle.down().await?;
//! assert_eq!(running.await?, 0);
//! assert!(world.live().is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! Inside, everything that happens becomes an input: a process exited (from
//! the [`Runtime`]), a spawn was answered, a timer fired, someone asked (a
//! [`Request`], with a oneshot reply), a health watcher reported. Each input
//! and `now` go to ward-core's [`Deployment`], whose actions this actor runs
//! in order, after committing to the [`Store`] what justifies them. Nothing
//! else mutates instance state, and no step waits on I/O.
//!
//! - `ports`: what the actor needs from the world (runtime, store, health,
//!   output, adoption, observer), each a trait, most with a do-nothing
//!   default; the fake and process runtimes.
//! - `inputs`: the channels the loop reads, and their sending ends; `settings`.
//! - `execute`: running ward-core's actions in order; events.
//! - `handle`: a program's handle on a running supervisor, and event streams.
//! - `apply`: supervising a service given in code, and no longer supervising it.
//! - `clock`: the one place that reads clocks (or a manual clock); jitter draws.
//! - `timers`: armed timers, earliest first.
//! - `events`: the event history and its live feed.
//! - `launch`: from a service spec to the launch of one instance.
//! - `requests`: the requests and their answers; `view`: the answers' shapes.
//! - `watchers`: the health port's side of live instances, and hooks.
//! - `waiting`: the verdicts of `ward wait`; `endpoints`: in-rotation instances.
//! - `persist`: writes to the store before effects; resuming after a crash.
//! - `spawning`: starting instances in batches, or taking the runtime's replacement.
//! - `orders`: standing orders, so the runtime restarts at once what would be restarted at once.
//! - `signals`: an operator's signal to the processes of a target.
//! - `why`, `dossier`: explanations of a state and of an exit.
//! - `mainpid`: a process that hands over to another (`MAINPID=`).

#![deny(missing_docs)]

mod apply;
mod batch;
pub mod clock;
pub mod dossier;
mod endpoints;
pub mod events;
mod execute;
pub mod handle;
mod inputs;
pub mod launch;
mod mainpid; // MAINPID (issue #17)
mod orders;
mod persist;
pub mod ports;
pub mod previous;
pub mod requests;
mod run;
mod settings;
pub mod signals;
mod spawning;
#[cfg(test)]
mod testing;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
pub mod timers;
pub mod view;
mod waiting;
mod watchers;
pub mod why;

pub use apply::check_service;
pub use clock::{Clock, Jitter, ManualTime, Stopwatch};
pub use handle::{EventItem, EventStream, Handle, HandleError};
pub use inputs::{Feeds, Inputs};
pub use ports::Ports;
pub use ports::runtime::{Exit, KnownChild, Launch, Report, Respawned, Runtime, Rusage};
pub use ports::store::{MemoryStore, Store};
pub use requests::{Request, RequestError};
pub use settings::{Settings, SpecReader};

use clock::{Clock as ActorClock, Jitter as ActorJitter};
use events::EventLog;
use ports::adopt::Adopt;
use ports::health::Health;
use ports::observer::Observer;
use ports::output::Output;
use ports::store::Store as StorePort;
use std::collections::{BTreeSet, HashMap, VecDeque};
use timers::{Timer, Timers};
use ward_core::deployment::Deployment;
use ward_core::instance::Observation;
use ward_core::{InstanceId, MonoTime};

/// How many requests may wait for the supervisor before API callers wait.
pub const REQUEST_QUEUE: usize = 256;

/// How many events the in-memory history keeps.
pub const HISTORY: usize = 100_000;

/// The supervisor's state: the deployment, and the shell's view of the OS.
pub struct Supervisor<R: Runtime> {
    deployment: Deployment,
    runtime: R,
    /// Live pids → their instance. A queue, because a pid reaped but not yet
    /// processed may already be reused by a newer spawn.
    pids: HashMap<u32, VecDeque<InstanceId>>,
    timers: Timers,
    events: EventLog,
    clock: ActorClock,
    jitter: ActorJitter,
    output: Box<dyn Output>,
    settings: Settings,
    exit_code: Option<i32>,
    observer: Box<dyn Observer>,
    store: Box<dyn StorePort>,
    /// Instances whose row must be written at the next flush.
    dirty: BTreeSet<InstanceId>,
    /// Start times (from /proc) of live instance processes, to tell a reused pid.
    start_times: HashMap<InstanceId, u64>,
    adopter: Box<dyn Adopt>,
    /// The keeper's last exit recorded in the store.
    last_exit_seq: u64,
    /// Probes, sd_notify readers and hooks of live instances.
    health: Box<dyn Health>,
    /// When restarts waiting for the node's restart budget may go on.
    budget_wake: Option<MonoTime>,
    /// What exited processes used, until their `exited` event is recorded.
    exit_rusage: HashMap<InstanceId, Rusage>,
    /// The kernel's OOM-kill count when last looked at.
    oom_kills: u64,
    /// What the cgroup of each instance counted over its last run, until its dossier is made.
    exit_cgroup: HashMap<InstanceId, ports::usage::CgroupStats>,
    /// Where each live run's output starts in its log file.
    run_starts: HashMap<InstanceId, u64>,
    /// The last `unblock` of each instance: Unix ms, and the uid that asked.
    unblocks: HashMap<InstanceId, (u64, u32)>,
    /// Standing orders the keeper holds, by instance.
    armed: HashMap<InstanceId, ward_core::deployment::StandingOrder>,
    /// Instances whose standing order must be looked at again.
    rearm: BTreeSet<InstanceId>,
    /// The spec generation the orders were computed for (`None`: none yet).
    armed_generation: Option<u64>,
    /// The replacement that came with the exit being handled.
    respawned: Option<(InstanceId, Respawned)>,
    /// Spawns asked for and not yet answered.
    spawns: spawning::Spawns,
    /// Told once when everything begins to stop (systemd's `STOPPING=1`).
    down_notice: Option<tokio::sync::oneshot::Sender<()>>,
    /// Why an instance's last process counts as lost (its exit never came).
    lost: HashMap<InstanceId, String>,
    /// The batch of reports being decided (see `batch`).
    batch: batch::Batch,
}

impl<R: Runtime> Supervisor<R> {
    /// A supervisor for `deployment` that runs its instances through
    /// `runtime` and the other `ports`.
    ///
    /// Nothing runs until it starts: [`Supervisor::run`] starts it and feeds
    /// it its inputs, or a test drives the same steps itself, under a manual
    /// clock:
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::Ordering;
    /// use ward_core::ExitStatus;
    /// use ward_core::deployment::Deployment;
    /// use ward_core::spec::{ServiceSpec, Spec};
    /// use ward_supervisor::clock::{Clock, Jitter, ManualTime};
    /// use ward_supervisor::ports::runtime::fake::FakeRuntime;
    /// use ward_supervisor::{MemoryStore, Ports, Settings, Supervisor};
    ///
    /// let web = ServiceSpec::new("web".parse().unwrap(), vec!["./web".into()]);
    /// let (exits_tx, mut exits) = tokio::sync::mpsc::unbounded_channel();
    /// let (runtime, world) = FakeRuntime::new(exits_tx);
    /// let time = Arc::new(ManualTime::default());
    /// let ports = Ports::new(MemoryStore::new());
    /// let mut sup = Supervisor::new(Deployment::new(Spec::new([web])), runtime, ports, Settings::new(".", "."))
    ///     .with_clock(Clock::manual(time.clone()), Jitter::with_seed(1));
    /// let state = |sup: &Supervisor<FakeRuntime>| sup.deployment().instances().next().unwrap().state().word();
    ///
    /// sup.start();
    /// assert_eq!(state(&sup), "running");
    /// world.end_instance("web/0", ExitStatus::Code(1));
    /// sup.on_runtime_report(exits.try_recv().unwrap());
    /// assert_eq!(state(&sup), "backoff");
    /// time.mono_ms.fetch_add(1_000, Ordering::Relaxed); // past the first delay (500ms ± 10%)
    /// sup.fire_timers();
    /// assert_eq!(state(&sup), "running");
    /// ```
    pub fn new(deployment: Deployment, runtime: R, ports: Ports, settings: Settings) -> Self {
        let clock = ActorClock::new();
        let Ports { store, health, output, adopter, observer } = ports;
        let last_seq = store.last_seq().unwrap_or(0);
        let last_exit_seq =
            store.meta("last_exit_seq").ok().flatten().and_then(|v| v.parse().ok()).unwrap_or(0);
        let mut events = EventLog::new(HISTORY, last_seq + 1);
        match store.recent_events(HISTORY as u64) {
            Ok(history) => events.preload(history),
            Err(e) => tracing::error!("store: cannot read the event history: {e}"),
        }
        Supervisor {
            deployment,
            pids: HashMap::new(),
            timers: Timers::default(),
            events,
            jitter: ActorJitter::seeded(&clock),
            clock,
            output,
            settings,
            exit_code: None,
            observer,
            dirty: BTreeSet::new(),
            start_times: HashMap::new(),
            last_exit_seq,
            store,
            adopter,
            health,
            budget_wake: None,
            exit_rusage: HashMap::new(),
            oom_kills: runtime.oom_kills().unwrap_or(0),
            runtime,
            run_starts: HashMap::new(),
            unblocks: HashMap::new(),
            armed: HashMap::new(),
            rearm: BTreeSet::new(),
            armed_generation: None,
            respawned: None,
            exit_cgroup: HashMap::new(),
            spawns: spawning::Spawns::default(),
            down_notice: None,
            lost: HashMap::new(),
            batch: batch::Batch::new(last_exit_seq),
        }
    }

    /// Reads `clock` and draws jitter from `jitter` (a simulation's, where
    /// time and chance are inputs).
    pub fn with_clock(mut self, clock: ActorClock, jitter: ActorJitter) -> Self {
        self.clock = clock;
        self.jitter = jitter;
        self
    }

    /// Resumes from the store and starts what the spec asks: the first step of
    /// [`Supervisor::run`].
    pub fn start(&mut self) {
        self.resume();
        self.watch_restored();
        let actions = self.deployment.up(self.clock.now());
        self.touch_all();
        self.execute(actions);
    }

    /// Tells `notice` when everything begins to stop (`ward down`, SIGTERM, SIGINT).
    pub fn with_down_notice(mut self, notice: tokio::sync::oneshot::Sender<()>) -> Self {
        self.down_notice = Some(notice);
        self
    }

    /// Begins stopping everything (`why` is logged): `ward down`, SIGTERM.
    pub fn begin_down(&mut self, why: &str) {
        tracing::info!("{why}: stopping every service");
        if let Some(notice) = self.down_notice.take() {
            let _ = notice.send(());
        }
        let actions = self.deployment.down(0, self.clock.now());
        self.touch_all();
        self.execute(actions);
    }

    /// Marks every instance for writing: after an operator's input (rare)
    /// that may change states without any action to show for it (a stop of
    /// an instance whose spawn is not answered yet, say).
    fn touch_all(&mut self) {
        let ids: Vec<InstanceId> = self.deployment.instances().map(|i| i.id().clone()).collect();
        self.dirty.extend(ids);
    }

    /// A report of the runtime: an exit, or the answer to a spawn (a batch
    /// of one: see [`Supervisor::on_runtime_reports`]).
    pub fn on_runtime_report(&mut self, report: Report) {
        self.on_runtime_reports([report]);
    }

    /// The exit of an adopted process (see [`ports::adopt`]).
    pub fn on_adopted_exit(&mut self, exit: Exit) {
        self.on_runtime_reports([Report::Exit(exit)]);
    }

    fn on_exit_once(&mut self, exit: Exit) {
        self.hear_before_exit(exit.pid); // MAINPID (issue #17): it may have handed over
        let Some(id) = self.pids.get_mut(&exit.pid).and_then(VecDeque::pop_front) else {
            tracing::debug!(pid = exit.pid, "reaped an orphan");
            if let (Some(r), Ok(name)) = (exit.respawned, ward_core::ServiceName::new("orphan")) {
                tracing::warn!("pid {} was started for an exit of no instance; stopping it", r.pid);
                self.runtime.cleanup(&InstanceId::new(name, 0), r.pid);
            }
            return;
        };
        if self.pids.get(&exit.pid).is_some_and(VecDeque::is_empty) {
            self.pids.remove(&exit.pid);
        }
        self.order_used(&id, exit.pid);
        self.respawned = exit.respawned.map(|r| (id.clone(), r));
        if exit.respawned.is_none() {
            // A runtime that started a replacement cleaned up before it.
            self.runtime.exited(&id, exit.pid);
        }
        if let Some(r) = exit.rusage {
            self.exit_rusage.insert(id.clone(), r);
        }
        if let Some(c) = exit.cgroup {
            self.exit_cgroup.insert(id.clone(), c);
        }
        self.save_previous_run(&id, self.run_end(&id));
        self.observe(&id, Observation::Exited { status: exit.status });
    }

    /// Fires every timer due now (see [`Supervisor::next_deadline`]).
    pub fn fire_timers(&mut self) {
        let now = self.clock.now();
        self.expire_spawns(now);
        if self.budget_wake.is_some_and(|at| at <= now) {
            self.budget_wake = None;
            let actions = self.deployment.tick(now);
            self.execute(actions);
        }
        for Timer { id, kind, generation, .. } in self.timers.take_due(now) {
            self.observe(&id, Observation::Timer { kind, generation });
        }
    }

    fn observe(&mut self, id: &InstanceId, obs: Observation) {
        let j = self.deployment.service(&id.service).map(|s| s.backoff.jitter).unwrap_or(0.0);
        let jitter = self.jitter.factor(j);
        let actions = self.deployment.observe(id, obs, self.clock.now(), jitter);
        self.dirty.insert(id.clone());
        self.execute(actions);
    }
}
