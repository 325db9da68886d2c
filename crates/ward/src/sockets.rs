//! Where notify sockets live outside the state folder: below
//! `/run/ward/<hash of the state folder>/<service>.<N>/`, for instances that
//! run as another user and for containers (the folder is bind-mounted into
//! the container at [`CONTAINER_DIR`]). The health watchers bind them; the
//! OCI runtime mounts them; the keeper removes them at the end.

use std::io;
use std::path::{Path, PathBuf};
use ward_core::InstanceId;

/// The folder bound into a container, as the container sees it.
pub const CONTAINER_DIR: &str = "/run/ward";
/// `NOTIFY_SOCKET` inside a container.
pub const CONTAINER_SOCKET: &str = "/run/ward/notify.sock";

/// The folder of the socket of `id` below `/run/ward/<hash>/` (a user's or a container's).
pub fn run_dir(state: &Path, id: &InstanceId) -> PathBuf {
    user_sockets(state).join(format!("{}.{}", id.service, id.replica))
}

/// Gives the socket of `id` in its `run_dir` (a container's), if there is
/// one, to `uid` and `gid`: the user the container runs as.
pub fn hand_over(state: &Path, id: &InstanceId, uid: u32, gid: u32) -> io::Result<()> {
    let dir = run_dir(state, id);
    let sock = dir.join("notify.sock");
    if !sock.exists() {
        return Ok(());
    }
    std::os::unix::fs::chown(&dir, Some(uid), Some(gid))?;
    std::os::unix::fs::chown(&sock, Some(uid), Some(gid))
}

/// The folder of the sockets of instances that run as other users, for the
/// state folder `state` (removed at the end by the keeper).
pub fn user_sockets(state: &Path) -> PathBuf {
    let run = Path::new("/run");
    let root = if run.is_dir() { run.join("ward") } else { std::env::temp_dir().join("ward-run") };
    root.join(format!("{:016x}", fnv(state)))
}

/// FNV-1a of a path, 32 bits: the deployment's short id in journal tokens
/// and container names (stable across builds; kept as it is, since both
/// outlive a run of ward).
pub fn fnv32(path: &Path) -> u32 {
    path.as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0x811c_9dc5_u32, |h, &b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// FNV-1a of a path: stable across builds.
pub fn fnv(path: &Path) -> u64 {
    path.as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::fnv32;
    use std::path::Path;

    #[test]
    fn the_short_deployment_id_is_the_32_bit_fnv_1a_of_the_path() {
        // Journal tokens and container names of running deployments carry
        // it: it must not change between versions.
        assert_eq!(fnv32(Path::new("")), 0x811c_9dc5);
        assert_eq!(fnv32(Path::new("a")), 0xe40c_292c);
    }
}
