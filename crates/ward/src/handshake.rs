//! The handshake of `ward up -d`: the foreground `ward` starts the
//! background one with the write end of a pipe named in [`READY_FD`], and
//! waits; the keeper writes `ok` once the brain's API listens.

use std::io::Write;
use std::os::fd::{FromRawFd, OwnedFd};

/// The variable that names the pipe's write end.
pub const READY_FD: &str = "WARD_READY_FD";

/// Tells a waiting `up -d` that the API listens.
pub fn signal_ready() {
    let Some(fd) = std::env::var(READY_FD).ok().and_then(|v| v.parse::<i32>().ok()) else { return };
    // SAFETY: the fd was created for us by `up -d` and is not used anywhere else.
    let mut pipe = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    let _ = pipe.write_all(b"ok\n");
    // SAFETY: removing our own variable; this runs before any other thread reads the environment.
    unsafe { std::env::remove_var(READY_FD) };
}
