//! Starting a child inside its cgroup: `clone3(CLONE_INTO_CGROUP)` (Linux
//! 5.7, cgroup v2). Moving a process by writing `cgroup.procs` takes the
//! kernel's cgroup-wide threadgroup lock for writing, which waits for an RCU
//! grace period: milliseconds per spawn. Born in the cgroup, the child costs
//! nothing more than its start.
//!
//! The child is started as `posix_spawn` starts one (see `vspawn`): with
//! `CLONE_VM | CLONE_VFORK`, on a stack of its own, sharing the keeper's
//! memory until its exec, while the calling thread waits. So the keeper's
//! page tables are not copied (a `fork` costs the parent CPU in proportion
//! to its memory: about 0.2 ms at 10 MB, 0.7 ms at 60 MB on the project's
//! machine). The child runs an `extern "C"` entry that never returns, and
//! makes only raw system calls or async-signal-safe calls that keep no
//! process-wide state (the spawn's child does only that). glibc runs no fork
//! handlers in it, and any errno it sets lands in the waiting thread's slot.
//!
//! Only on x86_64 (the system call's return on a new stack needs a few
//! lines of assembly); elsewhere, and on kernels without clone3, the caller
//! falls back to `fork`.

use std::ffi::c_void;
use std::os::fd::RawFd;

/// `CLONE_INTO_CGROUP` (not in every libc crate version).
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// The child's stack (only the pages it touches are ever allocated).
const STACK_SIZE: usize = 256 * 1024;

/// `struct clone_args` of clone3(2), up to `cgroup` (CLONE_ARGS_SIZE_VER2).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// The child's entry: called with the argument given, on the child's stack.
pub(super) type Entry = extern "C" fn(*mut c_void) -> !;

/// Starts a child that runs `entry(arg)` and returns once it exec'd or
/// exited: its pid, or the errno (`ENOSYS` where this cannot be done at
/// all). With `cgroup` (a v2 cgroup folder's descriptor) the child starts in
/// it; that fails with `E2BIG`/`EINVAL` (no `CLONE_INTO_CGROUP`),
/// `EOPNOTSUPP` or `EBUSY` (a folder that may not hold processes), and the
/// caller may try again without.
///
/// # Safety
/// `entry` must never return, and may only make calls allowed in the child
/// of a vfork (see the module doc); `arg` must stay valid until this returns.
pub(super) unsafe fn vfork_into(
    cgroup: Option<RawFd>,
    entry: Entry,
    arg: *mut c_void,
) -> Result<libc::pid_t, i32> {
    let cgroup = match cgroup.map(u64::try_from) {
        Some(Ok(fd)) => Some(fd),
        Some(Err(_)) => return Err(libc::EBADF),
        None => None,
    };
    let Some(stack) = Stack::take() else { return Err(errno()) };
    let args = CloneArgs {
        flags: (libc::CLONE_VM | libc::CLONE_VFORK) as u64 | cgroup.map_or(0, |_| CLONE_INTO_CGROUP),
        exit_signal: libc::SIGCHLD as u64,
        stack: stack.base as u64,
        stack_size: stack.size as u64,
        cgroup: cgroup.unwrap_or(0),
        ..CloneArgs::default()
    };
    // SAFETY: `args` is a valid clone_args of the size passed and names a
    // mapped stack; the caller's contract covers `entry` and `arg`.
    let rc = unsafe { clone3(&args, entry, arg) };
    stack.put_back(); // the child has exec'd or exited: its stack is free
    if rc < 0 { Err(i32::try_from(-rc).unwrap_or(libc::EINVAL)) } else { Ok(rc as libc::pid_t) }
}

/// The raw system call; the child side calls `entry(arg)` on its new stack.
/// Returns the pid or a negative errno.
#[cfg(target_arch = "x86_64")]
unsafe fn clone3(args: &CloneArgs, entry: Entry, arg: *mut c_void) -> i64 {
    let rc: i64;
    // SAFETY: the kernel reads `args`; in the parent only rax, rcx and r11
    // change. In the child (rax = 0) the stack pointer is the top of the new
    // stack (16-byte aligned), and the code calls `entry`, which never
    // returns; `ud2` traps if it did.
    unsafe {
        std::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "xor ebp, ebp",
            "mov rdi, r12",
            "call r13",
            "ud2",
            "2:",
            inlateout("rax") libc::SYS_clone3 => rc,
            in("rdi") args as *const CloneArgs,
            in("rsi") size_of::<CloneArgs>(),
            in("r12") arg,
            in("r13") entry as usize,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    rc
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn clone3(_: &CloneArgs, _: Entry, _: *mut c_void) -> i64 {
    -i64::from(libc::ENOSYS)
}

/// A child's stack: an anonymous mapping with a guard page at its bottom.
struct Stack {
    base: *mut c_void,
    size: usize,
}

// SAFETY: a stack is a private mapping that only the thread holding it
// (and, during a clone3, its child) touches.
unsafe impl Send for Stack {}

/// A stack that the last child left, kept for the next one (no mapping
/// made and removed at every spawn).
static SPARE: std::sync::Mutex<Option<Stack>> = std::sync::Mutex::new(None);

impl Stack {
    /// The spare stack, or a new one.
    fn take() -> Option<Stack> {
        let spare = SPARE.lock().ok().and_then(|mut spare| spare.take());
        spare.or_else(Stack::new)
    }

    /// Keeps this stack for the next child (or unmaps it, when one is kept already).
    fn put_back(self) {
        if let Ok(mut spare) = SPARE.lock() {
            if spare.is_none() {
                *spare = Some(self);
            }
        }
    }

    fn new() -> Option<Stack> {
        let guard = 4096;
        let size = STACK_SIZE + guard;
        // SAFETY: a fresh anonymous mapping; no existing memory is touched.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return None;
        }
        // SAFETY: the lowest page of the mapping made above.
        unsafe { libc::mprotect(base, guard, libc::PROT_NONE) };
        Some(Stack { base, size })
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, used by nobody any more.
        unsafe { libc::munmap(self.base, self.size) };
    }
}

/// The calling thread's errno.
fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::ENOMEM)
}
