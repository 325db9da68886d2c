//! One instance's output as timed lines: each line with the time its last
//! byte was seen (from the index) and the run that wrote it.
//!
//! A [`Reader`] walks the stream in absolute positions, so a rotation between
//! two reads neither repeats nor skips a line. It holds one small chunk and
//! at most one partial line (cut at [`MAX_LINE`]), whatever the file's size.

use std::collections::VecDeque;
use std::io;

use serde::{Deserialize, Serialize};

use super::index::Mark;
use super::{Logs, read};

/// A line longer than this is cut into pieces of this size.
pub const MAX_LINE: usize = 64 * 1024;

/// Bytes read at once by a reader of a merge (many run side by side).
const READ: usize = 8 * 1024;

/// One line of output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Unix time in milliseconds when it was seen in the file.
    pub ms: u64,
    /// The run of the instance that wrote it (0: unknown).
    pub run: u64,
    /// The line, without its newline.
    pub text: Vec<u8>,
}

/// One line as the API sends it (`GET /v1/logs/lines`, NDJSON) and as
/// `ward logs --json` prints it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct LineJson {
    /// The service.
    pub service: String,
    /// The replica.
    pub replica: u32,
    /// Which run of the instance wrote it (1, 2, …; 0 unknown).
    pub run: u64,
    /// When it was written, RFC 3339 with milliseconds (UTC).
    pub ts: String,
    /// The same, Unix milliseconds.
    pub ts_ms: u64,
    /// The line, without its newline (invalid UTF-8 replaced).
    pub line: String,
}

/// Splits bytes into timed lines as they come.
#[derive(Debug, Default)]
pub struct Splitter {
    /// The start of a line not ended yet.
    partial: Vec<u8>,
    /// Records past what was split, in absolute positions.
    marks: VecDeque<Mark>,
    /// The last record used, for bytes past every record.
    last: Option<Mark>,
}

impl Splitter {
    /// Adds the bytes at absolute position `start` and the records that
    /// cover them; pushes every line they end onto `out`. `fallback_ms`
    /// times bytes no record covers.
    pub fn push(&mut self, start: u64, bytes: &[u8], marks: &[Mark], fallback_ms: u64, out: &mut Vec<Line>) {
        for m in marks {
            if self.marks.back().is_none_or(|b| m.end > b.end) {
                self.marks.push_back(*m);
            }
        }
        let mut pos = start;
        for piece in bytes.split_inclusive(|&b| b == b'\n') {
            pos += piece.len() as u64;
            let ended = piece.last() == Some(&b'\n');
            let body = if ended { &piece[..piece.len() - 1] } else { piece };
            self.partial.extend_from_slice(body);
            if ended || self.partial.len() >= MAX_LINE {
                let text = std::mem::take(&mut self.partial);
                out.push(self.timed(pos, text, fallback_ms));
            }
        }
    }

    /// The line that ends at `end`, timed by the first record that reaches it.
    fn timed(&mut self, end: u64, text: Vec<u8>, fallback_ms: u64) -> Line {
        while self.marks.front().is_some_and(|m| m.end < end) {
            self.last = self.marks.pop_front();
        }
        match self.marks.front() {
            Some(m) => Line { ms: m.ms, run: m.run, text },
            None => {
                let run = self.last.map_or(0, |m| m.run);
                let ms = fallback_ms.max(self.last.map_or(0, |m| m.ms));
                Line { ms, run, text }
            }
        }
    }

    /// The line not ended by a newline, if any (at the end of a history).
    pub fn finish(&mut self, fallback_ms: u64) -> Option<Line> {
        if self.partial.is_empty() {
            return None;
        }
        let text = std::mem::take(&mut self.partial);
        Some(match self.marks.back().or(self.last.as_ref()) {
            Some(m) => Line { ms: m.ms, run: m.run, text },
            None => Line { ms: fallback_ms, run: 0, text },
        })
    }
}

/// Reads one instance's stream as lines, from an absolute position on.
pub struct Reader {
    logs: Logs,
    name: String,
    /// The next byte to read.
    pos: u64,
    split: Splitter,
    fallback_ms: u64,
}

impl Reader {
    /// A reader of the live file `name` from the absolute position `pos`.
    fn new(logs: Logs, name: String, pos: u64) -> Reader {
        Reader { logs, name, pos, split: Splitter::default(), fallback_ms: 0 }
    }

    /// Reads once; pushes the lines it ends onto `out`. False at the end of
    /// the stream (with `stamped_only`: of what the index covers).
    pub fn read(&mut self, stamped_only: bool, out: &mut Vec<Line>) -> io::Result<bool> {
        let shared = &self.logs.inner.shared;
        let got = read::marked(shared, &self.name, self.pos, READ, stamped_only)?;
        self.fallback_ms = got.fallback_ms;
        if got.bytes.is_empty() {
            self.pos = got.start;
            return Ok(false);
        }
        self.pos = got.start + got.bytes.len() as u64;
        self.split.push(got.start, &got.bytes, &got.marks, got.fallback_ms, out);
        Ok(true)
    }

    /// The line left without a newline at the end of the stream.
    pub fn finish(&mut self) -> Option<Line> {
        self.split.finish(self.fallback_ms)
    }
}

/// Where a reader of `name` starts.
#[derive(Clone, Copy, Debug, Default)]
pub struct From {
    /// Lines seen at or after this Unix ms.
    pub since: Option<u64>,
    /// At most the last this many lines (when nothing else filters them).
    pub tail: Option<usize>,
    /// At the end: only what is written from now on.
    pub end: bool,
}

impl Logs {
    /// A reader of the output of the live file `name` (`Logs::file_name`),
    /// starting as `from` says (blocking: call off the async threads).
    pub fn reader(&self, name: &str, from: From) -> io::Result<Reader> {
        let shared = &self.inner.shared;
        let mut pos = match from.since {
            Some(ms) => read::position_since(shared, name, ms)?,
            None => 0,
        };
        if from.end {
            pos = pos.max(read::position_of_tail(shared, name, 0)?);
        } else if let Some(n) = from.tail {
            pos = pos.max(read::position_of_tail(shared, name, n)?);
        }
        Ok(Reader::new(self.clone(), name.to_string(), pos))
    }
}
