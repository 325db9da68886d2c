//! Watching processes ward did not start in this run: instances of a previous
//! run that outlived it, adopted after a crash of ward. They are not our
//! children, so no wait reports their end; a pidfd becomes readable when the
//! process exits, and that is turned into an [`Exit`] of unknown status.
//!
//! Signals to an adopted instance go through its pidfd (the keeper refuses to
//! signal what it did not fork): the leader gets it exactly, and its group
//! gets it only when the leader took it, i.e. was alive a moment ago, so its
//! group id was still reserved. (The leader could in principle die and its pid
//! be reused by a new group leader between those two calls; a moment that
//! narrow is the one thing a process that is not our child leaves open.)

use super::Exit;
use std::collections::HashMap;
use std::io;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc;

/// Watches adopted processes; their exits arrive on the receiver from [`Adopter::new`].
#[derive(Clone, Debug)]
pub struct Adopter {
    exits: mpsc::UnboundedSender<Exit>,
    /// A pidfd of each adopted process still alive, for signals.
    fds: Arc<Mutex<HashMap<u32, OwnedFd>>>,
    /// Under simulation: the pids watched and the signals sent, for the
    /// simulated OS to act on (no pidfd for a simulated pid).
    fake: Option<Arc<Mutex<FakeAdoptions>>>,
}

/// What a simulated adopter was asked.
#[derive(Debug, Default)]
pub struct FakeAdoptions {
    /// Pids watched.
    pub watched: Vec<u32>,
    /// Signals sent: (pid, signal).
    pub signals: Vec<(u32, i32)>,
}

impl Adopter {
    /// An adopter and the receiver of its exits.
    pub fn new() -> (Adopter, mpsc::UnboundedReceiver<Exit>) {
        let (exits, rx) = mpsc::unbounded_channel();
        (Adopter { exits, fds: Arc::default(), fake: None }, rx)
    }

    #[cfg(test)]
    /// An adopter over a simulated OS: it records what it is asked; exits of
    /// adopted processes are sent with [`Adopter::report`].
    pub fn fake() -> (Adopter, Arc<Mutex<FakeAdoptions>>, mpsc::UnboundedReceiver<Exit>) {
        let (mut adopter, rx) = Adopter::new();
        let fake = Arc::new(Mutex::new(FakeAdoptions::default()));
        adopter.fake = Some(fake.clone());
        (adopter, fake, rx)
    }

    /// Reports `pid`'s exit once it happens (call inside the tokio runtime).
    pub fn watch(&self, pid: u32) -> io::Result<()> {
        if let Some(fake) = &self.fake {
            fake.lock().unwrap_or_else(PoisonError::into_inner).watched.push(pid);
            return Ok(());
        }
        let raw = rustix::process::Pid::from_raw(pid as i32)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "pid 0"))?;
        let fd = rustix::process::pidfd_open(raw, rustix::process::PidfdFlags::empty())?;
        self.fds.lock().unwrap_or_else(PoisonError::into_inner).insert(pid, fd.try_clone()?);
        let fds = self.fds.clone();
        // SAFETY: the OwnedFd is moved into the AsyncFd, which owns it (open,
        // the same descriptor) until it is dropped.
        let fd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE)? };
        let exits = self.exits.clone();
        tokio::spawn(async move {
            // Readable means the process has exited; an error means the same
            // for our purpose: nothing more can be learned about it.
            let _ = fd.readable().await;
            fds.lock().unwrap_or_else(PoisonError::into_inner).remove(&pid);
            let _ = exits.send(Exit::unknown(pid));
        });
        Ok(())
    }

    /// Sends `signal` to adopted process `pid` and its group; `None` when
    /// `pid` is not an adopted process still alive.
    pub fn signal_group(&self, pid: u32, signal: i32) -> Option<io::Result<()>> {
        if let Some(fake) = &self.fake {
            let mut fake = fake.lock().unwrap_or_else(PoisonError::into_inner);
            if !fake.watched.contains(&pid) {
                return None;
            }
            fake.signals.push((pid, signal));
            return Some(Ok(()));
        }
        let fds = self.fds.lock().unwrap_or_else(PoisonError::into_inner);
        let fd = fds.get(&pid)?;
        let sig = rustix::process::Signal::from_named_raw(signal)?;
        Some(match rustix::process::pidfd_send_signal(fd, sig) {
            Ok(()) => {
                // SAFETY: kill takes plain integers; pid > 1 (an adopted instance).
                unsafe { libc::kill(-(pid as libc::pid_t), signal) };
                Ok(())
            }
            Err(rustix::io::Errno::SRCH) => Ok(()), // gone: its exit is on its way
            Err(e) => Err(e.into()),
        })
    }
}

impl ward_supervisor::ports::adopt::Adopt for Adopter {
    fn watch(&mut self, pid: u32) -> io::Result<()> {
        Adopter::watch(self, pid)
    }

    fn signal_group(&mut self, pid: u32, signal: i32) -> Option<io::Result<()>> {
        Adopter::signal_group(self, pid, signal)
    }
}
