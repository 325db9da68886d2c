//! The notify socket of one instance, read by two: its reader task, as
//! datagrams arrive, and the supervisor, when the instance's main process
//! exits, for what it said just before (a `MAINPID=` that hands over must be
//! heard before the exit it explains: the daemon sent it before it exited,
//! so it is in the socket or already read by then).
//!
//! One lock covers the receipt of a datagram and the filing of its notices
//! in the inbox, so every notice is either still in the socket or in the
//! inbox, never in between and never read twice. The reader pokes its owner
//! ([`Heard::Mail`]) when the inbox stops being empty; the owner takes
//! everything at once.

use super::notify::{Notice, parse, recv_closing_fds};
use std::collections::VecDeque;
use std::io;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::io::Interest;
use tokio::net::UnixDatagram;
use tokio::time::Instant;

/// The largest datagram read; the rest of a longer one is cut.
const DATAGRAM: usize = 4096;

/// An instance's notify socket and the notices read from it, not yet taken.
#[derive(Debug)]
pub struct Mailbox {
    sock: UnixDatagram,
    inbox: Mutex<Inbox>,
}

#[derive(Debug, Default)]
struct Inbox {
    notices: VecDeque<Notice>,
    /// The owner drained a `READY=1` or `WATCHDOG=1` the reader did not see.
    pinged: bool,
    /// The owner drained a `STOPPING=1` the reader did not see.
    stopping: bool,
}

/// What the reader tells its owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Heard {
    /// Notices wait in the mailbox ([`Mailbox::take`]).
    Mail,
    /// No `WATCHDOG=1` for this long after readiness (or the last ping).
    WatchdogTimeout(Duration),
}

impl Mailbox {
    /// A mailbox over `sock`.
    pub fn new(sock: UnixDatagram) -> Mailbox {
        Mailbox { sock, inbox: Mutex::default() }
    }

    fn lock(&self) -> MutexGuard<'_, Inbox> {
        self.inbox.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Receives one datagram, if one waits, into `inbox`: its notices, or
    /// `None` when none waits. The reader goes through tokio's readiness
    /// (cleared when nothing waits); a drain asks the socket itself, since
    /// tokio may not have seen yet what arrived.
    fn receive(&self, inbox: &mut Inbox, buf: &mut [u8], drain: bool) -> io::Result<Option<Vec<Notice>>> {
        let got = if drain {
            recv_closing_fds(&self.sock, buf)
        } else {
            self.sock.try_io(Interest::READABLE, || recv_closing_fds(&self.sock, buf))
        };
        match got {
            Ok(n) => {
                let notices: Vec<Notice> =
                    parse(&buf[..n]).into_iter().filter(|n| *n != Notice::Other).collect();
                inbox.notices.extend(notices.iter().cloned());
                Ok(Some(notices))
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The notices the reader filed, oldest first.
    pub fn take(&self) -> Vec<Notice> {
        self.lock().notices.drain(..).collect()
    }

    /// Everything the instance said so far: what the reader filed, then what
    /// still waits in the socket.
    pub fn drain(&self) -> Vec<Notice> {
        let mut buf = vec![0u8; DATAGRAM];
        let mut inbox = self.lock();
        while let Ok(Some(notices)) = self.receive(&mut inbox, &mut buf, true) {
            inbox.pinged |= notices.iter().any(|n| matches!(n, Notice::Ready | Notice::Watchdog));
            inbox.stopping |= notices.contains(&Notice::Stopping);
        }
        inbox.notices.drain(..).collect()
    }

    /// What the owner drained that the reader's watchdog must know: (pinged, stopping).
    fn drained_flags(&self) -> (bool, bool) {
        let mut inbox = self.lock();
        (std::mem::take(&mut inbox.pinged), std::mem::take(&mut inbox.stopping))
    }

    /// Reads datagrams until the task is cancelled, poking `tell` when
    /// notices wait; with `watchdog`, a missed deadline is reported once (and
    /// re-armed by the next ping).
    pub async fn serve(
        self: std::sync::Arc<Self>,
        watchdog: Option<Duration>,
        mut tell: impl AsyncFnMut(Heard),
    ) {
        let mut buf = vec![0u8; DATAGRAM];
        let mut deadline: Option<Instant> = None;
        loop {
            let readable = match deadline {
                Some(at) => tokio::select! {
                    r = self.sock.readable() => r,
                    () = tokio::time::sleep_until(at) => {
                        deadline = match self.drained_flags() {
                            (_, true) => None,
                            (true, false) => watchdog.map(|w| Instant::now() + w),
                            (false, false) => {
                                tell(Heard::WatchdogTimeout(watchdog.unwrap_or_default())).await;
                                None
                            }
                        };
                        continue;
                    }
                },
                None => self.sock.readable().await,
            };
            if let Err(e) = readable {
                tracing::warn!("notify socket: {e}");
                return;
            }
            let (notices, poke) = {
                let mut inbox = self.lock();
                let was_empty = inbox.notices.is_empty();
                match self.receive(&mut inbox, &mut buf, false) {
                    Ok(Some(notices)) => {
                        let poke = was_empty && !inbox.notices.is_empty();
                        (notices, poke)
                    }
                    Ok(None) => continue,
                    Err(e) => {
                        tracing::warn!("notify socket: {e}");
                        return;
                    }
                }
            };
            for notice in &notices {
                match (watchdog, notice) {
                    (Some(w), Notice::Ready | Notice::Watchdog) => deadline = Some(Instant::now() + w),
                    // A service on its way out stops pinging.
                    (_, Notice::Stopping) => deadline = None,
                    _ => {}
                }
            }
            if poke {
                tell(Heard::Mail).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::notify::{Place, bind};
    use std::mem::MaybeUninit;
    use std::os::fd::AsFd;
    use std::sync::Arc;
    use ward_core::InstanceId;

    fn mailbox(tag: &str) -> (std::path::PathBuf, Arc<Mailbox>, std::os::unix::net::UnixDatagram) {
        let dir = std::env::temp_dir().join(format!("ward-mailbox-{tag}-{}", std::process::id()));
        let id = InstanceId::new("svc".parse().unwrap(), 3);
        let (sock, path) = bind(&dir, &id, Place::Ward).unwrap();
        let client = std::os::unix::net::UnixDatagram::unbound().unwrap();
        client.connect(&path).unwrap();
        (dir, Arc::new(Mailbox::new(UnixDatagram::from_std(sock).unwrap())), client)
    }

    #[tokio::test]
    async fn reads_notices_closes_passed_fds_and_times_the_watchdog() {
        let (dir, mailbox, client) = mailbox("serve");
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let task = tokio::spawn(mailbox.clone().serve(Some(Duration::from_millis(200)), async move |h| {
            let _ = tx.send(h);
        }));
        // A barrier as systemd-notify sends it: the fd must come back closed.
        let (keep, give) = rustix::pipe::pipe().unwrap();
        let fds = [give.as_fd()];
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = rustix::net::SendAncillaryBuffer::new(&mut space);
        assert!(control.push(rustix::net::SendAncillaryMessage::ScmRights(&fds)));
        let data = [std::io::IoSlice::new(b"BARRIER=1")];
        rustix::net::sendmsg(&client, &data, &mut control, rustix::net::SendFlags::empty()).unwrap();
        drop(give);
        client.send(b"READY=1\nSTATUS=up").unwrap();
        assert_eq!(rx.recv().await, Some(Heard::Mail));
        assert_eq!(mailbox.take(), vec![Notice::Ready, Notice::Status("up".into())]);
        // Every write end is closed: reading the pipe ends (the barrier is released).
        let mut b = [0u8; 1];
        assert_eq!(rustix::io::read(&keep, &mut b).unwrap(), 0);
        // No WATCHDOG=1 within 200ms of READY=1.
        assert_eq!(rx.recv().await, Some(Heard::WatchdogTimeout(Duration::from_millis(200))));
        task.abort();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_drain_takes_what_waits_in_the_socket_too_and_only_once() {
        let (dir, mailbox, client) = mailbox("drain");
        client.send(b"STATUS=one").unwrap();
        client.send(b"MAINPID=77\nREADY=1").unwrap();
        assert_eq!(mailbox.take(), vec![], "nobody read the socket yet");
        let want = vec![Notice::Status("one".into()), Notice::MainPid(77), Notice::Ready];
        assert_eq!(mailbox.drain(), want);
        assert_eq!(mailbox.drain(), vec![]);
        assert_eq!(mailbox.drained_flags(), (true, false), "the reader's watchdog learns of the ping");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
