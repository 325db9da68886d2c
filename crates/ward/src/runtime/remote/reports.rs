//! What the keeper says, read on the brain's own event loop: a task that
//! waits for the socket to be readable (epoll, through tokio's [`AsyncFd`]),
//! reads everything there is without waiting (`MSG_DONTWAIT`, so the socket's
//! blocking mode, shared with the writer thread, stays as it is), and turns
//! each line into a [`Report`] on the supervisor's channel.
//!
//! A thread of its own would cost a wake-up and a hand-over per message; on
//! the loop, a storm's exits arrive in one read and reach the supervisor
//! together (it decides them as one batch). When the keeper goes away, the
//! task ends and the channel closes.

use super::super::{Exit, Report};
use crate::protocol::ToBrain;
use std::io;
use std::os::fd::OwnedFd;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc;

/// How much one read takes from the socket at most.
const CHUNK: usize = 64 * 1024;

/// Starts the task that reads `socket` (whose first `pending` bytes were
/// already read with the hello) into `reports`; must run inside the brain's
/// tokio runtime.
pub(super) fn spawn(
    socket: OwnedFd,
    pending: Vec<u8>,
    reports: mpsc::UnboundedSender<Report>,
) -> io::Result<()> {
    // SAFETY: an `OwnedFd` is an open descriptor that stays the same one,
    // open, until the `AsyncFd` that owns it drops it.
    let socket = unsafe { AsyncFd::register_with_interest(socket, Interest::READABLE)? };
    tokio::spawn(read(socket, pending, reports));
    Ok(())
}

async fn read(socket: AsyncFd<OwnedFd>, mut buf: Vec<u8>, reports: mpsc::UnboundedSender<Report>) {
    let mut chunk = vec![0u8; CHUNK];
    if !deliver(&mut buf, &reports) {
        return;
    }
    loop {
        let Ok(mut ready) = socket.readable().await else { return };
        // Everything there is now, then the reports go together.
        loop {
            match rustix::net::recv(ready.get_inner(), &mut chunk[..], rustix::net::RecvFlags::DONTWAIT) {
                Ok((0, _)) => return, // the keeper is gone
                Ok((n, _)) => buf.extend_from_slice(&chunk[..n]),
                Err(rustix::io::Errno::AGAIN) => {
                    ready.clear_ready();
                    break;
                }
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => {
                    tracing::warn!("cannot read from the keeper: {e}");
                    return;
                }
            }
        }
        if !deliver(&mut buf, &reports) {
            return; // the supervisor is gone
        }
    }
}

/// Sends the report of each whole line in `buf` and keeps what follows the
/// last one; false once nobody listens.
fn deliver(buf: &mut Vec<u8>, reports: &mpsc::UnboundedSender<Report>) -> bool {
    let mut start = 0;
    while let Some(end) = buf[start..].iter().position(|&b| b == b'\n').map(|i| start + i) {
        let line = &buf[start..end];
        start = end + 1;
        if let Some(report) = report(line) {
            if reports.send(report).is_err() {
                return false;
            }
        }
    }
    buf.drain(..start);
    true
}

/// The report a line of the keeper's makes, if any.
fn report(line: &[u8]) -> Option<Report> {
    match serde_json::from_slice::<ToBrain>(line) {
        Ok(ToBrain::Exit { seq, pid, status, rusage, respawned, cgroup }) => {
            Some(Report::Exit(Exit { seq, pid, status, rusage, respawned, cgroup }))
        }
        Ok(ToBrain::Spawned { req, pid, start_time }) => {
            Some(Report::Answer { req, result: Ok(pid), start_time })
        }
        Ok(ToBrain::SpawnFailed { req, error }) => {
            Some(Report::Answer { req, result: Err(error), start_time: None })
        }
        Ok(ToBrain::Hello { .. }) => None,
        Err(e) => {
            tracing::warn!("bad message from the keeper: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::encode;
    use ward_core::ExitStatus;

    fn exit(seq: u64) -> Vec<u8> {
        encode(&ToBrain::Exit {
            seq,
            pid: 100 + seq as u32,
            status: ExitStatus::Signal(9),
            rusage: None,
            respawned: None,
            cgroup: None,
        })
    }

    #[test]
    fn whole_lines_become_reports_and_a_partial_one_waits() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut buf = exit(1);
        buf.extend_from_slice(b"not json\n");
        let second = exit(2);
        buf.extend_from_slice(&second);
        buf.extend_from_slice(&exit(3)[..10]);
        assert!(deliver(&mut buf, &tx));
        let seqs: Vec<u64> = std::iter::from_fn(|| rx.try_recv().ok())
            .map(|r| match r {
                Report::Exit(e) => e.seq,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(seqs, [1, 2], "a bad line is skipped, in order otherwise");
        assert_eq!(buf, exit(3)[..10], "the partial line waits for the rest");
        buf.extend_from_slice(&exit(3)[10..]);
        assert!(deliver(&mut buf, &tx));
        assert!(matches!(rx.try_recv(), Ok(Report::Exit(e)) if e.seq == 3));
        assert!(buf.is_empty());
    }

    #[test]
    fn spawn_answers_become_reports() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut buf = encode(&ToBrain::Spawned { req: 7, pid: 42, start_time: Some(5) });
        buf.extend(encode(&ToBrain::SpawnFailed { req: 8, error: "no".into() }));
        assert!(deliver(&mut buf, &tx));
        assert!(matches!(rx.try_recv(), Ok(Report::Answer { req: 7, result: Ok(42), start_time: Some(5) })));
        assert!(matches!(rx.try_recv(), Ok(Report::Answer { req: 8, result: Err(e), .. }) if e == "no"));
        drop(rx);
        let mut buf = encode(&ToBrain::Spawned { req: 9, pid: 43, start_time: None });
        assert!(!deliver(&mut buf, &tx), "nobody listens");
    }
}
