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
}

impl Runtime for KeeperRuntime {
    fn spawn(&mut self, launch: &Launch) -> Result<u32, SpawnError> {
        let req = self.next_req;
        self.next_req += 1;
        self.send(&ToKeeper::Spawn { req, launch: WireLaunch::of(launch) })?;
        loop {
            match self.answers.recv_timeout(SPAWN_TIMEOUT) {
                Ok(ToBrain::Spawned { req: r, pid }) if r == req => return Ok(pid),
                Ok(ToBrain::SpawnFailed { req: r, error }) if r == req => {
                    return Err(SpawnError::Keeper(error));
                }
                Ok(_) => continue, // an answer to a request that timed out earlier
                Err(_) => return Err(SpawnError::Keeper("the keeper did not answer".into())),
            }
        }
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
