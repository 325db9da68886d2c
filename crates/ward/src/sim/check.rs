//! The invariants the simulation checks after every step, and at the end.
//!
//! - At most one live process per instance.
//! - Every live process is named: by its instance in the supervisor, or by
//!   a message of the keeper not yet delivered (a spawn's answer, the
//!   replacement that comes with an exit).
//! - What the store committed equals what the supervisor holds (state and
//!   pid of every instance): effects never run ahead of their record.
//! - Event numbers have no gap and no repeat.
//! - Per instance, the history alternates: a process starts (`started`, or
//!   `adopted`), then its exit is recorded once (`exited`), before the next.
//! - At the end, after `down`: every process that started has its exit.

use super::World;
use super::os::lock;
use crate::runtime::Report;
use std::collections::{BTreeMap, HashSet};
use ward_supervisor::MemoryStore;
use ward_supervisor::view::EventJson;

/// Every invariant that holds after each step.
pub(super) fn all(w: &mut World) -> Result<(), String> {
    one_per_instance(w)?;
    named(w)?;
    store_matches(w)?;
    w.reader.events()
}

fn one_per_instance(w: &World) -> Result<(), String> {
    let os = lock(&w.os);
    let mut by: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for (pid, p) in os.procs.iter().filter(|(_, p)| p.alive) {
        by.entry(p.instance.as_str()).or_default().push(*pid);
    }
    match by.iter().find(|(_, pids)| pids.len() > 1) {
        Some((instance, pids)) => Err(format!("{instance} has {} live processes: {pids:?}", pids.len())),
        None => Ok(()),
    }
}

fn named(w: &World) -> Result<(), String> {
    let sup = w.sup.as_ref().ok_or("no brain")?;
    let mut names: HashSet<u32> = sup.deployment().instances().filter_map(|i| i.pid()).collect();
    let os = lock(&w.os);
    for report in &os.keeper.outbox {
        match report {
            Report::Answer { result: Ok(pid), .. } => {
                names.insert(*pid);
            }
            Report::Exit(e) => names.extend(e.respawned.map(|r| r.pid)),
            // A failed answer names nothing (`Report` is non-exhaustive).
            _ => {}
        }
    }
    for (pid, p) in os.procs.iter().filter(|(_, p)| p.alive) {
        if !names.contains(pid) {
            return Err(format!("pid {pid} of {} runs and nothing names it", p.instance));
        }
    }
    Ok(())
}

fn store_matches(w: &World) -> Result<(), String> {
    let sup = w.sup.as_ref().ok_or("no brain")?;
    let mut rows: BTreeMap<String, (String, Option<u32>)> =
        w.reader.store.instances()?.into_iter().map(|(id, state, pid)| (id, (state, pid))).collect();
    for inst in sup.deployment().instances() {
        let id = inst.id().to_string();
        let held = (inst.state().word().to_owned(), inst.pid());
        match rows.remove(&id) {
            Some(committed) if committed == held => {}
            Some(committed) => {
                return Err(format!("{id}: the store says {committed:?}, the supervisor {held:?}"));
            }
            None => return Err(format!("{id}: no row in the store")),
        }
    }
    match rows.into_iter().next() {
        Some((id, row)) => Err(format!("{id}: a row {row:?} for no instance")),
        None => Ok(()),
    }
}

/// An event as the checks see it: seq, `service/N`, kind, pid.
type Seen = (i64, String, String, Option<u32>);

/// What a store committed, read as a second process would.
pub(super) enum Committed {
    /// ward's SQLite store (`WARD_SIM_STORE=sqlite`).
    Sqlite(rusqlite::Connection),
    /// The in-memory store (the default: a seed is CPU only).
    Memory(MemoryStore),
}

impl Committed {
    /// Events numbered above `seq`, in order.
    fn events_after(&self, seq: i64) -> Result<Vec<Seen>, String> {
        let fields =
            |e: &EventJson| (e.seq as i64, format!("{}/{}", e.service, e.replica), e.kind.clone(), e.pid);
        let db = match self {
            Committed::Memory(m) => {
                return Ok(m.read_committed(|c| {
                    c.events.range((seq.max(0) as u64 + 1)..).map(|(_, e)| fields(e)).collect()
                }));
            }
            Committed::Sqlite(db) => db,
        };
        let mut stmt = db
            .prepare_cached("SELECT json FROM events WHERE seq > ?1 ORDER BY seq")
            .map_err(|e| e.to_string())?;
        let rows: Vec<String> = stmt
            .query_map([seq], |r| r.get(0))
            .map_err(|e| e.to_string())?
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        rows.iter()
            .map(|json| {
                serde_json::from_str::<EventJson>(json).map(|e| fields(&e)).map_err(|e| e.to_string())
            })
            .collect()
    }

    /// Every instance row: (`service/N`, state, pid).
    fn instances(&self) -> Result<Vec<(String, String, Option<u32>)>, String> {
        match self {
            Committed::Sqlite(db) => {
                let mut stmt = db
                    .prepare_cached("SELECT service, replica, state, pid FROM instances")
                    .map_err(|e| e.to_string())?;
                let rows = stmt
                    .query_map([], |r| {
                        Ok((
                            format!("{}/{}", r.get::<_, String>(0)?, r.get::<_, u32>(1)?),
                            r.get::<_, String>(2)?,
                            r.get(3)?,
                        ))
                    })
                    .map_err(|e| e.to_string())?
                    .collect::<Result<_, _>>()
                    .map_err(|e| e.to_string());
                drop(stmt);
                rows
            }
            Committed::Memory(m) => Ok(m.read_committed(|c| {
                c.instances
                    .values()
                    .map(|r| (format!("{}/{}", r.service, r.replica), r.state.clone(), r.pid))
                    .collect()
            })),
        }
    }
}

/// Reads the store as a second process would (committed data only) and
/// keeps what it learned of the event history, so each step reads only the
/// events recorded since the last.
pub(super) struct Reader {
    store: Committed,
    last_seq: Option<i64>,
    /// Instances whose process has not ended, with its pid.
    live: BTreeMap<String, u32>,
    /// The last few events of each instance, for messages.
    seen: BTreeMap<String, Vec<String>>,
    /// New events since the last call of [`Reader::take_new`], for the trace.
    fresh: Vec<String>,
}

impl Reader {
    pub fn open(store: Committed) -> Reader {
        Reader { store, last_seq: None, live: BTreeMap::new(), seen: BTreeMap::new(), fresh: Vec::new() }
    }

    /// The events recorded since the last call, as trace lines.
    pub fn take_new(&mut self) -> Vec<String> {
        std::mem::take(&mut self.fresh)
    }

    /// Checks the events recorded since the last call: numbers follow one
    /// another, and each instance's history alternates start / exit.
    pub fn events(&mut self) -> Result<(), String> {
        let rows = self.store.events_after(self.last_seq.unwrap_or(0))?;
        for (seq, id, kind, pid) in rows {
            if let Some(last) = self.last_seq {
                if seq != last + 1 {
                    return Err(format!("event seq {seq} follows {last}"));
                }
            }
            self.last_seq = Some(seq);
            let shown = format!("{seq} {kind} {}", pid.map(|p| p.to_string()).unwrap_or_default());
            self.fresh.push(format!(
                "    event {seq}: {id} {kind} {}",
                pid.map(|p| p.to_string()).unwrap_or_default()
            ));
            let past = self.seen.entry(id.clone()).or_default();
            past.push(shown);
            if past.len() > 8 {
                past.remove(0);
            }
            let history = past.join(", ");
            match kind.as_str() {
                "started" => {
                    if let Some(old) = self.live.insert(id.clone(), pid.unwrap_or(0)) {
                        return Err(format!(
                            "seq {seq}: {id} started {pid:?} while {old} had not exited: {history}"
                        ));
                    }
                }
                "adopted" => match self.live.get(&id) {
                    Some(&old) if Some(old) != pid => {
                        return Err(format!(
                            "seq {seq}: {id} adopted {pid:?} while {old} had not exited: {history}"
                        ));
                    }
                    Some(_) => {}
                    None => {
                        self.live.insert(id, pid.unwrap_or(0));
                    }
                },
                "exited" if self.live.remove(&id).is_none() => {
                    return Err(format!("seq {seq}: {id} exited twice, or with no process: {history}"));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// After `down`: every process that started has its exit recorded.
    pub fn all_ended(&mut self) -> Result<(), String> {
        self.events()?;
        match self.live.iter().next() {
            Some((id, pid)) => Err(format!("{id}: pid {pid} started and its exit was never recorded")),
            None => Ok(()),
        }
    }
}
