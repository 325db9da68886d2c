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

mod follow;
mod read;
mod rotate;
mod watch;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use tokio::sync::{mpsc, oneshot};
use ward_core::InstanceId;
use ward_core::spec::LogSpec;

/// Largest piece read at once, by tail, follow and the rotator's copies.
const CHUNK: usize = 64 * 1024;

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
}

/// One live file `<name>` as seen by this process.
struct FileState {
    /// Held for reading by tail and followers while they read any of the
    /// file's generations, and for writing by the rotator while it removes
    /// bytes from the live file and renames the rotated ones.
    layout: RwLock<Layout>,
    /// Bumped on every inotify event for the file; followers wait on it.
    changed: tokio::sync::watch::Sender<u64>,
}

/// Where absolute positions of one file's stream are on disk.
#[derive(Debug, Default)]
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
    /// (call inside a tokio runtime).
    pub fn start(dir: PathBuf, spec: LogSpec) -> io::Result<Logs> {
        std::fs::DirBuilder::new().recursive(true).mode(0o750).create(&dir)?;
        let shared = Arc::new(Shared {
            dir,
            spec: Mutex::new(spec),
            files: Mutex::new(HashMap::new()),
            queue: rotate::Queue::default(),
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
}

impl Shared {
    /// The state of the live file `name`, created on first use. Entries stay
    /// for the life of the process: there is one per instance ever seen.
    fn file(&self, name: &str) -> Arc<FileState> {
        let mut files = lock(&self.files);
        if let Some(state) = files.get(name) {
            return state.clone();
        }
        let state = Arc::new(FileState {
            layout: RwLock::new(Layout::default()),
            changed: tokio::sync::watch::Sender::new(0),
        });
        files.insert(name.to_string(), state.clone());
        state
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
