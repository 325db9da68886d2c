//! What the keeper says to its brain, written without ever waiting for it.
//!
//! The keeper's loop must go on reaping, journaling and forking the
//! replacements that standing orders allow however slowly the brain reads:
//! a brain stalled on its disk, stopped, or busy with a storm must not stop
//! the restarts the keeper can make alone. A blocking write did: once the
//! socket's buffer was full (about a thousand exit reports), the loop slept
//! in `write` until the brain read again, every exit behind it waiting.
//!
//! So bytes go straight to the socket while it has room (`MSG_DONTWAIT`:
//! the one system call of a report, as before); what does not fit waits in
//! a backlog, and a thread of the connection's own, started the first time
//! one is needed, writes it out as the brain reads. Whatever is said while
//! a backlog waits joins it, behind it: the brain reads everything, in the
//! order it was said.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

/// The keeper's writer to one brain connection.
pub(super) struct Outgoing {
    shared: Arc<Shared>,
}

struct Shared {
    stream: UnixStream,
    state: Mutex<State>,
    /// Wakes the backlog's thread: more to write, or the connection closed.
    more: Condvar,
}

#[derive(Default)]
struct State {
    /// What waits for room in the socket, in order.
    backlog: Vec<u8>,
    /// The backlog's thread is writing what it took from `backlog`.
    writing: bool,
    /// A write failed (the brain is gone): nothing more is written.
    failed: bool,
    /// The keeper let the connection go.
    closed: bool,
    /// The backlog's thread was started.
    started: bool,
}

impl Outgoing {
    /// A writer to `stream`.
    pub(super) fn new(stream: UnixStream) -> Outgoing {
        let shared = Shared { stream, state: Mutex::default(), more: Condvar::new() };
        Outgoing { shared: Arc::new(shared) }
    }

    /// Says `bytes` after everything said before; never waits for the brain.
    /// Once a write failed (the brain is gone), says nothing more: a next
    /// brain is told everything again when it attaches.
    pub(super) fn send(&self, bytes: &[u8]) {
        let mut state = self.shared.lock();
        if state.failed || bytes.is_empty() {
            return;
        }
        let mut rest = bytes;
        if !state.writing && state.backlog.is_empty() {
            match write_now(&self.shared.stream, rest) {
                Ok(n) => rest = &rest[n..],
                Err(_) => {
                    state.failed = true;
                    return;
                }
            }
        }
        if rest.is_empty() {
            return;
        }
        state.backlog.extend_from_slice(rest);
        if !state.started {
            let shared = self.shared.clone();
            let started =
                std::thread::Builder::new().name("ward-keeper-out".into()).spawn(move || shared.drain());
            if let Err(e) = started {
                // Without a thread, the loop writes it out itself, as it once did.
                tracing::warn!("keeper: cannot start a writer to the brain ({e}); writing in the loop");
                let backlog = std::mem::take(&mut state.backlog);
                state.failed = (&self.shared.stream).write_all(&backlog).is_err();
                return;
            }
            state.started = true;
        }
        self.shared.more.notify_one();
    }

    /// Bytes waiting for the brain to read (for tests).
    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.shared.lock().backlog.len()
    }
}

impl Drop for Outgoing {
    fn drop(&mut self) {
        // The backlog's thread ends once its write returns (a brain that
        // went away fails it at once).
        self.shared.lock().closed = true;
        self.shared.more.notify_all();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The backlog's thread: writes the backlog out, waiting as long as the
    /// brain takes to read, until the connection is let go or fails.
    fn drain(&self) {
        let mut state = self.lock();
        loop {
            while state.backlog.is_empty() && !state.closed {
                state = self.more.wait(state).unwrap_or_else(PoisonError::into_inner);
            }
            if state.closed {
                return;
            }
            let bytes = std::mem::take(&mut state.backlog);
            state.writing = true;
            drop(state);
            let written = (&self.stream).write_all(&bytes);
            state = self.lock();
            state.writing = false;
            if written.is_err() {
                state.failed = true;
                state.backlog = Vec::new();
                return;
            }
        }
    }
}

/// Writes what the socket takes now; how much it took.
fn write_now(stream: &UnixStream, bytes: &[u8]) -> std::io::Result<usize> {
    use rustix::net::{SendFlags, send};
    let mut done = 0;
    while done < bytes.len() {
        match send(stream, &bytes[done..], SendFlags::DONTWAIT | SendFlags::NOSIGNAL) {
            Ok(n) => done += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(rustix::io::Errno::AGAIN) => break,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Numbered lines, `n` of them, from `from`.
    fn lines(from: usize, n: usize) -> Vec<u8> {
        (from..from + n).flat_map(|i| format!("{i:08} say something of some length\n").into_bytes()).collect()
    }

    #[test]
    fn a_brain_that_does_not_read_never_blocks_the_keeper_and_gets_everything_in_order() {
        let (keeper, mut brain) = UnixStream::pair().expect("a socket pair");
        let out = Outgoing::new(keeper);
        // Far more than a socket buffer holds, said while nobody reads.
        let mut said = Vec::new();
        for batch in 0..400 {
            let bytes = lines(batch * 100, 100);
            out.send(&bytes);
            said.extend_from_slice(&bytes);
        }
        assert!(out.waiting() > 0 || out.shared.lock().writing, "some had to wait");
        let reader = std::thread::spawn(move || {
            let mut got = vec![0u8; said.len()];
            brain.read_exact(&mut got).expect("everything arrives");
            assert!(got == said, "in order, nothing lost");
        });
        reader.join().expect("the brain read it all");
    }

    #[test]
    fn once_the_brain_is_gone_nothing_more_is_written() {
        let (keeper, brain) = UnixStream::pair().expect("a socket pair");
        let out = Outgoing::new(keeper);
        drop(brain);
        out.send(b"hello\n");
        assert!(out.shared.lock().failed, "the write failed");
        out.send(&lines(0, 100_000)); // returns at once, keeps nothing
        assert_eq!(out.waiting(), 0);
    }
}
