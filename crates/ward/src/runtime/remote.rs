//! The brain's side of the keeper: a [`Runtime`] whose spawns, signals and
//! exits go through the keeper's socket (see `protocol`).
//!
//! Nothing here waits for the keeper: a request is written at once when the
//! socket takes it without waiting (`MSG_DONTWAIT`), else queued for a writer
//! thread (and so is everything after it, until the queue is empty, to keep
//! the order); and a task on the brain's event loop (`reports`) turns what
//! comes back (exits, and the answers to spawns, in the order the keeper sent
//! them: a spawn's answer before any exit of its process) into [`Report`]s on
//! the supervisor's channel. When the keeper goes away, that channel closes.

mod reports;

use super::{KnownChild, Launch, Report, Runtime, SpawnError};
use crate::protocol::{ToBrain, ToKeeper, WireLaunch, encode};
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc as std_mpsc;
use tokio::sync::mpsc;
use ward_core::InstanceId;
use ward_core::deployment::StandingOrder;

/// Spawns and signals through the keeper.
pub struct KeeperRuntime {
    /// To the writer thread: one encoded message each.
    writer: std_mpsc::Sender<Vec<u8>>,
    /// The socket, for writes that need not wait.
    out: UnixStream,
    /// Messages queued for the writer thread and not yet written.
    queued: Arc<AtomicUsize>,
    /// The writer thread, joined once everything is said (`finish`).
    written: Option<std::thread::JoinHandle<()>>,
    children: Vec<KnownChild>,
    strays: Vec<KnownChild>,
    isolation: Option<String>,
    /// The deployment's cgroups (made by the keeper), to read each instance's use.
    cgroups: Option<crate::cgroup::Cgroups>,
}

impl KeeperRuntime {
    /// Attaches to the keeper at `path`; returns the runtime and the channel
    /// of its reports (exits, spawn answers). Runs inside a tokio runtime
    /// (the reports are read on its loop).
    pub fn connect(path: &Path) -> io::Result<(KeeperRuntime, mpsc::UnboundedReceiver<Report>)> {
        let stream = UnixStream::connect(path)?;
        let mut out = stream.try_clone()?;
        let direct = stream.try_clone()?;
        let mut reader = BufReader::new(stream);
        let mut first = String::new();
        reader.read_line(&mut first)?;
        let (children, strays, isolation) = match serde_json::from_str::<ToBrain>(&first) {
            Ok(ToBrain::Hello { children, strays, isolation, .. }) => (children, strays, isolation),
            _ => return Err(io::Error::new(io::ErrorKind::InvalidData, "the keeper did not say hello")),
        };
        let (reports_tx, reports) = mpsc::unbounded_channel();
        // What the reader took beyond the hello is the start of what follows.
        let pending = reader.buffer().to_vec();
        reports::spawn(reader.into_inner().into(), pending, reports_tx)?;
        let (writer, queue) = std_mpsc::channel::<Vec<u8>>();
        let queued = Arc::new(AtomicUsize::new(0));
        let left = queued.clone();
        let written = std::thread::Builder::new().name("ward-brain-writer".into()).spawn(move || {
            while let Ok(mut msg) = queue.recv() {
                // What queued up meanwhile goes in the same write.
                let mut messages = 1;
                while let Ok(more) = queue.try_recv() {
                    msg.extend_from_slice(&more);
                    messages += 1;
                }
                if let Err(e) = out.write_all(&msg) {
                    tracing::warn!("cannot write to the keeper: {e}");
                    break; // the reader sees the keeper go
                }
                // Every message written counts off (one left counted would
                // send every later message through this thread).
                left.fetch_sub(messages, Ordering::AcqRel);
            }
        })?;
        let runtime = KeeperRuntime {
            writer,
            out: direct,
            queued,
            written: Some(written),
            children,
            strays,
            isolation,
            cgroups: None,
        };
        Ok((runtime, reports))
    }

    /// Reads each instance's use from `cgroups` (the deployment's, made by the keeper).
    pub fn with_cgroups(mut self, cgroups: Option<crate::cgroup::Cgroups>) -> Self {
        self.cgroups = cgroups;
        self
    }

    /// Sends `msg` to the keeper; never blocks.
    fn send(&mut self, msg: &ToKeeper) {
        let bytes = encode(msg);
        let mut from = 0;
        if self.queued.load(Ordering::Acquire) == 0 {
            match rustix::net::send(&self.out, &bytes, rustix::net::SendFlags::DONTWAIT) {
                Ok(n) if n == bytes.len() => return,
                Ok(n) => from = n,
                Err(rustix::io::Errno::AGAIN) => {}
                Err(_) => return, // the keeper is gone: the reader sees it
            }
        }
        self.queued.fetch_add(1, Ordering::AcqRel);
        let _ = self.writer.send(bytes[from..].to_vec());
    }
}

impl Runtime for KeeperRuntime {
    type Error = SpawnError;

    fn start_time(&self, pid: u32) -> Option<u64> {
        crate::runtime::process::process_start_time(pid)
    }

    fn alive(&self, pid: u32) -> bool {
        crate::runtime::process::process_alive(pid)
    }

    fn oom_kills(&self) -> Option<u64> {
        Some(crate::cgroup::oom::oom_kills())
    }

    fn usage(&self, id: &InstanceId) -> Option<crate::cgroup::Stats> {
        self.cgroups.as_ref()?.usage(&id.to_string())
    }
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

    fn kinship(
        &self,
        id: &InstanceId,
        pid: u32,
        family: &ward_supervisor::ports::runtime::Family<'_>,
    ) -> ward_core::instance::Kinship {
        let cgroup = self
            .cgroups
            .as_ref()
            .filter(|_| family.cgroup)
            .map(|c| c.instance(&crate::cgroup::instance_name(&id.to_string())))
            .filter(|inst| !inst.is_empty())
            .map(|inst| inst.pids());
        // The keeper is the brain's parent, and the subreaper orphans go to.
        let keeper = rustix::process::getppid().map_or(0, |p| p.as_raw_nonzero().get().unsigned_abs());
        super::lineage::kinship(pid, family, cgroup, keeper)
    }

    fn handover(&mut self, _id: &InstanceId, from: u32, to: u32) {
        self.send(&ToKeeper::Handover { from, to });
    }

    fn known_children(&self) -> Vec<KnownChild> {
        self.children.clone()
    }

    fn strays(&self) -> Vec<KnownChild> {
        self.strays.clone()
    }

    fn isolation(&self) -> Option<String> {
        if self.isolation.is_none() {
            return self.cgroups.as_ref().map(|c| c.describe());
        }
        self.isolation.clone()
    }
}
