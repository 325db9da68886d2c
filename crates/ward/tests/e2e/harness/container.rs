//! Container tests: the busybox rootfs they need, or a notice why they are
//! skipped, and the files a host binary needs inside a rootfs.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The busybox rootfs for container tests (`WARD_TEST_ROOTFS`), or `None`
/// with a notice naming `module::test` when containers cannot run here.
pub fn container_rootfs(module: &str, test: &str) -> Option<PathBuf> {
    let skip = |why: &str| {
        eprintln!("SKIPPED {module}::{test}: {why}");
        None
    };
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return skip("containers need root");
    }
    if Command::new("runc").arg("--version").output().is_err() {
        return skip("runc is not installed (apt-get install runc)");
    }
    match std::env::var_os("WARD_TEST_ROOTFS").map(PathBuf::from) {
        Some(dir) if dir.join("bin/busybox").exists() => Some(dir),
        _ => skip("WARD_TEST_ROOTFS does not name a busybox rootfs (scripts/busybox-rootfs.sh DIR)"),
    }
}

/// `bin` and the shared libraries it links (as `ldd` lists them), absolute:
/// what a container's rootfs needs to run a binary of the host.
pub fn with_libraries(bin: &Path) -> Vec<PathBuf> {
    let mut files = vec![bin.to_path_buf()];
    let ldd = Command::new("ldd").arg(bin).output().expect("ldd runs");
    for line in String::from_utf8_lossy(&ldd.stdout).lines() {
        let target = line.rsplit("=>").next().unwrap_or("").split_whitespace().next().unwrap_or("");
        if target.starts_with('/') {
            files.push(PathBuf::from(target));
        }
    }
    files
}
