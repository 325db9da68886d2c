//! Tests of rotation, tail and follow against real files (ext4 here; tmpfs
//! for the truncate fallback). Every wait has a deadline.

use std::fs::{self, OpenOptions};
use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use ward_core::spec::LogSpec;
use ward_core::{InstanceId, ServiceName};

use super::Logs;

const DEADLINE: Duration = Duration::from_secs(20);

/// A unique directory, removed on drop.
pub(super) struct TempDir(pub(super) PathBuf);

impl TempDir {
    pub(super) fn new(parent: &Path, tag: &str) -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = parent.join(format!("ward-logs-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        TempDir(dir)
    }

    pub(super) fn logs(&self) -> PathBuf {
        self.0.join("logs")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

pub(super) fn id(service: &str) -> InstanceId {
    InstanceId::new(ServiceName::new(service).unwrap(), 0)
}

/// A wall clock for the index stamps: the test's own, always 1000 ms.
fn wall() -> super::WallClock {
    std::sync::Arc::new(|| 1000)
}

pub(super) fn spec(max_size: u64, keep: u32) -> LogSpec {
    LogSpec { max_size, keep }
}

fn line(i: usize) -> String {
    format!("line {i:06} {}\n", "x".repeat(i % 37))
}

fn lines(range: std::ops::Range<usize>) -> String {
    range.map(line).collect()
}

/// Writes lines `range` through its own `O_APPEND` descriptor, as a service
/// does, syncing now and then so that rotations interleave with writes.
fn write_lines(path: &Path, range: std::ops::Range<usize>) -> std::thread::JoinHandle<()> {
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let mut file = OpenOptions::new().create(true).append(true).open(&path).unwrap();
        for i in range {
            file.write_all(line(i).as_bytes()).unwrap();
            if i % 32 == 0 {
                // Pacing, not synchronisation: real I/O that gives the
                // rotator room to run between writes.
                file.sync_data().unwrap();
            }
        }
    })
}

/// Writes lines `0..total` in bursts of 1000, each one rotated (the live file
/// back under `max_size`) before the next.
async fn write_in_bursts(path: &Path, total: usize, max_size: u64) {
    for burst in 0..total / 1000 {
        write_lines(path, burst * 1000..(burst + 1) * 1000).join().unwrap();
        until("a rotation", || settled(path, max_size)).await;
    }
}

/// Waits (with the deadline) until `cond` holds, re-checking every few ms.
pub(super) async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let wait = async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    within(what, wait).await
}

async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(DEADLINE, f).await {
        Ok(v) => v,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

/// No rotation is due or under way: the live file is within `max_size` and
/// no copy waits to become `.1` (it is renamed last).
pub(super) fn settled(path: &Path, max_size: u64) -> bool {
    let name = path.file_name().unwrap().to_str().unwrap();
    let small = fs::metadata(path).map(|m| m.len()).unwrap_or(0) <= max_size;
    small && !path.with_file_name(format!("{name}.rotating")).exists()
}

fn numbered(path: &Path, k: u32) -> PathBuf {
    let name = path.file_name().unwrap().to_str().unwrap();
    path.with_file_name(format!("{name}.{k}"))
}

/// `.log.K … .log.1, .log` concatenated.
fn everything(path: &Path) -> String {
    let mut k = 1;
    while numbered(path, k).exists() {
        k += 1;
    }
    let mut all = Vec::new();
    for k in (1..k).rev() {
        all.extend(fs::read(numbered(path, k)).unwrap());
    }
    all.extend(fs::read(path).unwrap_or_default());
    String::from_utf8(all).unwrap()
}

/// Receives from a follower until `want` bytes arrived.
async fn collect(rx: &mut tokio::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>, want: usize) -> String {
    let mut got = Vec::new();
    within("followed output", async {
        while got.len() < want {
            let piece = rx.recv().await.expect("follower ended").unwrap();
            got.extend(piece);
        }
    })
    .await;
    String::from_utf8(got).unwrap()
}

#[tokio::test]
async fn tail_reaches_into_rotated_files() {
    let tmp = TempDir::new(&std::env::temp_dir(), "tail");
    let logs = Logs::start(tmp.logs(), spec(1 << 20, 3), wall()).unwrap();
    let path = logs.path(&id("api"));
    assert_eq!(path, tmp.logs().join("api.0.log"));
    fs::write(numbered(&path, 2), "a\nb\n").unwrap();
    fs::write(numbered(&path, 1), "c\nd\n").unwrap();
    fs::write(&path, "e\nf").unwrap();

    assert_eq!(logs.tail(&id("api"), 0).await.unwrap(), b"");
    assert_eq!(logs.tail(&id("api"), 1).await.unwrap(), b"f");
    assert_eq!(logs.tail(&id("api"), 2).await.unwrap(), b"e\nf");
    assert_eq!(logs.tail(&id("api"), 3).await.unwrap(), b"d\ne\nf");
    assert_eq!(logs.tail(&id("api"), 5).await.unwrap(), b"b\nc\nd\ne\nf");
    assert_eq!(logs.tail(&id("api"), 99).await.unwrap(), b"a\nb\nc\nd\ne\nf");

    fs::write(&path, "").unwrap();
    assert_eq!(logs.tail(&id("api"), 1).await.unwrap(), b"d\n");
    assert_eq!(logs.tail(&id("api"), 2).await.unwrap(), b"c\nd\n");
    assert_eq!(logs.tail(&id("never"), 5).await.unwrap(), b"");
}

#[tokio::test]
async fn tail_of_long_output_spans_chunks() {
    let tmp = TempDir::new(&std::env::temp_dir(), "tail-long");
    let logs = Logs::start(tmp.logs(), spec(1 << 30, 3), wall()).unwrap();
    let path = logs.path(&id("api"));
    fs::write(&path, lines(0..20_000)).unwrap();
    let got = logs.tail(&id("api"), 12_345).await.unwrap();
    assert_eq!(String::from_utf8(got).unwrap(), lines(7_655..20_000));
}

/// Runs a writer against a small limit and checks that the files, put back
/// together, hold every line once and in order.
async fn rotation_keeps_every_byte_in(parent: &Path, concurrent: bool) {
    let tmp = TempDir::new(parent, "keep");
    let logs = Logs::start(tmp.logs(), spec(8 * 1024, 50), wall()).unwrap();
    let path = logs.path(&id("api"));
    let total = 9_000; // about 250 KiB: ~30 rotations, fewer than `keep`
    if concurrent {
        let writer = write_lines(&path, 0..total);
        within("the writer", async {
            while !writer.is_finished() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        writer.join().unwrap();
    } else {
        write_in_bursts(&path, total, 8 * 1024).await;
    }
    until("rotation to settle", || settled(&path, 8 * 1024)).await;
    assert!(numbered(&path, 5).exists(), "expected several rotations");
    assert!(!path.with_file_name("api.0.log.rotating").exists());
    assert!(everything(&path) == lines(0..total), "lines lost, duplicated or out of order");
}

#[tokio::test]
async fn rotation_keeps_every_byte() {
    rotation_keeps_every_byte_in(&std::env::temp_dir(), true).await;
}

/// tmpfs has no `COLLAPSE_RANGE`: the copy-and-truncate fallback. Its window
/// can lose bytes under a concurrent writer, so the writer pauses here.
#[tokio::test]
async fn rotation_falls_back_to_truncate() {
    let shm = Path::new("/dev/shm");
    if !shm.is_dir() {
        return;
    }
    rotation_keeps_every_byte_in(shm, false).await;
}

#[tokio::test]
async fn keep_bounds_the_rotated_files() {
    let tmp = TempDir::new(&std::env::temp_dir(), "bound");
    let logs = Logs::start(tmp.logs(), spec(8 * 1024, 3), wall()).unwrap();
    let path = logs.path(&id("api"));
    write_in_bursts(&path, 8_000, 8 * 1024).await;
    assert!(numbered(&path, 3).exists());
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&fs::metadata(numbered(&path, 1)).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o640, "a rotated file is as private as the live one");
    assert!(!numbered(&path, 4).exists());
    let all = everything(&path);
    assert!(lines(0..8_000).ends_with(&all), "the kept files are not the newest output");

    logs.set_spec(spec(8 * 1024, 1));
    until("old files to go", || !numbered(&path, 2).exists() && !numbered(&path, 3).exists()).await;
    assert!(numbered(&path, 1).exists());
}

#[tokio::test]
async fn follow_crosses_rotations_exactly_once() {
    let tmp = TempDir::new(&std::env::temp_dir(), "follow");
    let logs = Logs::start(tmp.logs(), spec(8 * 1024, 50), wall()).unwrap();
    let path = logs.path(&id("api"));
    write_lines(&path, 0..2_000).join().unwrap();
    until("first rotations", || settled(&path, 8 * 1024)).await;

    let mut rx = logs.follow(&id("api"), 10);
    let first = lines(1_990..2_000);
    assert_eq!(collect(&mut rx, first.len()).await, first);
    let writer = write_lines(&path, 2_000..8_000);
    let want = lines(2_000..8_000);
    let got = collect(&mut rx, want.len()).await;
    writer.join().unwrap();
    assert!(got == want, "followed output differs");
    assert!(numbered(&path, 10).exists(), "expected rotations while following");

    // Nothing more arrives while nothing is written.
    let quiet = tokio::time::timeout(Duration::from_millis(100), rx.recv()).await;
    assert!(quiet.is_err(), "unexpected output");
}

#[tokio::test]
async fn follow_waits_for_a_missing_file() {
    let tmp = TempDir::new(&std::env::temp_dir(), "missing");
    let logs = Logs::start(tmp.logs(), spec(8 * 1024, 5), wall()).unwrap();
    let path = logs.path(&id("late"));
    let mut rx = logs.follow(&id("late"), 10);
    assert!(tokio::time::timeout(Duration::from_millis(50), rx.recv()).await.is_err());

    write_lines(&path, 0..3).join().unwrap();
    assert_eq!(collect(&mut rx, lines(0..3).len()).await, lines(0..3));
    write_lines(&path, 3..5).join().unwrap();
    assert_eq!(collect(&mut rx, lines(3..5).len()).await, lines(3..5));
}

#[tokio::test]
async fn follower_ends_when_the_receiver_is_dropped() {
    let tmp = TempDir::new(&std::env::temp_dir(), "drop");
    let logs = Logs::start(tmp.logs(), spec(8 * 1024, 5), wall()).unwrap();
    let rx = logs.follow(&id("api"), 10);
    let weak = std::sync::Arc::downgrade(&logs.inner);
    drop(rx);
    drop(logs);
    // The follower holds a handle until it notices; then the watcher stops.
    until("the follower to end", || weak.strong_count() == 0).await;
}

#[tokio::test]
async fn the_previous_run_is_kept_and_an_empty_one_leaves_none() {
    use ward_supervisor::ports::output::Output;
    let tmp = TempDir::new(&std::env::temp_dir(), "previous");
    let mut logs = Logs::start(tmp.logs(), spec(1 << 30, 3), wall()).unwrap();
    let api = id("api");
    let path = logs.path(&api);
    let previous = super::runs::previous_path(&path);
    let read = |p: &Path| fs::read_to_string(p).ok();
    // A run that wrote two lines: they are its previous output.
    fs::write(&path, "one\ntwo\n").unwrap();
    logs.run_ended(&api, 0, Some(8));
    until("the previous run kept", || read(&previous).as_deref() == Some("one\ntwo\n")).await;
    // Runs that wrote nothing: no previous output, again and again.
    logs.run_ended(&api, 8, Some(8));
    assert!(!previous.exists());
    logs.run_ended(&api, 8, Some(8));
    assert!(!previous.exists());
    // One that wrote again: its lines only.
    fs::write(&path, "one\ntwo\nthree\n").unwrap();
    logs.run_ended(&api, 8, Some(14));
    until("the newest run kept", || read(&previous).as_deref() == Some("three\n")).await;
    // And an empty one after it removes it again (it is not taken as absent).
    logs.run_ended(&api, 14, Some(14));
    until("the copy done and removed", || !previous.exists()).await;
}
