//! The protocol between the keeper and the brain: one JSON object per line
//! over the keeper's Unix socket (`.ward/keeper.sock`, mode 0600).
//!
//! On attach the keeper says `Hello` (the instance processes it holds), then
//! re-sends every exit the brain has not acknowledged, in order. The brain
//! acknowledges an exit once the store has recorded it, and skips exits whose
//! sequence number it has already recorded: a brain restart loses nothing
//! and duplicates nothing.
//!
//! Standing orders (`Arm`) let the keeper restart an instance the moment it
//! exits, as fast as a bare supervisor loop; the exit then reaches the brain
//! with its replacement, and the brain records both and decides as usual
//! (killing the replacement if the decision has changed meanwhile). A new
//! brain starts with no order in force: the keeper drops them on attach.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use ward_core::ExitStatus;
use ward_core::deployment::StandingOrder;
use ward_supervisor::ports::runtime::{KnownChild, Launch};

/// A launch on the wire (native processes only: the brain turns containers
/// into `runc run` launches before they get here).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WireLaunch {
    /// `service/N`.
    pub instance: String,
    /// The argv.
    pub argv: Vec<String>,
    /// Extra environment.
    pub env: Vec<(String, String)>,
    /// Working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workdir: Option<PathBuf>,
    /// User to run as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Output file.
    pub log: PathBuf,
    /// Cgroup, limits, group, umask (left out when all are defaults).
    #[serde(default, skip_serializing_if = "is_default")]
    pub process: ward_supervisor::ports::runtime::ProcessOptions,
}

/// True for the default process options (none of them set).
fn is_default(p: &ward_supervisor::ports::runtime::ProcessOptions) -> bool {
    *p == ward_supervisor::ports::runtime::ProcessOptions::default()
}

impl WireLaunch {
    /// The wire form of a launch.
    pub fn of(l: &Launch) -> Self {
        WireLaunch {
            instance: l.id.to_string(),
            argv: l.argv.clone(),
            env: l.env.clone(),
            workdir: l.workdir.clone(),
            user: l.user.clone(),
            log: l.log.clone(),
            process: l.process.clone(),
        }
    }
}

/// What the brain asks of the keeper.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ToKeeper {
    /// Fork and exec an instance; answered by `Spawned` or `SpawnFailed` with the same `req`.
    Spawn {
        /// Request number.
        req: u64,
        /// What to run.
        launch: Box<WireLaunch>,
    },
    /// Send a signal to the process group led by `pid`.
    Signal {
        /// The group leader.
        pid: u32,
        /// The signal.
        sig: i32,
    },
    /// The instance led by `pid` exited: SIGKILL what is left of its group.
    Cleanup {
        /// The group leader.
        pid: u32,
        /// Its instance (`service/N`): for a process the keeper did not start
        /// (adopted after a crash of the keeper), its cgroup is found by name.
        #[serde(default)]
        instance: Option<String>,
    },
    /// A standing order: when process `order.pid` exits with a status the
    /// order covers, start `launch` at once (replacing any earlier order of
    /// that pid; used once).
    Arm {
        /// Which process, and which of its exits.
        order: StandingOrder,
        /// What to start instead: a [`WireLaunch`]'s JSON, kept by the
        /// keeper as it came (it is parsed only when the order is used).
        launch: Box<serde_json::value::RawValue>,
    },
    /// Withdraws the standing order of process `pid`.
    Disarm {
        /// The process.
        pid: u32,
    },
    /// The instance of process `from` lives on in `to` (sd_notify
    /// `MAINPID=`): its cgroup is cleaned up with `to`, not at the exit of `from`.
    Handover {
        /// Its main process until now (alive, or exited).
        from: u32,
        /// Its main process from now on.
        to: u32,
    },
    /// Every exit up to this sequence number is recorded.
    Ack {
        /// The sequence number.
        seq: u64,
    },
    /// The brain listens: a waiting `ward up -d` may return.
    Ready,
    /// Everything is down: exit with this code once the brain has exited.
    Done {
        /// `ward up`'s exit code.
        code: i32,
    },
}

/// What the keeper tells the brain.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ToBrain {
    /// First message after attaching.
    Hello {
        /// The keeper's pid.
        keeper_pid: u32,
        /// Instance processes alive, or exited with the exit not yet acknowledged.
        children: Vec<KnownChild>,
        /// Instance processes an earlier keeper started that still run (from
        /// its journal): the brain adopts or discards each.
        #[serde(default)]
        strays: Vec<KnownChild>,
        /// What holds each instance's processes: its cgroups, or process groups and why.
        #[serde(default)]
        isolation: Option<String>,
    },
    /// A spawn succeeded.
    Spawned {
        /// Request number.
        req: u64,
        /// The new process.
        pid: u32,
        /// Its start time, when the keeper's clock told it (see `runtime::birth`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        start_time: Option<u64>,
    },
    /// A spawn failed.
    SpawnFailed {
        /// Request number.
        req: u64,
        /// Why.
        error: String,
    },
    /// An instance process exited.
    Exit {
        /// The keeper's sequence number, increasing by one.
        seq: u64,
        /// The pid.
        pid: u32,
        /// How it ended.
        status: ExitStatus,
        /// What it used.
        #[serde(default)]
        rusage: Option<ward_supervisor::ports::runtime::Rusage>,
        /// The replacement already started under its standing order.
        #[serde(default)]
        respawned: Option<ward_supervisor::ports::runtime::Respawned>,
        /// What its cgroup counted over the run.
        #[serde(default)]
        cgroup: Option<ward_supervisor::ports::usage::CgroupStats>,
    },
}

/// Where the mailbox (see `keeper::mailbox`) of the keeper listening at
/// `keeper_socket` is.
pub fn mailbox_of(keeper_socket: &std::path::Path) -> std::path::PathBuf {
    keeper_socket.with_extension("mailbox")
}

/// The largest datagram of the brain's to the keeper's mailbox (whole
/// lines: messages as [`encode`] makes them).
pub const MAX_DATAGRAM: usize = 64 * 1024;

/// Encodes a message as one line.
pub fn encode<T: Serialize>(msg: &T) -> Vec<u8> {
    let mut line = serde_json::to_vec(msg).unwrap_or_default();
    line.push(b'\n');
    line
}

/// The number of this keeper's `counter`-th exit: its epoch (taken from
/// the store at its start, above every earlier keeper's) in the high 32 bits,
/// the counter in the low ones. Numbers grow by construction, never from a
/// clock, so a brain may skip an exit whose number it has recorded: it is
/// that very exit (one keeper sends its exits in order; a dead keeper sends
/// nothing more).
pub fn exit_number(epoch: u64, counter: u64) -> u64 {
    (epoch << 32) | (counter & 0xffff_ffff)
}
