//! Panic policies: isolate, shutdown of a service, shutdown of everything.

use crate::harness::Ward;

#[test]
fn isolate_leaves_the_instance_down_with_its_exit_and_logs() {
    let mut w = Ward::start(
        "isolate",
        r#"version: 1
services:
  web:
    command: ["sh", "-c", "echo replica $WARD_REPLICA dying >&2; exit 4"]
    replicas: 2
    on_panic: isolate
"#,
    );
    w.wait_event("web", 0, "isolated", 10);
    w.wait_event("web", 1, "isolated", 10);
    for r in 0..2 {
        let st = w.instance("web", r);
        assert_eq!(st["state"], "isolated");
        assert_eq!(st["last_exit"]["code"], 4);
        assert_eq!(st["restarts"], 0);
        assert!(st["pid"].is_null());
    }
    let logs = w.cli(&["logs", "web/1"]);
    assert_eq!(String::from_utf8_lossy(&logs.stdout), "replica 1 dying\n");
    assert!(!w.seen.iter().any(|e| e["kind"] == "restarted"));
}

#[test]
fn shutdown_stops_every_replica_of_the_service() {
    let mut w = Ward::start(
        "shutdown",
        r#"version: 1
services:
  pool:
    command: ["sh", "-c", "if [ $WARD_REPLICA = 0 ]; then sleep 0.3; exit 9; fi; exec sleep 600"]
    replicas: 3
    on_panic: shutdown
  other:
    command: ["sleep", "600"]
"#,
    );
    w.wait_event("pool", 0, "exited", 10);
    w.wait_event("pool", 0, "shutdown", 10);
    w.wait_event("pool", 1, "shutdown", 15);
    w.wait_event("pool", 2, "shutdown", 15);
    for r in 0..3 {
        let st = w.instance("pool", r);
        assert_eq!(st["state"], "shutdown");
        assert!(st["pid"].is_null());
    }
    assert_eq!(w.instance("other", 0)["state"], "running", "other services keep running");
    // It stays down until an operator starts it.
    let out = w.cli(&["start", "pool"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    w.wait_event("pool", 1, "started", 10);
}

#[test]
fn shutdown_scope_all_makes_ward_up_exit_with_the_failed_code() {
    let mut w = Ward::start(
        "scopeall",
        r#"version: 1
services:
  main:
    command: ["sh", "-c", "sleep 0.3; exit 42"]
    on_panic: { action: shutdown, scope: all }
  sidecar:
    command: ["sleep", "600"]
"#,
    );
    let pid = w.wait_event("sidecar", 0, "started", 10)["pid"].as_u64().unwrap() as u32;
    assert_eq!(w.wait_exit(20), 42);
    assert!(!crate::harness::alive(pid), "the sidecar was stopped");
}

#[test]
fn restart_never_leaves_a_crash_failed() {
    let mut w = Ward::start(
        "never",
        r#"version: 1
services:
  once:
    command: ["sh", "-c", "exit 2"]
    restart: never
"#,
    );
    w.wait_event("once", 0, "exited", 10);
    crate::harness::eventually("state failed", 10, || w.instance("once", 0)["state"] == "failed");
}
