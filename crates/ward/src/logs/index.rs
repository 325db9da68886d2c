//! The time index beside each log file: when its bytes were written, and by
//! which run of the instance, without ward being in the data path.
//!
//! `x.log.idx` holds fixed records of 24 bytes (little-endian `end: u64`,
//! `ms: u64`, `run: u64`), sorted by `end`: the bytes of `x.log` before `end`
//! and after the previous record's `end` were seen in the file at Unix time
//! `ms` (at most [`TICK_MS`] after they were written, more while no brain
//! watched) and were written by run `run`. A rotated file `x.log.K` has its
//! records in `x.log.K.idx`, with offsets in that file.
//!
//! The log thread ([`super::rotate`]) owns the writing side ([`Stamps`]): it
//! stamps a file each time inotify says it grew, marks where a new run
//! starts, and splits the records when rotation moves the head of the file.
//! Readers ([`covering`], [`first_at_or_after`]) read records with `pread`.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The size of one record.
pub(super) const RECORD: u64 = 24;

/// One record lasts at most this long: writes within one tick share it, so
/// the index grows by at most one record per tick of activity.
pub(super) const TICK_MS: u64 = 100;

/// Records looked at from the end when a run mark comes late.
const RELABEL_WINDOW: u64 = 256;

/// The bytes up to `end` (after the previous mark) were seen at `ms` and
/// belong to run `run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    /// The offset just past the bytes (in its file, or absolute in a stream).
    pub end: u64,
    /// Unix time in milliseconds when they were seen.
    pub ms: u64,
    /// Which run of the instance wrote them (1, 2, …).
    pub run: u64,
}

impl Mark {
    fn encode(&self) -> [u8; RECORD as usize] {
        let mut b = [0; RECORD as usize];
        b[..8].copy_from_slice(&self.end.to_le_bytes());
        b[8..16].copy_from_slice(&self.ms.to_le_bytes());
        b[16..].copy_from_slice(&self.run.to_le_bytes());
        b
    }

    fn decode(b: &[u8]) -> Mark {
        let word = |i: usize| {
            let mut w = [0; 8];
            w.copy_from_slice(&b[i..i + 8]);
            u64::from_le_bytes(w)
        };
        Mark { end: word(0), ms: word(8), run: word(16) }
    }
}

/// `x.log` → `x.log.idx`; `x.log.3` → `x.log.3.idx`.
pub(super) fn index_path(data: &Path) -> PathBuf {
    let mut s = data.as_os_str().to_os_string();
    s.push(".idx");
    PathBuf::from(s)
}

/// Splits the records of a file whose first `n` bytes move elsewhere: the
/// records of those bytes (the last one cut at `n`, and one more at `n` when
/// bytes past the last record go too, stamped `now`), and the rest, shifted
/// by `n`.
pub fn split(marks: &[Mark], n: u64, now: u64, run: u64) -> (Vec<Mark>, Vec<Mark>) {
    let mut head: Vec<Mark> = marks.iter().filter(|m| m.end <= n).copied().collect();
    let mut tail = Vec::new();
    for m in marks.iter().filter(|m| m.end > n) {
        if tail.is_empty() && head.last().is_none_or(|h| h.end < n) {
            head.push(Mark { end: n, ..*m });
        }
        tail.push(Mark { end: m.end - n, ..*m });
    }
    if n > 0 && head.last().is_none_or(|h| h.end < n) {
        head.push(Mark { end: n, ms: now, run });
    }
    (head, tail)
}

/// Reads records `from..to` (indexes, not bytes).
fn read_range(file: &File, from: u64, to: u64) -> io::Result<Vec<Mark>> {
    if to <= from {
        return Ok(Vec::new());
    }
    let mut buf = vec![0; ((to - from) * RECORD) as usize];
    file.read_exact_at(&mut buf, from * RECORD)?;
    Ok(buf.chunks_exact(RECORD as usize).map(Mark::decode).collect())
}

/// The number of whole records in `file`.
fn count(file: &File) -> io::Result<u64> {
    Ok(file.metadata()?.len() / RECORD)
}

/// The index of the first record for which `past` holds (records are
/// sorted so that `past` is false, then true), by binary search.
fn first_where(file: &File, past: impl Fn(&Mark) -> bool) -> io::Result<u64> {
    let (mut lo, mut hi) = (0, count(file)?);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let m = read_range(file, mid, mid + 1)?;
        if m.first().is_some_and(&past) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Ok(lo)
}

/// Up to `max` records with `end > offset`, oldest first.
#[cfg(test)]
pub(super) fn find_after(file: &File, offset: u64, max: u64) -> io::Result<Vec<Mark>> {
    let first = first_where(file, |m| m.end > offset)?;
    let total = count(file)?;
    read_range(file, first, total.min(first + max))
}

/// The records that cover the bytes `from..to`: those with `end > from`, up
/// to the first with `end >= to` (read a few at a time: usually one or two).
pub(super) fn covering(file: &File, from: u64, to: u64) -> io::Result<Vec<Mark>> {
    const STEP: u64 = 32;
    let total = count(file)?;
    let mut at = first_where(file, |m| m.end > from)?;
    let mut marks = Vec::new();
    while at < total && marks.last().is_none_or(|m: &Mark| m.end < to) {
        let batch = read_range(file, at, total.min(at + STEP))?;
        at += batch.len() as u64;
        for m in batch {
            let done = m.end >= to;
            marks.push(m);
            if done {
                break;
            }
        }
    }
    Ok(marks)
}

/// The end of the last record of `file` (0 without one).
pub(super) fn last_end(file: &File) -> io::Result<u64> {
    let n = count(file)?;
    Ok(match n {
        0 => 0,
        n => read_range(file, n - 1, n)?.pop().map_or(0, |m| m.end),
    })
}

/// The offset from which the records are at or after `ms`: the end of the
/// record before the first one with `ms` at or past it (0 when it is the
/// first; `None` when no record is).
pub(super) fn first_at_or_after(file: &File, ms: u64) -> io::Result<Option<u64>> {
    let first = first_where(file, |m| m.ms >= ms)?;
    if first >= count(file)? {
        return Ok(None);
    }
    if first == 0 {
        return Ok(Some(0));
    }
    Ok(read_range(file, first - 1, first)?.first().map(|m| m.end))
}

/// The last record of `path`, if it has one.
pub(super) fn last_of(path: &Path) -> Option<Mark> {
    let file = File::open(path).ok()?;
    let n = count(&file).ok()?;
    read_range(&file, n.checked_sub(1)?, n).ok()?.pop()
}

/// The writing side, owned by the log thread: what it knows of each live
/// file's index. Files are opened per write, so that ten thousand instances
/// hold no descriptors.
#[derive(Default)]
pub(super) struct Stamps {
    files: HashMap<String, Stamp>,
}

/// The live index of one file, as the log thread keeps it.
struct Stamp {
    /// Records in the file.
    count: u64,
    last: Option<Mark>,
    /// When the last record was first written: it takes later stamps until
    /// a tick has passed.
    opened_ms: u64,
    /// The run writing now.
    run: u64,
}

impl Stamps {
    /// Records that `data` (the live file `name`) was `size` bytes long at `now`.
    pub(super) fn stamp(&mut self, data: &Path, name: &str, size: u64, now: u64) -> io::Result<()> {
        let s = self.state(data, name)?;
        let end = s.last.map_or(0, |m| m.end);
        if size == end {
            return Ok(());
        }
        let file = open_rw(data)?;
        if size < end {
            // Truncated by someone other than ward: its old records mean nothing.
            file.set_len(0)?;
            (s.count, s.last) = (0, None);
        }
        let mark = Mark { end: size, ms: now, run: s.run };
        match s.last {
            Some(last) if last.run == s.run && now.saturating_sub(s.opened_ms) < TICK_MS && s.count > 0 => {
                file.write_all_at(&mark.encode(), (s.count - 1) * RECORD)?;
            }
            _ => {
                file.write_all_at(&mark.encode(), s.count * RECORD)?;
                s.count += 1;
                s.opened_ms = now;
            }
        }
        s.last = Some(mark);
        Ok(())
    }

    /// A new run of `name` starts writing at `offset` in the live file
    /// (`None`: somewhere before the live file). Records already past
    /// `offset` were the new run's: they are relabelled.
    pub(super) fn new_run(
        &mut self,
        data: &Path,
        name: &str,
        offset: Option<u64>,
        now: u64,
    ) -> io::Result<()> {
        let s = self.state(data, name)?;
        let old = s.run;
        s.run += 1;
        s.opened_ms = 0;
        let end = s.last.map_or(0, |m| m.end);
        let Some(offset) = offset.filter(|&o| o != end) else { return Ok(()) };
        let file = open_rw(data)?;
        if end < offset {
            // The old run's last bytes, not stamped yet.
            let mark = Mark { end: offset, ms: now, run: old };
            file.write_all_at(&mark.encode(), s.count * RECORD)?;
            s.count += 1;
            s.last = Some(mark);
            return Ok(());
        }
        let from = s.count.saturating_sub(RELABEL_WINDOW);
        let before = read_range(&file, from, s.count)?;
        let (mut head, tail) = match before.first() {
            // The window starts past `offset`: relabel all of it.
            Some(first) if from > 0 && first.end > offset => {
                (Vec::new(), before.iter().map(|m| Mark { end: m.end - offset, ..*m }).collect())
            }
            _ => split(&before, offset, now, old),
        };
        head.extend(tail.into_iter().map(|m| Mark { end: m.end + offset, run: s.run, ..m }));
        let bytes: Vec<u8> = head.iter().flat_map(|m| m.encode()).collect();
        file.write_all_at(&bytes, from * RECORD)?;
        s.count = from + head.len() as u64;
        file.set_len(s.count * RECORD)?;
        s.last = head.last().copied();
        Ok(())
    }

    /// The first `n` bytes of the live file `name` leave it: returns their
    /// records, and keeps the rest, shifted, as the live index.
    pub(super) fn cut(&mut self, data: &Path, name: &str, n: u64, now: u64) -> io::Result<Vec<Mark>> {
        let s = self.state(data, name)?;
        let all = match File::open(index_path(data)) {
            Ok(file) => read_range(&file, 0, s.count)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        let (head, tail) = split(&all, n, now, s.run);
        let path = index_path(data);
        let tmp = path.with_extension("idx.tmp");
        write_file(&tmp, &tail)?;
        std::fs::rename(&tmp, &path)?;
        s.count = tail.len() as u64;
        s.last = tail.last().copied();
        Ok(head)
    }

    /// What is known of `name`, read from its index on first use.
    fn state(&mut self, data: &Path, name: &str) -> io::Result<&mut Stamp> {
        if !self.files.contains_key(name) {
            let (count, last) = match File::open(index_path(data)) {
                Ok(file) => {
                    let count = count(&file)?;
                    let last = match count {
                        0 => None,
                        n => read_range(&file, n - 1, n)?.pop(),
                    };
                    (count, last)
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => (0, None),
                Err(e) => return Err(e),
            };
            let older = || last_of(&index_path(&rotated(data, 1)));
            let run = last.or_else(older).map_or(0, |m| m.run);
            self.files.insert(name.to_string(), Stamp { count, last, opened_ms: 0, run });
        }
        self.files.get_mut(name).ok_or_else(|| io::Error::other("index state vanished"))
    }
}

/// Opens (or creates, 0640 as the logs) the index of `data` for writing.
fn open_rw(data: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).write(true).create(true).truncate(false).mode(0o640).open(index_path(data))
}

/// `x.log` → `x.log.K`.
pub(super) fn rotated(data: &Path, k: u32) -> PathBuf {
    let mut s = data.as_os_str().to_os_string();
    s.push(format!(".{k}"));
    PathBuf::from(s)
}

/// Writes `marks` as a whole index file (0640, as the logs).
pub(super) fn write_file(path: &Path, marks: &[Mark]) -> io::Result<()> {
    use std::io::Write;
    let bytes: Vec<u8> = marks.iter().flat_map(|m| m.encode()).collect();
    let mut file = OpenOptions::new().write(true).create(true).truncate(true).mode(0o640).open(path)?;
    file.write_all(&bytes)
}
