//! Merging the lines of several instances in time order, and the filters of
//! `ward logs`: a time window, a pattern, the last `n` lines. Pure: the
//! streams are any iterators of lines.
//!
//! Each stream is in its own order (its file's); the merge takes the line
//! with the smallest time among the heads of the streams, and the earlier
//! stream on a tie, so lines of one instance never change order and equal
//! times come out in a stable order.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use super::lines::Line;

/// The lines of `streams` in time order: each item is the index of its
/// stream and the line.
pub fn merge<I: Iterator<Item = Line>>(streams: Vec<I>) -> Merge<I> {
    let mut m = Merge { streams, heads: BinaryHeap::new() };
    for i in 0..m.streams.len() {
        m.refill(i);
    }
    m
}

/// The iterator [`merge`] returns.
pub struct Merge<I> {
    streams: Vec<I>,
    /// The next line of each stream that has one, smallest time first.
    heads: BinaryHeap<Reverse<(u64, usize, HeadLine)>>,
}

/// A line in the heap (only its time and stream order it).
#[derive(Debug)]
struct HeadLine(Line);

impl PartialEq for HeadLine {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for HeadLine {}
impl PartialOrd for HeadLine {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for HeadLine {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

impl<I: Iterator<Item = Line>> Merge<I> {
    fn refill(&mut self, i: usize) {
        if let Some(line) = self.streams[i].next() {
            self.heads.push(Reverse((line.ms, i, HeadLine(line))));
        }
    }
}

impl<I: Iterator<Item = Line>> Iterator for Merge<I> {
    type Item = (usize, Line);

    fn next(&mut self) -> Option<(usize, Line)> {
        let Reverse((_, i, HeadLine(line))) = self.heads.pop()?;
        self.refill(i);
        Some((i, line))
    }
}

/// Which lines `ward logs` shows.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only lines seen at or after this Unix ms.
    pub since: Option<u64>,
    /// Only lines seen at or before this Unix ms.
    pub until: Option<u64>,
    /// Only lines that match.
    pub grep: Option<regex::bytes::Regex>,
}

impl Filter {
    /// Whether `line` is shown.
    pub fn keeps(&self, line: &Line) -> bool {
        self.since.is_none_or(|s| line.ms >= s)
            && self.until.is_none_or(|u| line.ms <= u)
            && self.grep.as_ref().is_none_or(|re| re.is_match(&line.text))
    }

    /// Whether no line of a stream after `line` can be shown (its times only
    /// grow).
    pub fn past(&self, line: &Line) -> bool {
        self.until.is_some_and(|u| line.ms > u)
    }

    /// Whether only the time bounds the lines (the last `n` lines of each
    /// stream are then enough to find the last `n` of the merge).
    pub fn by_time_only(&self) -> bool {
        self.until.is_none() && self.grep.is_none()
    }
}

/// The last `n` items of `items` (all of them for `None`), in order; holds
/// at most `n`.
pub fn last_n<T>(items: impl Iterator<Item = T>, n: Option<usize>) -> VecDeque<T> {
    let mut kept = VecDeque::new();
    for item in items {
        if n.is_some_and(|n| kept.len() >= n) {
            kept.pop_front();
        }
        if n != Some(0) {
            kept.push_back(item);
        }
    }
    kept
}
