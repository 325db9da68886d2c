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

pub mod clock;
pub mod events;
pub mod launch;
pub mod requests;
pub mod timers;

use crate::logs::Logs;
use crate::runtime::{Exit, Runtime};
use clock::{Clock, Jitter};
use events::EventLog;
use requests::Request;
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use timers::{Timer, Timers};
use tokio::sync::mpsc;
use ward_core::InstanceId;
use ward_core::deployment::{DeployAction, Deployment};
use ward_core::instance::{Action, Observation};

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
}

/// The inputs of the supervisor loop.
pub struct Inputs {
    /// API requests.
    pub requests: mpsc::Receiver<Request>,
    /// Exits from the reaper.
    pub exits: mpsc::UnboundedReceiver<Exit>,
}

impl<R: Runtime> Supervisor<R> {
    /// A supervisor for `deployment`, whose spec was read from `spec_path`.
    pub fn new(deployment: Deployment, runtime: R, logs: Logs, paths: &crate::paths::Paths) -> Self {
        let clock = Clock::new();
        Supervisor {
            deployment,
            runtime,
            pids: HashMap::new(),
            timers: Timers::default(),
            events: EventLog::new(HISTORY, 1),
            jitter: Jitter::seeded(&clock),
            clock,
            logs,
            spec_path: paths.spec.clone(),
            state_dir: paths.state.clone(),
            exit_code: None,
        }
    }

    /// Runs until everything is down; returns `ward up`'s exit code.
    pub async fn run(mut self, mut inputs: Inputs) -> i32 {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).ok();
        let mut int = signal(SignalKind::interrupt()).ok();
        let mut hup = signal(SignalKind::hangup()).ok();
        let actions = self.deployment.up(self.clock.now());
        self.execute(actions);
        let sleep = tokio::time::sleep(std::time::Duration::from_secs(3600));
        tokio::pin!(sleep);
        while self.exit_code.is_none() {
            let deadline = self.timers.next_deadline();
            if let Some(at) = deadline {
                sleep.as_mut().reset(self.clock.instant(at));
            }
            tokio::select! {
                Some(exit) = inputs.exits.recv() => {
                    self.on_exit(exit);
                    while let Ok(exit) = inputs.exits.try_recv() {
                        self.on_exit(exit);
                    }
                }
                Some(req) = inputs.requests.recv() => self.on_request(req),
                () = &mut sleep, if deadline.is_some() => self.fire_timers(),
                Some(()) = recv(&mut term) => self.begin_down("SIGTERM"),
                Some(()) = recv(&mut int) => self.begin_down("SIGINT"),
                Some(()) = recv(&mut hup) => {
                    let reply = self.reload();
                    match reply {
                        Ok(msg) => tracing::info!("SIGHUP: {msg}"),
                        Err(e) => tracing::error!("SIGHUP: reload refused:\n{e}"),
                    }
                }
            }
        }
        self.exit_code.unwrap_or(0)
    }

    fn begin_down(&mut self, why: &str) {
        tracing::info!("{why}: stopping every service");
        let actions = self.deployment.down(0, self.clock.now());
        self.execute(actions);
    }

    fn on_exit(&mut self, exit: Exit) {
        let Some(id) = self.pids.get_mut(&exit.pid).and_then(VecDeque::pop_front) else {
            tracing::debug!(pid = exit.pid, "reaped an orphan");
            return;
        };
        if self.pids.get(&exit.pid).is_some_and(VecDeque::is_empty) {
            self.pids.remove(&exit.pid);
        }
        self.runtime.cleanup(&id, exit.pid);
        self.observe(&id, Observation::Exited { status: exit.status });
    }

    fn fire_timers(&mut self) {
        let now = self.clock.now();
        for Timer { id, kind, generation, .. } in self.timers.take_due(now) {
            self.observe(&id, Observation::Timer { kind, generation });
        }
    }

    fn observe(&mut self, id: &InstanceId, obs: Observation) {
        let j = self.deployment.service(&id.service).map(|s| s.backoff.jitter).unwrap_or(0.0);
        let jitter = self.jitter.factor(j);
        let actions = self.deployment.observe(id, obs, self.clock.now(), jitter);
        self.execute(actions);
    }

    /// Runs actions in order; the results of spawns feed back as observations.
    fn execute(&mut self, actions: Vec<DeployAction>) {
        let mut queue: VecDeque<DeployAction> = actions.into();
        while let Some(action) = queue.pop_front() {
            let (id, action) = match action {
                DeployAction::Exit(code) => {
                    self.exit_code = Some(code);
                    continue;
                }
                DeployAction::Instance(id, action) => (id, action),
            };
            match action {
                Action::Spawn => {
                    let obs = self.spawn(&id);
                    let j = self.deployment.service(&id.service).map(|s| s.backoff.jitter).unwrap_or(0.0);
                    let jitter = self.jitter.factor(j);
                    queue.extend(self.deployment.observe(&id, obs, self.clock.now(), jitter));
                }
                Action::Signal(sig) => self.signal(&id, sig),
                Action::Kill => self.signal(&id, libc::SIGKILL),
                Action::ArmTimer { at, kind, generation } => {
                    self.timers.arm(Timer { at, id, kind, generation })
                }
                Action::Emit(kind) => {
                    let ev = self.events.record(&self.clock, &id, &kind);
                    tracing::info!("{}", events::describe(&ev));
                }
                Action::Panic { scope, status } => {
                    tracing::warn!("{id} failed ({status}): shutting down {scope:?}")
                }
                Action::Replace => tracing::info!("{id} isolated: starting a replacement"),
                Action::Removed => {}
            }
        }
    }

    fn spawn(&mut self, id: &InstanceId) -> Observation {
        let Some(spec) = self.deployment.service(&id.service) else {
            return Observation::SpawnFailed { error: "service no longer in the spec".into() };
        };
        let dir = self.spec_path.parent().map(PathBuf::from).unwrap_or_default();
        let launch = launch::launch(spec, id, &dir, self.logs.path(id), &self.state_dir);
        match self.runtime.spawn(&launch) {
            Ok(pid) => {
                self.pids.entry(pid).or_default().push_back(id.clone());
                Observation::Spawned { pid }
            }
            Err(e) => Observation::SpawnFailed { error: e.to_string() },
        }
    }

    fn signal(&mut self, id: &InstanceId, sig: i32) {
        if let Some(pid) = self.deployment.instance(id).and_then(|i| i.pid()) {
            if let Err(e) = self.runtime.signal(id, pid, sig) {
                tracing::warn!("{id}: cannot signal process group {pid}: {e}");
            }
        }
    }
}

async fn recv(sig: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match sig {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}
