//! ward as a container's init: `ward up` is PID 1 of a runc container made
//! from the busybox rootfs (`WARD_TEST_ROOTFS`), with the ward binary and the
//! glibc libraries it links (found with `ldd`) bind-mounted read-only from
//! the host. It reaps orphans, passes the failing instance's exit code out
//! under `scope: all`, and stops gracefully on `runc kill TERM`.
//!
//! Needs root, runc and the rootfs (scripts/test.sh provides them); without
//! them each test prints why it is skipped and passes.

use crate::harness::{TempDir, eventually, wait_a_little, ward_bin, with_libraries};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The rootfs to use, or `None` (with a notice) when containers cannot run here.
fn rootfs(test: &str) -> Option<PathBuf> {
    crate::harness::container_rootfs("init", test)
}

/// A running `runc run` whose process is `ward up -f /app/ward.yaml`.
struct Container {
    dir: TempDir,
    id: String,
    run: Option<Child>,
}

impl Container {
    fn start(tag: &str, rootfs: &Path, spec: &str) -> Container {
        let dir = TempDir::new(tag);
        let copy = dir.0.join("rootfs");
        let cp = Command::new("cp").arg("-a").arg(rootfs).arg(&copy).status().unwrap();
        assert!(cp.success(), "cannot copy the rootfs");
        std::fs::create_dir_all(copy.join("app")).unwrap();
        std::fs::write(copy.join("app/ward.yaml"), spec).unwrap();
        std::fs::write(dir.0.join("config.json"), config().to_string()).unwrap();
        let id = format!("ward-init-{}-{tag}", std::process::id());
        let log = std::fs::File::create(dir.0.join("run.log")).unwrap();
        let run = Command::new("runc")
            .arg("--root")
            .arg(dir.0.join("runc-root"))
            .args(["run", "--bundle"])
            .arg(&dir.0)
            .arg(&id)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let c = Container { dir, id, run: Some(run) };
        eventually("ward to start in the container", 30, || c.log().contains("supervising /app/ward.yaml"));
        c
    }

    /// A file of the container's filesystem, seen from the host.
    fn file(&self, path: &str) -> PathBuf {
        self.dir.0.join("rootfs").join(path.trim_start_matches('/'))
    }

    /// What `runc run` (ward's stdout and stderr) wrote so far.
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("run.log")).unwrap_or_default()
    }

    fn runc(&self, args: &[&str]) -> Output {
        Command::new("runc").arg("--root").arg(self.dir.0.join("runc-root")).args(args).output().unwrap()
    }

    /// Runs `script` with busybox sh inside the container.
    fn exec(&self, script: &str) -> Output {
        self.runc(&["exec", &self.id, "sh", "-c", script])
    }

    /// Waits for `runc run` (so ward, the container's init) to end; its exit code.
    fn wait_exit(&mut self, secs: u64) -> i32 {
        let mut run = self.run.take().expect("runc run already waited for");
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = run.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = run.kill();
                let _ = run.wait();
                panic!("the container did not exit within {secs}s; its log:\n{}", self.log());
            }
            wait_a_little();
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = self.runc(&["delete", "--force", &self.id]);
        if let Some(mut run) = self.run.take() {
            let _ = run.kill();
            let _ = run.wait();
        }
    }
}

/// The OCI config: `runc spec`'s defaults without a terminal, a writable
/// root, and ward plus the libraries it links bind-mounted read-only.
fn config() -> Value {
    let ward = ward_bin();
    let mut mounts = vec![bind(&ward.display().to_string(), "/usr/local/bin/ward")];
    for lib in with_libraries(&ward).iter().skip(1).filter_map(|l| l.to_str()) {
        mounts.push(bind(lib, lib));
    }
    let dir = TempDir::new("init-spec");
    let made = Command::new("runc").args(["spec", "--bundle"]).arg(&dir.0).status().unwrap();
    assert!(made.success(), "runc spec failed");
    let mut c: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.0.join("config.json")).unwrap()).unwrap();
    c["process"]["terminal"] = json!(false);
    c["process"]["args"] = json!(["/usr/local/bin/ward", "up", "-f", "/app/ward.yaml"]);
    c["process"]["cwd"] = json!("/app");
    c["root"] = json!({ "path": "rootfs", "readonly": false });
    c["mounts"].as_array_mut().unwrap().extend(mounts);
    c
}

fn bind(source: &str, destination: &str) -> Value {
    json!({ "destination": destination, "type": "bind", "source": source, "options": ["bind", "ro"] })
}

#[test]
fn as_pid_1_ward_reaps_orphans_and_exits_with_the_failing_code() {
    let Some(rootfs) = rootfs("reaps_and_exits") else { return };
    let spec = r#"version: 1
services:
  orphans:
    command: ["sh", "-c", "( sh -c 'echo $$ > /app/orphan.pid; exec sleep 1' & ); exec sleep 300"]
  failing:
    command: ["sh", "-c", "while [ ! -e /app/fail ]; do sleep 0.1; done; exit 7"]
    on_panic: { action: shutdown, scope: all }
"#;
    let mut c = Container::start("reap", &rootfs, spec);
    let pid_file = c.file("/app/orphan.pid");
    eventually("the orphan's pid", 20, || {
        std::fs::read_to_string(&pid_file).is_ok_and(|s| s.ends_with('\n'))
    });
    let orphan = std::fs::read_to_string(&pid_file).unwrap().trim().to_string();
    let init = c.exec("cat /proc/1/cmdline | tr '\\0' ' '");
    assert!(String::from_utf8_lossy(&init.stdout).starts_with("/usr/local/bin/ward up"), "PID 1 is ward");
    // Its parent exited at once; once it ends (after 1s) it must be reaped: no zombie left.
    eventually("the orphan reaped", 20, || !c.exec(&format!("test -e /proc/{orphan}")).status.success());
    let zombies = c.exec("grep -l '^State:.Z' /proc/[0-9]*/status || true");
    assert_eq!(String::from_utf8_lossy(&zombies.stdout).trim(), "", "zombies in the container");
    std::fs::write(c.file("/app/fail"), "").unwrap();
    assert_eq!(c.wait_exit(30), 7, "ward passes the failing instance's code out:\n{}", c.log());
    assert!(c.log().contains("exiting with 7"), "{}", c.log());
}

#[test]
fn as_pid_1_ward_stops_gracefully_on_runc_kill_term() {
    let Some(rootfs) = rootfs("sigterm") else { return };
    let spec = r#"version: 1
services:
  app:
    command: ["sh", "-c", "trap 'echo term > /app/term; exit 0' TERM; while true; do sleep 0.1; done"]
    stop: { timeout: 10s }
  db:
    command: ["sleep", "300"]
"#;
    let mut c = Container::start("term", &rootfs, spec);
    eventually("both services started", 20, || c.log().matches(" started pid=").count() >= 2);
    let sent = Instant::now();
    let kill = c.runc(&["kill", &c.id, "TERM"]);
    assert!(kill.status.success(), "runc kill: {}", String::from_utf8_lossy(&kill.stderr));
    assert_eq!(c.wait_exit(20), 0, "a clean stop exits 0:\n{}", c.log());
    assert!(sent.elapsed() < Duration::from_secs(10), "stopped within the stop timeout");
    assert_eq!(std::fs::read_to_string(c.file("/app/term")).unwrap_or_default(), "term\n", "app got SIGTERM");
    assert!(c.log().contains("SIGTERM: stopping every service"), "{}", c.log());
}
