//! The health port: probes, sd_notify readers and hooks of live instances.
//!
//! The supervisor tells the port when a process of an instance starts, is
//! taken out of rotation, or is gone; the port watches it however it likes
//! (ward runs probe tasks and a notify socket per instance) and sends what it
//! sees as [`HealthReport`]s on a channel the supervisor reads. Hooks run when
//! an instance is isolated, enters crash-loop, or a panic shuts it down.

use ward_core::instance::Observation;
use ward_core::spec::ServiceSpec;
use ward_core::{ExitStatus, InstanceId};

/// How many reports may wait for the supervisor before watchers wait.
pub const REPORT_QUEUE: usize = 1024;

/// What a watcher task saw about one process of one instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthReport {
    /// The instance.
    pub id: InstanceId,
    /// The process watched: a report about another pid is stale.
    pub pid: u32,
    /// What was seen.
    pub seen: Seen,
}

/// What was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Seen {
    /// Ready: `READY=1`, or the readiness probe's first pass.
    Ready,
    /// Failed: the liveness probe's threshold, or a missed watchdog.
    Failed(String),
    /// sd_notify notices wait for the port to read them ([`Health::accept`]
    /// takes them, in order).
    Mail,
}

/// What a report (or a drain) leads to.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Verdict {
    /// An observation for the instance's state machine.
    Observe(Observation),
    /// `MAINPID=`: the runtime looks at that process
    /// ([`Runtime::kinship`](crate::ports::runtime::Runtime::kinship)), then
    /// ward-core decides.
    MainPid(u32),
}

/// One line of a notification.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// `READY=1`.
    Ready,
    /// `STATUS=…`: free text for people.
    Status(String),
    /// `STOPPING=1`: the service is shutting down.
    Stopping,
    /// `WATCHDOG=1`: a keep-alive ping.
    Watchdog,
    /// `WATCHDOG=trigger`: the service asks to be treated as failed.
    WatchdogTrigger,
    /// `MAINPID=N`.
    MainPid(u32),
    /// Anything else (`BARRIER=1`, `RELOADING=1`, `ERRNO=…`, …): ignored.
    Other,
}

/// Which hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hook {
    /// `on_isolate`, on the `isolated` event.
    Isolate,
    /// `on_crashloop`, on the `crashloop` event.
    Crashloop,
    /// `on_shutdown`, when a panic shuts the service (or everything) down.
    Shutdown,
}

impl Hook {
    /// The value of `WARD_EVENT`.
    pub fn event(self) -> &'static str {
        match self {
            Hook::Isolate => "isolated",
            Hook::Crashloop => "crashloop",
            Hook::Shutdown => "shutdown",
        }
    }
}

/// The instance a hook is about.
#[derive(Clone, Debug)]
pub struct Subject {
    /// Which instance.
    pub id: InstanceId,
    /// Its live process, or its last one.
    pub pid: Option<u32>,
    /// How its last process ended, if it did.
    pub exit: Option<ExitStatus>,
    /// The last decision about it, in words (ward-core's; `why` shows it as
    /// the rule), when one was taken.
    pub reason: Option<String>,
}

/// Watches live instances and runs hooks. Every method returns at once: a
/// watcher runs in tasks of its own and reports on its channel.
pub trait Health: Send {
    /// Variables to add to the launch of `id` (ward: `NOTIFY_SOCKET`), bound
    /// before the process starts so that nothing it says is missed.
    fn launch_env(&mut self, _id: &InstanceId, _spec: &ServiceSpec) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Process `pid` of `id` runs (started or adopted): watch it.
    fn started(&mut self, id: &InstanceId, pid: u32, spec: &ServiceSpec);

    /// True while a process of `id` is watched.
    fn is_watched(&self, id: &InstanceId) -> bool;

    /// The last pid `id` had, alive or not (for hooks after it is gone).
    fn last_pid(&self, id: &InstanceId) -> Option<u32>;

    /// `id` is out of rotation (isolated): its probes stop.
    fn quiet(&mut self, id: &InstanceId);

    /// The process of `id` is gone: stop watching it.
    fn gone(&mut self, id: &InstanceId);

    /// `id` left the deployment: forget it.
    fn removed(&mut self, id: &InstanceId);

    /// What `report` leads to, in order, when it is about `current` (the
    /// instance's main process now); keeps what is only for display.
    fn accept(&mut self, report: HealthReport, current: Option<u32>) -> Vec<Verdict>;

    /// True while the process of `id` has a notify socket that is read.
    fn listens(&self, _id: &InstanceId) -> bool {
        false
    }

    /// Before the exit of `pid`, the main process of `id`, is taken as the
    /// instance's: everything it said until then (it may have handed over
    /// with `MAINPID=` just before it exited).
    fn drain(&mut self, _id: &InstanceId, _pid: u32) -> Vec<Verdict> {
        Vec::new()
    }

    /// The main process of `id` is now `pid` (it handed over): its watchers go on.
    fn moved(&mut self, _id: &InstanceId, _pid: u32) {}

    /// The last `STATUS=` text of the live process of `id`.
    fn status_text(&self, _id: &InstanceId) -> Option<String> {
        None
    }

    /// True when the live process of `id` said it is stopping (`STOPPING=1`).
    fn stopping(&self, _id: &InstanceId) -> bool {
        false
    }

    /// Runs `hook` of `spec` about `subject`, without waiting for it.
    fn run_hook(&mut self, _hook: Hook, _spec: &ServiceSpec, _subject: Subject) {}
}

/// No probes, no notify, no hooks: a process is running once it started.
#[derive(Debug, Default)]
pub struct NoHealth {
    last: std::collections::HashMap<InstanceId, u32>,
}

impl Health for NoHealth {
    fn started(&mut self, id: &InstanceId, pid: u32, _spec: &ServiceSpec) {
        self.last.insert(id.clone(), pid);
    }
    fn is_watched(&self, _id: &InstanceId) -> bool {
        false
    }
    fn last_pid(&self, id: &InstanceId) -> Option<u32> {
        self.last.get(id).copied()
    }
    fn quiet(&mut self, _id: &InstanceId) {}
    fn gone(&mut self, _id: &InstanceId) {}
    fn removed(&mut self, id: &InstanceId) {
        self.last.remove(id);
    }
    fn accept(&mut self, report: HealthReport, current: Option<u32>) -> Vec<Verdict> {
        if current != Some(report.pid) {
            return Vec::new();
        }
        match report.seen {
            Seen::Ready => vec![Verdict::Observe(Observation::Ready)],
            Seen::Failed(reason) => vec![Verdict::Observe(Observation::HealthFailed { reason })],
            Seen::Mail => Vec::new(),
        }
    }
    fn moved(&mut self, id: &InstanceId, pid: u32) {
        self.last.insert(id.clone(), pid);
    }
}
