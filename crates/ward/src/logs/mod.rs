//! Service output files under `.ward/logs/`: one file per instance that the
//! service writes directly, rotated by size, tailed and followed for `ward logs`.
//!
//! Each instance writes its stdout and stderr to `<dir>/<service>.<replica>.log`
//! through an `O_APPEND` descriptor that ward opened and handed over; there is
//! no pipe, so ward's death can neither block nor `SIGPIPE` a service. That
//! descriptor must be opened `O_CREAT | O_APPEND` and never `O_TRUNC`.
//!
//! Nothing here polls. One inotify watch on the directory ([`watch`]) learns
//! that a file grew; it hands the name to the rotator thread ([`rotate`]) and
//! wakes the followers of that file ([`follow`]). The cost is proportional to
//! write activity, never to the number of files, and an idle ward sleeps.
//!
//! Rotation removes the head of the live file in place (see [`rotate`]), so the
//! writer keeps its descriptor and offsets in the live file move. Followers
//! therefore count in *absolute* positions (bytes since this process first saw
//! the file) and translate them through a [`Layout`], which the rotator updates
//! under the same lock that followers hold while they read.
//!
//! Beside each file, an index ([`index`]) says when its bytes were written and
//! by which run; [`lines`] reads an instance's output as timed lines and
//! [`merge`] merges several instances in time order (`ward logs` of several
//! services).

mod follow;
pub mod index;
pub mod lines;
pub mod merge;
mod read;
mod rotate;
pub mod runs;
pub mod select;
mod watch;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_index;
#[cfg(test)]
mod tests_runs;

use std::collections::{HashMap, VecDeque};
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use tokio::sync::{broadcast, mpsc, oneshot};
use ward_core::InstanceId;
use ward_core::spec::LogSpec;

/// Largest piece read at once, by tail, follow and the rotator's copies.
const CHUNK: usize = 64 * 1024;

/// The absolute position of the first byte of a file first seen by this
/// process (its rotated files, found then, lie before it).
const ORIGIN: u64 = 1 << 48;

/// Stamp notices a slow merged follower may leave unread before it rescans.
const STAMPED_BUFFER: usize = 1024;

/// Reads the wall clock, as Unix milliseconds (injected: tests use their own).
pub type WallClock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The log files of every instance: where they are, their rotation, and
/// readers for `ward logs`. A cheap handle; clones share one watcher.
#[derive(Clone)]
pub struct Logs {
    inner: Arc<Inner>,
}

/// What the handles share; dropping the last one stops the watcher task
/// (through `_stop`), which in turn stops the rotator thread.
struct Inner {
    shared: Arc<Shared>,
    _stop: oneshot::Sender<()>,
}

/// State shared by the handles, the watcher task, the rotator thread and the
/// followers.
struct Shared {
    dir: PathBuf,
    spec: Mutex<LogSpec>,
    files: Mutex<HashMap<String, Arc<FileState>>>,
    queue: rotate::Queue,
    /// The wall clock of the index stamps.
    wall: WallClock,
    /// The name of each live file the log thread just stamped.
    stamped: broadcast::Sender<Arc<str>>,
    /// Live files known to have no `.previous` beside them (see `runs`).
    without_previous: Mutex<std::collections::HashSet<Box<str>>>,
}

/// One live file `<name>` as seen by this process.
struct FileState {
    /// Held for reading by tail and followers while they read any of the
    /// file's generations, and for writing by the rotator while it removes
    /// bytes from the live file and renames the rotated ones.
    layout: RwLock<Layout>,
    /// `layout.base`, readable without waiting for a rotation (the
    /// supervisor reads it when it marks a new run).
    base: std::sync::atomic::AtomicU64,
    /// Bumped on every inotify event for the file; followers wait on it.
    changed: tokio::sync::watch::Sender<u64>,
}

/// Where absolute positions of one file's stream are on disk.
#[derive(Debug)]
struct Layout {
    /// The absolute position of byte 0 of the live file.
    base: u64,
    /// The bytes this process rotated out and that are still kept, newest
    /// first: `rotated[i]` is the content of `<name>.{i+1}`.
    rotated: VecDeque<Segment>,
}

/// The absolute range `[start, end)` held by one rotated file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Segment {
    start: u64,
    end: u64,
}

impl Logs {
    /// Creates `dir` (0750) if needed and starts the rotation watcher task
    /// (call inside a tokio runtime). `wall` times the index stamps.
    pub fn start(dir: PathBuf, spec: LogSpec, wall: WallClock) -> io::Result<Logs> {
        std::fs::DirBuilder::new().recursive(true).mode(0o750).create(&dir)?;
        let shared = Arc::new(Shared {
            dir,
            spec: Mutex::new(spec),
            files: Mutex::new(HashMap::new()),
            queue: rotate::Queue::default(),
            wall,
            stamped: broadcast::Sender::new(STAMPED_BUFFER),
            without_previous: Mutex::default(),
        });
        let (stop, stopped) = oneshot::channel();
        watch::start(shared.clone(), stopped)?;
        Ok(Logs { inner: Arc::new(Inner { shared, _stop: stop }) })
    }

    /// `<dir>/<service>.<replica>.log`
    pub fn path(&self, id: &InstanceId) -> PathBuf {
        self.inner.shared.dir.join(file_name(id))
    }

    /// New limits (after a reload). Files already past the new size rotate,
    /// and rotated files beyond the new `keep` are deleted, right away.
    pub fn set_spec(&self, spec: LogSpec) {
        *lock(&self.inner.shared.spec) = spec;
        self.inner.shared.queue.push_scan();
    }

    /// The last `n` lines of the instance's output (looking into `.log.1` …
    /// when the live file has fewer), as bytes.
    pub async fn tail(&self, id: &InstanceId, n: usize) -> io::Result<Vec<u8>> {
        let shared = self.inner.shared.clone();
        let name = file_name(id);
        let (bytes, _end) = blocking(move || read::tail(&shared, &name, n)).await?;
        Ok(bytes)
    }

    /// Sends the last `n` lines, then every new byte as it is written, across
    /// rotations, in order, without loss or duplication; the task ends when
    /// the receiver is dropped. Idle followers wake for nothing. A missing
    /// file tails as empty and is followed from the moment it appears.
    /// Call inside a tokio runtime.
    pub fn follow(&self, id: &InstanceId, n: usize) -> mpsc::Receiver<io::Result<Vec<u8>>> {
        let (tx, rx) = mpsc::channel(follow::CHANNEL);
        tokio::spawn(follow::run(self.clone(), file_name(id), n, tx));
        rx
    }

    /// A new run of `id` starts, whose output starts at `offset` in its live
    /// log (its length just before the spawn): the index marks it.
    pub fn run_started(&self, id: &InstanceId, offset: u64) {
        let shared = &self.inner.shared;
        let name = file_name(id);
        let base = shared.base_of(&name);
        shared.queue.push_run(name, base + offset, (shared.wall)());
    }

    /// The names of the live files stamped from now on, as the log thread
    /// stamps them (a lagging receiver should look at every file again).
    pub fn stamped(&self) -> broadcast::Receiver<Arc<str>> {
        self.inner.shared.stamped.subscribe()
    }

    /// Now, on the clock that stamps the index (Unix ms).
    pub fn now_ms(&self) -> u64 {
        (self.inner.shared.wall)()
    }

    /// The names of the live files in the directory now (blocking).
    pub fn live_files(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&self.inner.shared.dir)? {
            if let Ok(name) = entry?.file_name().into_string()
                && is_live(&name)
            {
                names.push(name);
            }
        }
        Ok(names)
    }
}

impl Shared {
    /// The state of the live file `name`, created on first use. Entries stay
    /// for the life of the process: there is one per instance ever seen.
    /// Its rotated files found now take the absolute positions before it.
    fn file(&self, name: &str) -> Arc<FileState> {
        let mut files = lock(&self.files);
        if let Some(state) = files.get(name) {
            return state.clone();
        }
        let state = Arc::new(FileState {
            layout: RwLock::new(Layout::found(&self.dir.join(name))),
            base: std::sync::atomic::AtomicU64::new(ORIGIN),
            changed: tokio::sync::watch::Sender::new(0),
        });
        files.insert(name.to_string(), state.clone());
        state
    }

    /// The absolute position of byte 0 of the live file `name` now, without
    /// taking state for a file nothing looked at yet (it would start at
    /// [`ORIGIN`]).
    fn base_of(&self, name: &str) -> u64 {
        let files = lock(&self.files);
        files.get(name).map_or(ORIGIN, |s| s.base.load(std::sync::atomic::Ordering::Acquire))
    }

    /// Wakes the followers of `name`, if anyone ever asked about it.
    fn wake(&self, name: &str) {
        if let Some(state) = lock(&self.files).get(name) {
            state.changed.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// Wakes every follower (after the inotify queue overflowed).
    fn wake_all(&self) {
        for state in lock(&self.files).values() {
            state.changed.send_modify(|n| *n = n.wrapping_add(1));
        }
    }
}

impl Layout {
    /// The layout of a file first seen now: it starts at [`ORIGIN`], and its
    /// rotated files `.1`, `.2`, … (up to the first missing one) before it.
    fn found(path: &std::path::Path) -> Layout {
        let mut rotated = VecDeque::new();
        let mut end = ORIGIN;
        for k in 1.. {
            let Ok(meta) = std::fs::metadata(index::rotated(path, k)) else { break };
            let start = end.saturating_sub(meta.len());
            rotated.push_back(Segment { start, end });
            end = start;
        }
        Layout { base: ORIGIN, rotated }
    }
}

/// `<service>.<replica>.log`
fn file_name(id: &InstanceId) -> String {
    format!("{}.{}.log", id.service, id.replica)
}

/// Whether `name` is a live log file (`*.log`), not a rotated or temporary one.
fn is_live(name: &str) -> bool {
    name.len() > ".log".len() && name.ends_with(".log")
}

/// Locks a mutex; a panic elsewhere does not make the data unusable here.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs file work on tokio's blocking pool, off the async threads.
async fn blocking<T, F>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) => Err(io::Error::other(e)),
    }
}
