//! Watching processes ward did not start in this run: instances of a previous
//! run that outlived it, adopted after a crash of ward. They are not our
//! children, so no wait reports their end; a pidfd becomes readable when the
//! process exits, and that is turned into an [`Exit`] of unknown status.

use super::Exit;
use std::io;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc;
use ward_core::ExitStatus;

/// Watches adopted processes; their exits arrive on the receiver from [`Adopter::new`].
#[derive(Clone, Debug)]
pub struct Adopter {
    exits: mpsc::UnboundedSender<Exit>,
}

impl Adopter {
    /// An adopter and the receiver of its exits.
    pub fn new() -> (Adopter, mpsc::UnboundedReceiver<Exit>) {
        let (exits, rx) = mpsc::unbounded_channel();
        (Adopter { exits }, rx)
    }

    /// Reports `pid`'s exit once it happens (call inside the tokio runtime).
    pub fn watch(&self, pid: u32) -> io::Result<()> {
        let raw = rustix::process::Pid::from_raw(pid as i32)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "pid 0"))?;
        let fd = rustix::process::pidfd_open(raw, rustix::process::PidfdFlags::empty())?;
        // SAFETY: the OwnedFd is moved into the AsyncFd, which owns it (open,
        // the same descriptor) until it is dropped.
        let fd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE)? };
        let exits = self.exits.clone();
        tokio::spawn(async move {
            // Readable means the process has exited; an error means the same
            // for our purpose: nothing more can be learned about it.
            let _ = fd.readable().await;
            let _ =
                exits.send(Exit { seq: 0, pid, status: ExitStatus::Unknown, rusage: None, respawned: None });
        });
        Ok(())
    }
}
