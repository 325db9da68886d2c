//! Standing orders: the keeper restarts at once what the policy restarts at
//! once, even while the brain is frozen; the brain then records it all, and a
//! stop never races a restart; and what the brain says back after such a
//! restart wakes none of the keeper's threads.

use crate::harness::{Ward, alive, eventually, kill};

const QUICK: &str = r#"version: 1
services:
  quick:
    command: ["sh", "-c", "echo run $$$$; exec sleep 600"]
    backoff: { initial: 0s, jitter: 0 }
"#;

/// Sends SIGCONT to a frozen brain when dropped, even if the test fails.
struct Thaw(u32);

impl Drop for Thaw {
    fn drop(&mut self) {
        kill(self.0 as i32, libc::SIGCONT);
    }
}

/// The keeper's children that run `sleep`, other than `except`.
fn sleepers(w: &Ward, except: u32) -> Vec<u32> {
    let keeper = w.up_pid();
    crate::harness::children(keeper)
        .into_iter()
        .filter(|&pid| pid != except && alive(pid))
        .filter(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.starts_with(b"sleep")))
        .collect()
}

/// Kills `quick`'s process while the brain is frozen: the keeper restarts it
/// alone. Returns the replacement's pid, once the brain has recorded it, and
/// the `exited` event.
fn restart_with_the_brain_frozen(w: &mut Ward, old: u32) -> (u32, serde_json::Value) {
    // A request is answered only after the input before it (the `started`
    // that arms the order) is handled to its end, order sent to the keeper.
    w.status();
    let brain = w.brain_pid().expect("a brain");
    assert!(kill(brain as i32, libc::SIGSTOP));
    let thaw = Thaw(brain);
    assert!(kill(old as i32, libc::SIGKILL));
    let mut new = vec![];
    eventually("the keeper's own restart", 10, || {
        new = sleepers(w, old);
        !new.is_empty()
    });
    assert_eq!(new.len(), 1, "one replacement: {new:?}");
    w.track(new[0]);
    drop(thaw);
    let exited = w.wait_event("quick", 0, "exited", 10);
    assert_eq!(exited["exit"]["signal"], 9, "{exited}");
    w.wait_event("quick", 0, "restarted", 10);
    let started = w.wait_event("quick", 0, "started", 10);
    assert_eq!(started["pid"], new[0], "the brain took the keeper's replacement");
    (new[0], exited)
}

#[test]
fn the_keeper_restarts_at_once_and_the_brain_records_it() {
    let mut w = Ward::start("orders", QUICK);
    let first = w.wait_event("quick", 0, "started", 10)["pid"].as_u64().unwrap() as u32;
    let log = w.state().join("logs").join("quick.0.log");
    eventually("the first run's output", 10, || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.contains(&format!("run {first}")))
    });
    let (second, exited) = restart_with_the_brain_frozen(&mut w, first);
    assert!(!alive(first));
    let st = w.instance("quick", 0);
    assert_eq!(
        (st["state"].as_str(), st["pid"].as_u64(), st["restarts"].as_u64()),
        (Some("running"), Some(second as u64), Some(1))
    );

    // The previous run's output is the first run's only, though the
    // replacement wrote to the same file before the brain saw the exit.
    eventually("the second run's output", 10, || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.contains(&format!("run {second}")))
    });
    let mut previous = String::new();
    eventually("logs --previous", 10, || {
        let out = w.cli(&["logs", "quick/0", "--previous"]);
        previous = String::from_utf8_lossy(&out.stdout).into_owned();
        previous.contains(&format!("run {first}"))
    });
    assert!(!previous.contains(&format!("run {second}")), "{previous}");
    // So is the output in the crash's dossier.
    let output = exited["dossier"]["output"].to_string();
    assert!(
        output.contains(&format!("run {first}")) && !output.contains(&format!("run {second}")),
        "{output}"
    );

    // Again, after the brain itself was killed: the new brain gives its orders anew.
    let brain = w.brain_pid().expect("a brain");
    assert!(kill(brain as i32, libc::SIGKILL));
    w.wait_new_brain(brain);
    let (third, _) = restart_with_the_brain_frozen(&mut w, second);
    assert_eq!(w.instance("quick", 0)["restarts"], 2);
    assert_eq!(sleepers(&w, 0), vec![third], "nothing else runs");
}

#[test]
fn a_stop_never_races_a_restart() {
    let mut w = Ward::start("orders-stop", QUICK);
    let mut pid = w.wait_event("quick", 0, "started", 10)["pid"].as_u64().unwrap() as u32;
    for round in 0..5 {
        let out = w.cli(&["stop", "quick"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let ev =
            w.wait_for("stopped, or a restart", 10, |e| e["kind"] == "stopped" || e["kind"] == "restarted");
        assert_eq!(ev["kind"], "stopped", "round {round}: {ev}");
        eventually("the process gone", 10, || !alive(pid));
        assert_eq!(sleepers(&w, 0), Vec::<u32>::new(), "round {round}: nothing runs after a stop");
        assert!(w.cli(&["start", "quick"]).status.success());
        pid = w.wait_event("quick", 0, "started", 10)["pid"].as_u64().unwrap() as u32;
    }
}

#[test]
fn the_brain_answers_a_restart_under_a_standing_order_without_waking_the_keeper() {
    let mut w = Ward::start("orders-mailbox", QUICK);
    let mut pid = w.wait_event("quick", 0, "started", 10)["pid"].as_u64().unwrap() as u32;
    w.status(); // answered once the input that armed the order ended
    let keeper = w.up_pid();
    // The thread that reads the brain's connection: the orders and acks that
    // follow a restart go to the keeper's mailbox instead.
    let reader = || -> u64 {
        crate::idle::switches(keeper)
            .into_iter()
            .filter(|(t, _)| t.contains("ward-keeper-con"))
            .map(|(_, n)| n)
            .sum()
    };
    let before = reader();
    for n in 1..=3 {
        assert!(kill(pid as i32, libc::SIGKILL));
        w.wait_event("quick", 0, "restarted", 10);
        let started = w.wait_event("quick", 0, "started", 10);
        let new = started["pid"].as_u64().unwrap() as u32;
        assert_ne!(new, pid);
        w.track(new);
        pid = new;
        w.status();
        assert_eq!(w.instance("quick", 0)["restarts"], n);
    }
    assert_eq!(reader(), before, "the keeper's reader was woken");
    // Each replacement got its order through the mailbox: with the brain
    // frozen, the keeper restarts the last one alone.
    let (fourth, _) = restart_with_the_brain_frozen(&mut w, pid);
    assert_eq!(sleepers(&w, 0), vec![fourth], "nothing else runs");
}

/// Enough instances that their exit reports overflow the socket to a brain
/// that reads nothing (a thousand did, with a blocking write).
const MANY: usize = 1500;

#[test]
fn a_brain_that_reads_nothing_never_stops_the_keeper_restarting() {
    let spec = format!(
        r#"version: 1
services:
  many:
    command: ["sleep", "600"]
    replicas: {MANY}
    backoff: {{ initial: 0s, jitter: 0 }}
    crash_loop: {{ threshold: 100000, window: 1s, cooldown: 1s }}
"#
    );
    let mut w = Ward::start("orders-stalled", &spec);
    let running = |w: &mut Ward| w.status().iter().filter(|i| i["state"] == "running").count();
    eventually("every instance running", 60, || running(&mut w) == MANY);
    // Answered once every start was recorded and its order sent.
    w.status();
    let old = sleepers(&w, 0);
    assert_eq!(old.len(), MANY);
    let brain = w.brain_pid().expect("a brain");
    assert!(kill(brain as i32, libc::SIGSTOP));
    let thaw = Thaw(brain);
    for &pid in &old {
        assert!(kill(pid as i32, libc::SIGKILL));
    }
    // The keeper restarts every one alone, though its reports pile up unread.
    let mut new = vec![];
    eventually("the keeper's restart of every instance", 60, || {
        new = sleepers(&w, 0);
        new.len() == MANY && !new.iter().any(|p| old.contains(p))
    });
    for &pid in &new {
        w.track(pid);
    }
    // Thawed, the brain reads every report, in order, and records it all.
    drop(thaw);
    eventually("every restart recorded", 60, || {
        let st = w.status();
        st.len() == MANY
            && st.iter().all(|i| {
                i["state"] == "running"
                    && i["restarts"] == 1
                    && i["pid"].as_u64().is_some_and(|p| new.contains(&(p as u32)))
            })
    });
}
