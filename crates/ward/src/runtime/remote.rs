//! The brain's side of the keeper: a [`Runtime`] whose spawns, signals and
//! exits go through the keeper's socket (see `keeper::protocol`).
//!
//! Nothing here waits for the keeper: requests go to a writer thread through
//! a channel, and a reader thread turns what comes back (exits, and the
//! answers to spawns, in the order the keeper sent them: a spawn's answer
//! before any exit of its process) into [`Report`]s on the supervisor's
//! channel. When the keeper goes away, that channel closes.

use super::{Exit, KnownChild, Launch, Report, Runtime, SpawnError};
use crate::keeper::protocol::{ToBrain, ToKeeper, WireLaunch, encode};
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::mpsc as std_mpsc;
use tokio::sync::mpsc;
use ward_core::InstanceId;
use ward_core::deployment::StandingOrder;

/// Spawns and signals through the keeper.
pub struct KeeperRuntime {
    /// To the writer thread: one encoded message each.
    writer: std_mpsc::Sender<Vec<u8>>,
    /// The writer thread, joined once everything is said (`finish`).
    written: Option<std::thread::JoinHandle<()>>,
    children: Vec<KnownChild>,
    strays: Vec<KnownChild>,
    isolation: Option<String>,
}

impl KeeperRuntime {
    /// Attaches to the keeper at `path`; returns the runtime and the channel
    /// of its reports (exits, spawn answers).
    pub fn connect(path: &Path) -> io::Result<(KeeperRuntime, mpsc::UnboundedReceiver<Report>)> {
        let stream = UnixStream::connect(path)?;
        let mut out = stream.try_clone()?;
        let mut reader = BufReader::new(stream);
        let mut first = String::new();
        reader.read_line(&mut first)?;
        let (children, strays, isolation) = match serde_json::from_str::<ToBrain>(&first) {
            Ok(ToBrain::Hello { children, strays, isolation, .. }) => (children, strays, isolation),
            _ => return Err(io::Error::new(io::ErrorKind::InvalidData, "the keeper did not say hello")),
        };
        let (reports_tx, reports) = mpsc::unbounded_channel();
        std::thread::Builder::new().name("ward-brain-keeper".into()).spawn(move || {
            for line in reader.lines() {
                let Ok(line) = line else { break };
                let report = match serde_json::from_str::<ToBrain>(&line) {
                    Ok(ToBrain::Exit { seq, pid, status, rusage, respawned, cgroup }) => {
                        Report::Exit(Exit { seq, pid, status, rusage, respawned, cgroup })
                    }
                    Ok(ToBrain::Spawned { req, pid }) => Report::Answer { req, result: Ok(pid) },
                    Ok(ToBrain::SpawnFailed { req, error }) => Report::Answer { req, result: Err(error) },
                    Ok(ToBrain::Hello { .. }) => continue,
                    Err(e) => {
                        tracing::warn!("bad message from the keeper: {e}");
                        continue;
                    }
                };
                if reports_tx.send(report).is_err() {
                    break;
                }
            }
            // Dropping the sender tells the supervisor that the keeper is gone.
        })?;
        let (writer, queue) = std_mpsc::channel::<Vec<u8>>();
        let written = std::thread::Builder::new().name("ward-brain-writer".into()).spawn(move || {
            while let Ok(mut msg) = queue.recv() {
                // What queued up meanwhile goes in the same write.
                while let Ok(more) = queue.try_recv() {
                    msg.extend_from_slice(&more);
                }
                if let Err(e) = out.write_all(&msg) {
                    tracing::warn!("cannot write to the keeper: {e}");
                    break; // the reader sees the keeper go
                }
            }
        })?;
        Ok((KeeperRuntime { writer, written: Some(written), children, strays, isolation }, reports))
    }

    /// Queues `msg` for the keeper; never blocks.
    fn send(&mut self, msg: &ToKeeper) {
        let _ = self.writer.send(encode(msg));
    }
}

impl Runtime for KeeperRuntime {
    fn request(&mut self, batch: Vec<(u64, Launch)>) -> Vec<(u64, Result<u32, SpawnError>)> {
        for (req, launch) in &batch {
            self.send(&ToKeeper::Spawn { req: *req, launch: WireLaunch::of(launch) });
        }
        Vec::new() // every answer comes as a report
    }

    fn signal(&mut self, _id: &InstanceId, pid: u32, sig: i32) -> io::Result<()> {
        self.send(&ToKeeper::Signal { pid, sig });
        Ok(())
    }

    fn cleanup(&mut self, id: &InstanceId, pid: u32) {
        self.send(&ToKeeper::Cleanup { pid, instance: Some(id.to_string()) });
    }

    fn ack(&mut self, seq: u64) {
        self.send(&ToKeeper::Ack { seq });
    }

    fn ready(&mut self) {
        self.send(&ToKeeper::Ready);
    }

    fn finish(&mut self, code: i32) {
        self.send(&ToKeeper::Done { code });
        // The brain exits next: let the writer say everything first (it ends
        // once the queue is empty and its sender is gone).
        self.writer = std_mpsc::channel().0;
        if let Some(written) = self.written.take() {
            let _ = written.join();
        }
    }

    fn arm(&mut self, order: &StandingOrder, launch: &Launch) {
        self.send(&ToKeeper::Arm { order: order.clone(), launch: WireLaunch::of(launch) });
    }

    fn disarm(&mut self, pid: u32) {
        self.send(&ToKeeper::Disarm { pid });
    }

    fn known_children(&self) -> Vec<KnownChild> {
        self.children.clone()
    }

    fn strays(&self) -> Vec<KnownChild> {
        self.strays.clone()
    }

    fn isolation(&self) -> Option<String> {
        self.isolation.clone()
    }
}
