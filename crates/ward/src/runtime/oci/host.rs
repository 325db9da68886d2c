//! What the host offers containers: the OCI runtime binary, and the cgroup
//! controllers that resource limits need.
//!
//! Both are read from the file system only (no subprocess): `PATH` for the
//! binary, `/sys/fs/cgroup` for the controllers (cgroup v2's
//! `cgroup.controllers`, or the v1 hierarchies mounted one per controller).

use super::ContainerError;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Where binaries are looked up when ward has no `PATH`.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The runtime binary: `path` when given (it must be an executable file),
/// else the first executable `name` in `PATH`.
pub fn runtime_binary(name: &str, path: Option<&Path>) -> Result<PathBuf, ContainerError> {
    if let Some(path) = path {
        return match is_executable(path) {
            true => Ok(path.to_owned()),
            false => Err(ContainerError::RuntimePath(path.to_owned())),
        };
    }
    let search = std::env::var_os("PATH").unwrap_or_else(|| DEFAULT_PATH.into());
    search
        .as_bytes()
        .split(|&b| b == b':')
        .filter(|dir| !dir.is_empty())
        .map(|dir| Path::new(OsStr::from_bytes(dir)).join(name))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| ContainerError::RuntimeNotFound(name.to_owned()))
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The cgroup controllers a container's limits can use on this host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Controllers {
    /// Controller names (`memory`, `pids`, `cpu`, …).
    pub available: Vec<String>,
    /// Where they were read from, for messages.
    pub source: String,
}

impl Controllers {
    /// The controllers under the cgroup mount `root` (normally `/sys/fs/cgroup`).
    pub fn detect(root: &Path) -> Controllers {
        let unified = root.join("cgroup.controllers");
        if let Ok(text) = fs::read_to_string(&unified) {
            let available = text.split_whitespace().map(str::to_owned).collect();
            return Controllers { available, source: unified.display().to_string() };
        }
        // cgroup v1: one hierarchy per controller, `cpu` often as `cpu,cpuacct`.
        let mut available = Vec::new();
        for entry in fs::read_dir(root).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir() || t.is_symlink()) {
                let name = entry.file_name().to_string_lossy().into_owned();
                available.extend(name.split(',').filter(|c| !c.is_empty()).map(str::to_owned));
            }
        }
        available.sort();
        available.dedup();
        Controllers { available, source: format!("the cgroup v1 hierarchies under {}", root.display()) }
    }

    /// Whether `controller` is there.
    pub fn has(&self, controller: &str) -> bool {
        self.available.iter().any(|c| c == controller)
    }

    /// An error unless `controller` is there, for the limit `key`.
    pub fn require(&self, key: &str, controller: &str) -> Result<(), ContainerError> {
        if self.has(controller) {
            return Ok(());
        }
        Err(ContainerError::NoController {
            key: key.to_owned(),
            controller: controller.to_owned(),
            found_in: self.source.clone(),
        })
    }
}
