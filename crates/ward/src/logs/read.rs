//! Blocking reads of one instance's output: the last lines across the live
//! and rotated files, and the bytes from an absolute position on. Both hold
//! the file's layout lock for reading, so a rotation never moves bytes under
//! them.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::PoisonError;

use super::index::{self, Mark};
use super::{CHUNK, Shared};

/// The last `n` lines of `name` (the live file, then `name.1`, `name.2`, …
/// while more are needed) and the absolute position just past them, from
/// which a follower continues.
pub(super) fn tail(shared: &Shared, name: &str, n: usize) -> io::Result<(Vec<u8>, u64)> {
    let state = shared.file(name);
    let layout = state.layout.read().unwrap_or_else(PoisonError::into_inner);
    let path = shared.dir.join(name);
    let live = open(&path)?;
    let live_len = match &live {
        Some(file) => file.metadata()?.len(),
        None => 0,
    };
    let end = layout.base + live_len;
    if n == 0 {
        return Ok((Vec::new(), end));
    }
    let mut scan = Backwards { wanted: n, newlines: 0, first: true, pieces: Vec::new() };
    let mut done = match &live {
        Some(file) => scan.file(file, live_len)?,
        None => false,
    };
    let mut k = 1u32;
    while !done {
        let Some(file) = open(&path.with_file_name(format!("{name}.{k}")))? else { break };
        let len = file.metadata()?.len();
        done = scan.file(&file, len)?;
        k += 1;
    }
    Ok((scan.pieces.into_iter().rev().flatten().collect(), end))
}

/// Collects pieces from the end of a stream until it has seen `wanted` lines.
struct Backwards {
    wanted: usize,
    newlines: usize,
    /// Nothing read yet: the stream's very last byte, if a newline, ends the
    /// last line rather than starting a new one.
    first: bool,
    /// The pieces, last first.
    pieces: Vec<Vec<u8>>,
}

impl Backwards {
    /// Reads `file[..len]` backwards; true once enough lines are collected.
    fn file(&mut self, file: &File, len: u64) -> io::Result<bool> {
        let mut end = len;
        while end > 0 {
            let start = end.saturating_sub(CHUNK as u64);
            let mut piece = vec![0; (end - start) as usize];
            file.read_exact_at(&mut piece, start)?;
            end = start;
            let mut stop = piece.len();
            if self.first {
                self.first = false;
                if piece.last() == Some(&b'\n') {
                    stop -= 1;
                }
            }
            let cut = piece[..stop].iter().rposition(|&b| {
                if b == b'\n' {
                    self.newlines += 1;
                }
                self.newlines == self.wanted
            });
            if let Some(at) = cut {
                self.pieces.push(piece.split_off(at + 1));
                return Ok(true);
            }
            self.pieces.push(piece);
        }
        Ok(false)
    }
}

/// What a follower gets for one read.
pub(super) struct Read {
    /// The bytes, empty at the end of the stream.
    pub(super) bytes: Vec<u8>,
    /// The absolute position just past them.
    pub(super) next: u64,
    /// Bytes that were rotated away before they could be read (the follower
    /// fell more than `keep` files behind).
    pub(super) skipped: u64,
}

/// Up to [`CHUNK`] bytes of `name` from the absolute position `pos`: from a
/// rotated file while `pos` is in one, then from the live file.
pub(super) fn from(shared: &Shared, name: &str, mut pos: u64) -> io::Result<Read> {
    let state = shared.file(name);
    let layout = state.layout.read().unwrap_or_else(PoisonError::into_inner);
    let path = shared.dir.join(name);
    let mut skipped = 0;
    if pos < layout.base {
        // `rotated` is newest first: walk it oldest first, as `pos` moves.
        let oldest = layout.rotated.back().map_or(layout.base, |s| s.start);
        if pos < oldest {
            skipped += oldest - pos;
            pos = oldest;
        }
        for (i, seg) in layout.rotated.iter().enumerate().rev() {
            if seg.start <= pos && pos < seg.end {
                let rotated = path.with_file_name(format!("{name}.{}", i + 1));
                let want = (seg.end - pos).min(CHUNK as u64);
                let bytes = match open(&rotated)? {
                    Some(file) => read_up_to(&file, pos - seg.start, want)?,
                    None => Vec::new(),
                };
                if bytes.is_empty() {
                    // Gone or cut short by someone else: skip what is missing.
                    skipped += seg.end - pos;
                    pos = seg.end;
                    continue;
                }
                let next = pos + bytes.len() as u64;
                return Ok(Read { bytes, next, skipped });
            }
        }
    }
    let Some(file) = open(&path)? else {
        return Ok(Read { bytes: Vec::new(), next: pos, skipped });
    };
    let len = file.metadata()?.len();
    let mut offset = pos - layout.base;
    if len < offset {
        // Truncated by someone other than ward: start again from its head.
        offset = 0;
        pos = layout.base;
    }
    let bytes = read_up_to(&file, offset, (len - offset).min(CHUNK as u64))?;
    let next = pos + bytes.len() as u64;
    Ok(Read { bytes, next, skipped })
}

/// Opens `path` for reading; `None` if it does not exist.
fn open(path: &Path) -> io::Result<Option<File>> {
    match File::open(path) {
        Ok(file) => Ok(Some(file)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads up to `len` bytes at `offset`, fewer at the end of the file.
fn read_up_to(file: &File, offset: u64, len: u64) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; len as usize];
    let mut filled = 0;
    while filled < buf.len() {
        match file.read_at(&mut buf[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(got) => filled += got,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

/// What a timed read gets: bytes and the index records that cover them.
pub(super) struct Marked {
    /// The bytes, empty at the end of the stream (or of what is stamped).
    pub(super) bytes: Vec<u8>,
    /// The absolute position of the first byte (past anything skipped).
    pub(super) start: u64,
    /// The records with an end past `start`, in absolute positions.
    pub(super) marks: Vec<Mark>,
    /// The time of bytes no record covers: the file's modification time.
    pub(super) fallback_ms: u64,
}

/// Up to `max` bytes of `name` from the absolute position `pos`, with their
/// records; with `stamped_only`, only bytes of the live file that a record
/// covers (the rest is read after the next stamp).
pub(super) fn marked(
    shared: &Shared,
    name: &str,
    pos: u64,
    max: usize,
    stamped_only: bool,
) -> io::Result<Marked> {
    let state = shared.file(name);
    let layout = state.layout.read().unwrap_or_else(PoisonError::into_inner);
    let path = shared.dir.join(name);
    let oldest = layout.rotated.back().map_or(layout.base, |s| s.start);
    let mut pos = pos.max(oldest);
    if pos < layout.base {
        for (i, seg) in layout.rotated.iter().enumerate().rev() {
            if !(seg.start <= pos && pos < seg.end) {
                continue;
            }
            let data = index::rotated(&path, i as u32 + 1);
            let Some(file) = open(&data)? else {
                pos = seg.end;
                continue;
            };
            let bytes = read_up_to(&file, pos - seg.start, (seg.end - pos).min(max as u64))?;
            if bytes.is_empty() {
                pos = seg.end;
                continue;
            }
            let rel = pos - seg.start;
            let marks = marks_of(&data, rel, rel + bytes.len() as u64, seg.start)?;
            return Ok(Marked { bytes, start: pos, marks, fallback_ms: mtime_ms(&file) });
        }
        pos = pos.max(layout.base);
    }
    let Some(file) = open(&path)? else {
        return Ok(Marked { bytes: Vec::new(), start: pos, marks: Vec::new(), fallback_ms: 0 });
    };
    let mut len = file.metadata()?.len();
    if len < pos - layout.base {
        pos = layout.base;
    }
    let rel = pos - layout.base;
    if stamped_only {
        let stamped = match open(&index::index_path(&path))? {
            Some(idx) => index::last_end(&idx)?,
            None => 0,
        };
        len = len.min(stamped);
    }
    let bytes = read_up_to(&file, rel, len.saturating_sub(rel).min(max as u64))?;
    let marks = marks_of(&path, rel, rel + bytes.len() as u64, layout.base)?;
    Ok(Marked { bytes, start: pos, marks, fallback_ms: mtime_ms(&file) })
}

/// The records of `data`'s index that cover `from..to`, shifted to absolute
/// positions by `start`.
fn marks_of(data: &Path, from: u64, to: u64, start: u64) -> io::Result<Vec<Mark>> {
    let Some(idx) = open(&index::index_path(data))? else { return Ok(Vec::new()) };
    let marks = index::covering(&idx, from, to)?;
    Ok(marks.into_iter().map(|m| Mark { end: m.end + start, ..m }).collect())
}

/// The modification time of `file`, in Unix milliseconds (0 if unknown).
fn mtime_ms(file: &File) -> u64 {
    file.metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as u64)
}

/// The absolute position where `name`'s lines at or after `since` (Unix ms)
/// start, by the index: the start of the line holding the first byte seen
/// then. The end of the stream if nothing was written since.
pub(super) fn position_since(shared: &Shared, name: &str, since: u64) -> io::Result<u64> {
    let state = shared.file(name);
    let layout = state.layout.read().unwrap_or_else(PoisonError::into_inner);
    let path = shared.dir.join(name);
    let mut segments: Vec<(PathBuf, u64)> = layout
        .rotated
        .iter()
        .enumerate()
        .rev()
        .map(|(i, seg)| (index::rotated(&path, i as u32 + 1), seg.start))
        .collect();
    segments.push((path.clone(), layout.base));
    for (data, start) in segments {
        let Some(file) = open(&data)? else { continue };
        let rel = match open(&index::index_path(&data))? {
            Some(idx) => index::first_at_or_after(&idx, since)?,
            // No index (written before ward kept one): by its modification time.
            None => (mtime_ms(&file) >= since).then_some(0),
        };
        if let Some(rel) = rel {
            return Ok(start + line_start(&file, rel)?);
        }
    }
    let live = open(&path)?.map_or(Ok(0), |f| f.metadata().map(|m| m.len()))?;
    Ok(layout.base + live)
}

/// The start of the line that holds the byte at `rel` (looking back at most
/// one chunk).
fn line_start(file: &File, rel: u64) -> io::Result<u64> {
    let from = rel.saturating_sub(CHUNK as u64);
    let before = read_up_to(file, from, rel - from)?;
    Ok(match before.iter().rposition(|&b| b == b'\n') {
        Some(at) => from + at as u64 + 1,
        None => from,
    })
}

/// The absolute position of the start of `name`'s last `n` lines.
pub(super) fn position_of_tail(shared: &Shared, name: &str, n: usize) -> io::Result<u64> {
    let (bytes, end) = tail(shared, name, n)?;
    Ok(end - bytes.len() as u64)
}
