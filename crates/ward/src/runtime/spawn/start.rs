//! How a child is started: born in its v2 cgroup by a vfork-like clone3
//! where it may be, else moving itself in, and through `fork` (reporting on
//! a pipe) where clone3 cannot be used at all.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use super::above_stdio;
use super::child::{ChildArgs, child_main, vfork_entry};

/// How a child was started.
pub(super) enum Started {
    /// Sharing the parent's memory (`CLONE_VFORK`): it exec'd or failed
    /// before the parent went on.
    Vforked(libc::pid_t),
    /// Through `fork`: its exec reports on this pipe.
    Forked(libc::pid_t, OwnedFd),
}

/// Starts the child of `args` (signals blocked): born in its v2 cgroup
/// (`v2`) where it may be and the kernel can, sharing the keeper's memory
/// until its exec (see `clone3`); else moving itself in, and through `fork`
/// where clone3 cannot be used at all.
pub(super) fn start_child(
    args: &mut ChildArgs<'_>,
    v2: Option<&crate::cgroup::V2Entry>,
) -> io::Result<Started> {
    use crate::cgroup::V2Entry;
    // SAFETY (both calls): `vfork_entry` runs only `child_main` (raw or
    // async-signal-safe calls on memory prepared before) and never returns;
    // `args` outlives the call, which waits for the child's exec.
    let vfork = |args: &mut ChildArgs<'_>, dir| unsafe {
        crate::runtime::clone3::vfork_into(dir, vfork_entry, (args as *mut ChildArgs<'_>).cast())
    };
    let born_in = match v2 {
        Some(V2Entry::Folder(dir)) => Some(dir.as_raw_fd()),
        _ => None,
    };
    let mut cloned = Err(libc::ENOSYS);
    if let Some(dir) = born_in {
        cloned = vfork(args, Some(dir));
    }
    // Opened only where the child must move itself in; open until it has.
    let mut opened = None;
    if cloned.is_err() {
        // Not born in its cgroup (none to be born in, or the kernel cannot):
        // it moves itself in.
        args.v2_procs = match v2 {
            Some(V2Entry::Procs(procs)) => Some(procs.as_raw_fd()),
            Some(V2Entry::Folder(dir)) => {
                Some(opened.insert(V2Entry::procs_of(std::os::fd::AsFd::as_fd(dir))?).as_raw_fd())
            }
            None => None,
        };
        if born_in.is_none() || cloned != Err(libc::ENOSYS) {
            cloned = vfork(args, None);
        }
    }
    match cloned {
        Ok(pid) => Ok(Started::Vforked(pid)),
        Err(libc::ENOSYS) => {
            // The child's memory is its own: a failure comes back on a pipe.
            let (report_read, report_write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
            let report_write = above_stdio(report_write)?;
            args.report = report_write.as_raw_fd();
            // SAFETY: the child branch runs only `child_main`, which makes raw
            // or async-signal-safe calls on memory prepared above and never returns.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                child_main(args);
            }
            if pid < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(Started::Forked(pid, report_read))
        }
        Err(errno) => Err(io::Error::from_raw_os_error(errno)),
    }
}
