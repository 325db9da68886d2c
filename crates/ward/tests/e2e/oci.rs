//! Containers through runc: the same supervision as processes (exit codes to
//! the gate, stop timeout, completion, `down`, logs), and nothing left in
//! runc's state afterwards.
//!
//! They need root, runc on PATH, and a busybox rootfs named by
//! `WARD_TEST_ROOTFS` (scripts/test.sh builds one with
//! scripts/busybox-rootfs.sh); without them each test prints why it is
//! skipped and passes.

use crate::harness::{TempDir, Ward, alive, eventually, wait_a_little, with_libraries};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The rootfs to use, or `None` (with a notice) when containers cannot run here.
fn rootfs(test: &str) -> Option<PathBuf> {
    crate::harness::container_rootfs("oci", test)
}

/// A spec with one container service `box` running `script` in busybox sh.
fn spec(rootfs: &Path, script: &str, extra: &str) -> String {
    format!(
        "version: 1\nservices:\n  box:\n    image: {{ rootfs: {} }}\n    command: [\"sh\", \"-c\", {script:?}]\n{extra}",
        rootfs.display()
    )
}

/// The containers runc knows under ward's runtime root for `w`.
fn runc_list(w: &Ward) -> Vec<String> {
    let Ok(out) = Command::new("runc").arg("--root").arg(runc_root(w)).args(["list", "-q"]).output() else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

fn runc_root(w: &Ward) -> PathBuf {
    w.state().join("oci/runc-root")
}

/// A ward running containers. When a test ends (passed or failed), ward is
/// killed first (so it starts nothing more), then every container left under
/// its runc root is force-deleted, so none outlives the test.
struct OciWard(Ward);

impl OciWard {
    fn start(tag: &str, yaml: &str) -> OciWard {
        OciWard(Ward::start(tag, yaml))
    }
}

impl std::ops::Deref for OciWard {
    type Target = Ward;
    fn deref(&self) -> &Ward {
        &self.0
    }
}

impl std::ops::DerefMut for OciWard {
    fn deref_mut(&mut self) -> &mut Ward {
        &mut self.0
    }
}

impl Drop for OciWard {
    fn drop(&mut self) {
        if let Some(mut up) = self.0.up.take() {
            let _ = up.kill();
            let _ = up.wait();
        }
        let root = runc_root(&self.0);
        for id in runc_list(&self.0) {
            let _ = Command::new("runc").arg("--root").arg(&root).args(["delete", "--force", &id]).output();
        }
        // Let each `runc run` finish its own teardown (its cgroups) before
        // the harness kills what is left by pid.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !runc_processes(&root).is_empty() && std::time::Instant::now() < deadline {
            wait_a_little();
        }
    }
}

/// The pids of runc processes working on the runc root `root`.
fn runc_processes(root: &Path) -> Vec<u32> {
    let needle = root.display().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).replace('\0', " ").contains(&needle))
        })
        .filter(|pid| alive(*pid))
        .collect()
}

#[test]
fn a_container_exiting_3_is_restarted_through_its_gate_and_its_output_is_logged() {
    let Some(rootfs) = rootfs("exit_3") else { return };
    let script = "echo hello from $(hostname) replica $WARD_REPLICA; exit 3";
    let extra = "    backoff: { initial: 200ms, jitter: 0 }\n    crash_loop: { threshold: 10 }\n";
    let mut w = OciWard::start("oci-exit3", &spec(&rootfs, script, extra));
    w.wait_event("box", 0, "started", 20);
    let exited = w.wait_event("box", 0, "exited", 20);
    assert_eq!(exited["exit"]["code"], 3, "the container's exit code: {exited}");
    w.wait_event("box", 0, "backoff", 5);
    w.wait_event("box", 0, "started", 10);
    assert!(w.instance("box", 0)["restarts"].as_u64().unwrap() >= 1);
    let logs = || String::from_utf8_lossy(&w.cli(&["logs", "box"]).stdout).to_string();
    eventually("the container's output in `ward logs`", 10, || {
        logs().contains("hello from box-0 replica 0\n")
    });
}

#[test]
fn a_container_ignoring_sigterm_is_killed_after_the_timeout_and_deleted() {
    let Some(rootfs) = rootfs("stubborn") else { return };
    let script = "trap '' TERM; while true; do sleep 1; done";
    let extra = "    stop: { signal: SIGTERM, timeout: 1s }\n";
    let mut w = OciWard::start("oci-stubborn", &spec(&rootfs, script, extra));
    w.wait_event("box", 0, "started", 20);
    eventually("the container runs", 10, || runc_list(&w).len() == 1);
    assert!(w.cli(&["stop", "box"]).status.success());
    let exited = w.wait_event("box", 0, "exited", 15);
    // runc reports a container killed by signal N as exit code 128+N.
    assert_eq!(exited["exit"]["code"], 128 + 9, "killed after the timeout: {exited}");
    assert!(exited["run_ms"].as_u64().unwrap() >= 1000, "not before the timeout: {exited}");
    w.wait_event("box", 0, "stopped", 5);
    eventually("no container left in runc's state", 10, || runc_list(&w).is_empty());
    assert_eq!(w.instance("box", 0)["state"], "stopped");
}

#[test]
fn a_container_exiting_0_completes() {
    let Some(rootfs) = rootfs("exit_0") else { return };
    let mut w = OciWard::start("oci-exit0", &spec(&rootfs, "echo done", ""));
    let exited = w.wait_event("box", 0, "exited", 20);
    assert_eq!(exited["exit"]["code"], 0, "{exited}");
    w.wait_event("box", 0, "completed", 5);
    assert_eq!(w.instance("box", 0)["state"], "completed");
    eventually("no container left in runc's state", 10, || runc_list(&w).is_empty());
}

#[test]
fn down_leaves_no_container_and_ward_up_exits_0() {
    let Some(rootfs) = rootfs("down") else { return };
    let script = "trap 'echo bye; exit 0' TERM; while true; do sleep 1; done";
    let mut w = OciWard::start("oci-down", &spec(&rootfs, script, "    replicas: 2\n"));
    w.wait_event("box", 0, "started", 20);
    w.wait_event("box", 1, "started", 20);
    eventually("both containers run", 10, || runc_list(&w).len() == 2);
    assert!(w.cli(&["down"]).status.success());
    assert_eq!(w.wait_exit(30), 0);
    eventually("no container left in runc's state", 10, || runc_list(&w).is_empty());
    let log = std::fs::read_to_string(w.state().join("logs/box.0.log")).unwrap_or_default();
    assert!(log.contains("bye"), "the stop signal reached the container's trap: {log:?}");
}

#[test]
fn resource_limits_reach_the_container_cgroup() {
    let Some(rootfs) = rootfs("limits") else { return };
    // cgroup v2 shows the limit as memory.max, v1 as memory.limit_in_bytes.
    let script =
        "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes";
    let extra = "    resources: { memory: 64MiB }\n";
    let mut w = OciWard::start("oci-limits", &spec(&rootfs, script, extra));
    let exited = w.wait_event("box", 0, "exited", 20);
    assert_eq!(exited["exit"]["code"], 0, "{exited}");
    let logs = String::from_utf8_lossy(&w.cli(&["logs", "box"]).stdout).to_string();
    assert_eq!(logs.trim(), (64 << 20).to_string());
}

#[test]
fn after_kill_9_of_ward_up_the_running_container_is_adopted_not_duplicated() {
    let Some(root) = rootfs("after_kill_9_of_ward_up_the_running_container_is_adopted_not_duplicated") else {
        return;
    };
    let mut w = OciWard::start("oci-adopt", &spec(&root, "while true; do echo alive; sleep 0.2; done", ""));
    let pid = w.wait_event("box", 0, "started", 20)["pid"].as_u64().unwrap() as u32;
    eventually("the container listed", 20, || runc_list(&w).len() == 1);
    let before = runc_list(&w);
    w.kill9_and_rerun();
    let adopted = w.wait_event("box", 0, "adopted", 20);
    assert_eq!(adopted["pid"].as_u64(), Some(u64::from(pid)), "the same runc process");
    assert!(alive(pid));
    assert_eq!(runc_list(&w), before, "the same container, and only it");
    assert_eq!(w.instance("box", 0)["state"], "running");
    // Still supervised: `down` stops it and leaves nothing in runc's state.
    assert!(w.cli(&["down"]).status.success());
    assert_eq!(w.wait_exit(30), 0);
    eventually("no container left", 20, || runc_list(&w).is_empty());
}

#[test]
fn a_container_tells_its_readiness_and_status_through_its_notify_socket() {
    let Some(rootfs) = rootfs("notify") else { return };
    let notify = Path::new("/usr/bin/systemd-notify");
    if !notify.exists() {
        eprintln!("SKIPPED oci::notify: no /usr/bin/systemd-notify (apt-get install systemd)");
        return;
    }
    // A copy of the rootfs with the host's systemd-notify and the libraries it links.
    let copy = TempDir::new("oci-notify-rootfs");
    let root = copy.0.join("rootfs");
    assert!(Command::new("cp").arg("-a").arg(&rootfs).arg(&root).status().unwrap().success());
    for file in with_libraries(notify) {
        let to = root.join(file.strip_prefix("/").unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&file, &to).unwrap();
    }
    let script = "systemd-notify --ready --status='up in a box' && echo notified; exec sleep 600";
    let mut w = OciWard::start(
        "oci-notify",
        &spec(&root, script, "    ready: { notify: true }\n    stop: { timeout: 1s }\n"),
    );
    let wait = w.cli(&["wait", "box", "--for", "ready", "--timeout", "30s"]);
    assert!(wait.status.success(), "ward wait: {}", String::from_utf8_lossy(&wait.stdout));
    let row = w.instance("box", 0);
    assert_eq!((row["state"].as_str(), row["status_text"].as_str()), (Some("ready"), Some("up in a box")));
    // systemd-notify's barrier was released inside the container.
    let logs = || String::from_utf8_lossy(&w.cli(&["logs", "box"]).stdout).to_string();
    eventually("systemd-notify to return", 10, || logs().contains("notified"));
    assert!(w.cli(&["down"]).status.success());
    assert_eq!(w.wait_exit(30), 0);
    eventually("no container left", 20, || runc_list(&w).is_empty());
}
