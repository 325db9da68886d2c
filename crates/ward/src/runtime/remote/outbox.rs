//! What the brain says to the keeper, written from the brain's own event
//! loop, never blocking the supervisor.
//!
//! A message is appended to one buffer. Spawn requests are written at once
//! (the keeper forks while the supervisor goes on); everything else (acks,
//! standing orders, signals, cleanups) waits for the end of the input that
//! produced it: a task on the loop, woken by the first message of an empty
//! buffer, runs once the supervisor yields and writes the whole buffer in one
//! `send`. One exit's three messages (or a storm's thousands) then cost the
//! brain one system call and the keeper one wake-up, in order as they were
//! said. Writes never wait (`MSG_DONTWAIT`); when the keeper does not read
//! and the socket is full, the task waits for room (epoll, only for as long
//! as there is a backlog) and goes on where it stopped.
//!
//! What the keeper needs only before it next acts (standing orders, their
//! withdrawal, acknowledgements: [`Outbox::push_later`]) goes first, in
//! datagrams of whole lines, to the keeper's mailbox (see `keeper::mailbox`),
//! which wakes nobody; unless something said before still waits for the
//! connection (it would be overtaken), or there is no mailbox. What does not
//! go there follows on the connection, in order.

use crate::protocol::{MAX_DATAGRAM, ToKeeper, encode};
use rustix::net::SendFlags;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::sync::Notify;

/// The brain's side of the socket, for writing.
pub(super) struct Outbox {
    shared: Arc<Shared>,
}

struct Shared {
    socket: OwnedFd,
    /// The keeper's mailbox (a connected datagram socket), when it has one.
    mailbox: Option<OwnedFd>,
    /// Said and not yet written, in order.
    said: Mutex<Said>,
    /// Wakes the writing task.
    wake: Notify,
    /// The keeper is gone: nothing more is written.
    gone: AtomicBool,
}

/// What was said and not yet written.
#[derive(Default)]
struct Said {
    /// For the connection.
    bytes: Vec<u8>,
    /// For the mailbox.
    later: Vec<u8>,
}

impl Said {
    fn is_empty(&self) -> bool {
        self.bytes.is_empty() && self.later.is_empty()
    }
}

/// What a write of the buffer came to.
enum Wrote {
    /// Everything (or the keeper is gone, and nothing more will be).
    All,
    /// The socket is full: the rest waits for room.
    Full,
}

impl Outbox {
    /// Writes to `socket`, and to `mailbox` what can wait; the task starts
    /// on the current tokio runtime.
    pub(super) fn start(socket: OwnedFd, mailbox: Option<OwnedFd>) -> Outbox {
        let shared = Arc::new(Shared {
            socket,
            mailbox,
            said: Mutex::new(Said { bytes: Vec::with_capacity(4096), later: Vec::new() }),
            wake: Notify::new(),
            gone: AtomicBool::new(false),
        });
        tokio::spawn(write(shared.clone()));
        Outbox { shared }
    }

    /// Says `msg` at the end of the current input.
    pub(super) fn push(&self, msg: &ToKeeper) {
        let mut said = self.shared.lock();
        let first = said.is_empty();
        self.shared.post(&mut said);
        said.bytes.extend_from_slice(&encode(msg));
        if first {
            self.shared.wake.notify_one();
        }
    }

    /// Says `msg`, which the keeper needs only before it next acts, at the
    /// end of the current input, through its mailbox when it has one (the
    /// keeper reads its mailbox before each input: what goes there is still
    /// handled before whatever is said after it on the connection, which
    /// posts it first).
    pub(super) fn push_later(&self, msg: &ToKeeper) {
        let mut said = self.shared.lock();
        let first = said.is_empty();
        said.later.extend_from_slice(&encode(msg));
        if first {
            self.shared.wake.notify_one();
        }
    }

    /// Says `msg` now (with what was said before it): what the socket does
    /// not take at once is left to the task.
    pub(super) fn push_now(&self, msg: &ToKeeper) {
        let mut said = self.shared.lock();
        self.shared.post(&mut said);
        said.bytes.extend_from_slice(&encode(msg));
        if let Wrote::Full = self.shared.write(&mut said) {
            self.shared.wake.notify_one();
        }
    }

    /// Writes everything said, waiting for room at most `limit` (the brain
    /// exits next).
    pub(super) fn finish(&self, limit: Duration) {
        let since = ward_supervisor::Stopwatch::start();
        loop {
            if let Wrote::All = self.shared.write(&mut self.shared.lock()) {
                return;
            }
            let left = limit.saturating_sub(since.elapsed());
            if left.is_zero() {
                tracing::warn!("the keeper does not read: the brain's last messages are lost");
                return;
            }
            let timeout = rustix::event::Timespec {
                tv_sec: left.as_secs() as i64,
                tv_nsec: left.subsec_nanos() as i64,
            };
            let mut fds = [rustix::event::PollFd::new(&self.shared.socket, rustix::event::PollFlags::OUT)];
            let _ = rustix::event::poll(&mut fds, Some(&timeout));
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Said> {
        // Buffers of whole messages stay usable whatever panicked.
        self.said.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Posts what waits for the mailbox (see [`Shared::post`]), then writes
    /// what the socket takes now from the start of the connection's buffer.
    fn write(&self, said: &mut Said) -> Wrote {
        self.post(said);
        self.write_bytes(&mut said.bytes)
    }

    /// Posts what waits for the mailbox; what it does not take goes on the
    /// connection, after what was said there before it. Called before
    /// anything more is said on the connection, so that each message keeps
    /// its place: the keeper reads its mailbox before each input. While
    /// something said before waits to go on the connection, nothing is
    /// posted (it would overtake it): all of it follows on the connection.
    fn post(&self, said: &mut Said) {
        if !said.later.is_empty() {
            let mailbox = self.mailbox.as_ref().filter(|_| said.bytes.is_empty());
            let posted = mailbox.map_or(0, |mailbox| post_lines(mailbox, &said.later));
            said.bytes.extend_from_slice(&said.later[posted..]);
            said.later.clear();
        }
    }

    /// Writes what the socket takes now from the start of `bytes`.
    fn write_bytes(&self, bytes: &mut Vec<u8>) -> Wrote {
        while !bytes.is_empty() {
            if self.gone.load(Ordering::Relaxed) {
                bytes.clear();
                break;
            }
            match rustix::net::send(&self.socket, bytes, SendFlags::DONTWAIT | SendFlags::NOSIGNAL) {
                Ok(n) => {
                    bytes.drain(..n);
                }
                Err(rustix::io::Errno::AGAIN) => return Wrote::Full,
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => {
                    // The reader sees the keeper go, and the brain ends.
                    tracing::warn!("cannot write to the keeper: {e}");
                    self.gone.store(true, Ordering::Relaxed);
                }
            }
        }
        Wrote::All
    }
}

/// Sends `lines` (whole lines) to the mailbox, in datagrams of whole lines
/// of at most [`MAX_DATAGRAM`] each, until it takes no more; returns how many
/// bytes went.
fn post_lines(mailbox: &OwnedFd, lines: &[u8]) -> usize {
    let mut sent = 0;
    while sent < lines.len() {
        let rest = &lines[sent..];
        let cut = match rest.len() <= MAX_DATAGRAM {
            true => rest.len(),
            false => match rest[..MAX_DATAGRAM].iter().rposition(|&b| b == b'\n') {
                Some(end) => end + 1,
                None => break, // one line longer than a datagram
            },
        };
        match rustix::net::send(mailbox, &rest[..cut], SendFlags::DONTWAIT | SendFlags::NOSIGNAL) {
            Ok(n) if n == cut => sent += cut,
            _ => break, // full (or gone): the rest goes on the connection
        }
    }
    sent
}

/// The task: writes the buffer each time it is woken (the end of an input),
/// and waits for room while the socket is full.
async fn write(shared: Arc<Shared>) {
    loop {
        shared.wake.notified().await;
        let wrote = shared.write(&mut shared.lock());
        if let Wrote::Full = wrote {
            wait_for_room(&shared).await;
        }
        if shared.gone.load(Ordering::Relaxed) {
            return;
        }
    }
}

/// Writes the backlog as the socket takes it. The socket is watched for
/// room only meanwhile: watched always, each read of the keeper's would wake
/// the brain.
async fn wait_for_room(shared: &Shared) {
    let watched = shared.socket.try_clone().and_then(|fd| {
        // SAFETY: an `OwnedFd` is an open descriptor that stays the same one,
        // open, until the `AsyncFd` that owns it drops it.
        unsafe { AsyncFd::register_with_interest(fd, Interest::WRITABLE) }.map_err(Into::into)
    });
    let socket = match watched {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("cannot wait for room to write to the keeper: {e}");
            return;
        }
    };
    loop {
        let Ok(mut ready) = socket.writable().await else { return };
        let wrote = shared.write(&mut shared.lock());
        match wrote {
            Wrote::All => return,
            Wrote::Full => ready.clear_ready(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::net::UnixStream;

    fn read_lines(from: &mut UnixStream, n: usize) -> Vec<String> {
        let mut text = String::new();
        let mut chunk = [0u8; 65536];
        while text.lines().count() < n {
            let got = from.read(&mut chunk).expect("a read");
            assert!(got > 0, "the brain's side closed");
            text.push_str(std::str::from_utf8(&chunk[..got]).expect("utf-8"));
        }
        text.lines().map(str::to_owned).collect()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn messages_go_at_the_end_of_the_input_in_order_and_spawns_at_once() {
        let (brain, mut keeper) = UnixStream::pair().expect("a pair");
        keeper.set_read_timeout(Some(Duration::from_secs(10))).expect("a timeout");
        let outbox = Outbox::start(brain.into(), None);
        outbox.push(&ToKeeper::Ack { seq: 1 });
        outbox.push(&ToKeeper::Disarm { pid: 7 });
        keeper.set_nonblocking(true).expect("non-blocking");
        assert!(keeper.read(&mut [0u8; 16]).is_err(), "nothing yet: the input goes on");
        keeper.set_nonblocking(false).expect("blocking");
        outbox.push_now(&ToKeeper::Ready);
        let lines = read_lines(&mut keeper, 3);
        assert!(
            lines[0].contains("Ack") && lines[1].contains("Disarm") && lines[2].contains("Ready"),
            "{lines:?}"
        );
        outbox.push(&ToKeeper::Ack { seq: 2 });
        tokio::task::yield_now().await; // the input ends
        assert!(read_lines(&mut keeper, 1)[0].contains("Ack"));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_full_socket_waits_for_room_and_loses_nothing() {
        let (brain, mut keeper) = UnixStream::pair().expect("a pair");
        keeper.set_read_timeout(Some(Duration::from_secs(10))).expect("a timeout");
        let outbox = Outbox::start(brain.into(), None);
        let n = 20_000; // far more than a socket buffer holds
        for seq in 0..n as u64 {
            outbox.push(&ToKeeper::Ack { seq });
        }
        outbox.push_now(&ToKeeper::Ready);
        // The task writes the rest as the keeper reads.
        let reader = tokio::task::spawn_blocking(move || read_lines(&mut keeper, n + 1));
        let lines = reader.await.expect("the reader");
        assert_eq!(lines.len(), n + 1);
        assert!(lines[0].contains("\"seq\":0") && lines[n - 1].contains(&format!("\"seq\":{}", n - 1)));
        assert!(lines[n].contains("Ready"));
    }

    #[test]
    fn finish_writes_everything_before_the_brain_exits() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let (brain, mut keeper) = UnixStream::pair().expect("a pair");
        keeper.set_read_timeout(Some(Duration::from_secs(10))).expect("a timeout");
        let outbox = rt.block_on(async { Outbox::start(brain.into(), None) });
        let n = 20_000;
        for seq in 0..n as u64 {
            outbox.push(&ToKeeper::Ack { seq });
        }
        outbox.push(&ToKeeper::Done { code: 0 });
        let reader = std::thread::spawn(move || read_lines(&mut keeper, n + 1));
        outbox.finish(Duration::from_secs(10));
        let lines = reader.join().expect("the reader");
        assert!(lines[n].contains("Done"), "{}", lines[n]);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn what_can_wait_goes_to_the_mailbox_first_and_what_it_cannot_take_after_on_the_connection() {
        use std::os::unix::net::UnixDatagram;
        let (brain, mut keeper) = UnixStream::pair().expect("a pair");
        keeper.set_read_timeout(Some(Duration::from_secs(10))).expect("a timeout");
        let (ours, mailbox) = UnixDatagram::pair().expect("a datagram pair");
        mailbox.set_nonblocking(true).expect("non-blocking");
        let outbox = Outbox::start(brain.into(), Some(ours.into()));
        outbox.push_later(&ToKeeper::Ack { seq: 1 });
        outbox.push_later(&ToKeeper::Disarm { pid: 7 });
        outbox.push(&ToKeeper::Signal { pid: 1, sig: 15 }); // posts them first
        tokio::task::yield_now().await; // the input ends
        let mut datagram = vec![0u8; MAX_DATAGRAM];
        let n = mailbox.recv(&mut datagram).expect("one datagram");
        let text = std::str::from_utf8(&datagram[..n]).expect("utf-8");
        assert!(text.contains("Ack") && text.contains("Disarm") && text.ends_with('\n'), "{text}");
        assert!(mailbox.recv(&mut datagram).is_err(), "both in one datagram");
        assert!(read_lines(&mut keeper, 1)[0].contains("Signal"));

        // Said after something that waits for the connection: it follows it there.
        outbox.push(&ToKeeper::Signal { pid: 2, sig: 15 });
        outbox.push_later(&ToKeeper::Disarm { pid: 2 });
        tokio::task::yield_now().await;
        let lines = read_lines(&mut keeper, 2);
        assert!(lines[0].contains("Signal") && lines[1].contains("Disarm"), "{lines:?}");
        assert!(mailbox.recv(&mut datagram).is_err(), "nothing overtook the signal");

        // More than the mailbox holds: it takes what it can, in whole lines,
        // and the rest follows on the connection, in order.
        let n = 50_000;
        for seq in 0..n as u64 {
            outbox.push_later(&ToKeeper::Ack { seq });
        }
        outbox.push_now(&ToKeeper::Ready);
        let reader = tokio::task::spawn_blocking(move || read_lines(&mut keeper, 1));
        let first = reader.await.expect("the reader");
        let mut seqs = Vec::new();
        while let Ok(got) = mailbox.recv(&mut datagram) {
            let text = std::str::from_utf8(&datagram[..got]).expect("utf-8");
            assert!(text.ends_with('\n'), "whole lines only");
            seqs.extend(text.lines().map(str::to_owned));
        }
        assert!(!seqs.is_empty() && seqs.len() < n, "the mailbox took {} of {n}", seqs.len());
        assert!(first[0].contains(&format!("\"seq\":{}", seqs.len())), "{} after {}", first[0], seqs.len());
        assert!(seqs.iter().enumerate().all(|(i, l)| l.contains(&format!("\"seq\":{i}}}"))));
    }
}
