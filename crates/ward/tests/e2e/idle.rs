//! An idle ward wakes for nothing: once its services run and nothing
//! happens, neither the keeper nor the brain is scheduled.

use crate::harness::Ward;
use std::collections::HashMap;
use std::sync::mpsc;
use std::time::Duration;

/// Context switches (voluntary and not) of every thread of `pid`, by thread.
pub fn switches(pid: u32) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap().flatten() {
        let Ok(status) = std::fs::read_to_string(task.path().join("status")) else { continue };
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        let n = status
            .lines()
            .filter(|l| l.contains("ctxt_switches"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum();
        out.insert(format!("{pid}/{} ({})", task.file_name().to_string_lossy(), comm.trim()), n);
    }
    out
}

#[test]
fn an_idle_ward_wakes_for_nothing() {
    // A restart through a backoff timer and a start whose answer had a
    // deadline (10 s after its request): both timers are over once `late`
    // runs, and nothing must wake either process for them afterwards.
    let spec = r#"version: 1
services:
  steady:
    command: ["sleep", "600"]
  late:
    command: ["sh", "-c", "test -e started || { touch started; exit 1; }; exec sleep 600"]
    backoff: { initial: 1s, jitter: 0 }
"#;
    let mut w = Ward::start("idle", spec);
    w.wait_event("steady", 0, "started", 10);
    w.wait_event("late", 0, "started", 10);
    w.wait_event("late", 0, "backoff", 10);
    w.wait_event("late", 0, "started", 10); // its second run
    let (keeper, brain) = (w.up_pid(), w.brain_pid().expect("a brain"));
    let all = || -> HashMap<_, _> { switches(keeper).into_iter().chain(switches(brain)).collect() };
    // The start's last messages (the event to the harness's follower, the
    // ack to the keeper) settle first: the window opens once 300 ms pass
    // with no switch, at most 10 s after.
    let (_tx, rx) = mpsc::channel::<()>();
    let mut before = all();
    for _ in 0..33 {
        let _ = rx.recv_timeout(Duration::from_millis(300));
        let now = all();
        if now == before {
            break;
        }
        before = now;
    }
    // The measured window itself (not a wait for something to happen): it
    // covers the deadline of `late`'s start, 10 s after its request.
    let _ = rx.recv_timeout(Duration::from_secs(11));
    let after = all();
    let woken: Vec<_> = after
        .iter()
        .filter(|(t, n)| before.get(*t).is_none_or(|b| *n > b))
        .map(|(t, n)| format!("{t}: {}", n - before.get(t).copied().unwrap_or(0)))
        .collect();
    let ended: Vec<_> = before.keys().filter(|t| !after.contains_key(*t)).collect();
    assert!(woken.is_empty() && ended.is_empty(), "woken in 11 s idle: {woken:?}, ended: {ended:?}");
}
