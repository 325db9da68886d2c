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
//! changed spec (one shape has the node's restart budget, the other none),
//! the brain crashes (a new one resumes from what the store
//! committed while the keeper keeps its processes and unacknowledged exits),
//! the keeper crashes (its processes live on; its journal names them for the
//! next brain), or the wall clock steps forward or back. After every step it
//! checks the invariants ([`check`]); at the end it asks for `down` and checks
//! that it ends with no process left. A failure names its seed; the same
//! seed replays it exactly (`WARD_SIM_SEED=N cargo test -p ward --bin ward sim::`).
//!
//! - `spec`: the simulated spec, in the two shapes that reloads switch between.
//! - `steps`: what one step may do: deliver the keeper's reports, kill a
//!   process, move time, an operator's command, a probe, a crash.
//! - `os`: the simulated OS and keeper; `FakeRuntime` is the brain's port to it.
//! - `brain`: a brain's store and adopter, which may crash in the middle of an input.
//! - `check`: the invariants checked after every step.
//! - `rng`: the seeded generator behind every choice.

mod brain;
mod check;
mod os;
mod rng;
mod spec;
mod steps;
#[cfg(test)]
mod tests;

use crate::paths::Paths;
use crate::runtime::adopt::{Adopter, FakeAdoptions};
use crate::store::Store;
use os::{FakeRuntime, Os, SharedOs, lock};
use rng::Rng;
use spec::{parsed, spec_text};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use ward_core::deployment::Deployment;
use ward_supervisor::clock::{Clock, Jitter, ManualTime};
use ward_supervisor::{MemoryStore, Ports, Settings, Supervisor};

/// Takes the next keeper epoch from the store as committed.
fn take_epoch(paths: &Paths, memory: Option<&MemoryStore>) -> Result<u64, String> {
    let result = match memory {
        Some(m) => crate::store::take_keeper_epoch(&mut m.reopen()),
        None => Store::open(&paths.store()).map_err(Into::into).and_then(|mut s| s.take_keeper_epoch()),
    };
    result.map_err(|e| e.to_string())
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
