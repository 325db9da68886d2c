//! Crashes, the gate's delays, crash-loop and unblock, completion.

use crate::harness::Ward;
use serde_json::Value;

fn ms(ev: &Value) -> u64 {
    ev["ts_ms"].as_u64().unwrap()
}

#[test]
fn crash_is_restarted_and_delays_follow_the_gate() {
    let mut w = Ward::start(
        "delays",
        r#"version: 1
services:
  crashy:
    command: ["sh", "-c", "exit 7"]
    backoff: { initial: 200ms, factor: 2.0, max: 800ms, jitter: 0 }
    crash_loop: { threshold: 50, window: 60s, cooldown: 1m }
"#,
    );
    w.wait_event("crashy", 0, "started", 10); // the first start
    let mut delays = vec![];
    for _ in 0..4 {
        let exited = w.wait_event("crashy", 0, "exited", 10);
        assert_eq!(exited["exit"]["code"], 7);
        let backoff = w.wait_event("crashy", 0, "backoff", 10);
        let after = exited["seq"].as_u64().unwrap();
        let started =
            w.wait_for("the restart", 10, |e| e["kind"] == "started" && e["seq"].as_u64() > Some(after));
        delays.push(ms(&started) - ms(&exited));
        assert!(backoff["until_ms"].as_u64().unwrap() >= ms(&exited));
    }
    // The gate's delays are 200, 400, 800, 800 (capped). A restart never comes
    // early; on a busy 2-core machine it may come a little late.
    for (got, want) in delays.iter().zip([200u64, 400, 800, 800]) {
        assert!(*got + 5 >= want, "restart after {got}ms, before the gate's {want}ms: {delays:?}");
        assert!(*got <= want + 400, "restart after {got}ms, gate said {want}ms: {delays:?}");
    }
    let st = w.instance("crashy", 0);
    assert!(st["restarts"].as_u64().unwrap() >= 4);
    assert_eq!(st["last_exit"]["code"], 7);
}

#[test]
fn crash_loop_trips_at_threshold_and_unblock_releases_it() {
    let mut w = Ward::start(
        "crashloop",
        r#"version: 1
services:
  bad:
    command: ["sh", "-c", "exit 1"]
    backoff: { initial: 0s, jitter: 0 }
    crash_loop: { threshold: 3, window: 30s, cooldown: 10m }
"#,
    );
    for _ in 0..2 {
        w.wait_event("bad", 0, "exited", 10);
    }
    let trip = w.wait_for("crashloop or backoff", 10, |e| e["kind"] == "crashloop" || e["kind"] == "backoff");
    assert_eq!(trip["kind"], "crashloop", "the 3rd crash trips, not earlier: {:#?}", w.seen);
    let exits = w.seen.iter().filter(|e| e["kind"] == "exited").count();
    assert_eq!(exits, 3, "tripped at exactly the threshold");
    let st = w.instance("bad", 0);
    assert_eq!(st["state"], "crashloop");
    assert_eq!(st["gate"]["state"], "crash-loop");
    assert!(st["gate"]["until_ms"].as_u64().unwrap() > trip["ts_ms"].as_u64().unwrap() + 500_000);

    let out = w.cli(&["unblock", "bad/0"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    w.wait_event("bad", 0, "unblocked", 10);
    w.wait_event("bad", 0, "started", 10);
    // History was reset: it takes three new crashes to trip again.
    w.wait_event("bad", 0, "crashloop", 10);
    let after: Vec<&Value> =
        w.seen.iter().skip_while(|e| e["kind"] != "unblocked").filter(|e| e["kind"] == "exited").collect();
    assert_eq!(after.len(), 3);

    // Unblocking something that is not held is refused, with exit 1.
    let out = w.cli(&["unblock", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no service named nope"));
}

#[test]
fn exit_zero_completes_under_on_failure() {
    let mut w = Ward::start(
        "complete",
        r#"version: 1
services:
  job:
    command: ["sh", "-c", "echo working; exit 0"]
    restart: on-failure
"#,
    );
    let exited = w.wait_event("job", 0, "exited", 10);
    assert_eq!(exited["exit"]["code"], 0);
    w.wait_event("job", 0, "completed", 10);
    let st = w.instance("job", 0);
    assert_eq!(st["state"], "completed");
    assert_eq!(st["restarts"], 0);
    let logs = w.cli(&["logs", "job"]);
    assert_eq!(String::from_utf8_lossy(&logs.stdout), "working\n");
}

#[test]
fn exit_zero_restarts_under_always_without_counting_a_crash() {
    let mut w = Ward::start(
        "always",
        r#"version: 1
services:
  tick:
    command: ["sh", "-c", "exit 0"]
    restart: always
    backoff: { initial: 100ms, jitter: 0 }
    crash_loop: { threshold: 2 }
"#,
    );
    for _ in 0..3 {
        w.wait_event("tick", 0, "restarted", 10);
    }
    assert!(!w.seen.iter().any(|e| e["kind"] == "crashloop"), "clean exits are not crashes");
    let st = w.instance("tick", 0);
    assert_eq!(st["gate"]["crashes"], 0);
}
