//! What the supervisor answers with: status rows, events, crash dossiers,
//! `why`, endpoints and wait verdicts. Serializable (ward's API sends them
//! as JSON, and its store keeps events in this shape): field names are part
//! of the API's contract; keep them stable.

use serde::{Deserialize, Serialize};

/// `GET /v1/status`: one row per instance.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StatusReply {
    /// Every instance, ordered by service then replica.
    pub instances: Vec<InstanceStatus>,
    /// What holds each instance's processes: `cgroup v2|hybrid|v1 at FOLDER`,
    /// or `process groups` and why ward has no cgroups.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub isolation: Option<String>,
}

/// One instance in `status`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InstanceStatus {
    /// Its service.
    pub service: String,
    /// Its replica index.
    pub replica: u32,
    /// Its state word (`running`, `backoff`, …).
    pub state: String,
    /// Its live process, if any.
    pub pid: Option<u32>,
    /// Restarts so far.
    pub restarts: u32,
    /// How long the current process has run, in milliseconds.
    pub uptime_ms: Option<u64>,
    /// How the last process ended.
    pub last_exit: Option<ExitJson>,
    /// The restart gate.
    pub gate: GateJson,
    /// The last `STATUS=` text the instance sent through sd_notify.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status_text: Option<String>,
    /// What its cgroup counts: CPU time, memory now and at peak, OOM kills.
    /// Only when asked for (see [`Request::Status`](crate::Request::Status)).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub usage: Option<crate::ports::usage::CgroupStats>,
    /// Whether it runs in a cgroup of its own, where `usage` can be read
    /// (its service is placed in cgroups and it has a process). Not sent:
    /// for a caller that reads usage itself, off the supervisor's thread.
    #[serde(skip)]
    pub cgroup: bool,
}

/// An exit status: `{"code": 3}` or `{"signal": 9}`, or `{"unknown": true}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitJson {
    /// The exit code.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub code: Option<i32>,
    /// The killing signal's number.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signal: Option<i32>,
    /// The signal's name (`SIGKILL`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signal_name: Option<String>,
    /// True when nobody could learn the exit (an adopted process).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub unknown: bool,
}

impl From<ward_core::ExitStatus> for ExitJson {
    fn from(s: ward_core::ExitStatus) -> Self {
        match s {
            ward_core::ExitStatus::Code(c) => ExitJson { code: Some(c), ..Default::default() },
            ward_core::ExitStatus::Signal(n) => ExitJson {
                signal: Some(n),
                signal_name: Some(ward_core::exit::signal_name(n)),
                ..Default::default()
            },
            ward_core::ExitStatus::Unknown => ExitJson { unknown: true, ..Default::default() },
        }
    }
}

impl std::fmt::Display for ExitJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.code, &self.signal_name, self.signal) {
            (Some(c), _, _) => write!(f, "code {c}"),
            (None, Some(name), _) => f.write_str(name),
            (None, None, Some(n)) => write!(f, "signal {n}"),
            (None, None, None) => f.write_str("unknown"),
        }
    }
}

/// The restart gate in `status`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GateJson {
    /// `idle`, `backing-off` or `crash-loop`.
    pub state: String,
    /// When the wait ends, as Unix time in milliseconds.
    pub until_ms: Option<u64>,
    /// Crashes inside the crash-loop window now.
    pub crashes: u32,
    /// The crash-loop threshold.
    pub threshold: u32,
}

/// One event: `events --json` prints one per line.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EventJson {
    /// Sequence number, increasing by one per event.
    pub seq: u64,
    /// Wall-clock time, RFC 3339 with milliseconds.
    pub ts: String,
    /// Unix time in milliseconds.
    pub ts_ms: u64,
    /// The event name (`started`, `exited`, …).
    pub kind: String,
    /// The service.
    pub service: String,
    /// The replica.
    pub replica: u32,
    /// The pid, for `started` and `adopted`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pid: Option<u32>,
    /// How the process ended, for `exited`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub exit: Option<ExitJson>,
    /// How long it ran, for `exited`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub run_ms: Option<u64>,
    /// When the gate opens, Unix ms, for `backoff` and `crashloop`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub until_ms: Option<u64>,
    /// The restart count, for `restarted`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub restarts: Option<u32>,
    /// Why, for `spawn_failed` and `health_failed`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// The crash dossier, on `exited` events (boxed: most events have none,
    /// and the history keeps up to 100,000 of them).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dossier: Option<Box<Dossier>>,
}

/// What ward knows of an exit: on every `exited` event.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Dossier {
    /// CPU time and peak memory of the process (unknown for adopted processes).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rusage: Option<crate::ports::runtime::Rusage>,
    /// Killed by the kernel's out-of-memory killer: the OOM-kill count of
    /// the instance's cgroup rose during the run (without a cgroup: a SIGKILL
    /// while the kernel's own count rose).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub oom_killed: bool,
    /// What the instance's cgroup counted over the run (`oom_kills` during it).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cgroup: Option<crate::ports::usage::CgroupStats>,
    /// Restarts of the instance before this exit.
    pub restarts: u32,
    /// The last lines the instance wrote (stdout and stderr), oldest first.
    pub output: Vec<String>,
    /// What the gate and policies decided.
    pub decision: DecisionJson,
}

/// What happens after an exit.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DecisionJson {
    /// The state the instance went to (`backoff`, `crashloop`, `isolated`, `completed`,
    /// `failed`, `shutdown`, `starting` for an immediate restart, `waiting`, `stopped`).
    pub state: String,
    /// When the next attempt is (Unix ms), for `backoff` and `crashloop`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub until_ms: Option<u64>,
    /// Why, in words.
    pub reason: String,
}

/// `GET /v1/why`: the explanation of each instance of a target.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WhyReply {
    /// One per instance.
    pub instances: Vec<WhyInstance>,
}

/// Why one instance is in its state, in words and numbers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WhyInstance {
    /// Its service.
    pub service: String,
    /// Its replica.
    pub replica: u32,
    /// Its state word.
    pub state: String,
    /// The rule that put it there.
    pub rule: String,
    /// Crashes inside the crash-loop window now.
    pub crashes: u32,
    /// The crash-loop threshold.
    pub threshold: u32,
    /// The crash-loop window.
    pub window_ms: u64,
    /// The delay the next crash waits (before jitter).
    pub next_delay_ms: u64,
    /// The delay after that.
    pub delay_after_next_ms: u64,
    /// When the gate opens (Unix ms).
    pub until_ms: Option<u64>,
    /// Time left until then.
    pub left_ms: Option<u64>,
    /// When an operator last released its gate (Unix ms).
    pub last_unblock_ms: Option<u64>,
    /// Which uid did.
    pub last_unblock_uid: Option<u32>,
    /// Its place in the restart budget's queue (0 = next).
    pub budget_position: Option<usize>,
    /// The whole explanation as text.
    pub text: String,
}

/// `GET /v1/endpoints?service=S`: the instances of a service in rotation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EndpointsReply {
    /// The service.
    pub service: String,
    /// Its in-rotation instances, by replica.
    pub endpoints: Vec<Endpoint>,
}

/// One in-rotation instance and where it listens.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Endpoint {
    /// Its replica index.
    pub replica: u32,
    /// Its state word (`running` or `ready`).
    pub state: String,
    /// Its process.
    pub pid: Option<u32>,
    /// Its port variables and their values (`{"PORT": 8081}`).
    pub ports: std::collections::BTreeMap<String, u32>,
    /// `127.0.0.1:PORT` for each port.
    pub addresses: Vec<String>,
}

/// `GET /v1/wait?for=W[&target=T]`: whether a target (or everything) reached a condition.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WaitReply {
    /// `holds`, `pending` or `failed`.
    pub verdict: String,
    /// When failed: the instance that cannot get there (`api/0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// When failed: why, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The instances that do not hold yet.
    #[serde(default)]
    pub pending: Vec<String>,
}
