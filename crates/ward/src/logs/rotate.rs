//! Size-based rotation, on a dedicated thread so that file work never runs on
//! the async threads and never delays the supervisor.
//!
//! The writer keeps its `O_APPEND` descriptor on `x.log`, so the live file is
//! never renamed. Instead, once it is past `max_size`:
//!
//! 1. the first `N` bytes are copied to `x.log.rotating` and synced, where `N`
//!    is the size rounded down to the filesystem block (and kept below the
//!    size, which `COLLAPSE_RANGE` requires). Those bytes never change: the
//!    file only grows at its end;
//! 2. under the file's layout lock (followers are not reading), the copied
//!    bytes are removed from the head of `x.log` with
//!    `fallocate(FALLOC_FL_COLLAPSE_RANGE, 0, N)`. Appends made meanwhile stay,
//!    and the writer's next `O_APPEND` write lands at the new end. Not a byte
//!    is lost or duplicated;
//! 3. `x.log.{k}` become `x.log.{k+1}` (the one past `keep` is overwritten),
//!    `x.log.rotating` becomes `x.log.1`, and the layout records the move.
//!
//! Where `COLLAPSE_RANGE` is unsupported (tmpfs, some filesystems: `EOPNOTSUPP`
//! or `EINVAL`), step 2 instead copies the rest of the file and truncates it to
//! zero. Bytes written between that last copy and the truncation are lost:
//! the window is one `read` to `ftruncate`, microseconds, but it is not zero.
//!
//! The same thread keeps the time index ([`super::index`]): each file that
//! grew is stamped before its size is checked, a new run is marked where its
//! output starts, and a rotation moves the records of the bytes it moves to
//! `x.log.1.idx` (shifting the rest), and renames `x.log.K.idx` with `x.log.K`.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use rustix::fs::{FallocateFlags, fallocate};

use super::index::{self, Stamps};
use super::{Segment, Shared, is_live, lock};

/// How many new runs wake the rotator thread by themselves.
const RUNS_PER_WAKE: usize = 256;

/// Names waiting for the rotator thread; repeated names coalesce.
#[derive(Default)]
pub(super) struct Queue {
    pending: Mutex<Pending>,
    ready: Condvar,
}

#[derive(Default)]
struct Pending {
    names: HashSet<String>,
    /// New runs: the live file, the absolute position where the run's
    /// output starts, and when it started.
    runs: Vec<(String, u64, u64)>,
    scan: bool,
    closed: bool,
}

/// One wake-up's worth of work: new runs first, then files to look at.
struct Work {
    runs: Vec<(String, u64, u64)>,
    files: Files,
}

enum Files {
    Names(Vec<String>),
    Scan,
}

impl Queue {
    /// `name` grew: check its size.
    pub(super) fn push(&self, name: String) {
        lock(&self.pending).names.insert(name);
        self.ready.notify_one();
    }

    /// A new run writes to `name` from the absolute position `at`, from
    /// `now` (Unix ms) on.
    ///
    /// The mark waits for the thread's next wake-up (a file that grew, at
    /// the latest its first output: marks go before stamps), or for enough
    /// of them: waking the thread for each restart would cost more than the
    /// mark, which, for a run that has written nothing yet, changes no record.
    pub(super) fn push_run(&self, name: String, at: u64, now: u64) {
        let mut pending = lock(&self.pending);
        pending.runs.push((name, at, now));
        if pending.runs.len() >= RUNS_PER_WAKE {
            self.ready.notify_one();
        }
    }

    /// Check every file in the directory (start, reload, lost events).
    pub(super) fn push_scan(&self) {
        lock(&self.pending).scan = true;
        self.ready.notify_one();
    }

    /// Ends the rotator thread after its current work.
    pub(super) fn close(&self) {
        lock(&self.pending).closed = true;
        self.ready.notify_one();
    }

    /// Blocks until there is work; `None` once closed.
    fn next(&self) -> Option<Work> {
        let mut pending = lock(&self.pending);
        loop {
            let runs = std::mem::take(&mut pending.runs);
            if pending.closed {
                // The marks still waiting go in first.
                return (!runs.is_empty()).then(|| Work { runs, files: Files::Names(Vec::new()) });
            }
            if pending.scan {
                pending.scan = false;
                pending.names.clear();
                return Some(Work { runs, files: Files::Scan });
            }
            if !pending.names.is_empty() || !runs.is_empty() {
                return Some(Work { runs, files: Files::Names(pending.names.drain().collect()) });
            }
            pending = self.ready.wait(pending).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Starts the rotator thread; it ends when the queue is closed.
pub(super) fn spawn_thread(shared: Arc<Shared>) -> io::Result<()> {
    std::thread::Builder::new().name("ward-logs-rotate".into()).spawn(move || {
        let mut stamps = Stamps::default();
        while let Some(work) = shared.queue.next() {
            for (name, at, now) in work.runs {
                mark_run(&shared, &mut stamps, &name, at, now);
            }
            let names = match work.files {
                Files::Names(names) => names,
                Files::Scan => scan(&shared),
            };
            for name in names {
                stamp(&shared, &mut stamps, &name);
                if let Err(e) = check(&shared, &mut stamps, &name) {
                    tracing::error!(file = %name, error = %e, "log rotation failed");
                }
                let _ = shared.stamped.send(name.as_str().into());
            }
        }
    })?;
    Ok(())
}

/// Stamps the live file `name` with its size now.
fn stamp(shared: &Shared, stamps: &mut Stamps, name: &str) {
    let path = shared.dir.join(name);
    let Ok(meta) = std::fs::metadata(&path) else { return };
    let now = (shared.wall)();
    if let Err(e) = stamps.stamp(&path, name, meta.len(), now) {
        tracing::warn!(file = %name, error = %e, "writing the log index failed");
    }
}

/// Marks that a new run of `name` writes from the absolute position `at`
/// since `now`.
fn mark_run(shared: &Shared, stamps: &mut Stamps, name: &str, at: u64, now: u64) {
    let path = shared.dir.join(name);
    // Only this thread moves `base`: it cannot change until this returns.
    let base = shared.base_of(name);
    if let Err(e) = stamps.new_run(&path, name, at.checked_sub(base), now) {
        tracing::warn!(file = %name, error = %e, "marking a new run in the log index failed");
    }
}

/// Lists the live files, deleting rotated ones beyond `keep` on the way.
fn scan(shared: &Shared) -> Vec<String> {
    let keep = lock(&shared.spec).keep;
    let entries = match std::fs::read_dir(&shared.dir) {
        Ok(entries) => entries,
        Err(e) => {
            tracing::error!(dir = %shared.dir.display(), error = %e, "listing logs failed");
            return Vec::new();
        }
    };
    let mut live = Vec::new();
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else { continue };
        if is_live(&name) {
            live.push(name);
        } else if let Some((base, k)) = rotated_name(name.strip_suffix(".idx").unwrap_or(&name)) {
            if k > keep {
                let state = shared.file(base);
                let mut layout = state.layout.write().unwrap_or_else(PoisonError::into_inner);
                layout.rotated.truncate(keep as usize);
                if let Err(e) = std::fs::remove_file(entry.path()) {
                    tracing::warn!(file = %name, error = %e, "removing an old log failed");
                }
            }
        } else if name.ends_with(".log.rotating") {
            tracing::warn!(file = %name, "left by an interrupted rotation; may hold unique output");
        }
    }
    live
}

/// `x.log.7` → `("x.log", 7)`.
fn rotated_name(name: &str) -> Option<(&str, u32)> {
    let (base, k) = name.rsplit_once('.')?;
    let k: u32 = k.parse().ok()?;
    (is_live(base) && k > 0).then_some((base, k))
}

/// Rotates `name` if it is past the size limit.
fn check(shared: &Shared, stamps: &mut Stamps, name: &str) -> io::Result<()> {
    let spec = lock(&shared.spec).clone();
    let path = shared.dir.join(name);
    let file = match OpenOptions::new().read(true).write(true).open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    // The index may not outgrow a quarter of the limit either (tiny lines
    // written slowly): the log then rotates early, and its index with it.
    let index_len = std::fs::metadata(index::index_path(&path)).map_or(0, |m| m.len());
    if (meta.len() <= spec.max_size && index_len <= spec.max_size / 4) || !meta.is_file() {
        return Ok(());
    }
    let block = match meta.blksize() {
        b if b >= 512 && b.is_power_of_two() => b,
        _ => 4096,
    };
    // COLLAPSE_RANGE wants whole blocks and must leave at least one byte.
    let n = (meta.len() - 1) / block * block;
    if n == 0 {
        return Ok(());
    }
    rotate(shared, stamps, Rotation { name, path: &path, live: &file, n, keep: spec.keep })
}

/// One rotation: the first `n` bytes of the live file `name` go to `name.1`.
struct Rotation<'a> {
    name: &'a str,
    path: &'a Path,
    live: &'a File,
    n: u64,
    keep: u32,
}

/// Moves the first `n` bytes of the live file `name` to `name.1`.
fn rotate(shared: &Shared, stamps: &mut Stamps, r: Rotation<'_>) -> io::Result<()> {
    let Rotation { name, path, live, n, keep } = r;
    let tmp_path = path.with_file_name(format!("{name}.rotating"));
    let mut tmp = None;
    if keep > 0 {
        // As private as the live file (0640): output may hold secrets.
        let mut out = private_file(&tmp_path)?;
        let copied = copy_from(live, 0, Some(n), &mut out)?;
        if copied != n {
            drop(out);
            let _ = std::fs::remove_file(&tmp_path);
            return Err(io::Error::other(format!("{name} shrank while being rotated")));
        }
        out.sync_data()?;
        tmp = Some(out);
    }

    let state = shared.file(name);
    let mut layout = state.layout.write().unwrap_or_else(PoisonError::into_inner);
    // Every byte that moves has a record: stamp the file as it is now.
    stamp(shared, stamps, name);
    let removed = match fallocate(live, FallocateFlags::COLLAPSE_RANGE, 0, n) {
        Ok(()) => n,
        Err(rustix::io::Errno::OPNOTSUPP | rustix::io::Errno::INVAL) => {
            // Fallback: copy the rest, then truncate. Whatever is written
            // between the end of this copy and `set_len` is lost.
            let rest = match &mut tmp {
                Some(out) => copy_from(live, n, None, out)?,
                None => live.metadata()?.len().saturating_sub(n),
            };
            live.set_len(0)?;
            if let Some(out) = &tmp {
                out.sync_data()?;
            }
            n + rest
        }
        Err(e) => {
            drop(tmp);
            let _ = std::fs::remove_file(&tmp_path);
            return Err(e.into());
        }
    };
    let start = layout.base;
    layout.base += removed;
    state.base.store(layout.base, std::sync::atomic::Ordering::Release);
    let moved = stamps.cut(path, name, removed, (shared.wall)());
    let tmp_index = index::index_path(&tmp_path);
    match moved {
        Ok(marks) if keep > 0 => {
            if let Err(e) = index::write_file(&tmp_index, &marks) {
                tracing::warn!(file = %name, error = %e, "writing the rotated log index failed");
            }
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(file = %name, error = %e, "cutting the log index failed"),
    }
    if keep == 0 {
        layout.rotated.clear();
        return Ok(());
    }
    match shift(path, name, keep, &tmp_path) {
        Ok(()) => {
            layout.rotated.push_front(Segment { start, end: start + removed });
            layout.rotated.truncate(keep as usize);
            Ok(())
        }
        Err(e) => {
            // The rotated files no longer match the layout: followers skip
            // ahead to the live file rather than read the wrong bytes.
            layout.rotated.clear();
            Err(e)
        }
    }
}

/// `name.{k}` → `name.{k+1}` for k < keep, then `name.rotating` → `name.1`;
/// their indexes (`.idx`) alike.
fn shift(path: &Path, name: &str, keep: u32, tmp_path: &Path) -> io::Result<()> {
    let numbered = |k: u32| path.with_file_name(format!("{name}.{k}"));
    let move_one = |from: &Path, to: &Path| match std::fs::rename(from, to) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    };
    // An index whose file has none must not describe another file's bytes.
    let move_index =
        |from: &Path, to: &Path| match std::fs::rename(index::index_path(from), index::index_path(to)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let _ = std::fs::remove_file(index::index_path(to));
                Ok(())
            }
            other => other,
        };
    for k in (1..keep).rev() {
        move_one(&numbered(k), &numbered(k + 1))?;
        move_index(&numbered(k), &numbered(k + 1))?;
    }
    std::fs::rename(tmp_path, numbered(1))?;
    move_index(tmp_path, &numbered(1))
}

/// Copies `len` bytes (or up to the end) of `from`, starting at `offset`, to
/// the end of `to`. Returns how many were copied.
fn copy_from(from: &File, offset: u64, len: Option<u64>, to: &mut File) -> io::Result<u64> {
    let mut from = from;
    from.seek(SeekFrom::Start(offset))?;
    to.seek(SeekFrom::End(0))?;
    match len {
        Some(len) => io::copy(&mut io::Read::take(from, len), to),
        None => io::copy(&mut from, to),
    }
}

/// Creates (or truncates) `path` with mode 0640, as the live log files are.
pub(super) fn private_file(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new().write(true).create(true).truncate(true).mode(0o640).open(path)
}
