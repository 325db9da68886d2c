//! The brain's side of the keeper: a [`Runtime`] whose spawns, signals and
//! exits go through the keeper's socket (see `keeper::protocol`).
//!
//! Requests are written from the supervisor's thread; a reader thread sorts
//! what comes back: spawn answers go to the waiting `spawn` call (the keeper
//! answers a spawn before it can report that process's exit, so the pid is
//! known before its exit is handled), exits go to the supervisor's channel.
//! When the keeper goes away, the exit channel closes.

use super::{Exit, KnownChild, Launch, Runtime, SpawnError};
use crate::keeper::protocol::{ToBrain, ToKeeper, WireLaunch, encode};
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;
use tokio::sync::mpsc;
use ward_core::InstanceId;
use ward_core::deployment::StandingOrder;

/// How long a spawn may wait for the keeper's answer.
const SPAWN_TIMEOUT: Duration = Duration::from_secs(10);

/// Spawns and signals through the keeper.
pub struct KeeperRuntime {
    writer: UnixStream,
    answers: std_mpsc::Receiver<ToBrain>,
    next_req: u64,
    children: Vec<KnownChild>,
}

impl KeeperRuntime {
    /// Attaches to the keeper at `path`; returns the runtime and the channel of exits.
    pub fn connect(path: &Path) -> io::Result<(KeeperRuntime, mpsc::UnboundedReceiver<Exit>)> {
        let stream = UnixStream::connect(path)?;
        let writer = stream.try_clone()?;
        let mut reader = BufReader::new(stream);
        let mut first = String::new();
        reader.read_line(&mut first)?;
        let children = match serde_json::from_str::<ToBrain>(&first) {
            Ok(ToBrain::Hello { children, .. }) => children,
            _ => return Err(io::Error::new(io::ErrorKind::InvalidData, "the keeper did not say hello")),
        };
        let (answers_tx, answers) = std_mpsc::channel();
        let (exits_tx, exits) = mpsc::unbounded_channel();
        std::thread::Builder::new().name("ward-brain-keeper".into()).spawn(move || {
            for line in reader.lines() {
                let Ok(line) = line else { break };
                match serde_json::from_str::<ToBrain>(&line) {
                    Ok(ToBrain::Exit { seq, pid, status, rusage, respawned }) => {
                        let _ = exits_tx.send(Exit { seq, pid, status, rusage, respawned });
                    }
                    Ok(answer @ (ToBrain::Spawned { .. } | ToBrain::SpawnFailed { .. })) => {
                        let _ = answers_tx.send(answer);
                    }
                    Ok(ToBrain::Hello { .. }) => {}
                    Err(e) => tracing::warn!("bad message from the keeper: {e}"),
                }
            }
            // Dropping the senders tells the supervisor that the keeper is gone.
        })?;
        Ok((KeeperRuntime { writer, answers, next_req: 1, children }, exits))
    }

    fn send(&mut self, msg: &ToKeeper) -> io::Result<()> {
        self.writer.write_all(&encode(msg))
    }

    /// The answers to the `n` requests from `first` on, in request order (the
    /// keeper answers in order).
    fn answers_for(&mut self, first: u64, n: usize) -> Vec<Result<u32, SpawnError>> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let want = first + out.len() as u64;
            match self.answers.recv_timeout(SPAWN_TIMEOUT) {
                Ok(ToBrain::Spawned { req, pid }) if req == want => out.push(Ok(pid)),
                Ok(ToBrain::SpawnFailed { req, error }) if req == want => {
                    out.push(Err(SpawnError::Keeper(error)))
                }
                Ok(_) => continue, // an answer to a request that timed out earlier
                Err(_) => {
                    while out.len() < n {
                        out.push(Err(no_answer()));
                    }
                }
            }
        }
        out
    }
}

fn no_answer() -> SpawnError {
    SpawnError::Keeper("the keeper did not answer".into())
}

impl Runtime for KeeperRuntime {
    fn spawn(&mut self, launch: &Launch) -> Result<u32, SpawnError> {
        self.spawn_many(std::slice::from_ref(launch)).pop().unwrap_or_else(|| Err(no_answer()))
    }

    fn spawn_many(&mut self, launches: &[Launch]) -> Vec<Result<u32, SpawnError>> {
        let first = self.next_req;
        self.next_req += launches.len() as u64;
        for (req, launch) in (first..).zip(launches) {
            if let Err(e) = self.send(&ToKeeper::Spawn { req, launch: WireLaunch::of(launch) }) {
                // Requests already sent are answered; the rest fail with the socket's error.
                let sent = (req - first) as usize;
                let mut done = self.answers_for(first, sent);
                done.push(Err(SpawnError::Os(e)));
                done.extend((sent + 1..launches.len()).map(|_| Err(no_answer())));
                return done;
            }
        }
        self.answers_for(first, launches.len())
    }

    fn signal(&mut self, _id: &InstanceId, pid: u32, sig: i32) -> io::Result<()> {
        self.send(&ToKeeper::Signal { pid, sig })
    }

    fn cleanup(&mut self, _id: &InstanceId, pid: u32) {
        let _ = self.send(&ToKeeper::Cleanup { pid });
    }

    fn ack(&mut self, seq: u64) {
        let _ = self.send(&ToKeeper::Ack { seq });
    }

    fn ready(&mut self) {
        let _ = self.send(&ToKeeper::Ready);
    }

    fn finish(&mut self, code: i32) {
        let _ = self.send(&ToKeeper::Done { code });
    }

    fn arm(&mut self, order: &StandingOrder, launch: &Launch) {
        let _ = self.send(&ToKeeper::Arm { order: order.clone(), launch: WireLaunch::of(launch) });
    }

    fn disarm(&mut self, pid: u32) {
        let _ = self.send(&ToKeeper::Disarm { pid });
    }

    fn known_children(&self) -> Vec<KnownChild> {
        self.children.clone()
    }
}
