//! The containers an OCI runtime knows, read from its state folder directly.
//!
//! runc (and crun) keep one folder per container under `--root`, with a
//! `state.json` that holds the id, the init process's pid and start time and
//! the creation time. Reading it needs no subprocess, so ward can list the
//! containers of a previous run at start-up (to adopt the live ones and
//! delete the stale ones) without ever waiting for a child.
//!
//! The status is derived as runc derives it: `stopped` when the init process
//! is gone (or its pid now belongs to another process), `created` while the
//! `exec.fifo` is still there (started but not yet running its program),
//! else `running`.

use serde::Deserialize;
use std::fs;
use std::path::Path;

/// What the runtime's state says about one container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerState {
    /// The container id (ward's are `ward-<deployment>-<service>-<replica>-<n>`).
    pub id: String,
    /// The pid of the container's init process, in ward's pid namespace.
    pub pid: u32,
    /// When it was created (RFC 3339, as the runtime wrote it).
    pub created: String,
    /// Whether it still runs.
    pub status: ContainerStatus,
}

/// The life stage of a container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContainerStatus {
    /// Set up, its program not started yet.
    Created,
    /// Its init process runs.
    Running,
    /// Its init process is gone: only its state is left, to delete.
    Stopped,
}

/// The fields of runc's `state.json` that ward reads.
#[derive(Deserialize)]
struct RawState {
    id: String,
    init_process_pid: u32,
    #[serde(default)]
    init_process_start: Option<u64>,
    #[serde(default)]
    created: String,
}

/// Every container in the runtime state folder `root`, by id. A folder
/// without a readable `state.json` (one being created or deleted) is skipped;
/// a missing `root` is an empty list.
#[allow(dead_code)] // read at start-up by adoption (the durability work)
pub fn list_containers(root: &Path) -> Vec<ContainerState> {
    let mut found: Vec<ContainerState> = fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| read_state(&entry.path()))
        .collect();
    found.sort_by(|a, b| a.id.cmp(&b.id));
    found
}

/// The state of the container whose folder is `dir`.
pub fn read_state(dir: &Path) -> Option<ContainerState> {
    let text = fs::read_to_string(dir.join("state.json")).ok()?;
    let raw: RawState = serde_json::from_str(&text).ok()?;
    let alive = raw.init_process_pid > 0
        && match raw.init_process_start {
            Some(start) => crate::runtime::process::process_start_time(raw.init_process_pid) == Some(start),
            None => Path::new(&format!("/proc/{}", raw.init_process_pid)).exists(),
        }
        && !is_zombie(raw.init_process_pid);
    let status = match (alive, dir.join("exec.fifo").exists()) {
        (false, _) => ContainerStatus::Stopped,
        (true, true) => ContainerStatus::Created,
        (true, false) => ContainerStatus::Running,
    };
    Some(ContainerState { id: raw.id, pid: raw.init_process_pid, created: raw.created, status })
}

/// Whether `pid` is a zombie (dead, not yet reaped).
fn is_zombie(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')))
}

/// The service name and replica in a ward container id made by
/// [`super::container_name`] with this `prefix` (`ward-<hash>-`).
#[allow(dead_code)] // read at start-up by adoption (the durability work)
pub fn instance_of<'a>(id: &'a str, prefix: &str) -> Option<(&'a str, u32)> {
    let rest = id.strip_prefix(prefix)?;
    let mut parts = rest.rsplitn(3, '-');
    let _serial = parts.next()?;
    let replica = parts.next()?.parse().ok()?;
    let service = parts.next().filter(|s| !s.is_empty())?;
    Some((service, replica))
}
