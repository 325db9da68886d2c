//! The spec: what a `ward.yaml` declares, in validated, typed form.
//!
//! [`parse()`] turns YAML text into a [`Spec`] or a list of [`SpecError`]s, each
//! with file:line:col, key path, what was expected and a help line. Defaults
//! are filled here, so the rest of ward never sees an optional that has a
//! default.
//!
//! - `raw`: the serde shapes of the YAML, with source positions.
//! - `parse`: YAML text → raw → validated [`Spec`].
//! - `validate`: the rules parsing cannot check (ranges, references, cycles).
//! - `error`: [`SpecError`] and its rendering.
//! - `units`: durations and byte sizes as human strings.
//! - `interpolate`: `${VAR}` in values, from variables the shell passes in.
//! - `env_file`: the dotenv format of `.env` and `env_file:`.
//! - `inputs`: what the shell read for a spec (variables, env files).
//! - `depends`: `depends_on` and its conditions.
//! - `api`: the `api:` section (the opt-in TCP API).

mod api;
mod depends;
mod env_file;
mod error;
mod inputs;
mod interpolate;
mod parse;
mod process;
mod raw;
mod units;
mod validate;

#[cfg(test)]
mod api_tests;
#[cfg(test)]
mod tests;

pub use api::{ApiSpec, LISTEN_FORM, TlsSpec, parse_listen};
pub use env_file::{EnvFileError, EnvFileText, SpecInputs, parse_env_file};
pub use error::{SpecError, SpecErrors};
pub use inputs::env_file_paths;
pub use parse::{parse, parse_with};
pub use process::{Rlimit, RlimitValue};
pub use units::{parse_duration, parse_size};
// The policy types live in `crate::policy` (usable without this feature).
pub use crate::policy::{ExitCodesSpec, OnPanic, PanicAction, PanicScope, RestartPolicy};

use crate::name::ServiceName;
use std::collections::BTreeMap;
use std::time::Duration;

/// A whole validated spec file.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    /// The spec format version (1).
    pub version: u32,
    /// Service output files: rotation settings.
    pub logs: LogSpec,
    /// A limit on restarts across all services, if any.
    pub restart_budget: Option<RestartBudgetSpec>,
    /// The TCP API's settings (`api:`), when given.
    pub api: Option<ApiSpec>,
    /// The services, by name.
    pub services: BTreeMap<ServiceName, ServiceSpec>,
}

impl Spec {
    /// A spec of `services` (by their names) and every other default: what a
    /// program that builds its services in code starts from (a later
    /// service of the same name replaces an earlier one).
    pub fn new(services: impl IntoIterator<Item = ServiceSpec>) -> Self {
        Spec {
            version: 1,
            logs: LogSpec::default(),
            restart_budget: None,
            api: None,
            services: services.into_iter().map(|s| (s.name.clone(), s)).collect(),
        }
    }
}

/// The node's restart budget: a token bucket that every restart draws from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RestartBudgetSpec {
    /// Tokens added per second (`20/s`, `300/m`).
    pub rate: f64,
    /// The bucket's size: restarts allowed at once after a quiet time.
    pub burst: u32,
}

/// How service output files rotate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSpec {
    /// Rotate a file once it grows past this many bytes (default 10 MiB).
    pub max_size: u64,
    /// How many rotated files to keep beside the live one (default 3).
    pub keep: u32,
}

impl Default for LogSpec {
    fn default() -> Self {
        LogSpec { max_size: 10 * 1024 * 1024, keep: 3 }
    }
}

/// One service of the spec, with every default filled.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceSpec {
    /// Its name.
    pub name: ServiceName,
    /// The argv to run; never empty. No shell is involved unless argv says so.
    pub command: Vec<String>,
    /// Run as an OCI container from this image instead of a native process.
    pub image: Option<ImageSpec>,
    /// How many instances to keep (default 1).
    pub replicas: u32,
    /// Extra environment variables (values may use `${PORT}`-style port names):
    /// the `env_file:` variables, then `env:` over them.
    pub env: BTreeMap<String, String>,
    /// Working directory, relative to the spec file's folder unless absolute.
    pub workdir: Option<String>,
    /// Run as this user (name or uid); needs root.
    pub user: Option<String>,
    /// Run with this primary group (name or gid) instead of the user's; needs root.
    pub group: Option<String>,
    /// The file mode mask of the process (`umask: 0027`); inherited when absent.
    pub umask: Option<u32>,
    /// Run each native instance in a cgroup of its own, so that a stop or
    /// restart kills every process of it, escapees that double-fork or
    /// `setsid` included, and its OOM kills are counted exactly. `None`: on
    /// (where ward has cgroups); `cgroup: false` opts out.
    pub cgroup: Option<bool>,
    /// Cgroup limits of each instance (native processes and containers).
    pub resources: ResourcesSpec,
    /// Resource limits set with setrlimit before exec (native processes), in spec order.
    pub limits: Vec<(Rlimit, RlimitValue)>,
    /// Port variables: replica i gets `base + i`.
    pub ports: BTreeMap<String, u16>,
    /// Which exits are restarted.
    pub restart: RestartPolicy,
    /// What to do when an instance fails.
    pub on_panic: OnPanic,
    /// The restart delay curve after a crash.
    pub backoff: BackoffSpec,
    /// The restart delay curve after a clean exit under `restart: always`
    /// (default: a flat `backoff.initial`).
    pub success_backoff: Option<BackoffSpec>,
    /// Which exit codes are clean, and which must never restart.
    pub exit_codes: ExitCodesSpec,
    /// The crash-loop gate.
    pub crash_loop: CrashLoopSpec,
    /// A run at least this long resets backoff and crash history (default 60s).
    pub stable_after: Duration,
    /// How instances are stopped.
    pub stop: StopSpec,
    /// Liveness probe.
    pub health: Option<ProbeSpec>,
    /// Readiness: sd_notify or a probe.
    pub ready: Option<ReadySpec>,
    /// Services that must be ready (or started, or completed) before this one starts.
    pub depends_on: Vec<Dependency>,
    /// Stop this service when a dependency goes down (default false).
    pub binds_to: bool,
    /// Commands run on lifecycle events.
    pub hooks: HooksSpec,
}

impl ServiceSpec {
    /// A service running `command` with every default of the spec (what a
    /// `ward.yaml` entry with only `command:` gives): one replica,
    /// `restart: on-failure`, `on_panic: restart`, backoff 500ms ×2 up to 60s
    /// with 10% jitter, crash-loop at 5 crashes in 60s for 5m, stable after
    /// 60s, SIGTERM then SIGKILL after 10s, hooks time out after 30s.
    pub fn new(name: ServiceName, command: Vec<String>) -> Self {
        ServiceSpec {
            name,
            command,
            image: None,
            replicas: 1,
            env: BTreeMap::new(),
            workdir: None,
            user: None,
            group: None,
            umask: None,
            cgroup: None,
            resources: ResourcesSpec::default(),
            limits: Vec::new(),
            ports: BTreeMap::new(),
            restart: RestartPolicy::OnFailure,
            on_panic: OnPanic { action: PanicAction::Restart, scope: PanicScope::Service, replace: false },
            backoff: BackoffSpec::default(),
            success_backoff: None,
            exit_codes: ExitCodesSpec::default(),
            crash_loop: CrashLoopSpec::default(),
            stable_after: Duration::from_secs(60),
            stop: StopSpec::default(),
            health: None,
            ready: None,
            depends_on: Vec::new(),
            binds_to: false,
            hooks: HooksSpec { timeout: Duration::from_secs(30), ..HooksSpec::default() },
        }
    }
}

/// A service that another waits for, and what it waits for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dependency {
    /// The service waited for.
    pub service: ServiceName,
    /// What must hold of it.
    pub condition: Condition,
}

impl Dependency {
    /// A dependency with today's default condition, `ready`.
    pub fn ready(service: ServiceName) -> Self {
        Dependency { service, condition: Condition::Ready }
    }
}

/// What a dependency must reach before its dependents start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    /// An instance runs.
    Started,
    /// An instance is ready (or runs, when the service declares no `ready:`); the default.
    Ready,
    /// Every instance exited with success (a one-shot setup step).
    Completed,
}

impl Condition {
    /// The word in the spec: `started`, `ready`, `completed`.
    pub fn word(self) -> &'static str {
        match self {
            Condition::Started => "started",
            Condition::Ready => "ready",
            Condition::Completed => "completed",
        }
    }
}

/// The restart delay curve: `initial × factor^n`, capped at `max`, times a jitter factor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BackoffSpec {
    /// First delay (default 500ms).
    pub initial: Duration,
    /// Growth per crash, ≥ 1 (default 2.0).
    pub factor: f64,
    /// Cap before jitter (default 60s).
    pub max: Duration,
    /// Jitter fraction in [0, 1): the delay is multiplied by a factor in [1-j, 1+j] (default 0.1).
    pub jitter: f64,
}

impl Default for BackoffSpec {
    fn default() -> Self {
        BackoffSpec {
            initial: Duration::from_millis(500),
            factor: 2.0,
            max: Duration::from_secs(60),
            jitter: 0.1,
        }
    }
}

/// The crash-loop gate: `threshold` crashes inside `window` block restarts for `cooldown`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrashLoopSpec {
    /// Crashes that trip the gate, ≥ 1 (default 5).
    pub threshold: u32,
    /// The rolling window (default 60s).
    pub window: Duration,
    /// How long a tripped gate blocks (default 5m).
    pub cooldown: Duration,
}

impl Default for CrashLoopSpec {
    fn default() -> Self {
        CrashLoopSpec { threshold: 5, window: Duration::from_secs(60), cooldown: Duration::from_secs(300) }
    }
}

/// How an instance is stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StopSpec {
    /// The signal sent to the instance's process group first (default SIGTERM = 15).
    pub signal: i32,
    /// Then SIGKILL to the group after this long (default 10s).
    pub timeout: Duration,
}

impl Default for StopSpec {
    fn default() -> Self {
        StopSpec { signal: 15, timeout: Duration::from_secs(10) }
    }
}

/// An OCI image given as an unpacked root filesystem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageSpec {
    /// The rootfs folder, relative to the spec file's folder unless absolute.
    pub rootfs: String,
    /// Make the rootfs writable (default read-only).
    pub writable: bool,
    /// The OCI runtime binary name (default `runc`).
    pub runtime: String,
    /// The runtime binary's path, instead of looking `runtime` up in `PATH`
    /// (relative to the spec file's folder unless absolute).
    pub runtime_path: Option<String>,
}

/// Resource limits of one instance; `None` is no limit. Applied through the
/// OCI runtime's cgroups to containers, through ward's own cgroup of each
/// instance to native processes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ResourcesSpec {
    /// Memory limit in bytes (`memory: 256MiB`): past it the kernel OOM-kills.
    pub memory: Option<u64>,
    /// Memory throttling threshold in bytes (`memory_high: 200MiB`; cgroup v2 only).
    pub memory_high: Option<u64>,
    /// Most tasks (processes and threads) at once (`pids: 100`).
    pub pids: Option<u32>,
    /// CPU time as a number of CPUs (`cpu: 0.5` is half of one CPU).
    pub cpu: Option<f64>,
}

/// What a probe checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeCheck {
    /// Run this argv; exit 0 passes.
    Exec(Vec<String>),
    /// Connect to `host:port`.
    Tcp(String),
    /// GET this URL; a 2xx or 3xx status passes.
    Http(String),
}

/// A periodic probe (liveness or readiness).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeSpec {
    /// What it checks.
    pub check: ProbeCheck,
    /// Time between checks (default 5s).
    pub interval: Duration,
    /// Time one check may take (default 1s).
    pub timeout: Duration,
    /// Failures in a row that count as a failure (default 3).
    pub failures: u32,
    /// Time after start before the first check (default 0s).
    pub grace: Duration,
}

/// How an instance tells it is ready.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadySpec {
    /// sd_notify `READY=1` on `$NOTIFY_SOCKET`; `watchdog` arms `WATCHDOG=1` deadlines.
    Notify {
        /// Expect `WATCHDOG=1` at least this often once ready.
        watchdog: Option<Duration>,
    },
    /// A readiness probe; the first pass makes the instance ready.
    Probe(ProbeSpec),
}

/// Commands run on lifecycle events, with `WARD_*` variables in their environment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HooksSpec {
    /// Run when an instance is isolated.
    pub on_isolate: Option<Vec<String>>,
    /// Run when an instance's gate trips crash-loop.
    pub on_crashloop: Option<Vec<String>>,
    /// Run when a panic shuts the service down.
    pub on_shutdown: Option<Vec<String>>,
    /// Time a hook may run before it is killed (default 30s).
    pub timeout: Duration,
}
