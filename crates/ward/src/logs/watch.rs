//! The one inotify watch on the logs directory, read through tokio's
//! `AsyncFd`: each event names a file that grew or appeared; the task wakes
//! that file's followers and passes the name of one that grew (or was moved
//! in) to the rotator thread. One that just appeared is empty: nothing to
//! stamp or rotate (a start of 10,000 woke that thread 10,000 times). Nothing
//! happens while no service writes.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::sync::Arc;

use rustix::fs::inotify;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::sync::oneshot;

use super::{Shared, is_live, rotate};

/// What the watcher learnt from one batch of events.
enum Seen {
    /// A live file grew or appeared (`grew`: it may hold new bytes).
    File { name: String, grew: bool },
    /// The kernel dropped events: every file may have changed.
    Overflow,
    /// The directory itself went away (or its filesystem was unmounted).
    Gone,
}

/// Adds the watch, starts the rotator thread, and spawns the watcher task,
/// which runs until `stop` fires or is dropped.
pub(super) fn start(shared: Arc<Shared>, stop: oneshot::Receiver<()>) -> io::Result<()> {
    let fd = inotify::init(inotify::CreateFlags::NONBLOCK | inotify::CreateFlags::CLOEXEC)?;
    let mask = inotify::WatchFlags::MODIFY
        | inotify::WatchFlags::CREATE
        | inotify::WatchFlags::MOVED_TO
        | inotify::WatchFlags::ONLYDIR;
    inotify::add_watch(&fd, &shared.dir, mask)?;
    // SAFETY: the `OwnedFd` is open and owned by the `AsyncFd` for its whole
    // life; nothing else closes or replaces it.
    #[allow(unsafe_code)]
    let fd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE)? };
    rotate::spawn_thread(shared.clone())?;
    // Files that grew past the limit while no ward was watching.
    shared.queue.push_scan();
    // Made before the task, so that the rotator stops even if the task is
    // dropped before it ever ran (a runtime shut down at once).
    let close = CloseOnDrop(shared.clone());
    tokio::spawn(async move {
        let _close = close;
        tokio::select! {
            result = run(&fd, &shared) => {
                if let Err(e) = result {
                    tracing::error!(dir = %shared.dir.display(), error = %e, "log watcher stopped");
                }
            }
            _ = stop => {}
        }
    });
    Ok(())
}

/// Stops the rotator thread when the watcher task ends, however it ends.
struct CloseOnDrop(Arc<Shared>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.queue.close();
    }
}

/// Reads events until the directory goes away or reading fails.
async fn run(fd: &AsyncFd<OwnedFd>, shared: &Shared) -> io::Result<()> {
    // Room for many events; each is at most 16 + NAME_MAX + 1 bytes.
    let mut buf = vec![MaybeUninit::<u8>::uninit(); 16 * 1024];
    let mut seen = Vec::new();
    loop {
        let mut guard = fd.readable().await?;
        let drained = read_batch(fd.get_ref(), &mut buf, &mut seen);
        if drained {
            guard.clear_ready();
        }
        for item in seen.drain(..) {
            match item {
                Seen::File { name, grew } => {
                    shared.wake(&name);
                    if grew {
                        shared.queue.push(name);
                    }
                }
                Seen::Overflow => {
                    tracing::warn!(dir = %shared.dir.display(), "inotify queue overflowed; rescanning logs");
                    shared.queue.push_scan();
                    shared.wake_all();
                }
                Seen::Gone => {
                    return Err(io::Error::new(io::ErrorKind::NotFound, "logs directory removed"));
                }
            }
        }
    }
}

/// Reads what the kernel has queued (at most a few buffers, so that one busy
/// writer cannot starve the runtime). Returns whether the queue was drained.
fn read_batch(fd: &OwnedFd, buf: &mut [MaybeUninit<u8>], seen: &mut Vec<Seen>) -> bool {
    let mut reader = inotify::Reader::new(fd, buf);
    let mut count = 0usize;
    loop {
        // Stop only between two reads: events already in `buf` would be lost.
        if count >= 1024 && reader.is_buffer_empty() {
            return false;
        }
        count += 1;
        let event = match reader.next() {
            Ok(event) => event,
            Err(rustix::io::Errno::AGAIN) => return true,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => {
                tracing::error!(error = %e, "reading inotify events failed");
                return true;
            }
        };
        let flags = event.events();
        if flags.contains(inotify::ReadFlags::QUEUE_OVERFLOW) {
            seen.push(Seen::Overflow);
        } else if flags.intersects(inotify::ReadFlags::IGNORED | inotify::ReadFlags::UNMOUNT) {
            seen.push(Seen::Gone);
        } else if let Some(name) = event.file_name().and_then(|n| n.to_str().ok())
            && is_live(name)
            && !flags.contains(inotify::ReadFlags::ISDIR)
        {
            let grew = flags.intersects(inotify::ReadFlags::MODIFY | inotify::ReadFlags::MOVED_TO);
            // Consecutive events for one file collapse into one.
            match seen.last_mut() {
                Some(Seen::File { name: last, grew: before }) if last == name => *before |= grew,
                _ => seen.push(Seen::File { name: name.to_string(), grew }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The events on `dir` so far, as the watcher sees them.
    fn seen(fd: &OwnedFd) -> Vec<(String, bool)> {
        let mut buf = vec![MaybeUninit::<u8>::uninit(); 16 * 1024];
        let mut seen = Vec::new();
        assert!(read_batch(fd, &mut buf, &mut seen), "drained");
        seen.into_iter()
            .filter_map(|s| match s {
                Seen::File { name, grew } => Some((name, grew)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_file_that_only_appeared_is_not_one_that_grew() {
        let dir = std::env::temp_dir().join(format!("ward-watch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let fd =
            inotify::init(inotify::CreateFlags::NONBLOCK | inotify::CreateFlags::CLOEXEC).expect("inotify");
        let mask = inotify::WatchFlags::MODIFY | inotify::WatchFlags::CREATE | inotify::WatchFlags::MOVED_TO;
        inotify::add_watch(&fd, &dir, mask).expect("watch");
        // Created empty, as the keeper creates a log at each start.
        let file = std::fs::File::create(dir.join("api.0.log")).expect("created");
        assert_eq!(seen(&fd), vec![("api.0.log".to_string(), false)]);
        // Written: the rotator looks at it.
        std::io::Write::write_all(&mut &file, b"hello\n").expect("written");
        assert_eq!(seen(&fd), vec![("api.0.log".to_string(), true)]);
        // Both in one batch collapse into one that grew.
        let other = std::fs::File::create(dir.join("api.1.log")).expect("created");
        std::io::Write::write_all(&mut &other, b"hi\n").expect("written");
        assert_eq!(seen(&fd), vec![("api.1.log".to_string(), true)]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
