//! Reports of the runtime that come together (a storm's exits, read in one
//! go) are decided one by one, in order, and recorded together: one commit,
//! one look at the standing orders and one acknowledgement for the batch,
//! instead of one of each per exit.
//!
//! What a restart promises stays true inside a batch:
//! - each exit is decided alone, in the order the runtime sent it, and its
//!   events follow each other as they would one input at a time;
//! - an effect that state decides (a spawn, a signal) still commits first
//!   everything decided before it, in the batch or not ([`Supervisor::flush`]);
//! - the last exit number decided goes into every commit (so a commit never
//!   holds an exit's consequences without its number, and a later brain
//!   skips exactly what was recorded);
//! - the acknowledgement (cumulative: every exit up to its number) goes to
//!   the runtime only after the commit at the batch's end. A brain that dies
//!   in the middle loses only what it had not committed, and the runtime
//!   sends again every exit it had not acknowledged.

use super::Supervisor;
use crate::ports::runtime::{Exit, Report, Runtime};

/// The state of the batch being decided.
pub(super) struct Batch {
    /// True while the reports of a batch are decided: the commit, the
    /// standing orders and the acknowledgement at the end of each input wait
    /// for the end of the batch.
    pub(super) open: bool,
    /// The highest exit number decided and not yet acknowledged.
    ack: Option<u64>,
    /// The exit number the store holds (written once per commit when it changed).
    stored_seq: u64,
    /// The last commit failed: acknowledgements wait for one that does not.
    unsaved: bool,
}

impl Batch {
    /// No batch open; the store holds exit number `stored_seq`.
    pub(super) fn new(stored_seq: u64) -> Batch {
        Batch { open: false, ack: None, stored_seq, unsaved: false }
    }

    /// A commit went through.
    pub(super) fn committed(&mut self) {
        self.unsaved = false;
    }

    /// A commit failed, and its transaction with it: the exit number is
    /// written again with the next one, and exits wait to be acknowledged
    /// (the runtime keeps them, and sends them again to a new brain).
    pub(super) fn not_committed(&mut self) {
        self.unsaved = true;
        self.stored_seq = 0;
    }
}

impl<R: Runtime> Supervisor<R> {
    /// Reports of the runtime that came together, decided in order and
    /// recorded with one commit, then acknowledged (see the module's doc).
    pub fn on_runtime_reports(&mut self, reports: impl IntoIterator<Item = Report>) {
        self.batch.open = true;
        for report in reports {
            match report {
                Report::Exit(exit) => self.on_exit(exit),
                Report::Answer { req, result, start_time } => self.on_answer(req, result, start_time),
            }
        }
        self.batch.open = false;
        self.settle();
    }

    /// The end of an input (or of a batch of them): what was decided is
    /// committed, standing orders follow it, and the exits are acknowledged.
    pub(super) fn settle(&mut self) {
        let _committed = self.flush();
        self.arm_orders();
        if self.batch.unsaved {
            return; // acknowledged once a commit holds them (see `Batch::not_committed`)
        }
        if let Some(seq) = self.batch.ack.take() {
            self.runtime.ack(seq);
        }
    }

    /// An exit, decided unless an earlier brain recorded it (its number is
    /// not above the last recorded one).
    pub(super) fn on_exit(&mut self, exit: Exit) {
        let seq = exit.seq;
        if seq != 0 && seq > self.last_exit_seq {
            // Committed with the first commit from now on: with what the
            // exit leads to, or before it.
            self.last_exit_seq = seq;
            self.on_exit_once(exit);
            self.discard_respawned();
        } else if seq == 0 {
            self.on_exit_once(exit); // an adopted process's: no number to record
            self.discard_respawned();
        }
        if seq != 0 {
            self.batch.ack = Some(self.batch.ack.map_or(seq, |a| a.max(seq)));
        }
    }

    /// Writes the last exit number decided, when the store does not hold it
    /// yet (in the transaction about to be committed).
    pub(super) fn record_exit_seq(&mut self) {
        if self.last_exit_seq == self.batch.stored_seq {
            return;
        }
        match self.store.set_meta("last_exit_seq", &self.last_exit_seq.to_string()) {
            Ok(()) => self.batch.stored_seq = self.last_exit_seq,
            Err(e) => tracing::error!("store: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ports::runtime::fake::{FakeControl, FakeRuntime, FakeSpawnError};
    use crate::ports::runtime::{Exit, Launch, Report, Runtime};
    use crate::{MemoryStore, Ports, Settings, Supervisor};
    use std::sync::{Arc, Mutex};
    use ward_core::deployment::Deployment;
    use ward_core::spec::Spec;
    use ward_core::{ExitStatus, InstanceId};

    /// The fake runtime, with the acknowledgements it got.
    struct Acking {
        inner: FakeRuntime,
        acks: Arc<Mutex<Vec<u64>>>,
    }

    impl Runtime for Acking {
        type Error = FakeSpawnError;
        fn request(&mut self, batch: Vec<(u64, Launch)>) -> Vec<(u64, Result<u32, FakeSpawnError>)> {
            self.inner.request(batch)
        }
        fn signal(&mut self, id: &InstanceId, pid: u32, signal: i32) -> std::io::Result<()> {
            self.inner.signal(id, pid, signal)
        }
        fn cleanup(&mut self, id: &InstanceId, pid: u32) {
            self.inner.cleanup(id, pid)
        }
        fn ack(&mut self, seq: u64) {
            self.acks.lock().unwrap().push(seq);
        }
        fn start_time(&self, pid: u32) -> Option<u64> {
            self.inner.start_time(pid)
        }
        fn alive(&self, pid: u32) -> bool {
            self.inner.alive(pid)
        }
    }

    /// The spec of `replicas` of `web`, restarted at once.
    fn web(replicas: u32) -> Spec {
        let mut web = crate::testing::service("web");
        web.replicas = replicas;
        web.backoff.initial = std::time::Duration::ZERO;
        web.backoff.jitter = 0.0;
        Spec::new([web])
    }

    /// A started supervisor of `spec` over `store`, whose runtime keeps the
    /// acknowledgements: it, the fake world, the runtime's reports, the acknowledgements.
    fn acking(spec: Spec, store: &MemoryStore) -> (Supervisor<Acking>, FakeControl, Reports, Acks) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let (inner, world) = FakeRuntime::new(tx);
        let acks = Arc::new(Mutex::new(Vec::new()));
        let runtime = Acking { inner, acks: acks.clone() };
        let settings = Settings::new("/", "/");
        let mut sup = Supervisor::new(Deployment::new(spec), runtime, Ports::new(store.clone()), settings);
        sup.start();
        (sup, world, rx, acks)
    }

    type Reports = tokio::sync::mpsc::UnboundedReceiver<Report>;
    type Acks = Arc<Mutex<Vec<u64>>>;

    #[test]
    fn a_batch_is_decided_in_order_committed_with_its_last_number_and_acknowledged_once() {
        let spec = web(3);
        let store = MemoryStore::new();
        let (mut sup, world, mut rx, acks) = acking(spec.clone(), &store);
        for (seq, i) in [(7, 2), (8, 0), (9, 1)] {
            world.end_instance(&format!("web/{i}"), ExitStatus::Signal(libc::SIGKILL));
            let Ok(Report::Exit(mut exit)) = rx.try_recv() else { panic!("an exit") };
            exit.seq = seq;
            sup.on_runtime_reports([Report::Exit(exit)]);
            if seq == 7 {
                assert_eq!(*acks.lock().unwrap(), [7], "a batch of one is acknowledged alone");
            }
        }
        acks.lock().unwrap().clear();
        for i in 0..3 {
            world.end_instance(&format!("web/{i}"), ExitStatus::Code(1));
        }
        let exits: Vec<Exit> = std::iter::from_fn(|| rx.try_recv().ok())
            .zip(10..)
            .map(|(r, seq)| match r {
                Report::Exit(e) => Exit { seq, ..e },
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(exits.len(), 3);
        sup.on_runtime_reports(exits.iter().map(|e| Report::Exit(*e)));
        assert_eq!(*acks.lock().unwrap(), [12], "acknowledged once, up to the last");
        let committed = store.committed();
        assert_eq!(committed.meta.get("last_exit_seq").map(String::as_str), Some("12"));
        let exited: Vec<(String, u32)> = committed
            .events
            .values()
            .filter(|e| e.kind == "exited")
            .map(|e| (e.service.clone(), e.replica))
            .collect();
        let order: Vec<u32> = exited.iter().map(|(_, r)| *r).collect();
        assert_eq!(order, [2, 0, 1, 0, 1, 2], "each exit recorded once, in the order it came");
        assert!(sup.deployment().instances().all(|i| i.state().word() == "running"));

        // A next brain is given the same exits again: recorded, so only acknowledged.
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let acks = Arc::new(Mutex::new(Vec::new()));
        let runtime = Acking { inner: FakeRuntime::new(tx).0, acks: acks.clone() };
        let settings = Settings::new("/", "/");
        let mut next = Supervisor::new(Deployment::new(spec), runtime, Ports::new(store.reopen()), settings);
        next.on_runtime_reports(exits.iter().map(|e| Report::Exit(*e)));
        assert_eq!(*acks.lock().unwrap(), [12]);
        let again = store.committed().events.values().filter(|e| e.kind == "exited").count();
        assert_eq!(again, 6, "nothing recorded twice");
    }

    #[test]
    fn a_failed_commit_holds_the_acknowledgement_and_its_rows_go_into_the_next() {
        let store = MemoryStore::new();
        let (mut sup, world, mut rx, acks) = acking(web(2), &store);
        let mut exit_of = |instance: &str, seq: u64| {
            world.end_instance(instance, ExitStatus::Code(1));
            let Ok(Report::Exit(exit)) = rx.try_recv() else { panic!("an exit") };
            Exit { seq, ..exit }
        };
        // The disk is full: web/1's exit is decided (and restarted), not stored.
        store.set_full(true);
        sup.on_runtime_reports([Report::Exit(exit_of("web/1", 7))]);
        assert!(acks.lock().unwrap().is_empty(), "nothing acknowledged that the store does not hold");
        let restarts = |c: &crate::ports::store::Contents, r: u32| {
            c.instances.get(&("web".to_string(), r)).map(|row| row.restarts)
        };
        assert_eq!(restarts(&store.committed(), 1), Some(0));
        // Room again: the next commit holds web/1's row too, and the exit number.
        store.set_full(false);
        sup.on_runtime_reports([Report::Exit(exit_of("web/0", 8))]);
        assert_eq!(*acks.lock().unwrap(), [8], "both acknowledged at once");
        let committed = store.committed();
        assert_eq!((restarts(&committed, 0), restarts(&committed, 1)), (Some(1), Some(1)));
        assert_eq!(committed.meta.get("last_exit_seq").map(String::as_str), Some("8"));
    }
}
