//! The brain's side of the keeper: a [`Runtime`] whose spawns, signals and
//! exits go through the keeper's socket (see `protocol`).
//!
//! Nothing here waits for the keeper, and no thread of its own does the
//! talking: what the brain says goes out from its event loop (`outbox`:
//! spawn requests at once, the rest together at the end of each input), and
//! a task on the same loop (`reports`) turns what comes back (exits, and the
//! answers to spawns, in the order the keeper sent them: a spawn's answer
//! before any exit of its process) into [`Report`]s on the supervisor's
//! channel. When the keeper goes away, that channel closes.

mod oom;
mod outbox;
mod reports;

use super::{KnownChild, Launch, Report, Runtime, SpawnError};
use crate::protocol::{ToBrain, ToKeeper, WireLaunch};
use std::io::{self, BufRead, BufReader};
use std::os::unix::net::UnixStream;
use std::path::Path;
use tokio::sync::mpsc;
use ward_core::InstanceId;
use ward_core::deployment::StandingOrder;

/// Spawns and signals through the keeper.
pub struct KeeperRuntime {
    /// What goes to the keeper.
    out: outbox::Outbox,
    children: Vec<KnownChild>,
    strays: Vec<KnownChild>,
    isolation: Option<String>,
    /// The deployment's cgroups (made by the keeper), to read each instance's use.
    cgroups: Option<crate::cgroup::Cgroups>,
    /// The OOM kills of instances that have no count of their own.
    oom: oom::OomCount,
}

impl KeeperRuntime {
    /// Attaches to the keeper at `path`; returns the runtime and the channel
    /// of its reports (exits, spawn answers). Runs inside a tokio runtime
    /// (the reports are read on its loop).
    pub fn connect(path: &Path) -> io::Result<(KeeperRuntime, mpsc::UnboundedReceiver<Report>)> {
        let stream = UnixStream::connect(path)?;
        let out = stream.try_clone()?;
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
        // No mailbox (a keeper without one): everything goes on the connection.
        let mailbox = std::os::unix::net::UnixDatagram::unbound()
            .and_then(|m| m.connect(crate::protocol::mailbox_of(path)).map(|()| m))
            .ok();
        if let Some(m) = &mailbox {
            // Room for a storm's orders in flight (the kernel caps it at `wmem_max`).
            let _ = rustix::net::sockopt::set_socket_send_buffer_size(m, 4 << 20);
        }
        let runtime = KeeperRuntime {
            out: outbox::Outbox::start(out.into(), mailbox.map(Into::into)),
            children,
            strays,
            isolation,
            cgroups: None,
            oom: oom::OomCount::find(),
        };
        Ok((runtime, reports))
    }

    /// Reads each instance's use from `cgroups` (the deployment's, made by the keeper).
    pub fn with_cgroups(mut self, cgroups: Option<crate::cgroup::Cgroups>) -> Self {
        self.cgroups = cgroups;
        self
    }

    /// Sends `msg` to the keeper at the end of the current input; never blocks.
    fn send(&mut self, msg: &ToKeeper) {
        self.out.push(msg);
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
        Some(self.oom.read().unwrap_or_else(crate::cgroup::oom::oom_kills))
    }

    fn usage(&self, id: &InstanceId) -> Option<crate::cgroup::Stats> {
        let cgroups = self.cgroups.as_ref()?;
        cgroups.flush_counters();
        cgroups.usage(&id.to_string())
    }
    fn request(&mut self, batch: Vec<(u64, Launch)>) -> Vec<(u64, Result<u32, SpawnError>)> {
        // The keeper forks while the supervisor goes on: these go at once.
        for (req, launch) in &batch {
            self.out.push_now(&ToKeeper::Spawn { req: *req, launch: Box::new(WireLaunch::of(launch)) });
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
        self.out.push_later(&ToKeeper::Ack { seq });
    }

    fn ready(&mut self) {
        self.send(&ToKeeper::Ready);
    }

    fn finish(&mut self, code: i32) {
        self.send(&ToKeeper::Done { code });
        // The brain exits next: everything is said first.
        self.out.finish(std::time::Duration::from_secs(10));
    }

    fn arm(&mut self, order: &StandingOrder, launch: &Launch) {
        match serde_json::value::to_raw_value(&WireLaunch::of(launch)) {
            Ok(launch) => self.out.push_later(&ToKeeper::Arm { order: order.clone(), launch }),
            Err(e) => tracing::warn!("{}: no standing order: {e}", launch.id),
        }
    }

    fn disarm(&mut self, pid: u32) {
        self.out.push_later(&ToKeeper::Disarm { pid });
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
