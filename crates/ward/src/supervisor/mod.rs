//! The supervisor actor: one task that owns every instance.
//!
//! Everything that happens becomes an input here: a child exited (from the
//! reaper), a timer fired, an operator asked (through the API, with a oneshot
//! reply), a signal reached ward. Each input and `now` go to ward-core's
//! [`Deployment`], whose actions this task runs in order. Nothing else
//! mutates instance state.
//!
//! - `clock`: the one place that reads clocks; jitter draws.
//! - `timers`: armed timers, earliest first.
//! - `events`: the event history and its live feed.
//! - `launch`: from a service spec to the launch of one instance.
//! - `requests`: the API's requests and their answers.
//! - `watchers`: probes, sd_notify and hooks of live instances (see `crate::health`).
//! - `waiting`: the verdicts of `ward wait` and `ward up --wait`.
//! - `endpoints`: the in-rotation instances of a service.
//! - `persist`: writes to the store before effects; resuming after a crash of ward.
//! - `spawning`: starting instances, in batches, or taking the keeper's replacement.
//! - `usage`: what each instance's cgroup counts (status, why, metrics).
//! - `orders`: standing orders, so that the keeper restarts at once what would be restarted at once.
//! - `signals`: an operator's signal to the processes of a target (`ward signal`).

pub mod clock;
pub mod dossier;
mod endpoints;
pub mod events;
pub mod launch;
mod orders;
mod persist;
pub mod previous;
pub mod requests;
mod run;
pub mod signals;
#[cfg(test)]
mod sim;
mod spawning;
pub mod timers;
mod usage;
mod waiting;
mod watchers;
mod why;

use crate::logs::Logs;
use crate::runtime::adopt::Adopter;
use crate::runtime::{Exit, Report, Runtime};
use crate::store::Store;
use clock::{Clock, Jitter};
use events::EventLog;
use requests::Request;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::path::PathBuf;
use timers::{Timer, Timers};
use tokio::sync::mpsc;
use ward_core::deployment::{DeployAction, Deployment};
use ward_core::instance::{Action, Observation};
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
    clock: Clock,
    jitter: Jitter,
    logs: Logs,
    spec_path: PathBuf,
    state_dir: PathBuf,
    exit_code: Option<i32>,
    metrics: crate::metrics::Metrics,
    store: Store,
    /// Instances whose row must be written at the next flush.
    dirty: BTreeSet<InstanceId>,
    /// Start times (from /proc) of live instance processes, to tell a reused pid.
    start_times: HashMap<InstanceId, u64>,
    adopter: Adopter,
    /// The keeper's last exit recorded in the store.
    last_exit_seq: u64,
    /// Probes, sd_notify readers and hooks of live instances.
    health: crate::health::Health,
    /// When restarts waiting for the node's restart budget may go on.
    budget_wake: Option<MonoTime>,
    /// What exited processes used, until their `exited` event is recorded.
    exit_rusage: HashMap<InstanceId, crate::runtime::Rusage>,
    /// The kernel's OOM-kill count when last looked at.
    oom_kills: u64,
    /// What the cgroup of each instance counted over its last run, until its dossier is made.
    exit_cgroup: HashMap<InstanceId, crate::cgroup::Stats>,
    /// The deployment's cgroups (made by the keeper), to read each instance's use.
    cgroups: Option<crate::cgroup::Cgroups>,
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
    respawned: Option<(InstanceId, crate::runtime::Respawned)>,
    /// Gives memory back after a burst.
    trimmer: crate::memory::Trimmer,
    /// Spawns asked for and not yet answered.
    spawns: spawning::Spawns,
    /// Told once when everything begins to stop (systemd's `STOPPING=1`).
    down_notice: Option<tokio::sync::oneshot::Sender<()>>,
    /// Why an instance's last process counts as lost (its exit never came).
    lost: HashMap<InstanceId, String>,
}

/// The inputs of the supervisor loop.
pub struct Inputs {
    /// API requests.
    pub requests: mpsc::Receiver<Request>,
    /// Exits and spawn answers from the runtime (the keeper).
    pub exits: mpsc::UnboundedReceiver<Report>,
    /// Exits of adopted processes.
    pub adopted: mpsc::UnboundedReceiver<Exit>,
}

impl<R: Runtime> Supervisor<R> {
    /// A supervisor for `deployment`, whose spec was read from `spec_path`.
    pub fn new(
        deployment: Deployment,
        runtime: R,
        logs: Logs,
        paths: &crate::paths::Paths,
        store: Store,
        adopter: Adopter,
    ) -> Self {
        let clock = Clock::new();
        let last_seq = store.last_seq().unwrap_or(0);
        let mut events = EventLog::new(HISTORY, last_seq + 1);
        match store.recent_events(HISTORY as u64) {
            Ok(history) => events.preload(history),
            Err(e) => tracing::error!("store: cannot read the event history: {e}"),
        }
        Supervisor {
            deployment,
            runtime,
            pids: HashMap::new(),
            timers: Timers::default(),
            events,
            jitter: Jitter::seeded(&clock),
            clock,
            logs,
            spec_path: paths.spec.clone(),
            state_dir: paths.state.clone(),
            exit_code: None,
            metrics: crate::metrics::Metrics::new(),
            dirty: BTreeSet::new(),
            start_times: HashMap::new(),
            last_exit_seq: store
                .meta("last_exit_seq")
                .ok()
                .flatten()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            store,
            adopter,
            health: crate::health::Health::new(
                paths.state.clone(),
                paths.spec.parent().map(PathBuf::from).unwrap_or_default(),
            ),
            budget_wake: None,
            exit_rusage: HashMap::new(),
            oom_kills: dossier::oom_kills(),
            run_starts: HashMap::new(),
            unblocks: HashMap::new(),
            armed: HashMap::new(),
            rearm: BTreeSet::new(),
            armed_generation: None,
            respawned: None,
            exit_cgroup: HashMap::new(),
            cgroups: crate::cgroup::Cgroups::find(&paths.state),
            trimmer: crate::memory::Trimmer::default(),
            spawns: spawning::Spawns::default(),
            down_notice: None,
            lost: HashMap::new(),
        }
    }

    /// Reads `clock` and draws jitter from `jitter` (the simulation's, where
    /// time and chance are inputs).
    #[cfg(test)]
    pub fn with_clock(mut self, clock: Clock, jitter: Jitter) -> Self {
        self.clock = clock;
        self.jitter = jitter;
        self
    }

    /// Resumes from the store and starts what the spec asks: the first step of
    /// [`Supervisor::run`].
    fn start(&mut self) {
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

    /// Records into `metrics` (shared with the API's `/metrics`).
    pub fn with_metrics(mut self, metrics: crate::metrics::Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    fn begin_down(&mut self, why: &str) {
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

    fn on_report_of_runtime(&mut self, report: Report) {
        match report {
            Report::Exit(exit) => self.on_exit(exit),
            Report::Answer { req, result } => self.on_answer(req, result),
        }
    }

    fn on_exit(&mut self, exit: Exit) {
        if exit.seq != 0 && exit.seq <= self.last_exit_seq {
            self.runtime.ack(exit.seq); // recorded by an earlier brain
            return;
        }
        if exit.seq != 0 {
            // Recorded in the same transaction as what the exit leads to.
            self.last_exit_seq = exit.seq;
            if let Err(e) = self.store.set_meta("last_exit_seq", &exit.seq.to_string()) {
                tracing::error!("store: {e}");
            }
        }
        self.on_exit_once(exit);
        self.discard_respawned();
        if exit.seq != 0 {
            self.flush();
            self.runtime.ack(exit.seq);
        }
    }

    fn on_exit_once(&mut self, exit: Exit) {
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
        self.runtime.exited(&id, exit.pid);
        if let Some(r) = exit.rusage {
            self.exit_rusage.insert(id.clone(), r);
        }
        if let Some(c) = exit.cgroup {
            self.exit_cgroup.insert(id.clone(), c);
        }
        self.save_previous_run(&id, self.run_end(&id));
        self.observe(&id, Observation::Exited { status: exit.status });
    }

    fn fire_timers(&mut self) {
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

    /// Runs actions in order; the results of spawns feed back as observations.
    fn execute(&mut self, actions: Vec<DeployAction>) {
        let mut queue: VecDeque<DeployAction> = actions.into();
        while let Some(action) = queue.pop_front() {
            self.trimmer.note(1);
            let (id, action) = match action {
                DeployAction::WakeAt(at) => {
                    self.budget_wake = Some(self.budget_wake.map_or(at, |w| w.min(at)));
                    continue;
                }
                DeployAction::Exit(code) => {
                    self.exit_code = Some(code);
                    continue;
                }
                DeployAction::Instance(id, action) => (id, action),
            };
            self.dirty.insert(id.clone());
            self.rearm.insert(id.clone());
            match action {
                Action::Spawn => {
                    // The spawns next in line go together (`up`, a scale-up):
                    // the keeper forks them back to back.
                    let mut ids = vec![id];
                    while ids.len() < spawning::BATCH {
                        let Some(DeployAction::Instance(next, Action::Spawn)) = queue.front() else { break };
                        let next = next.clone();
                        queue.pop_front();
                        self.trimmer.note(1);
                        self.dirty.insert(next.clone());
                        self.rearm.insert(next.clone());
                        ids.push(next);
                    }
                    // What justifies the spawns is on disk first (a restart the
                    // keeper already made is no new effect: it is recorded below).
                    if ids.iter().any(|id| !self.has_respawned(id)) {
                        self.flush();
                    }
                    for (id, obs) in self.spawn_all(ids) {
                        let j = self.deployment.service(&id.service).map(|s| s.backoff.jitter).unwrap_or(0.0);
                        let jitter = self.jitter.factor(j);
                        queue.extend(self.deployment.observe(&id, obs, self.clock.now(), jitter));
                    }
                }
                Action::Signal(sig) => {
                    self.flush();
                    self.disarm(&id); // the keeper must not restart what is being stopped
                    self.signal(&id, sig)
                }
                Action::Kill => {
                    self.flush();
                    self.disarm(&id);
                    self.signal(&id, libc::SIGKILL)
                }
                Action::ArmTimer { at, kind, generation } => {
                    self.timers.arm(Timer { at, id, kind, generation })
                }
                Action::Emit(kind) => self.emit(&id, kind),
                Action::Panic { scope, status } => {
                    tracing::warn!("{id} failed ({status}): shutting down {scope:?}");
                    self.run_hook(crate::health::hooks::Hook::Shutdown, &id);
                }
                Action::Replace => tracing::info!("{id} isolated: starting a replacement"),
                Action::CheckGone => {
                    let alive = self.still_alive(&id);
                    let j = self.deployment.service(&id.service).map(|s| s.backoff.jitter).unwrap_or(0.0);
                    let jitter = self.jitter.factor(j);
                    queue.extend(self.deployment.observe(
                        &id,
                        Observation::Checked { alive },
                        self.clock.now(),
                        jitter,
                    ));
                }
                Action::Removed => {
                    self.start_times.remove(&id);
                    self.health.removed(&id);
                }
            }
        }
        self.flush();
        self.arm_orders();
    }

    /// Records, stores and publishes an event.
    fn emit(&mut self, id: &InstanceId, kind: ward_core::event::EventKind) {
        self.metrics.on_event(&kind);
        let dossier = match &kind {
            ward_core::event::EventKind::Exited { status, .. } => Some(self.dossier(id, *status)),
            _ => None,
        };
        let ev = self.events.record_with(&self.clock, id, &kind, dossier);
        if let Err(e) = self.store.record_event(&ev) {
            tracing::error!("store: cannot record event {}: {e}", ev.seq);
        }
        self.dirty.insert(id.clone());
        tracing::info!("{}", events::describe(&ev));
        self.watch_event(id, &kind);
    }

    fn signal(&mut self, id: &InstanceId, sig: i32) {
        if let Some(pid) = self.deployment.instance(id).and_then(|i| i.pid()) {
            let native = self.deployment.service(&id.service).is_some_and(|s| s.image.is_none());
            let adopted = if native { self.adopter.signal_group(pid, sig) } else { None };
            if let Some(Err(e)) = &adopted {
                tracing::warn!("{id}: cannot signal adopted process {pid}: {e}");
            }
            if adopted.is_some() {
                return;
            }
            if let Err(e) = self.runtime.signal(id, pid, sig) {
                tracing::warn!("{id}: cannot signal process group {pid}: {e}");
            }
        }
    }
}
