//! Container ids: the deployment's prefix, the instance, and a serial that
//! makes each spawn's unique; a `runc run` of ours is recognised again by
//! its command line.

use super::{Container, Runner, state};
use std::path::{Path, PathBuf};
use ward_core::InstanceId;

/// The container run by the process `pid` whose `/proc/PID/cmdline` is
/// `cmdline`, when that is `RUNTIME --root <state>/oci/X-root run --bundle
/// <state>/oci/bundles/B NAME` as [`OciRuntime`](super::OciRuntime) starts it.
pub(super) fn recognise(pid: u32, cmdline: &[u8]) -> Option<Container> {
    let argv: Vec<String> = cmdline
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let [binary, root_flag, root, run, bundle_flag, bundle, name] = argv.as_slice() else {
        return None;
    };
    if (root_flag.as_str(), run.as_str(), bundle_flag.as_str()) != ("--root", "run", "--bundle") {
        return None;
    }
    let state_dir = Path::new(root).parent()?;
    let bundle = PathBuf::from(bundle);
    if !bundle.starts_with(state_dir.join("bundles")) || !name.starts_with(&container_prefix(state_dir)) {
        return None;
    }
    let runtime = Runner { binary: binary.into(), root: root.into(), log: state_dir.join("runtime.log") };
    Some(Container { name: name.clone(), pid, runtime, bundle: Some(bundle) })
}

/// The prefix of every container id of the deployment whose OCI state
/// folder is `state_dir`: `ward-<8 hex digits of its hash>-`.
pub fn container_prefix(state_dir: &Path) -> String {
    format!("ward-{:08x}-", crate::sockets::fnv32(state_dir))
}

/// A container id unique to this spawn: the deployment's prefix, the
/// instance, then ward's pid and `serial` (so a new run of ward never reuses
/// the id of a container a previous run left behind).
pub fn container_name(state_dir: &Path, id: &InstanceId, serial: u64) -> String {
    let prefix = container_prefix(state_dir);
    format!("{prefix}{}-{}-{}x{serial}", id.service, id.replica, std::process::id())
}

/// The service and replica of a container id made by [`container_name`] for
/// `state_dir`; `None` for another deployment's containers.
#[allow(dead_code)] // for adoption after a crash of ward (the durability work)
pub fn instance_of(container: &str, state_dir: &Path) -> Option<(String, u32)> {
    let prefix = container_prefix(state_dir);
    state::instance_of(container, &prefix).map(|(service, replica)| (service.to_owned(), replica))
}
