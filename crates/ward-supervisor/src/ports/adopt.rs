//! The adoption port: processes the supervisor did not start in this run
//! (they outlived a crash of the supervisor) that it watches and signals.
//! Their exits arrive on the supervisor's `adopted` input.

use std::io;

/// Watches and signals processes that are not the runtime's children.
pub trait Adopt: Send {
    /// Watch `pid`: its end will arrive as an exit of unknown status.
    fn watch(&mut self, pid: u32) -> io::Result<()>;

    /// Sends `signal` to adopted process `pid` and its group; `None` when
    /// `pid` is not adopted (the runtime signals it).
    fn signal_group(&mut self, pid: u32, signal: i32) -> Option<io::Result<()>>;
}

/// Adopts nothing: a supervisor whose processes never outlive it.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoAdoption;

impl Adopt for NoAdoption {
    fn watch(&mut self, pid: u32) -> io::Result<()> {
        Err(io::Error::new(io::ErrorKind::Unsupported, format!("cannot adopt pid {pid} here")))
    }
    fn signal_group(&mut self, _pid: u32, _signal: i32) -> Option<io::Result<()>> {
        None
    }
}
