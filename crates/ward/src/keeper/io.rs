//! The keeper's threads: each turns one source (exits, the brain's socket,
//! signals) into [`Input`]s on the main loop's channel. None holds state.

use crate::protocol::ToKeeper;
use crate::runtime::Exit;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::mpsc::Sender;

/// One input of the keeper's main loop.
pub enum Input {
    /// A child exited.
    Exit(Exit),
    /// A brain connected (its id, and a writer).
    Connected(u64, UnixStream),
    /// A message from connection `id`.
    Message(u64, ToKeeper),
    /// Connection `id` closed.
    Disconnected(u64),
    /// A signal reached the keeper.
    Signal(i32),
}

const FORWARDED: [i32; 3] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP];

fn forwarded_set() -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset only write the set we own.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in FORWARDED {
            libc::sigaddset(&mut set, sig);
        }
        set
    }
}

/// Blocks the forwarded signals in this thread and every thread started
/// after it, so that only the `sigwait` thread receives them; and `SIGCHLD`,
/// which only the reaper's sweep takes (see `runtime::reaper::Sweeper`).
pub fn block_signals() {
    let mut set = forwarded_set();
    // SAFETY: adds to the set we own, then changes this thread's mask only;
    // children reset theirs before exec.
    unsafe {
        libc::sigaddset(&mut set, libc::SIGCHLD);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Receives the forwarded signals.
pub fn wait_signals(tx: Sender<Input>) {
    std::thread::Builder::new()
        .name("ward-keeper-signals".into())
        .spawn(move || {
            let set = forwarded_set();
            loop {
                let mut sig = 0;
                // SAFETY: waits on a valid, blocked set; writes `sig`.
                if unsafe { libc::sigwait(&set, &mut sig) } == 0 && tx.send(Input::Signal(sig)).is_err() {
                    return;
                }
            }
        })
        .map(|_| ())
        .unwrap_or_else(|e| tracing::error!("keeper: cannot start the signal thread: {e}"));
}

/// Listens on `path` (mode 0600) for the brain; connections from another
/// uid are closed at once.
pub fn listen(path: &Path, tx: Sender<Input>) -> std::io::Result<()> {
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    let uid = rustix::process::getuid();
    std::thread::Builder::new().name("ward-keeper-listen".into()).spawn(move || {
        let mut next_id = 0u64;
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            match rustix::net::sockopt::socket_peercred(&stream) {
                Ok(cred) if cred.uid == uid => {}
                _ => continue,
            }
            next_id += 1;
            let id = next_id;
            let (Ok(writer), reader) = (stream.try_clone(), stream) else { continue };
            if tx.send(Input::Connected(id, writer)).is_err() {
                return;
            }
            let tx = tx.clone();
            let _ = std::thread::Builder::new().name("ward-keeper-conn".into()).spawn(move || {
                for line in BufReader::new(WhenReadable(reader)).lines() {
                    let Ok(line) = line else { break };
                    match serde_json::from_str::<ToKeeper>(&line) {
                        Ok(msg) => {
                            if tx.send(Input::Message(id, msg)).is_err() {
                                return;
                            }
                        }
                        Err(e) => tracing::warn!("keeper: bad message from the brain: {e}"),
                    }
                }
                let _ = tx.send(Input::Disconnected(id));
            });
        }
    })?;
    Ok(())
}

/// A socket read only once `poll` says it is readable. A read that blocks
/// sleeps on the socket's one wait queue and wakes at everything that
/// happens to it, room to write included: each time the brain read what the
/// keeper wrote, the reader thread woke for nothing. `poll` wakes for input only.
struct WhenReadable(UnixStream);

impl std::io::Read for WhenReadable {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use rustix::event::{PollFd, PollFlags, poll};
        loop {
            let mut fds = [PollFd::new(&self.0, PollFlags::IN)];
            match poll(&mut fds, None) {
                Ok(_) => return (&self.0).read(buf),
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}
