//! A cgroup per native instance: nothing an instance starts escapes ward
//! (double forks and `setsid` included), its limits are the kernel's, and its
//! CPU time, memory and OOM kills are counted exactly.
//!
//! The keeper creates one folder for the deployment below its own cgroup in
//! each hierarchy it uses (`ward-<hash of the state folder>`), and one folder
//! per instance below that (`<service>@<replica>`), before the instance's
//! exec: the child is born in its v2 folder (`clone3(CLONE_INTO_CGROUP)`)
//! and writes itself into each v1 `cgroup.procs` before its exec, so not one
//! of its instructions runs outside. Every native instance gets one unless
//! its service says `cgroup: false`. ward never touches a
//! cgroup it did not create; it removes each instance's folders once its last
//! process is gone, and the deployment's when it ends.
//!
//! Hosts: on cgroup v2, one folder per instance does everything (`cgroup.kill`,
//! `memory.max`, `cpu.max`, `pids.max`, `memory.events`). On a hybrid host (v1
//! controllers beside a v2 hierarchy without them) the v2 folder tracks and
//! kills, and v1 `memory` (always, for usage and OOM kills), `cpu` and `pids`
//! (when limited) folders apply the limits. On v1 alone, the `freezer`
//! folder tracks: a kill freezes it, SIGKILLs every pid in it, and thaws.
//! Where none can be created (no permission, no hierarchy, `WARD_CGROUP=off`)
//! ward says so once and falls back to process groups.
//!
//! - `detect`: the hierarchies and ward's own place in them.
//! - `create`: the deployment's and instances' folders, placing a child.
//! - `limits`: `resources:` written into the controllers.
//! - `kill`: every process of an instance, at once.
//! - `stats`: CPU time, memory, OOM kills.

mod create;
pub mod detect;
mod kill;
mod limits;
pub mod oom;
pub(crate) mod stats;

pub use create::{Instance, V2Entry};
pub use detect::{Controller, Layout};
pub use kill::Events;
pub use stats::Stats;

use std::path::{Path, PathBuf};

/// Ward's cgroups on this host: the deployment's folder in each hierarchy used.
#[derive(Clone, Debug)]
pub struct Cgroups {
    /// The v2 folder of the deployment, and the controllers enabled below it.
    v2: Option<(PathBuf, Vec<String>)>,
    /// v1 folders of the deployment, by controller.
    v1: Vec<(Controller, PathBuf)>,
    /// `v2`, `hybrid` or `v1`.
    kind: &'static str,
    /// The deployment's v2 `cpu.stat`, opened at its first read (see [`Cgroups::flush_counters`]).
    flusher: std::sync::Arc<std::sync::OnceLock<Option<std::os::fd::OwnedFd>>>,
}

/// Why ward runs without cgroups.
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    /// Turned off by the environment.
    #[error("turned off by WARD_CGROUP=off")]
    Off,
    /// No hierarchy that can track processes (no v2, no v1 freezer).
    #[error("no cgroup hierarchy that can hold processes (cgroups: {0})")]
    NoHierarchy(&'static str),
    /// The folder could not be made (read-only mount, no permission…).
    #[error("cannot create {path}: {source}")]
    Create {
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `/proc` could not be read.
    #[error("cannot read /proc/self/cgroup: {0}")]
    Proc(#[source] std::io::Error),
}

/// An operation on an instance's cgroup that failed.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// A limit was asked for whose controller ward cannot use here.
    #[error("resources.{key}: no {controller} controller available to ward on this host (cgroups: {kind})")]
    NoController {
        /// The spec key.
        key: &'static str,
        /// The controller.
        controller: &'static str,
        /// The host's cgroups.
        kind: &'static str,
    },
    /// The instance's folder is frozen (by its `cgroup.freeze` or a parent's).
    #[error(
        "cgroup {path} is frozen: nothing is started in it until it is thawed (write 0 to cgroup.freeze \
         there, or in the parent that froze it)"
    )]
    Frozen {
        /// The folder.
        path: PathBuf,
    },
    /// A folder or control file could not be made or written.
    #[error("cgroup {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl Cgroups {
    /// Creates the deployment's folders for the state folder `state` (the
    /// keeper, at start). `WARD_CGROUP=off` turns cgroups off, `v1` ignores
    /// the v2 hierarchy (to exercise the v1 path on a hybrid host).
    pub fn setup(state: &Path) -> Result<Cgroups, Unavailable> {
        let mode = std::env::var("WARD_CGROUP").unwrap_or_default();
        if mode == "off" {
            return Err(Unavailable::Off);
        }
        let mut layout = Layout::of_self().map_err(Unavailable::Proc)?;
        if mode == "v1" {
            layout.v2 = None;
        }
        let cgroups = create::deployment(&layout, &base_name(state))?;
        // A record of what ward made, for whoever cleans up after a kill -9 of ward.
        let list: String = cgroups.dirs().map(|d| format!("{}\n", d.display())).collect();
        let _ = std::fs::write(state.join(RECORD), list);
        Ok(cgroups)
    }

    /// The deployment's folders.
    fn dirs(&self) -> impl Iterator<Item = &PathBuf> {
        self.v2.iter().map(|(d, _)| d).chain(self.v1.iter().map(|(_, d)| d))
    }

    /// The deployment's folders as the keeper made them, for reading (the
    /// brain); `None` when the keeper runs without cgroups.
    pub fn find(state: &Path) -> Option<Cgroups> {
        let mode = std::env::var("WARD_CGROUP").unwrap_or_default();
        if mode == "off" {
            return None;
        }
        let mut layout = Layout::of_self().ok()?;
        if mode == "v1" {
            layout.v2 = None;
        }
        create::existing(&layout, &base_name(state))
    }

    /// One line for logs and `status`: the kind of host and the folder that
    /// tracks the processes.
    pub fn describe(&self) -> String {
        format!("cgroup {} at {}", self.kind, self.tracker().display())
    }

    /// The folder whose `cgroup.procs` holds every process of an instance below it.
    fn tracker(&self) -> &Path {
        match (&self.v2, self.v1_dir(Controller::Freezer)) {
            (Some((dir, _)), _) => dir,
            (None, Some(dir)) => dir,
            (None, None) => Path::new("/"),
        }
    }

    fn v1_dir(&self, c: Controller) -> Option<&PathBuf> {
        self.v1.iter().find(|(k, _)| *k == c).map(|(_, d)| d)
    }

    /// Removes the deployment's folders (the keeper's end, once every
    /// instance is down) and their record in the state folder `state`. An
    /// instance folder still there (made for a spawn that then failed) is
    /// emptied and removed first.
    pub fn remove(&self, state: &Path) {
        let _ = std::fs::remove_file(state.join(RECORD));
        let mut names: Vec<String> = self.dirs().flat_map(|d| subfolders(d)).collect();
        names.sort();
        names.dedup();
        for name in names {
            let inst = self.instance(&name);
            inst.kill_and_wait(std::time::Duration::from_secs(2));
            inst.remove();
        }
        for dir in self.dirs() {
            if let Err(e) = std::fs::remove_dir(dir) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!("cannot remove cgroup {}: {e}", dir.display());
                }
            }
        }
    }
}

/// The names of the folders in `dir`.
fn subfolders(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// The file in the state folder that lists the deployment's cgroup folders.
pub const RECORD: &str = "cgroups";

/// The deployment's folder name: one per state folder, so that two wards on
/// one host never share one, and a restarted keeper finds its own again.
fn base_name(state: &Path) -> String {
    let path = std::fs::canonicalize(state).unwrap_or_else(|_| state.to_path_buf());
    // FNV-1a: stable across builds, unlike std's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in path.as_os_str().as_encoded_bytes() {
        hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("ward-{hash:016x}")
}

/// An instance's folder name, `service@replica`.
pub fn instance_name(instance: &str) -> String {
    instance.replace('/', "@")
}

#[cfg(test)]
mod tests;
