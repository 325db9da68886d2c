//! Waiting in the harness: a short step for polling, and `eventually`, which
//! polls a condition until a deadline.

use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Waits 20 ms: only for polling another process's exit from the test harness.
pub fn wait_a_little() {
    let (_tx, rx) = mpsc::channel::<()>();
    let _ = rx.recv_timeout(Duration::from_millis(20));
}

/// Waits until `cond` holds, checking every 20 ms, for at most `secs`.
pub fn eventually(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out after {secs}s waiting for {what}");
        wait_a_little();
    }
}
