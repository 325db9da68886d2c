//! The CLI contract: check, status, logs, reload, the socket, errors.

use crate::harness::{TempDir, Ward, ward_bin};
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

const SLEEPER: &str = r#"version: 1
services:
  web:
    command: ["sh", "-c", "echo \"port=$PORT replica=$WARD_REPLICA\"; exec sleep 600"]
    replicas: 2
    ports: { PORT: 19100 }
"#;

#[test]
fn check_reports_ok_and_errors_with_positions() {
    let dir = TempDir::new("check");
    let good = dir.0.join("good.yaml");
    std::fs::write(&good, SLEEPER).unwrap();
    let out = Command::new(ward_bin()).args(["check", "-f"]).arg(&good).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok: 1 service, 2 instances"));

    let bad = dir.0.join("bad.yaml");
    std::fs::write(
        &bad,
        "version: 1\nservices:\n  a:\n    command: [x]\n    backoff: { jitter: 1.5 }\n    depends_on: [b]\n  b:\n    command: [y]\n    depends_on: [a]\n",
    )
    .unwrap();
    let out = Command::new(ward_bin()).args(["check", "-f"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.yaml:5:24: services.a.backoff.jitter"), "{err}");
    assert!(err.contains("a -> b -> a"), "the cycle is named: {err}");
}

#[test]
fn examples_check_clean() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    for entry in std::fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let out = Command::new(ward_bin()).args(["check", "-f"]).arg(&path).output().unwrap();
            assert!(out.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
        }
    }
}

#[test]
fn a_client_without_a_daemon_says_so_and_exits_1() {
    let dir = TempDir::new("nodaemon");
    let spec = dir.0.join("ward.yaml");
    std::fs::write(&spec, SLEEPER).unwrap();
    let out = Command::new(ward_bin()).args(["status", "-f"]).arg(&spec).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("ward is not running"), "{err}");
}

#[test]
fn socket_is_private_replicas_get_their_ports_and_logs_are_kept() {
    let mut w = Ward::start("socket", SLEEPER);
    w.wait_event("web", 0, "started", 10);
    w.wait_event("web", 1, "started", 10);
    let mode = std::fs::metadata(w.state().join("ward.sock")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let dir_mode = std::fs::metadata(w.state()).unwrap().permissions().mode();
    assert_eq!(dir_mode & 0o777, 0o700);
    for r in 0..2u32 {
        let want = format!("port={} replica={r}\n", 19100 + r);
        crate::harness::eventually("log line", 10, || {
            String::from_utf8_lossy(&w.cli(&["logs", &format!("web/{r}")]).stdout) == want
        });
    }
    let both = String::from_utf8_lossy(&w.cli(&["logs", "web", "-n", "5"]).stdout).to_string();
    assert!(both.contains("web/0 | port=19100") && both.contains("web/1 | port=19101"), "{both}");
    let table = String::from_utf8_lossy(&w.cli(&["status"]).stdout).to_string();
    assert!(table.starts_with("INSTANCE"), "{table}");
    assert!(table.contains("web/1") && table.contains("running"), "{table}");
}

#[test]
fn a_second_ward_up_on_the_same_state_folder_refuses() {
    let w = Ward::start("twice", SLEEPER);
    let out = Command::new(ward_bin()).args(["up", "-f"]).arg(&w.spec).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already runs on the state folder"), "{err}");
}

#[test]
fn reload_with_an_invalid_spec_changes_nothing_and_a_valid_one_applies() {
    let mut w = Ward::start("reload", SLEEPER);
    w.wait_event("web", 1, "started", 10);
    let before: Vec<_> = w.status().iter().map(|i| i["pid"].clone()).collect();
    std::fs::write(&w.spec, SLEEPER.replace("replicas: 2", "replicas: 2\n    restart: sometimes")).unwrap();
    let out = w.cli(&["reload"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ward.yaml:6:14: services.web.restart"), "{err}");
    let after: Vec<_> = w.status().iter().map(|i| i["pid"].clone()).collect();
    assert_eq!(before, after, "nothing restarted");

    std::fs::write(&w.spec, SLEEPER.replace("replicas: 2", "replicas: 3")).unwrap();
    let out = w.cli(&["reload"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    w.wait_event("web", 2, "started", 10);
    let pids: Vec<_> = w.status().iter().map(|i| i["pid"].clone()).collect();
    assert_eq!(&pids[..2], &before[..], "unchanged replicas kept running");
}

#[test]
fn status_json_has_the_contract_fields() {
    let mut w = Ward::start("json", SLEEPER);
    w.wait_event("web", 0, "started", 10);
    let i = w.instance("web", 0);
    for key in ["service", "replica", "state", "pid", "restarts", "uptime_ms", "last_exit", "gate"] {
        assert!(i.get(key).is_some(), "missing {key}: {i}");
    }
    assert!(i["gate"].get("state").is_some() && i["gate"].get("until_ms").is_some());
    let out = w.cli(&["events", "--json"]);
    let first: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    for key in ["seq", "ts", "kind", "service", "replica"] {
        assert!(first.get(key).is_some(), "missing {key}: {first}");
    }
    assert_eq!(first["seq"], 1);
}
