//! The store port: what the supervisor keeps across its own crashes.
//!
//! Writes go into one open transaction that [`Store::commit`] makes durable;
//! the supervisor commits before each effect the writes justify (a spawn, a
//! signal) and at the end of each input. A crash loses what was not
//! committed, never more. ward implements it with SQLite; [`MemoryStore`]
//! keeps it in memory (tests, simulations, programs that need no restart
//! memory).

use crate::view::EventJson;
use std::collections::BTreeMap;

/// A failure of the store, in words the supervisor logs.
pub type StoreError = Box<dyn std::error::Error + Send + Sync>;

/// A result of the store.
pub type StoreResult<T> = Result<T, StoreError>;

/// What the store keeps of one instance.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceRow {
    /// Its service.
    pub service: String,
    /// Its replica.
    pub replica: u32,
    /// Its state word.
    pub state: String,
    /// Its live process.
    pub pid: Option<u32>,
    /// That process's start time (clock ticks after boot, from /proc).
    pub start_time: Option<u64>,
    /// When that process started, Unix ms.
    pub started_ms: Option<u64>,
    /// Restarts so far.
    pub restarts: u32,
    /// Its last exit, as JSON (`{"code":3}`).
    pub last_exit: Option<String>,
    /// Its gate's state word.
    pub gate_state: String,
    /// When the gate opens, Unix ms.
    pub gate_until_ms: Option<u64>,
    /// The delay its next crash waits, ms.
    pub next_delay_ms: u64,
    /// Crash times in the window, Unix ms, oldest first.
    pub crashes_ms: Vec<u64>,
    /// The last decision about it, in words (ward-core's).
    pub decision: Option<String>,
}

/// What the supervisor keeps: events, a row per instance, and a few named
/// values (`clean`, `last_exit_seq`).
pub trait Store: Send {
    /// Makes every write since the last commit durable.
    fn commit(&mut self) -> StoreResult<()>;
    /// Records an event (in the open transaction).
    fn record_event(&mut self, ev: &EventJson) -> StoreResult<()>;
    /// The newest `limit` events, oldest first.
    fn recent_events(&self, limit: u64) -> StoreResult<Vec<EventJson>>;
    /// The highest event sequence number recorded (0: none).
    fn last_seq(&self) -> StoreResult<u64>;
    /// Writes the row of an instance; `now_ms` is the wall time of the write.
    fn put_instance(&mut self, row: &InstanceRow, now_ms: u64) -> StoreResult<()>;
    /// Removes the row of an instance.
    fn remove_instance(&mut self, service: &str, replica: u32) -> StoreResult<()>;
    /// Every instance row.
    fn instances(&self) -> StoreResult<Vec<InstanceRow>>;
    /// Removes every instance row.
    fn clear_instances(&mut self) -> StoreResult<()>;
    /// A named value.
    fn meta(&self, key: &str) -> StoreResult<Option<String>>;
    /// Sets a named value.
    fn set_meta(&mut self, key: &str, value: &str) -> StoreResult<()>;
    /// Keeps the source of the spec now running as the last good one.
    fn set_last_good_spec(&mut self, _path: &str, _text: &str) -> StoreResult<()> {
        Ok(())
    }
}

/// The contents of a [`MemoryStore`].
#[derive(Clone, Debug, Default)]
pub struct Contents {
    /// Events by sequence number.
    pub events: BTreeMap<u64, EventJson>,
    /// Instance rows by (service, replica).
    pub instances: BTreeMap<(String, u32), InstanceRow>,
    /// Named values.
    pub meta: BTreeMap<String, String>,
}

/// A store in memory, with the same commit rule as a durable one: what was
/// written since the last commit is lost when the store is dropped, and a
/// store made by [`MemoryStore::reopen`] (a restart) sees only what was
/// committed. One writer at a time, as with a store's lock.
///
/// ```
/// use ward_supervisor::{MemoryStore, Store};
///
/// let mut store = MemoryStore::new();
/// store.set_meta("greeting", "hello")?;
/// store.commit()?;
/// store.set_meta("lost", "in a crash")?;
/// let after_a_crash = store.reopen(); // sees only what was committed
/// assert_eq!(after_a_crash.meta("greeting")?.as_deref(), Some("hello"));
/// assert_eq!(after_a_crash.meta("lost")?, None);
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    committed: std::sync::Arc<std::sync::Mutex<Contents>>,
    /// What this writer sees: the committed contents and its own writes.
    open: Contents,
    /// Its writes since the last commit, in order.
    pending: Vec<Write>,
    /// Commits fail, as on a full disk (see [`MemoryStore::set_full`]).
    full: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// One write of a [`MemoryStore`], kept until its commit.
#[derive(Clone, Debug)]
enum Write {
    Event(EventJson),
    Put(InstanceRow),
    Remove(String, u32),
    Clear,
    Meta(String, String),
}

impl Contents {
    fn apply(&mut self, w: Write) {
        match w {
            Write::Event(ev) => {
                self.events.insert(ev.seq, ev);
                // Bounded, as the supervisor's own history is: a long life
                // of restarts does not grow the store without end.
                if self.events.len() > MemoryStore::EVENTS {
                    self.events.pop_first();
                }
            }
            Write::Put(row) => {
                self.instances.insert((row.service.clone(), row.replica), row);
            }
            Write::Remove(service, replica) => {
                self.instances.remove(&(service, replica));
            }
            Write::Clear => self.instances.clear(),
            Write::Meta(k, v) => {
                self.meta.insert(k, v);
            }
        }
    }
}

impl MemoryStore {
    /// How many events a memory store keeps, the newest (as many as the
    /// supervisor's in-memory history).
    pub const EVENTS: usize = crate::HISTORY;

    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of what was committed.
    pub fn committed(&self) -> Contents {
        self.read_committed(Contents::clone)
    }

    /// Reads what was committed without copying it.
    pub fn read_committed<T>(&self, f: impl FnOnce(&Contents) -> T) -> T {
        f(&self.committed.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// A store that starts from what this one committed (a restart of its writer).
    pub fn reopen(&self) -> Self {
        MemoryStore {
            committed: self.committed.clone(),
            open: self.committed(),
            pending: Vec::new(),
            full: self.full.clone(),
        }
    }

    /// Makes every commit of this store and its clones fail, as SQLite's
    /// on a full disk: the open transaction is rolled back (its writes are
    /// lost) and the next write begins a new one. `false` makes room again.
    pub fn set_full(&self, full: bool) {
        self.full.store(full, std::sync::atomic::Ordering::Relaxed);
    }

    fn write(&mut self, w: Write) {
        self.open.apply(w.clone());
        self.pending.push(w);
    }
}

impl Store for MemoryStore {
    fn commit(&mut self) -> StoreResult<()> {
        if self.full.load(std::sync::atomic::Ordering::Relaxed) && !self.pending.is_empty() {
            self.pending.clear();
            self.open = self.committed();
            return Err("database or disk is full: the transaction was rolled back".into());
        }
        if !self.pending.is_empty() {
            let mut committed = self.committed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            for w in self.pending.drain(..) {
                committed.apply(w);
            }
        }
        Ok(())
    }
    fn record_event(&mut self, ev: &EventJson) -> StoreResult<()> {
        self.write(Write::Event(ev.clone()));
        Ok(())
    }
    fn recent_events(&self, limit: u64) -> StoreResult<Vec<EventJson>> {
        let n = self.open.events.len().saturating_sub(limit as usize);
        Ok(self.open.events.values().skip(n).cloned().collect())
    }
    fn last_seq(&self) -> StoreResult<u64> {
        Ok(self.open.events.keys().next_back().copied().unwrap_or(0))
    }
    fn put_instance(&mut self, row: &InstanceRow, _now_ms: u64) -> StoreResult<()> {
        self.write(Write::Put(row.clone()));
        Ok(())
    }
    fn remove_instance(&mut self, service: &str, replica: u32) -> StoreResult<()> {
        self.write(Write::Remove(service.to_string(), replica));
        Ok(())
    }
    fn instances(&self) -> StoreResult<Vec<InstanceRow>> {
        Ok(self.open.instances.values().cloned().collect())
    }
    fn clear_instances(&mut self) -> StoreResult<()> {
        self.write(Write::Clear);
        Ok(())
    }
    fn meta(&self, key: &str) -> StoreResult<Option<String>> {
        Ok(self.open.meta.get(key).cloned())
    }
    fn set_meta(&mut self, key: &str, value: &str) -> StoreResult<()> {
        self.write(Write::Meta(key.to_string(), value.to_string()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_committed_writes_survive_a_reopen() {
        let mut s = MemoryStore::new();
        s.set_meta("a", "1").unwrap();
        s.commit().unwrap();
        s.set_meta("b", "2").unwrap();
        let again = s.reopen();
        assert_eq!(again.meta("a").unwrap().as_deref(), Some("1"));
        assert_eq!(again.meta("b").unwrap(), None);
    }
}
