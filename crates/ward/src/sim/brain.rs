//! A brain of the simulation: the supervisor's store and adopter, wrapped so
//! that the brain can crash in the middle of an input, right after any of
//! its effects. From that moment nothing it does reaches the world: its
//! later commits are lost (a store keeps what was committed before), and
//! its later messages to the keeper and signals never leave.

use crate::runtime::adopt::Adopter;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use ward_supervisor::ports::adopt::Adopt;
use ward_supervisor::ports::store::{InstanceRow, Store, StoreResult};
use ward_supervisor::view::EventJson;

/// Where the current brain dies: after its `after`-th effect from now.
#[derive(Debug, Default)]
pub(super) struct CrashPoint {
    after: AtomicU32,
    dead: AtomicBool,
}

impl CrashPoint {
    /// The brain dies right after its `n`-th effect from now (`n` ≥ 1).
    pub fn plan(&self, n: u32) {
        self.after.store(n.max(1), Ordering::Relaxed);
    }

    /// True once the brain died.
    pub fn dead(&self) -> bool {
        self.dead.load(Ordering::Relaxed)
    }

    /// An effect is about to run: false when the brain is dead (it does
    /// not run). The planned last effect runs, then the brain dies.
    pub fn effect(&self) -> bool {
        if self.dead() {
            return false;
        }
        match self.after.load(Ordering::Relaxed) {
            0 => {}
            1 => {
                self.after.store(0, Ordering::Relaxed);
                self.dead.store(true, Ordering::Relaxed);
            }
            n => self.after.store(n - 1, Ordering::Relaxed),
        }
        true
    }
}

/// The brain's store: what it commits after it died is lost.
pub(super) struct DyingStore {
    pub inner: Box<dyn Store>,
    pub crash: std::sync::Arc<CrashPoint>,
}

impl Store for DyingStore {
    fn commit(&mut self) -> StoreResult<()> {
        if self.crash.dead() {
            return Ok(()); // never reaches the disk
        }
        self.inner.commit()
    }
    fn record_event(&mut self, ev: &EventJson) -> StoreResult<()> {
        self.inner.record_event(ev)
    }
    fn recent_events(&self, limit: u64) -> StoreResult<Vec<EventJson>> {
        self.inner.recent_events(limit)
    }
    fn last_seq(&self) -> StoreResult<u64> {
        self.inner.last_seq()
    }
    fn put_instance(&mut self, row: &InstanceRow, now_ms: u64) -> StoreResult<()> {
        self.inner.put_instance(row, now_ms)
    }
    fn remove_instance(&mut self, service: &str, replica: u32) -> StoreResult<()> {
        self.inner.remove_instance(service, replica)
    }
    fn instances(&self) -> StoreResult<Vec<InstanceRow>> {
        self.inner.instances()
    }
    fn clear_instances(&mut self) -> StoreResult<()> {
        self.inner.clear_instances()
    }
    fn meta(&self, key: &str) -> StoreResult<Option<String>> {
        self.inner.meta(key)
    }
    fn set_meta(&mut self, key: &str, value: &str) -> StoreResult<()> {
        self.inner.set_meta(key, value)
    }
}

/// The brain's adopter: a dead brain signals nothing.
pub(super) struct DyingAdopter {
    pub inner: Adopter,
    pub crash: std::sync::Arc<CrashPoint>,
}

impl Adopt for DyingAdopter {
    fn watch(&mut self, pid: u32) -> io::Result<()> {
        self.inner.watch(pid)
    }
    fn signal_group(&mut self, pid: u32, signal: i32) -> Option<io::Result<()>> {
        if !self.crash.effect() {
            return Some(Ok(()));
        }
        self.inner.signal_group(pid, signal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_planned_effect_runs_then_nothing() {
        let c = CrashPoint::default();
        assert!(c.effect(), "no crash planned");
        c.plan(2);
        assert!(c.effect());
        assert!(!c.dead());
        assert!(c.effect(), "the second runs");
        assert!(c.dead());
        assert!(!c.effect());
    }
}
