//! The runtime port: how instances are spawned and signalled, and how their
//! exits are learned.
//!
//! The supervisor sees only the [`Runtime`] trait and a stream of
//! [`Report`]s. ward implements it with a keeper process (native processes)
//! and an OCI runtime beside it; a program of its own implements it for its
//! world (containers through its engine, remote processes), and tests use a
//! simulated one.
//!
//! Two runtimes ship with this crate: [`fake::FakeRuntime`] (no processes:
//! a test or an example says when one ends) and
//! [`process::ProcessRuntime`] (real child processes, without ward's keeper).

pub mod fake;
pub mod process;

use crate::ports::usage::CgroupStats;
use std::path::PathBuf;
use ward_core::deployment::StandingOrder;
use ward_core::instance::Kinship;
use ward_core::spec::ResourcesSpec;
use ward_core::{ExitStatus, InstanceId};

/// Everything needed to launch one instance, resolved from its service's spec.
#[derive(Clone, Debug)]
pub struct Launch {
    /// Which instance (for messages).
    pub id: InstanceId,
    /// The argv; `argv[0]` is looked up in `PATH` when it has no `/`.
    pub argv: Vec<String>,
    /// Variables added to (or overriding) ward's own environment.
    pub env: Vec<(String, String)>,
    /// The working directory, absolute.
    pub workdir: Option<PathBuf>,
    /// Run as this user (name or numeric uid), with its primary group; needs root.
    pub user: Option<String>,
    /// The file that receives stdout and stderr (opened append-only, created 0640).
    pub log: PathBuf,
    /// Run in an OCI container made from this image instead of as a native process.
    pub image: Option<ImageLaunch>,
    /// Cgroup, limits, group and umask of a native process.
    pub process: ProcessOptions,
}

/// What a native instance gets besides argv, environment and user (see `cgroup`).
/// Defaults are left out of its JSON: the keeper holds a launch's JSON per
/// instance (its standing order), and each restart sends one.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProcessOptions {
    /// Run in a cgroup of its own, when ward has cgroups (every native
    /// instance; not the brain, not an OCI runtime, which makes its own).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cgroup: bool,
    /// `resources.memory`, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<u64>,
    /// `resources.memory_high`, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_high: Option<u64>,
    /// `resources.pids`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pids: Option<u32>,
    /// `resources.cpu`, in CPUs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<f64>,
    /// `limits:` as (key, value; `None` unlimited), set with setrlimit before exec.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<(String, Option<u64>)>,
    /// `group:` (name or gid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// `umask:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub umask: Option<u32>,
    /// Its main process may hand over to another (`ready: { notify: true }`
    /// understands `MAINPID=`): in a cgroup, its process group is not killed
    /// when it exits, only the cgroup, once the supervisor has decided.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub handover: bool,
}

impl ProcessOptions {
    /// The cgroup limits asked for.
    pub fn resources(&self) -> ResourcesSpec {
        ResourcesSpec { memory: self.memory, memory_high: self.memory_high, pids: self.pids, cpu: self.cpu }
    }

    /// Whether any cgroup limit is asked for.
    pub fn limited(&self) -> bool {
        self.resources() != ResourcesSpec::default()
    }
}

/// The container side of a [`Launch`].
#[derive(Clone, Debug)]
pub struct ImageLaunch {
    /// The unpacked root filesystem, absolute.
    pub rootfs: PathBuf,
    /// Mount it read-write.
    pub writable: bool,
    /// The OCI runtime binary (`runc`, `crun`, `youki`), looked up in `PATH`.
    pub runtime: String,
    /// The runtime binary's path, absolute, instead of the `PATH` lookup.
    pub runtime_path: Option<PathBuf>,
    /// Cgroup limits of the container.
    pub resources: ResourcesSpec,
    /// Where ward keeps bundles and the OCI runtime's state (`<state>/oci`).
    pub state_dir: PathBuf,
}

/// An exit learned by the reaper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exit {
    /// The keeper's sequence number of this exit (0 when it comes from this process).
    pub seq: u64,
    /// The pid that ended.
    pub pid: u32,
    /// How it ended.
    pub status: ExitStatus,
    /// What it used, when its parent learned it.
    pub rusage: Option<Rusage>,
    /// The replacement the keeper already started under a standing order.
    pub respawned: Option<Respawned>,
    /// What its cgroup counted over the run (`oom_kills`: kills during this run).
    pub cgroup: Option<CgroupStats>,
}

impl Exit {
    /// The end of process `pid`, learned by someone who is not its parent
    /// (a pidfd): its status is unknown, and nothing else is known of it.
    pub fn unknown(pid: u32) -> Exit {
        Exit { seq: 0, pid, status: ExitStatus::Unknown, rusage: None, respawned: None, cgroup: None }
    }
}

/// What a runtime reports, in the order it happened: exits, and the answers
/// to spawns it could not answer at once (see [`Runtime::request`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum Report {
    /// An instance process ended.
    Exit(Exit),
    /// The spawn named `req` started process `Ok(pid)`, or failed.
    Answer {
        /// The request, as given to [`Runtime::request`].
        req: u64,
        /// The pid, or why it failed.
        result: Result<u32, String>,
        /// The process's start time (see [`Runtime::start_time`]), when the
        /// runtime knew it as it started it; else it is asked.
        start_time: Option<u64>,
    },
}

/// A replacement started by the keeper the moment its predecessor exited,
/// under the instance's [`StandingOrder`]. What the predecessor left behind
/// was removed before (the replacement takes its place): the supervisor asks
/// no [`Runtime::exited`] for that exit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Respawned {
    /// The new process.
    pub pid: u32,
    /// The length of the instance's log file just before it started: where
    /// the previous run's output ends and the new run's begins.
    pub log_len: u64,
    /// From the reaping of the exit to the replacement's exec, in µs.
    #[serde(default)]
    pub spawn_us: u64,
    /// Its start time (see [`Runtime::start_time`]), when the runtime knew
    /// it as it started it; else it is asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<u64>,
}

/// Resources a process used, from wait4(2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rusage {
    /// User plus system CPU time, in milliseconds.
    pub cpu_ms: u64,
    /// Peak resident set size, in KiB.
    pub max_rss_kb: u64,
}

/// Spawns and signals instances. Exits are reported separately, as [`Exit`]s.
pub trait Runtime: Send {
    /// Why a spawn failed (shown to operators in `spawn-failed` events).
    type Error: std::fmt::Display;

    /// Starts each launch of `batch`, each named by a request number, and
    /// never waits for a slow answer: returns the answers known at once (a
    /// synchronous runtime answers all); the others arrive later as
    /// [`Report::Answer`]s, before any exit of the process they name. A
    /// started process leads a process group of its own.
    fn request(&mut self, batch: Vec<(u64, Launch)>) -> Vec<(u64, Result<u32, Self::Error>)>;

    /// A [`Report::Answer`] for `req` arrived (`pid` when it succeeded); the
    /// runtime takes note before the supervisor acts on it.
    fn answered(&mut self, _req: u64, _pid: Option<u32>) {}

    /// Sends `signal` to instance `id` whose main process is `pid` (its
    /// process group, or its container). One already gone is not an error.
    fn signal(&mut self, id: &InstanceId, pid: u32, signal: i32) -> std::io::Result<()>;

    /// The main process `pid` of `id` has exited: remove what it left behind
    /// (the rest of its process group, its container).
    fn cleanup(&mut self, id: &InstanceId, pid: u32);

    /// The exit of `pid`, the main process of `id`, was reported by this
    /// runtime: what [`Runtime::cleanup`] does, unless the runtime did it
    /// already before it reported the exit.
    fn exited(&mut self, id: &InstanceId, pid: u32) {
        self.cleanup(id, pid);
    }

    /// The exit with this keeper sequence number is recorded: it need not be kept any more.
    fn ack(&mut self, _seq: u64) {}

    /// The API listens (a waiting `ward up -d` may return).
    fn ready(&mut self) {}

    /// Everything is down: `ward up` should exit with `code`.
    fn finish(&mut self, _code: i32) {}

    /// Hands a standing order to whoever reaps the process: if `order.pid`
    /// exits with a status it covers, start `launch` at once and report the
    /// exit with the replacement ([`Exit::respawned`]). Replaces an earlier
    /// order for the same pid; used once. Runtimes without a keeper ignore it.
    fn arm(&mut self, _order: &StandingOrder, _launch: &Launch) {}

    /// Withdraws the standing order of process `pid`, if it has one.
    fn disarm(&mut self, _pid: u32) {}

    /// How process `pid` relates to instance `id` (whose main process and
    /// cgroup `family` describes), for a `MAINPID=` that names it: what the
    /// OS says (its cgroup, its parents). A runtime that cannot tell says
    /// `Stranger`, and the name is ignored.
    fn kinship(&self, _id: &InstanceId, _pid: u32, _family: &Family<'_>) -> Kinship {
        Kinship::Stranger
    }

    /// The main process of `id` is now `to`, not `from` (sd_notify
    /// `MAINPID=`): what is left of the instance (its cgroup) is removed at
    /// the cleanup of `to`, and the end of `from` removes nothing.
    fn handover(&mut self, _id: &InstanceId, _from: u32, _to: u32) {}

    /// Instance processes that the keeper still holds (alive, or exited with
    /// the exit still to be delivered), when this brain attached to it.
    fn known_children(&self) -> Vec<KnownChild> {
        Vec::new()
    }

    /// The start time of process `pid` (clock ticks after boot), to tell it
    /// from a later process that reused its pid; `None` when it is gone.
    fn start_time(&self, pid: u32) -> Option<u64>;

    /// True while process `pid` runs (exists, not a zombie).
    fn alive(&self, pid: u32) -> bool;

    /// Instance processes an earlier keeper started that still run (not the
    /// keeper's children: it crashed), for the brain to adopt or discard.
    fn strays(&self) -> Vec<KnownChild> {
        Vec::new()
    }

    /// What holds each instance's processes, in words, when the runtime
    /// knows (the keeper says it in its hello).
    fn isolation(&self) -> Option<String> {
        None
    }

    /// The kernel's count of OOM kills on the whole host, when the runtime
    /// can read it: the fallback for telling an OOM kill of a process that
    /// has no cgroup of its own.
    fn oom_kills(&self) -> Option<u64> {
        None
    }

    /// What the cgroup (or other container) of `id` counts now, when the
    /// runtime can tell (status, `why`, metrics).
    fn usage(&self, _id: &InstanceId) -> Option<CgroupStats> {
        None
    }
}

/// What the supervisor knows of an instance whose main process may change
/// (see [`Runtime::kinship`]).
pub struct Family<'a> {
    /// Its main process now.
    pub main: u32,
    /// The start time of `main` (clock ticks after boot), if known.
    pub main_start: Option<u64>,
    /// Whether it runs in a cgroup of its own (then only membership counts).
    pub cgroup: bool,
    /// True for a pid that is some instance's main process.
    pub is_instance: &'a dyn Fn(u32) -> bool,
}

/// A process the keeper started for an instance.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KnownChild {
    /// Its pid.
    pub pid: u32,
    /// The instance, as `service/N`.
    pub instance: String,
    /// Its start time (clock ticks after boot), to tell a reused pid.
    pub start_time: Option<u64>,
}
