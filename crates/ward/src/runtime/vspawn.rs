//! The fast path of a spawn: glibc's `posix_spawn`, which starts the child
//! with `clone(CLONE_VM | CLONE_VFORK)`, so the keeper's page tables are not
//! copied and its pages not made copy-on-write at each start (the cost of a
//! `fork` grows with the forking process; a storm of 1,000 restarts is mostly
//! that cost). It does everything the fork path does (new process group,
//! every signal back to its default and unblocked, stdin from `/dev/null`,
//! stdout and stderr to the log, the working directory, no descriptor of
//! ward's left open) except switching users: launches with `user:` take the
//! fork path.
//!
//! One difference: glibc's own signals 32 and 33 (SIGCANCEL, SIGSETXID,
//! which only glibc uses, and re-arms when it needs them) are ignored in the
//! child, as in every `posix_spawn` child (cargo's and Rust's `Command`'s
//! included); the fork path resets them to their default.
//!
//! glibc reports a failed exec (or chdir) as the error of `posix_spawn`
//! itself, and reaps that child on its own.

use std::ffi::CString;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::RawFd;

/// Runs `program` with `argv` and `envp` (null-terminated arrays) as
/// described above; returns its pid once it exec'd, or the errno of what failed.
pub(super) fn spawn(
    program: &CString,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
    workdir: Option<&CString>,
    stdin: RawFd,
    output: RawFd,
) -> io::Result<u32> {
    let check = |rc: libc::c_int| if rc == 0 { Ok(()) } else { Err(io::Error::from_raw_os_error(rc)) };
    let mut attr = MaybeUninit::<libc::posix_spawnattr_t>::uninit();
    let mut actions = MaybeUninit::<libc::posix_spawn_file_actions_t>::uninit();
    // SAFETY: each object is initialised by its init call before any other
    // use and destroyed once below; every pointer handed to glibc (program,
    // argv, envp, workdir, the sets) outlives the posix_spawn call.
    unsafe {
        check(libc::posix_spawnattr_init(attr.as_mut_ptr()))?;
        if let Err(e) = check(libc::posix_spawn_file_actions_init(actions.as_mut_ptr())) {
            libc::posix_spawnattr_destroy(attr.as_mut_ptr());
            return Err(e);
        }
        let (attr, actions) = (attr.as_mut_ptr(), actions.as_mut_ptr());
        let result = (|| {
            let mut all: libc::sigset_t = std::mem::zeroed();
            let mut none: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            libc::sigemptyset(&mut none);
            let flags =
                libc::POSIX_SPAWN_SETPGROUP | libc::POSIX_SPAWN_SETSIGDEF | libc::POSIX_SPAWN_SETSIGMASK;
            check(libc::posix_spawnattr_setflags(attr, flags as libc::c_short))?;
            check(libc::posix_spawnattr_setpgroup(attr, 0))?;
            check(libc::posix_spawnattr_setsigdefault(attr, &all))?;
            check(libc::posix_spawnattr_setsigmask(attr, &none))?;
            check(libc::posix_spawn_file_actions_adddup2(actions, stdin, 0))?;
            check(libc::posix_spawn_file_actions_adddup2(actions, output, 1))?;
            check(libc::posix_spawn_file_actions_adddup2(actions, output, 2))?;
            if let Some(dir) = workdir {
                check(libc::posix_spawn_file_actions_addchdir_np(actions, dir.as_ptr()))?;
            }
            check(libc::posix_spawn_file_actions_addclosefrom_np(actions, 3))?;
            let mut pid: libc::pid_t = 0;
            check(libc::posix_spawn(
                &mut pid,
                program.as_ptr(),
                actions,
                attr,
                argv.as_ptr().cast(),
                envp.as_ptr().cast(),
            ))?;
            Ok(pid.unsigned_abs())
        })();
        libc::posix_spawn_file_actions_destroy(actions);
        libc::posix_spawnattr_destroy(attr);
        result
    }
}
