//! A supervisor over the fake runtime, driven step by step: the rig of this
//! crate's unit tests (no tokio runtime, time moves only when told).

use crate::clock::{Clock, Jitter, ManualTime};
use crate::ports::runtime::Report;
use crate::ports::runtime::fake::{FakeControl, FakeRuntime};
use crate::requests::{Reply, Request};
use crate::{MemoryStore, Ports, Settings, Supervisor};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::{mpsc, oneshot};
use ward_core::deployment::Deployment;
use ward_core::spec::{ServiceSpec, Spec};

/// A supervisor, its fake runtime's control, and its clock.
pub(crate) struct Rig {
    pub sup: Supervisor<FakeRuntime>,
    pub control: FakeControl,
    exits: mpsc::UnboundedReceiver<Report>,
    time: Arc<ManualTime>,
}

/// A service running `name`, with defaults.
pub(crate) fn service(name: &str) -> ServiceSpec {
    ServiceSpec::new(name.parse().expect("a valid name"), vec![name.to_string()])
}

impl Rig {
    /// A started supervisor of `services` over `ports` (built around a memory store).
    pub fn new(services: Vec<ServiceSpec>, ports: impl FnOnce(Ports) -> Ports) -> Rig {
        let (tx, exits) = mpsc::unbounded_channel();
        let (runtime, control) = FakeRuntime::new(tx);
        let time = Arc::new(ManualTime::default());
        time.wall_ms.store(1_800_000_000_000, Ordering::Relaxed);
        let deployment = Deployment::new(Spec::new(services));
        let ports = ports(Ports::new(MemoryStore::new()));
        let sup = Supervisor::new(deployment, runtime, ports, Settings::new("/", "/"))
            .with_clock(Clock::manual(time.clone()), Jitter::with_seed(7));
        let mut rig = Rig { sup, control, exits, time };
        rig.sup.start();
        rig.pump();
        rig
    }

    /// Asks the request `make` builds; its answer (the supervisor answers at once).
    pub fn ask<T>(&mut self, make: impl FnOnce(Reply<T>) -> Request) -> T {
        let (reply, mut answer) = oneshot::channel();
        self.sup.on_request(make(reply));
        self.pump();
        answer.try_recv().expect("an answer at once")
    }

    /// Hands the runtime's reports to the supervisor until none is left.
    pub fn pump(&mut self) {
        while let Ok(report) = self.exits.try_recv() {
            self.sup.on_runtime_report(report);
        }
    }

    /// Moves time on by `ms` and fires what is due.
    pub fn advance(&mut self, ms: u64) {
        self.time.mono_ms.fetch_add(ms, Ordering::Relaxed);
        self.time.wall_ms.fetch_add(ms, Ordering::Relaxed);
        self.sup.fire_timers();
        self.pump();
    }

    /// The state word of `instance` (`web/0`), if it exists.
    pub fn state(&self, instance: &str) -> Option<String> {
        self.sup
            .deployment()
            .instances()
            .find(|i| i.id().to_string() == instance)
            .map(|i| i.state().word().to_string())
    }
}
