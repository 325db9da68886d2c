//! Deterministic simulation of the supervisor (in the spirit of
//! FoundationDB's simulator and TigerBeetle's VOPR).
//!
//! One seed drives everything: the real supervisor actor and ward-core run
//! over a simulated keeper and OS ([`os`]), the real store (SQLite in a temp
//! folder), a clock that moves only when the world says ([`Clock::manual`]),
//! and a seeded generator for every choice. Each step the world picks one
//! thing to happen: the keeper delivers what it has to say (spawn answers,
//! exits, in order; one at a time or as a batch), a process dies with some status, time moves to the next
//! timer, an operator starts/stops/restarts/unblocks something or reloads a
//! changed spec, the brain crashes (a new one resumes from what the store
//! committed while the keeper keeps its processes and unacknowledged exits),
//! the keeper crashes (its processes live on; its journal names them for the
//! next brain), or the wall clock steps forward or back. After every step it
//! checks the invariants ([`check`]); at the end it asks for `down` and checks
//! that it ends with no process left. A failure names its seed; the same
//! seed replays it exactly (`WARD_SIM_SEED=N cargo test -p ward --bin ward sim::`).

mod brain;
mod check;
mod os;
mod rng;
#[cfg(test)]
mod tests;

use crate::paths::Paths;
use crate::runtime::Report;
use crate::runtime::adopt::{Adopter, FakeAdoptions};
use crate::store::Store;
use os::{FakeRuntime, Os, SharedOs, lock};
use rng::Rng;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use ward_core::deployment::Deployment;
use ward_core::instance::Command;
use ward_core::{ExitStatus, InstanceId};
use ward_supervisor::clock::{Clock, Jitter, ManualTime};
use ward_supervisor::ports::health::{HealthReport, Seen};
use ward_supervisor::{MemoryStore, Ports, Request, Settings, Supervisor};

/// The spec the simulation runs, in two shapes that reloads switch between.
fn spec_text(variant: u64) -> String {
    let fast = 1 + variant % 2;
    format!(
        r#"version: 1
services:
  fast:
    command: ["fast"]
    replicas: {fast}
    restart: always
    backoff: {{ initial: 0s, jitter: 0 }}
    crash_loop: {{ threshold: 1000, window: 1s }}
  slow:
    command: ["slow"]
    backoff: {{ initial: 1s, max: 8s, jitter: 0.3 }}
    crash_loop: {{ threshold: 3, window: 10s, cooldown: 20s }}
    stop: {{ timeout: 2s }}
  once:
    command: ["once"]
  iso:
    command: ["iso"]
    on_panic: isolate
  dep:
    command: ["dep"]
    depends_on: [slow]
    exit_codes: {{ no_restart: [78] }}
"#
    )
}

/// The simulated spec `text`, parsed once per shape (parsing YAML would be
/// most of a seed's time otherwise).
fn parsed(text: &str) -> Result<(String, ward_core::spec::Spec), String> {
    thread_local! {
        static SHAPES: std::cell::RefCell<Vec<(String, ward_core::spec::Spec)>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    SHAPES.with(|shapes| {
        let mut shapes = shapes.borrow_mut();
        if let Some((t, spec)) = shapes.iter().find(|(t, _)| t == text) {
            return Ok((t.clone(), spec.clone()));
        }
        let spec = ward_core::spec::parse(text, "ward.yaml").map_err(|e| e.to_string())?;
        shapes.push((text.to_string(), spec.clone()));
        Ok((text.to_string(), spec))
    })
}

/// Takes the next keeper epoch from the store as committed.
fn take_epoch(paths: &Paths, memory: Option<&MemoryStore>) -> Result<u64, String> {
    let result = match memory {
        Some(m) => crate::store::take_keeper_epoch(&mut m.reopen()),
        None => Store::open(&paths.store()).map_err(Into::into).and_then(|mut s| s.take_keeper_epoch()),
    };
    result.map_err(|e| e.to_string())
}

/// A report of the keeper, in the trace's words.
fn describe(report: &Report) -> String {
    match report {
        Report::Exit(e) => format!("exit of {} ({})", e.pid, e.status),
        Report::Answer { req, result, .. } => format!("answer to {req}: {result:?}"),
        // `Report` is non-exhaustive: a newer kind shows as it is.
        other => format!("{other:?}"),
    }
}

/// How one run of the simulation went.
pub(super) struct Outcome {
    /// Steps taken.
    pub steps: usize,
    /// What happened, one line a step (printed with a failure).
    pub trace: Vec<String>,
}

/// The world of one seed.
struct World {
    rng: Rng,
    os: SharedOs,
    time: Arc<ManualTime>,
    /// Wall-clock offset from the simulated monotonic time, in ms.
    wall: i64,
    dir: PathBuf,
    paths: Paths,
    sup: Option<Supervisor<FakeRuntime>>,
    adoptions: Arc<Mutex<FakeAdoptions>>,
    /// Every adopted pid any brain watches.
    watched: Vec<u32>,
    trace: Vec<String>,
    variant: u64,
    /// Reads the store as committed, for the checks.
    reader: check::Reader,
    /// The store in memory (`None`: ward's SQLite store, `WARD_SIM_STORE=sqlite`).
    memory: Option<MemoryStore>,
    /// Where the current brain may crash in the middle of an input.
    crash: Arc<brain::CrashPoint>,
}

/// Runs seed `seed` for `steps` steps, then `down`; `Err` says what broke.
pub(super) fn run(seed: u64, steps: usize) -> Result<Outcome, (String, Vec<String>)> {
    // In memory where the machine has it (tmpfs): a seed is CPU, not disk.
    let shm = std::path::Path::new("/dev/shm");
    let base = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
    let dir = base.join(format!("ward-sim-{}-{seed}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| (e.to_string(), vec![]))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| (e.to_string(), vec![]))?;
    let result = rt.block_on(async { World::new(seed, &dir)?.play(steps) });
    let _ = std::fs::remove_dir_all(&dir);
    result
}

impl World {
    fn new(seed: u64, dir: &std::path::Path) -> Result<World, (String, Vec<String>)> {
        let spec = dir.join("ward.yaml");
        std::fs::write(&spec, spec_text(0)).map_err(|e| (e.to_string(), vec![]))?;
        let paths = Paths::resolve(&spec, None, None);
        std::fs::create_dir_all(&paths.state).map_err(|e| (e.to_string(), vec![]))?;
        let sqlite = std::env::var("WARD_SIM_STORE").is_ok_and(|v| v == "sqlite");
        let memory = (!sqlite).then(MemoryStore::new);
        let committed = match &memory {
            Some(m) => check::Committed::Memory(m.clone()),
            None => {
                let db = Store::open(&paths.store()).map_err(|e| (e.to_string(), vec![]))?;
                drop(db); // made, with its schema
                check::Committed::Sqlite(
                    rusqlite::Connection::open(paths.store()).map_err(|e| (e.to_string(), vec![]))?,
                )
            }
        };
        let epoch = take_epoch(&paths, memory.as_ref()).map_err(|e| (e, vec![]))?;
        let mut rng = Rng::new(seed);
        let os = Arc::new(Mutex::new(Os::new(Rng::new(rng.next()), epoch)));
        let time = Arc::new(ManualTime::default());
        let mut w = World {
            rng,
            os,
            time,
            wall: 1_800_000_000_000,
            dir: dir.to_path_buf(),
            paths,
            sup: None,
            adoptions: Arc::default(),
            watched: Vec::new(),
            trace: Vec::new(),
            variant: 0,
            reader: check::Reader::open(committed),
            memory,
            crash: Arc::default(),
        };
        w.set_wall();
        w.new_brain();
        Ok(w)
    }

    fn play(mut self, steps: usize) -> Result<Outcome, (String, Vec<String>)> {
        for step in 0..steps {
            self.step(step);
            self.settle_adoptions();
            let checked = check::all(&mut self);
            let fresh = self.reader.take_new();
            self.trace.extend(fresh);
            if let Err(e) = checked {
                return Err((format!("step {step}: {e}"), self.trace));
            }
        }
        if let Err(e) = self.down() {
            return Err((format!("down: {e}"), self.trace));
        }
        let _ = &self.dir;
        Ok(Outcome { steps, trace: self.trace })
    }

    fn sup(&mut self) -> &mut Supervisor<FakeRuntime> {
        self.sup.as_mut().expect("a brain runs")
    }

    fn note(&mut self, what: String) {
        self.trace.push(what);
    }

    fn set_wall(&self) {
        let mono = self.time.mono_ms.load(Ordering::Relaxed) as i64;
        self.time.wall_ms.store((self.wall + mono).max(0) as u64, Ordering::Relaxed);
    }

    fn step(&mut self, step: usize) {
        match self.rng.below(100) {
            0..=34 => {
                let n = 1 + self.rng.below(3) as usize;
                self.deliver(n)
            }
            35..=52 => self.kill_one(),
            53..=69 => self.advance(),
            70..=81 => self.command(),
            82..=84 => {
                self.variant += 1;
                let _ = std::fs::write(&self.paths.spec, spec_text(self.variant));
                self.note(format!("{step}: reload (variant {})", self.variant % 2));
                let (reply, _rx) = tokio::sync::oneshot::channel();
                self.sup().on_request(Request::Reload { reply });
            }
            85..=86 => {
                self.note(format!("{step}: the brain crashes"));
                self.sup = None;
                self.new_brain();
            }
            87..=88 => self.crash_mid_input(step),
            89..=91 => {
                self.note(format!("{step}: the keeper crashes (and its brain)"));
                self.sup = None;
                let epoch = take_epoch(&self.paths, self.memory.as_ref()).unwrap_or(0);
                lock(&self.os).keeper_crash(epoch);
                self.new_brain();
            }
            92..=94 => {
                let back = self.rng.chance(0.5);
                self.wall += if back { -3_600_000 } else { 3_600_000 };
                self.set_wall();
                self.note(format!(
                    "{step}: the wall clock steps {}",
                    if back { "back 1h" } else { "forward 1h" }
                ));
            }
            95..=97 => self.probe(),
            _ => self.deliver(usize::MAX),
        }
    }

    /// The brain crashes right after its `k`-th effect of the next input;
    /// what it committed before stays, the rest is lost.
    fn crash_mid_input(&mut self, step: usize) {
        let k = 1 + self.rng.below(3) as u32;
        self.crash.plan(k);
        match self.rng.below(3) {
            0 => {
                let n = 1 + self.rng.below(3) as usize;
                self.deliver(n)
            }
            1 => self.command(),
            _ => self.advance(),
        }
        let how = if self.crash.dead() { format!("after its effect {k}") } else { "at the end".into() };
        self.note(format!("{step}: the brain crashes in the middle of that input, {how}"));
        self.sup = None;
        self.new_brain();
    }

    /// A health watcher reports about a live instance (now and then about
    /// a pid that is gone: a stale report).
    fn probe(&mut self) {
        let live: Vec<(InstanceId, u32)> =
            self.sup().deployment().instances().filter_map(|i| Some((i.id().clone(), i.pid()?))).collect();
        if live.is_empty() {
            return;
        }
        let (id, pid) = live[self.rng.below(live.len() as u64) as usize].clone();
        let pid = if self.rng.chance(0.2) { pid + 1 } else { pid };
        let seen =
            if self.rng.chance(0.5) { Seen::Ready } else { Seen::Failed("simulated probe failure".into()) };
        self.note(format!("probe: {id} pid {pid} {seen:?}"));
        self.sup().on_health(HealthReport { id, pid, seen });
    }

    /// A new brain attaches to the keeper and resumes from the store.
    fn new_brain(&mut self) {
        let (children, strays) = lock(&self.os).attach();
        self.crash = Arc::default();
        let runtime = FakeRuntime { os: self.os.clone(), children, strays, crash: self.crash.clone() };
        let store: Box<dyn ward_supervisor::Store> = match &self.memory {
            Some(m) => Box::new(m.reopen()),
            None => Box::new(Store::open(&self.paths.store()).expect("the store opens")),
        };
        let store = brain::DyingStore { inner: store, crash: self.crash.clone() };
        let text = std::fs::read_to_string(&self.paths.spec).unwrap_or_default();
        let spec = parsed(&text).expect("the simulated spec is valid").1;
        let (adopter, adoptions, _exits) = Adopter::fake();
        let adopter = brain::DyingAdopter { inner: adopter, crash: self.crash.clone() };
        self.adoptions = adoptions;
        self.watched.clear();
        let clock = Clock::manual(self.time.clone());
        let jitter = Jitter::with_seed(self.rng.next());
        let spec_dir = self.paths.spec.parent().map(PathBuf::from).unwrap_or_default();
        // Probe results are the world's to give (`World::probe`); output goes nowhere.
        let mut ports = Ports::new(store);
        ports.adopter = Box::new(adopter);
        let spec_path = self.paths.spec.clone();
        let settings = Settings {
            spec_dir,
            state_dir: self.paths.state.clone(),
            spec_label: self.paths.spec.display().to_string(),
            reader: Some(Box::new(move || {
                let text = std::fs::read_to_string(&spec_path).map_err(|e| e.to_string())?;
                parsed(&text)
            })),
            operator_uid: 0,
        };
        let mut sup =
            Supervisor::new(Deployment::new(spec), runtime, ports, settings).with_clock(clock, jitter);
        sup.start();
        self.sup = Some(sup);
    }

    /// The keeper says up to `n` things it has to say, in order: one at a
    /// time, or (half of the time) as one batch, as the brain reads what
    /// came together.
    fn deliver(&mut self, n: usize) {
        if n > 1 && self.rng.chance(0.5) {
            let batch: Vec<Report> = {
                let mut os = lock(&self.os);
                std::iter::from_fn(|| os.keeper.outbox.pop_front()).take(n).collect()
            };
            if batch.is_empty() {
                return;
            }
            for report in &batch {
                let what = describe(report);
                self.note(format!("deliver {what} (in a batch of {})", batch.len()));
            }
            self.sup().on_runtime_reports(batch);
            self.settle_adoptions();
            return;
        }
        for _ in 0..n {
            let Some(report) = lock(&self.os).keeper.outbox.pop_front() else { return };
            let what = describe(&report);
            self.note(format!("deliver {what}"));
            self.sup().on_runtime_report(report);
            self.settle_adoptions();
        }
    }

    /// A live process dies, of a status drawn at random.
    fn kill_one(&mut self) {
        let status = match self.rng.below(6) {
            0 => ExitStatus::Code(0),
            1 => ExitStatus::Code(1),
            2 => ExitStatus::Code(78),
            3 => ExitStatus::Signal(libc::SIGKILL),
            4 => ExitStatus::Signal(libc::SIGSEGV),
            _ => ExitStatus::Code(3),
        };
        let live: Vec<u32> =
            lock(&self.os).procs.iter().filter(|(_, p)| p.alive).map(|(pid, _)| *pid).collect();
        let Some(&pid) = self.rng.pick(&live) else { return };
        self.note(format!("pid {pid} dies ({status})"));
        let adopted = lock(&self.os).die(pid, status);
        if adopted {
            self.adopted_exit(pid);
        }
    }

    /// Time moves: to the next deadline when the keeper has nothing to say
    /// (a keeper answers within a moment; the supervisor gives up on an
    /// answer after 10 s, which the world never lets happen by itself).
    fn advance(&mut self) {
        let quiet = lock(&self.os).keeper.outbox.is_empty();
        let now = self.sup().clock().now();
        let next = self.sup().next_deadline();
        let by = match (quiet, next) {
            (false, _) => 0,
            (true, Some(at)) => at.saturating_since(now).as_millis() as u64,
            (true, None) => 1000 * (1 + self.rng.below(30)),
        };
        self.time.mono_ms.fetch_add(by, Ordering::Relaxed);
        self.set_wall();
        self.note(format!("time +{by}ms"));
        self.sup().fire_timers();
    }

    /// An operator's command on a random target.
    fn command(&mut self) {
        let services = ["fast", "slow", "once", "iso", "dep"];
        let service = services[self.rng.below(services.len() as u64) as usize];
        let target = if self.rng.chance(0.5) { service.to_owned() } else { format!("{service}/0") };
        let command = match self.rng.below(4) {
            0 => Command::Start,
            1 => Command::Stop,
            2 => Command::Restart,
            _ => Command::Unblock,
        };
        self.note(format!("operator: {command:?} {target}"));
        let (reply, _rx) = tokio::sync::oneshot::channel();
        self.sup().on_request(Request::Command { command, target, reply });
    }

    /// An adopted process (not the keeper's child) ended: its pidfd says so.
    fn adopted_exit(&mut self, pid: u32) {
        if self.watched.contains(&pid) {
            self.note(format!("adopted pid {pid} ended (pidfd)"));
            let exit = crate::runtime::Exit::unknown(pid);
            self.sup().on_adopted_exit(exit);
        }
    }

    /// Signals the brain sent to adopted processes take effect.
    fn settle_adoptions(&mut self) {
        loop {
            let (watched, signals) = {
                let mut a = self.adoptions.lock().unwrap_or_else(PoisonError::into_inner);
                (a.watched.clone(), std::mem::take(&mut a.signals))
            };
            self.watched = watched;
            if signals.is_empty() {
                return;
            }
            for (pid, sig) in signals {
                let adopted = lock(&self.os).deliver(pid, sig);
                if adopted {
                    self.adopted_exit(pid);
                }
            }
        }
    }

    /// `down`: everything stops, within a bounded number of steps, and no
    /// process is left.
    fn down(&mut self) -> Result<(), String> {
        self.note("ward down".into());
        self.sup().begin_down("simulation");
        for _ in 0..10_000 {
            self.deliver(usize::MAX);
            self.settle_adoptions();
            check::all(self)?;
            let fresh = self.reader.take_new();
            self.trace.extend(fresh);
            if self.sup().exit_code().is_some() {
                let live: Vec<(u32, String)> = lock(&self.os)
                    .procs
                    .iter()
                    .filter(|(_, p)| p.alive)
                    .map(|(pid, p)| (*pid, p.instance.clone()))
                    .collect();
                if !live.is_empty() {
                    return Err(format!("down ended with processes alive: {live:?}"));
                }
                return self.reader.all_ended();
            }
            let next = self.sup().next_deadline();
            if next.is_none() && lock(&self.os).keeper.outbox.is_empty() {
                let states: Vec<String> = self
                    .sup()
                    .deployment()
                    .instances()
                    .map(|i| format!("{} {}", i.id(), i.state().word()))
                    .collect();
                return Err(format!("down waits for nothing that will come: {states:?}"));
            }
            self.advance();
        }
        Err("down did not end".into())
    }
}
