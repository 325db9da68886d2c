//! Tests of the time index, the line splitter, the merge and the filters:
//! pure rules first, then the index kept by a real log thread across
//! rotations (with a test clock).

use std::fs;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::index::{
    Mark, Stamps, TICK_MS, covering, find_after, first_at_or_after, index_path, last_end, split,
};
use super::lines::{From, Line, Splitter};
use super::merge::{Filter, last_n, merge};
use super::select::{Pattern, instance_of};
use super::tests::{TempDir, id, settled, spec, until};
use super::{Logs, WallClock};

fn mark(end: u64, ms: u64, run: u64) -> Mark {
    Mark { end, ms, run }
}

fn line(ms: u64, text: &str) -> Line {
    Line { ms, run: 1, text: text.as_bytes().to_vec() }
}

#[test]
fn split_cuts_the_record_that_straddles() {
    let marks = [mark(10, 1, 1), mark(20, 2, 1), mark(30, 3, 2)];
    let (head, tail) = split(&marks, 15, 9, 2);
    assert_eq!(head, vec![mark(10, 1, 1), mark(15, 2, 1)]);
    assert_eq!(tail, vec![mark(5, 2, 1), mark(15, 3, 2)]);
    // On a record boundary: nothing is cut.
    let (head, tail) = split(&marks, 20, 9, 2);
    assert_eq!(head, vec![mark(10, 1, 1), mark(20, 2, 1)]);
    assert_eq!(tail, vec![mark(10, 3, 2)]);
    // Bytes past every record go with a record of their own, stamped now.
    let (head, tail) = split(&marks, 40, 9, 2);
    assert_eq!(head.last(), Some(&mark(40, 9, 2)));
    assert!(tail.is_empty());
    assert_eq!(split(&[], 0, 9, 1), (vec![], vec![]));
}

#[test]
fn stamps_share_a_record_within_a_tick_and_mark_runs() {
    let tmp = TempDir::new(&std::env::temp_dir(), "stamps");
    fs::create_dir_all(tmp.logs()).unwrap();
    let data = tmp.logs().join("a.0.log");
    let mut s = Stamps::default();
    s.stamp(&data, "a.0.log", 10, 1_000).unwrap();
    s.stamp(&data, "a.0.log", 20, 1_000 + TICK_MS - 1).unwrap();
    s.stamp(&data, "a.0.log", 30, 1_000 + TICK_MS).unwrap();
    s.stamp(&data, "a.0.log", 30, 5_000).unwrap(); // no growth: no record
    let idx = fs::File::open(index_path(&data)).unwrap();
    assert_eq!(find_after(&idx, 0, 99).unwrap(), vec![mark(20, 1_099, 0), mark(30, 1_100, 0)]);

    // A run that starts at 25: the bytes after it were its own.
    s.new_run(&data, "a.0.log", Some(25), 1_200).unwrap();
    s.stamp(&data, "a.0.log", 40, 1_300).unwrap();
    let all = find_after(&idx, 0, 99).unwrap();
    assert_eq!(all, vec![mark(20, 1_099, 0), mark(25, 1_100, 0), mark(30, 1_100, 1), mark(40, 1_300, 1)]);
    // A run whose start is not stamped yet: the old run's bytes get a record.
    s.new_run(&data, "a.0.log", Some(50), 1_400).unwrap();
    s.stamp(&data, "a.0.log", 60, 1_500).unwrap();
    let tail = find_after(&idx, 40, 99).unwrap();
    assert_eq!(tail, vec![mark(50, 1_400, 1), mark(60, 1_500, 2)]);

    // Lookups: by offset and by time.
    assert_eq!(find_after(&idx, 29, 1).unwrap(), vec![mark(30, 1_100, 1)]);
    assert_eq!(covering(&idx, 20, 26).unwrap(), vec![mark(25, 1_100, 0), mark(30, 1_100, 1)]);
    assert_eq!(covering(&idx, 24, 25).unwrap(), vec![mark(25, 1_100, 0)]);
    assert_eq!(covering(&idx, 55, 99).unwrap(), vec![mark(60, 1_500, 2)]);
    assert!(covering(&idx, 60, 99).unwrap().is_empty());
    assert_eq!(last_end(&idx).unwrap(), 60);
    assert_eq!(first_at_or_after(&idx, 1_100).unwrap(), Some(20));
    assert_eq!(first_at_or_after(&idx, 0).unwrap(), Some(0));
    assert_eq!(first_at_or_after(&idx, 9_999).unwrap(), None);

    // A new Stamps (a new brain) continues the run count from the file.
    let mut again = Stamps::default();
    again.new_run(&data, "a.0.log", Some(60), 2_000).unwrap();
    again.stamp(&data, "a.0.log", 70, 2_100).unwrap();
    assert_eq!(find_after(&idx, 60, 9).unwrap(), vec![mark(70, 2_100, 3)]);
}

#[test]
fn the_splitter_times_each_line_by_the_record_that_ends_it() {
    let mut s = Splitter::default();
    let mut out = Vec::new();
    // "a\nbb\nc" at 100..106; records: up to 102 at t=1, up to 106 at t=2.
    s.push(100, b"a\nbb\nc", &[mark(102, 1, 1), mark(106, 2, 1)], 7, &mut out);
    assert_eq!(out, vec![line(1, "a"), line(2, "bb")]);
    out.clear();
    // The line goes on in the next read; a byte past every record: the fallback time.
    s.push(106, b"c\nd\n", &[mark(108, 3, 2)], 9, &mut out);
    assert_eq!(
        out,
        vec![Line { ms: 3, run: 2, text: b"cc".to_vec() }, Line { ms: 9, run: 2, text: b"d".to_vec() }]
    );
    s.push(110, b"tail", &[], 11, &mut out);
    assert_eq!(s.finish(11).map(|l| l.text), Some(b"tail".to_vec()));
    assert_eq!(s.finish(11), None);
}

#[test]
fn merge_orders_by_time_and_keeps_each_stream_in_order() {
    let a = vec![line(1, "a1"), line(5, "a5"), line(5, "a5b"), line(9, "a9")];
    let b = vec![line(2, "b2"), line(5, "b5"), line(6, "b6")];
    let c: Vec<Line> = vec![];
    let got: Vec<(usize, String)> = merge(vec![a.into_iter(), b.into_iter(), c.into_iter()])
        .map(|(i, l)| (i, String::from_utf8(l.text).unwrap()))
        .collect();
    let want = [(0, "a1"), (1, "b2"), (0, "a5"), (0, "a5b"), (1, "b5"), (1, "b6"), (0, "a9")];
    assert_eq!(got, want.map(|(i, s)| (i, s.to_string())));
    // A clock step back inside one stream does not reorder that stream.
    let d = vec![line(10, "d10"), line(3, "d3")];
    let e = vec![line(4, "e4")];
    let got: Vec<String> =
        merge(vec![d.into_iter(), e.into_iter()]).map(|(_, l)| String::from_utf8(l.text).unwrap()).collect();
    assert_eq!(got, ["e4", "d10", "d3"]);
}

#[test]
fn filters_window_grep_and_last_n() {
    let f = Filter { since: Some(5), until: Some(8), grep: Some(regex::bytes::Regex::new("^ok").unwrap()) };
    assert!(f.keeps(&line(5, "ok 1")) && f.keeps(&line(8, "ok 2")));
    assert!(!f.keeps(&line(4, "ok")) && !f.keeps(&line(9, "ok")) && !f.keeps(&line(6, "not ok")));
    assert!(f.past(&line(9, "")) && !f.past(&line(8, "")));
    assert!(!f.by_time_only() && Filter::default().by_time_only());
    assert_eq!(last_n(1..=10, Some(3)), [8, 9, 10]);
    assert_eq!(last_n(1..=2, Some(3)), [1, 2]);
    assert!(last_n(1..=2, Some(0)).is_empty());
    assert_eq!(last_n(1..=4, None), [1, 2, 3, 4]);
}

#[test]
fn patterns_select_instances() {
    let p = |s: &str| s.parse::<Pattern>().unwrap();
    assert!(p("web").matches("web", 3) && !p("web").matches("web2", 0));
    assert!(p("web/1").matches("web", 1) && !p("web/1").matches("web", 0));
    assert!(p("web*").matches("web", 0) && p("web*").matches("web-api", 2) && !p("web*").matches("db", 0));
    assert!(p("*-api").matches("x-api", 0) && p("a?c").matches("abc", 0) && !p("a?c").matches("ac", 0));
    assert!(p("*/0").matches("db", 0) && !p("*/0").matches("db", 1));
    let err = "web/x".parse::<Pattern>().unwrap_err().to_string();
    assert!(err.contains("expected SERVICE, SERVICE/N or a glob"), "{err}");
    assert!("".parse::<Pattern>().is_err() && "a b".parse::<Pattern>().is_err());
    assert_eq!(instance_of("my.svc.12.log"), Some(("my.svc", 12)));
    assert_eq!(instance_of("a.0.log.1"), None);
}

/// A wall clock the test sets.
fn clock() -> (Arc<AtomicU64>, WallClock) {
    let now = Arc::new(AtomicU64::new(1_000));
    let read = now.clone();
    (now, Arc::new(move || read.load(Ordering::SeqCst)))
}

/// Appends `text` as a service does.
fn append(path: &std::path::Path, text: &str) {
    use std::io::Write;
    let mut f = fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// Waits until every byte of the live file has a record and no rotation is due.
async fn stamped(path: &std::path::Path, max: u64) {
    until("the index to cover the file", || {
        let len = fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let last = super::index::last_of(&index_path(path)).map_or(0, |m| m.end);
        settled(path, max) && last == len
    })
    .await;
}

fn read_all(logs: &Logs, from: From) -> Vec<Line> {
    let mut r = logs.reader("api.0.log", from).unwrap();
    let mut out = Vec::new();
    while r.read(false, &mut out).unwrap() {}
    out.extend(r.finish());
    out
}

#[tokio::test]
async fn the_index_follows_rotation_and_since_reads_into_rotated_files() {
    let tmp = TempDir::new(&std::env::temp_dir(), "index-rot");
    let (now, wall) = clock();
    let max = 8 * 1024;
    let logs = Logs::start(tmp.logs(), spec(max, 20), wall).unwrap();
    let path = logs.path(&id("api"));
    // Three bursts of 300 lines (~11 KiB each) at t = 1000, 2000, 3000.
    for burst in 0..3u64 {
        now.store(1_000 * (burst + 1), Ordering::SeqCst);
        let text: String =
            (0..300).map(|i| format!("burst {burst} line {i:04} {}\n", "x".repeat(10))).collect();
        append(&path, &text);
        stamped(&path, max).await;
    }
    assert!(super::index::rotated(&path, 2).exists(), "expected rotations");
    assert!(index_path(&super::index::rotated(&path, 1)).exists(), "rotated files keep their index");

    let all = read_all(&logs, From::default());
    assert_eq!(all.len(), 900);
    for (i, l) in all.iter().enumerate() {
        let burst = i / 300;
        let want = format!("burst {burst} line {:04} {}", i % 300, "x".repeat(10));
        assert_eq!(String::from_utf8_lossy(&l.text), want);
        assert_eq!(l.ms, 1_000 * (burst as u64 + 1), "line {i} has the time of its burst");
    }
    let since = read_all(&logs, From { since: Some(2_000), ..From::default() });
    assert_eq!(since.len(), 600);
    assert!(since[0].text.starts_with(b"burst 1 line 0000"));
    let tail = read_all(&logs, From { since: Some(2_000), tail: Some(5), end: false });
    assert_eq!(tail.len(), 5);
    assert!(read_all(&logs, From { since: Some(9_000), ..From::default() }).is_empty());

    // A new run: its lines carry the next run number.
    let before = all.last().map(|l| l.run).unwrap_or(0);
    let len = fs::metadata(&path).unwrap().len();
    logs.run_started(&id("api"), len);
    now.store(4_000, Ordering::SeqCst);
    append(&path, "new run\n");
    stamped(&path, max).await;
    let last = read_all(&logs, From { tail: Some(1), ..From::default() });
    assert_eq!(last, vec![Line { ms: 4_000, run: before + 1, text: b"new run".to_vec() }]);
}

#[tokio::test]
async fn a_large_index_rotates_its_log_early() {
    let tmp = TempDir::new(&std::env::temp_dir(), "index-big");
    fs::create_dir_all(tmp.logs()).unwrap();
    let path = tmp.logs().join("api.0.log");
    // 1000 lines of 6 bytes, each with its own record: 24 KB of index for 6 KB of log.
    let text: String = (0..1000).map(|i| format!("{i:05}\n")).collect();
    fs::write(&path, &text).unwrap();
    let marks: Vec<Mark> = (1..=1000).map(|i| mark(i * 6, i, 1)).collect();
    super::index::write_file(&index_path(&path), &marks).unwrap();
    let (_now, wall) = clock();
    let logs = Logs::start(tmp.logs(), spec(64 * 1024, 3), wall).unwrap();
    let rotated = super::index::rotated(&path, 1);
    until("an early rotation", || rotated.exists()).await;
    let live_index = fs::metadata(index_path(&path)).unwrap().len();
    assert!(live_index <= 16 * 1024, "the live index shrank: {live_index}");
    let all = read_all(&logs, From::default());
    assert_eq!(all.len(), 1000);
    assert!(all.iter().enumerate().all(|(i, l)| l.ms == i as u64 + 1), "every line keeps its time");
}
