//! One-shot setup steps and `depends_on` conditions, `ward wait`, and
//! `ward up -d --wait`, on real processes.

use crate::harness::{TempDir, Ward, alive, eventually, kill, ward_bin};
use std::process::{Command, Output, Stdio};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `migrate` is a one-shot that exits with `code` after a moment; `api`
/// waits for it to complete, and for `db` to start.
fn spec(code: i32) -> String {
    format!(
        r#"version: 1
services:
  db:
    command: ["sleep", "600"]
  migrate:
    command: "sh -c 'sleep 0.3; exit {code}'"
    restart: never
  api:
    command: ["sleep", "600"]
    depends_on: {{ migrate: completed, db: started }}
"#
    )
}

#[test]
fn a_one_shot_gates_its_dependent_and_wait_returns_when_it_runs() {
    let mut w = Ward::start("wait-ok", &spec(0));
    let out = w.cli(&["wait", "api", "--for", "running", "--timeout", "30s"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "api: running\n");
    let completed = w.wait_event("migrate", 0, "completed", 10);
    let started = w.wait_event("api", 0, "started", 10);
    assert!(started["seq"].as_u64() > completed["seq"].as_u64(), "{completed} {started}");
    let out = w.cli(&["wait", "migrate/0", "--for", "completed"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = w.cli(&["wait", "db", "--for", "completed", "--timeout", "1s"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("ward: timed out after 1s waiting for db to be completed; not yet: db/0\n"),
        "{err}"
    );
    assert!(err.contains("db/0 is running: it runs"), "the pending instance's why: {err}");
}

#[test]
fn a_failed_one_shot_blocks_its_dependent_with_a_reason() {
    let mut w = Ward::start("wait-failed", &spec(3));
    let out = w.cli(&["wait", "api", "--for", "ready", "--timeout", "30s"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with(
            "ward: gave up waiting for api to be ready: api/0 waits for migrate; migrate failed with code 3\n"
        ),
        "{err}"
    );
    assert!(
        err.contains("api/0 is waiting: it waits for migrate to complete; migrate failed with code 3"),
        "{err}"
    );
    let why = text(&w.cli(&["why", "api"]).stdout);
    assert!(why.contains("waits for migrate to complete; migrate failed with code 3"), "{why}");
    assert_eq!(w.instance("api", 0)["state"], "waiting");
}

/// `ward up -d --wait` in a fresh folder; returns its output and the folder.
fn up_detached(tag: &str, yaml: &str) -> (Output, TempDir) {
    let dir = TempDir::new(tag);
    std::fs::write(dir.0.join("ward.yaml"), yaml).unwrap();
    let out = Command::new(ward_bin())
        .args(["up", "-d", "--wait", "--wait-timeout", "30s", "-f"])
        .arg(dir.0.join("ward.yaml"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (out, dir)
}

/// `ward down`, then waits for the detached ward (pid from its first line) to exit.
fn down(dir: &TempDir, out: &Output) {
    let pid: Option<u32> = text(&out.stdout)
        .split("(pid ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .and_then(|p| p.parse().ok());
    let down = Command::new(ward_bin()).arg("down").arg("-f").arg(dir.0.join("ward.yaml")).output().unwrap();
    assert!(down.status.success(), "{}", text(&down.stderr));
    if let Some(pid) = pid {
        eventually("the detached ward exits", 30, || !alive(pid));
        kill(pid as i32, libc::SIGKILL);
    }
}

#[test]
fn up_detached_wait_returns_once_everything_settled_or_fails_with_why() {
    let (out, dir) = up_detached("wait-up-ok", &spec(0));
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        text(&out.stdout).ends_with("every service is ready, running or completed\n"),
        "{}",
        text(&out.stdout)
    );
    let status =
        Command::new(ward_bin()).args(["status", "-f"]).arg(dir.0.join("ward.yaml")).output().unwrap();
    let table = text(&status.stdout);
    assert!(table.contains("completed") && table.contains("running"), "{table}");
    down(&dir, &out);

    let (out, dir) = up_detached("wait-up-failed", &spec(3));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(err.contains("migrate failed with code 3"), "{err}");
    assert!(err.contains(" is failed: ") || err.contains(" is waiting: "), "a why is printed: {err}");
    down(&dir, &out);
}
