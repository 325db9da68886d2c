//! Scenario 5: the event stream during a storm. A follower (`ward events
//! -f --json`, as an operator would run it) reads every event as ward
//! sends it; the figure is how long after the kills the follower had every
//! event of the storm (each killed instance's `exited`, `restarted` and
//! `started`), beside how long the instances took to be back.

use crate::feed::mono_ns;
use crate::sup::Sup;
use std::io::{self, BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

/// The event stream during a storm.
#[derive(Clone, Copy, Debug, Default)]
pub struct StormEvents {
    /// From the kills until the follower read the storm's last event.
    pub delivered: Duration,
    /// From the kills until the last killed instance started again.
    pub back: Duration,
    /// How many events of the storm the follower read.
    pub events: usize,
}

/// What the follower read: (when, seq) of each event, in order.
#[derive(Default)]
struct Read {
    events: Vec<(u64, u64)>,
    ended: bool,
}

/// `ward events -f --json` of `sup`, read on a thread of its own.
struct Follower {
    child: Child,
    read: Arc<(Mutex<Read>, Condvar)>,
}

impl Follower {
    fn start(sup: &Sup) -> io::Result<Follower> {
        let mut child = sup
            .command(&["events", "--follow", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let out = child.stdout.take().ok_or_else(|| io::Error::other("no stdout"))?;
        let read: Arc<(Mutex<Read>, Condvar)> = Arc::default();
        let shared = read.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let seq =
                    serde_json::from_str::<serde_json::Value>(&line).ok().and_then(|v| v["seq"].as_u64());
                if let Some(seq) = seq {
                    lock(&shared.0).events.push((mono_ns(), seq));
                    shared.1.notify_all();
                }
            }
            lock(&shared.0).ended = true;
            shared.1.notify_all();
        });
        Ok(Follower { child, read })
    }

    /// Waits until `done` holds of what was read, or `limit` passed; false then.
    fn wait(&self, limit: Duration, done: impl Fn(&Read) -> bool) -> bool {
        let deadline = std::time::Instant::now() + limit;
        let mut read = lock(&self.read.0);
        while !done(&read) && !read.ended {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            read = self.read.1.wait_timeout(read, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        done(&read)
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Kills replicas `0..n` at once while a follower reads the event stream;
/// `last_seq` is the newest event before the storm (the follower first
/// reads the history up to it).
pub fn storm_events(sup: &mut Sup, n: usize, last_seq: u64) -> io::Result<StormEvents> {
    let follower = Follower::start(sup)?;
    let timeout =
        |what: &str| io::Error::new(io::ErrorKind::TimedOut, format!("timed out waiting for {what}"));
    let caught_up = |r: &Read| r.events.last().is_some_and(|&(_, seq)| seq >= last_seq);
    if !follower.wait(Duration::from_secs(120), caught_up) {
        return Err(timeout("the event history"));
    }
    let t = crate::scenarios::kill_oldest(sup, n);
    let last = sup.feed.all_started(n, t, Duration::from_secs(120)).ok_or_else(|| timeout("the storm"))?;
    // Each killed instance: `exited`, `restarted`, `started`.
    let wanted = 3 * n;
    let all = |r: &Read| r.events.iter().filter(|&&(_, seq)| seq > last_seq).count() >= wanted;
    if !follower.wait(Duration::from_secs(120), all) {
        return Err(timeout("the storm's events"));
    }
    let read = lock(&follower.read.0);
    let mut storm = read.events.iter().filter(|&&(_, seq)| seq > last_seq);
    let delivered = storm.nth(wanted - 1).map_or(0, |&(at, _)| at);
    Ok(StormEvents {
        delivered: Duration::from_nanos(delivered.saturating_sub(t)),
        back: Duration::from_nanos(last.saturating_sub(t)),
        events: wanted,
    })
}
