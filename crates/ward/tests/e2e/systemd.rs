//! ward under systemd: the real sd_notify protocol, with this test in
//! systemd's place (a datagram socket named by `NOTIFY_SOCKET`); `ward
//! ready`, the same readiness as a probe for orchestrators; and the
//! unit `ward export systemd` writes, checked by `systemd-analyze verify`
//! when it is installed. systemd itself does not run here (not PID 1).

use crate::harness::{TempDir, Ward, eventually, ward_bin};
use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What the test, as systemd, received.
struct Manager {
    socket: UnixDatagram,
    got: Vec<String>,
}

impl Manager {
    /// Waits (with a deadline) for a message with a line that matches; returns the message.
    fn wait(&mut self, what: &str, secs: u64, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        if let Some(m) = self.got.iter().find(|m| m.lines().any(&pred)) {
            return m.clone();
        }
        let mut buf = vec![0u8; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "timed out after {secs}s waiting for {what}; got {:#?}", self.got);
            self.socket.set_read_timeout(Some(left)).unwrap();
            let Ok(n) = self.socket.recv(&mut buf) else { continue };
            let message = String::from_utf8_lossy(&buf[..n]).into_owned();
            self.got.push(message.clone());
            if message.lines().any(&pred) {
                return message;
            }
        }
    }
}

#[test]
fn ward_up_speaks_sd_notify_ready_status_watchdog_stopping() {
    let dir = TempDir::new("sdnotify");
    let path = dir.0.join("notify.sock");
    let mut manager = Manager { socket: UnixDatagram::bind(&path).unwrap(), got: Vec::new() };
    let (seen, open) = (dir.0.join("seen.txt"), dir.0.join("open"));
    let script = format!(
        "echo \"socket=${{NOTIFY_SOCKET:-none}} watchdog=${{WATCHDOG_USEC:-none}}\" > {}; exec sleep 300",
        seen.display()
    );
    let spec = format!(
        "version: 1\nservices:\n  plain:\n    command: [\"sleep\", \"300\"]\n  env:\n    command: [\"sh\", \"-c\", {script:?}]\n  gated:\n    command: [\"sleep\", \"300\"]\n    ready: {{ exec: [\"test\", \"-f\", {:?}], interval: 100ms }}\n",
        open.display().to_string()
    );
    let socket = path.display().to_string();
    let env = [("NOTIFY_SOCKET", socket.as_str()), ("WATCHDOG_USEC", "400000")];
    let mut w = Ward::start_in(dir, &spec, &env);
    // Everything runs, but `gated` has not passed its readiness check: no READY=1 yet.
    manager.wait("a status with 3 running", 20, |l| l == "STATUS=3 instances: 3 running");
    assert!(!manager.got.iter().any(|m| m.contains("READY=1")), "ready too early: {:#?}", manager.got);
    // `ward ready`, the orchestrators' probe, follows the same rule.
    let probe = w.cli(&["ready"]);
    assert_eq!(probe.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&probe.stdout), "not ready: 3 instances: 3 running\n");
    std::fs::write(&open, "").unwrap();
    let ready = manager.wait("READY=1", 20, |l| l == "READY=1");
    assert!(ready.contains("STATUS=3 instances: 1 ready, 2 running"), "{ready}");
    manager.wait("WATCHDOG=1", 10, |l| l == "WATCHDOG=1");
    let probe = w.cli(&["ready"]);
    assert!(probe.status.success(), "{}", String::from_utf8_lossy(&probe.stdout));
    // No service inherits systemd's variables.
    eventually("env's seen.txt", 20, || std::fs::read_to_string(&seen).is_ok_and(|s| s.ends_with('\n')));
    assert_eq!(std::fs::read_to_string(&seen).unwrap(), "socket=none watchdog=none\n");
    assert!(w.cli(&["down"]).status.success());
    manager.wait("STOPPING=1", 20, |l| l == "STOPPING=1");
    assert_eq!(w.wait_exit(30), 0);
    let readies = manager.got.iter().filter(|m| m.contains("READY=1")).count();
    assert_eq!(readies, 1, "{:#?}", manager.got);
}

#[test]
fn export_systemd_writes_a_notify_unit_that_systemd_analyze_accepts() {
    let dir = TempDir::new("export");
    let spec = dir.0.join("ward.yaml");
    std::fs::write(&spec, "version: 1\nservices:\n  web:\n    command: [\"sleep\", \"300\"]\n").unwrap();
    let out = dir.0.join("units");
    let run = Command::new(ward_bin())
        .args(["export", "systemd", "-f"])
        .arg(&spec)
        .arg("-o")
        .arg(&out)
        .args(["--name", "shop"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let unit_path = out.join("shop.service");
    let unit = std::fs::read_to_string(&unit_path).unwrap();
    let exe = ward_bin().display().to_string();
    for line in [
        "Type=notify".to_string(),
        "NotifyAccess=all".to_string(),
        "KillMode=mixed".to_string(),
        format!("ExecStart={exe} up -f {}", spec.display()),
        "TimeoutStopSec=20".to_string(),
        "WantedBy=multi-user.target".to_string(),
    ] {
        assert!(unit.lines().any(|l| l == line), "expected `{line}` in:\n{unit}");
    }
    let Ok(verify) = Command::new("systemd-analyze").args(["verify", "--man=no"]).arg(&unit_path).output()
    else {
        eprintln!("systemd-analyze is not installed: the unit's syntax was not verified");
        return;
    };
    let said = String::from_utf8_lossy(&verify.stderr);
    assert!(verify.status.success() && !said.contains("ignoring"), "systemd-analyze verify: {said}");
}
