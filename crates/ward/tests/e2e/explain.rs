//! Explainable supervision: crash dossiers, `logs --previous`, `ward why`,
//! exit classes, the node restart budget, dependency-aware parking.

use crate::harness::{Ward, eventually};
use serde_json::Value;

fn why(w: &Ward, target: &str) -> Value {
    let out = w.cli(&["why", target, "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice::<Value>(&out.stdout).unwrap()["instances"][0].clone()
}

#[test]
fn a_crash_carries_its_dossier_and_the_previous_run_is_kept() {
    let mut w = Ward::start(
        "dossier",
        r#"version: 1
services:
  bad:
    command: ["sh", "-c", "n=$(cat runs 2>/dev/null || echo 0); n=$((n+1)); echo $n > runs; i=0; while [ $i -lt 60 ]; do echo run $n line $i; i=$((i+1)); done; echo dying >&2; exit 3"]
    backoff: { initial: 2s, jitter: 0 }
"#,
    );
    let exited = w.wait_event("bad", 0, "exited", 10);
    let d = &exited["dossier"];
    assert_eq!(exited["exit"]["code"], 3);
    let output: Vec<&str> = d["output"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert_eq!(output.len(), 50, "the last 50 lines");
    assert_eq!(output.last(), Some(&"dying"));
    assert_eq!(output[0], "run 1 line 11");
    assert_eq!(d["restarts"], 0);
    assert_eq!(d["decision"]["state"], "backoff");
    let until = d["decision"]["until_ms"].as_u64().unwrap();
    let ts = exited["ts_ms"].as_u64().unwrap();
    assert!((1900..=2100).contains(&(until - ts)), "next attempt in 2s: {}", until - ts);
    assert!(d["rusage"]["max_rss_kb"].as_u64().unwrap() > 0, "{d}");
    assert!(d["rusage"].get("cpu_ms").is_some());

    // `why` explains the backoff in numbers.
    let y = why(&w, "bad/0");
    assert_eq!(y["state"], "backoff");
    assert_eq!((y["crashes"].as_u64(), y["threshold"].as_u64()), (Some(1), Some(5)));
    assert_eq!((y["next_delay_ms"].as_u64(), y["delay_after_next_ms"].as_u64()), (Some(4000), Some(8000)));
    assert!(y["left_ms"].as_u64().unwrap() <= 2000);
    let text = y["text"].as_str().unwrap();
    assert!(text.contains("1 of 5 crashes"), "{text}");
    assert!(text.contains("ward unblock bad/0"), "{text}");
    assert!(text.contains("last unblock:  never"), "{text}");

    // After the restart, --previous prints the first run, not the second.
    let out = w.cli(&["unblock", "bad/0"]);
    assert!(out.status.success());
    let second = w.wait_event("bad", 0, "exited", 10);
    assert_eq!(second["dossier"]["restarts"], 1);
    eventually("the previous run kept", 10, || {
        let prev = String::from_utf8_lossy(&w.cli(&["logs", "--previous", "bad/0", "-n", "1000"]).stdout)
            .to_string();
        prev.starts_with("run 2 line 0\n") && prev.ends_with("dying\n") && !prev.contains("run 1 ")
    });
    let y = why(&w, "bad/0");
    assert_eq!(y["last_unblock_uid"].as_u64(), Some(u64::from(unsafe { libc::getuid() })));
    assert!(y["text"].as_str().unwrap().contains("last unblock:  "));
}

#[test]
fn exit_classes_complete_fast_and_stop_a_config_error_at_once() {
    let mut w = Ward::start(
        "classes",
        r#"version: 1
services:
  term:
    command: ["sh", "-c", "exit 143"]
    exit_codes: { success: [0, 143] }
  config:
    command: ["sh", "-c", "echo bad config >&2; exit 78"]
    restart: always
    exit_codes: { no_restart: [78] }
  flat:
    command: ["sh", "-c", "exit 0"]
    restart: always
    success_backoff: { initial: 50ms, factor: 1.0, max: 50ms, jitter: 0 }
    backoff: { initial: 10s }
"#,
    );
    w.wait_event("term", 0, "completed", 10);
    let e = w.wait_event("config", 0, "exited", 10);
    assert_eq!(e["dossier"]["decision"]["state"], "failed");
    assert!(e["dossier"]["decision"]["reason"].as_str().unwrap().contains("exit_codes.no_restart"));
    eventually("config failed", 10, || w.instance("config", 0)["state"] == "failed");
    let y = why(&w, "config/0");
    assert!(y["rule"].as_str().unwrap().contains("exit code 78 is listed in exit_codes.no_restart"), "{y}");
    for _ in 0..3 {
        w.wait_event("flat", 0, "restarted", 10);
    }
    assert_eq!(w.instance("flat", 0)["gate"]["crashes"], 0);
}

#[test]
fn why_and_the_dossier_give_the_one_recorded_decision_for_a_signal_in_no_restart() {
    let mut w = Ward::start(
        "decision",
        r#"version: 1
services:
  termed:
    command: ["sh", "-c", "kill -15 $$$$"]
    restart: always
    exit_codes: { no_restart: [143] }
"#,
    );
    let e = w.wait_event("termed", 0, "exited", 10);
    let reason = e["dossier"]["decision"]["reason"].as_str().unwrap().to_string();
    assert_eq!(reason, "signal SIGTERM (143) is listed in exit_codes.no_restart: no restart");
    eventually("termed failed", 10, || w.instance("termed", 0)["state"] == "failed");
    let y = why(&w, "termed/0");
    assert_eq!(y["rule"].as_str().unwrap(), reason, "why reads the same decision: {y}");
}

#[test]
fn the_restart_budget_holds_its_rate_under_a_storm_and_nobody_starves() {
    let mut w = Ward::start(
        "budget",
        r#"version: 1
restart_budget: { rate: 100/s, burst: 20 }
services:
  storm:
    command: ["sh", "-c", "exit 1"]
    replicas: 25
    backoff: { initial: 0s, jitter: 0 }
    crash_loop: { threshold: 1000, window: 1s }
"#,
    );
    let mut restarts: Vec<(u64, u64)> = Vec::new();
    while restarts.len() < 500 {
        let ev = w.wait_for("restarts", 30, |e| e["kind"] == "started" && e["seq"].as_u64().is_some());
        if w.seen.iter().filter(|e| e["kind"] == "started").count() > 25 {
            restarts.push((ev["ts_ms"].as_u64().unwrap(), ev["replica"].as_u64().unwrap()));
        }
    }
    // In any one-second window, at most rate + burst restarts.
    let worst = restarts
        .iter()
        .map(|(t, _)| restarts.iter().filter(|(u, _)| *u >= *t && *u < t + 1000).count())
        .max()
        .unwrap();
    // A restart is admitted when the budget allows; its `started` event comes
    // once the keeper answered the spawn, a moment later: on a loaded machine
    // a few answers can bunch up, hence a small slack over 100/s + 20.
    assert!(worst <= 132, "{worst} restarts in one second, over the budget of 100/s + 20");
    // Fair: every replica got its share.
    for r in 0..25 {
        let n = restarts.iter().filter(|(_, rep)| *rep == r).count();
        assert!(n >= 10, "replica {r} restarted only {n} times out of 500: it starved");
    }
}

#[test]
fn a_crash_whose_dependency_is_down_waits_for_it() {
    let mut w = Ward::start(
        "parking",
        r#"version: 1
services:
  db:
    command: ["sh", "-c", "if [ -e db-ok ]; then exec sleep 600; fi; sleep 0.3; exit 1"]
    backoff: { initial: 1m }
  api:
    command: ["sh", "-c", "sleep 0.6; exit 1"]
    depends_on: [db]
    backoff: { initial: 0s }
"#,
    );
    w.wait_event("db", 0, "backoff", 10);
    w.wait_event("api", 0, "exited", 10);
    eventually("api parked", 10, || w.instance("api", 0)["state"] == "waiting");
    let y = why(&w, "api/0");
    assert!(y["rule"].as_str().unwrap().contains("waits for db to be ready"), "{y}");
    std::fs::write(w.dir.0.join("db-ok"), "").unwrap();
    assert!(w.cli(&["unblock", "db"]).status.success());
    w.wait_event("db", 0, "started", 10);
    w.wait_event("api", 0, "started", 10);
}
