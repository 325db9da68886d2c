//! The durable store: SQLite (WAL) at `.ward/ward.db`.
//!
//! It keeps every event (with its sequence number) and, for each instance,
//! its state, process (pid and start time, to tell a reused pid), restart
//! count, last exit and gate (state, until, current delay, crash times), so
//! that a new run of ward after a crash resumes where the last one stopped.
//! Times are kept as Unix milliseconds, the only clock two runs share.
//!
//! The supervisor owns the store and writes through it in one open
//! transaction that it commits before each effect the rows justify (a spawn,
//! a signal) and at the end of each input; `synchronous=NORMAL` in WAL mode
//! makes a commit survive a crash of ward (not of the machine) without an
//! fsync each time. Old events beyond the retention are trimmed.
//!
//! - `schema`: the numbered migrations.
//! - `last_good`: the source of the last spec ward ran on, to fall back on.

mod last_good;
mod port;
mod schema;

use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use ward_supervisor::view::EventJson;

/// How many events the store keeps by default.
pub const DEFAULT_RETENTION: u64 = 1_000_000;

/// Why the store cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file is not a ward store, or is damaged.
    #[error("the store {path} is unreadable ({source}); move it away to start with an empty history")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// Another process holds the database.
    #[error("the store {0} is locked by another process (is another ward running on this state folder?)")]
    Locked(PathBuf),
    /// A newer ward wrote it.
    #[error(
        "the store {path} has schema version {found}, newer than this ward knows ({known}); upgrade ward"
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: i64,
        /// Ours.
        known: i64,
    },
    /// An error (a full disk) made SQLite roll back the open transaction:
    /// what was written since the last commit is not in the store.
    #[error(
        "the transaction was rolled back after an earlier error (a full disk?); what it held is not in the store"
    )]
    RolledBack,
    /// Any other SQLite failure.
    #[error("store: {0}")]
    Sql(#[from] rusqlite::Error),
}

pub use ward_supervisor::ports::store::InstanceRow;

/// How many commits between two checkpoints of the write-ahead log.
const CHECKPOINT_EVERY: u64 = 512;

/// The store.
pub struct Store {
    conn: Connection,
    in_tx: bool,
    retention: u64,
    writes: u64,
    commits: u64,
    /// Asks the checkpoint thread to fold the WAL into the database.
    checkpoint: Option<std::sync::mpsc::SyncSender<()>>,
}

impl Store {
    /// Opens (or creates) the store at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        let classify = |e: rusqlite::Error| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                StoreError::Locked(path.to_path_buf())
            }
            Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) => {
                StoreError::Corrupt { path: path.to_path_buf(), source: e }
            }
            _ => StoreError::Sql(e),
        };
        conn.pragma_update(None, "journal_mode", "WAL").map_err(classify)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(classify)?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(classify)?;
        let known = schema::MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::TooNew { path: path.to_path_buf(), found: version, known });
        }
        for (n, sql) in schema::MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.unchecked_transaction().map_err(classify)?;
            tx.execute_batch(sql).map_err(classify)?;
            tx.pragma_update(None, "user_version", (n + 1) as i64)?;
            tx.commit()?;
        }
        let quick: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0)).map_err(classify)?;
        if quick != "ok" {
            return Err(StoreError::Corrupt {
                path: path.to_path_buf(),
                source: rusqlite::Error::InvalidQuery,
            });
        }
        // Checkpoints (which fsync) run on their own thread and connection,
        // never in the supervisor's commit.
        conn.pragma_update(None, "wal_autocheckpoint", 0).map_err(classify)?;
        let checkpoint = checkpointer(path);
        Ok(Store { conn, in_tx: false, retention: DEFAULT_RETENTION, writes: 0, commits: 0, checkpoint })
    }

    fn begin(&mut self) -> Result<(), StoreError> {
        // A statement that failed (a full disk, an I/O error) may have made
        // SQLite roll the transaction back: it is in autocommit mode again,
        // and the next write begins a new one (not a write of its own each).
        if !self.in_tx || self.conn.is_autocommit() {
            self.conn.prepare_cached("BEGIN")?.execute([])?;
            self.in_tx = true;
        }
        Ok(())
    }

    /// Commits what was written since the last commit. When an error rolled
    /// the transaction back, says so (what it held is not in the store) and
    /// the next write begins anew.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        if self.in_tx {
            if self.conn.is_autocommit() {
                self.in_tx = false;
                return Err(StoreError::RolledBack);
            }
            if let Err(e) = self.conn.prepare_cached("COMMIT").and_then(|mut c| c.execute([])) {
                // Still open after a busy database: the next commit tries again.
                self.in_tx = !self.conn.is_autocommit();
                return Err(e.into());
            }
            self.in_tx = false;
            self.commits += 1;
            if self.commits % CHECKPOINT_EVERY == 0 {
                if let Some(tx) = &self.checkpoint {
                    // Full means one is pending already: that one will do.
                    let _ = tx.try_send(());
                }
            }
        }
        Ok(())
    }

    /// Records an event (in the open transaction).
    pub fn record_event(&mut self, ev: &EventJson) -> Result<(), StoreError> {
        self.begin()?;
        let json = serde_json::to_string(ev).unwrap_or_default();
        self.conn
            .prepare_cached("INSERT OR REPLACE INTO events (seq, ts_ms, kind, service, replica, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
            .execute(params![ev.seq as i64, ev.ts_ms as i64, ev.kind, ev.service, ev.replica, json])?;
        self.writes += 1;
        if self.writes % 1024 == 0 {
            let keep_from = ev.seq.saturating_sub(self.retention) as i64;
            self.conn.prepare_cached("DELETE FROM events WHERE seq < ?1")?.execute([keep_from])?;
        }
        Ok(())
    }

    /// The newest events (at most `limit`), oldest first.
    pub fn recent_events(&self, limit: u64) -> Result<Vec<EventJson>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT json FROM events ORDER BY seq DESC LIMIT ?1")?;
        let rows = stmt.query_map([limit as i64], |r| r.get::<_, String>(0))?;
        let mut out: Vec<EventJson> =
            rows.filter_map(|r| r.ok()).filter_map(|j| serde_json::from_str(&j).ok()).collect();
        out.reverse();
        Ok(out)
    }

    /// The highest event sequence number recorded (0 when none).
    pub fn last_seq(&self) -> Result<u64, StoreError> {
        let seq: Option<i64> = self.conn.query_row("SELECT MAX(seq) FROM events", [], |r| r.get(0))?;
        Ok(seq.unwrap_or(0) as u64)
    }

    /// Writes an instance's row (in the open transaction).
    pub fn put_instance(&mut self, row: &InstanceRow, now_ms: u64) -> Result<(), StoreError> {
        self.begin()?;
        let crashes = serde_json::to_string(&row.crashes_ms).unwrap_or_else(|_| "[]".into());
        self.conn
            .prepare_cached(
                // An update in place (not OR REPLACE, a delete and an insert
                // under a new rowid): one page written, the key's index untouched.
                "INSERT INTO instances (service, replica, state, pid, start_time, started_ms, restarts,
                    last_exit, gate_state, gate_until_ms, next_delay_ms, crashes_ms, updated_ms, decision)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
                 ON CONFLICT (service, replica) DO UPDATE SET state = excluded.state, pid = excluded.pid,
                    start_time = excluded.start_time, started_ms = excluded.started_ms,
                    restarts = excluded.restarts, last_exit = excluded.last_exit,
                    gate_state = excluded.gate_state, gate_until_ms = excluded.gate_until_ms,
                    next_delay_ms = excluded.next_delay_ms, crashes_ms = excluded.crashes_ms,
                    updated_ms = excluded.updated_ms, decision = excluded.decision",
            )?
            .execute(params![
                row.service,
                row.replica,
                row.state,
                row.pid,
                row.start_time.map(|v| v as i64),
                row.started_ms.map(|v| v as i64),
                row.restarts,
                row.last_exit,
                row.gate_state,
                row.gate_until_ms.map(|v| v as i64),
                row.next_delay_ms as i64,
                crashes,
                now_ms as i64,
                row.decision,
            ])?;
        Ok(())
    }

    /// Forgets an instance (scaled down, service removed).
    pub fn remove_instance(&mut self, service: &str, replica: u32) -> Result<(), StoreError> {
        self.begin()?;
        self.conn
            .prepare_cached("DELETE FROM instances WHERE service = ?1 AND replica = ?2")?
            .execute(params![service, replica])?;
        Ok(())
    }

    /// Every instance row.
    pub fn instances(&self) -> Result<Vec<InstanceRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT service, replica, state, pid, start_time, started_ms, restarts, last_exit, gate_state,
                    gate_until_ms, next_delay_ms, crashes_ms, decision FROM instances ORDER BY service, replica",
        )?;
        let rows = stmt.query_map([], |r| {
            let crashes: String = r.get(11)?;
            Ok(InstanceRow {
                service: r.get(0)?,
                replica: r.get(1)?,
                state: r.get(2)?,
                pid: r.get(3)?,
                start_time: r.get::<_, Option<i64>>(4)?.map(|v| v as u64),
                started_ms: r.get::<_, Option<i64>>(5)?.map(|v| v as u64),
                restarts: r.get(6)?,
                last_exit: r.get(7)?,
                gate_state: r.get(8)?,
                gate_until_ms: r.get::<_, Option<i64>>(9)?.map(|v| v as u64),
                next_delay_ms: r.get::<_, i64>(10)? as u64,
                crashes_ms: serde_json::from_str(&crashes).unwrap_or_default(),
                decision: r.get(12)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Forgets every instance row (after a clean `down`).
    pub fn clear_instances(&mut self) -> Result<(), StoreError> {
        self.begin()?;
        self.conn.execute("DELETE FROM instances", [])?;
        Ok(())
    }

    /// A small fact.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    /// Takes the next keeper epoch and commits it: the high 32 bits of every
    /// exit number that keeper gives (see `keeper::ExitNumbers`). Strictly
    /// above every epoch taken before and above the epoch of the last exit
    /// recorded, so exit numbers only grow, whatever any clock says.
    pub fn take_keeper_epoch(&mut self) -> Result<u64, ward_supervisor::ports::store::StoreError> {
        take_keeper_epoch(self)
    }

    /// Sets a small fact (in the open transaction).
    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.begin()?;
        self.conn
            // In place, as an instance's row.
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute([key, value])?;
        Ok(())
    }
}

/// Starts the thread that checkpoints the WAL of the store at `path` when asked.
fn checkpointer(path: &Path) -> Option<std::sync::mpsc::SyncSender<()>> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<()>(1);
    let conn = Connection::open(path).ok()?;
    std::thread::Builder::new()
        .name("ward-store-checkpoint".into())
        .spawn(move || {
            while rx.recv().is_ok() {
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!("store: checkpoint failed: {e}");
                }
            }
        })
        .ok()?;
    Some(tx)
}

#[cfg(test)]
mod tests;

/// [`Store::take_keeper_epoch`] on any store of the supervisor's store port
/// (the simulation keeps its store in memory).
pub fn take_keeper_epoch(
    store: &mut dyn ward_supervisor::ports::store::Store,
) -> ward_supervisor::ports::store::StoreResult<u64> {
    let read = |store: &dyn ward_supervisor::ports::store::Store, key: &str| {
        store.meta(key).map(|v| v.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0))
    };
    let last = read(store, "keeper_epoch")?;
    // Stores written before epochs existed numbered exits by wall-clock µs.
    let recorded = read(store, "last_exit_seq")? >> 32;
    let epoch = last.max(recorded).saturating_add(1).min(u64::from(u32::MAX));
    store.set_meta("keeper_epoch", &epoch.to_string())?;
    store.commit()?;
    Ok(epoch)
}
