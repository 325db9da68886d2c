//! The reaper's tests, on the shared test reaper (see `testing`).

use super::*;

#[test]
fn decodes_wait_statuses() {
    // Linux encodings: exit code in bits 8..16, signal in the low 7 bits.
    assert_eq!(decode(3 << 8), ExitStatus::Code(3));
    assert_eq!(decode(0), ExitStatus::Code(0));
    assert_eq!(decode(9), ExitStatus::Signal(9));
    assert_eq!(decode(0x137f), ExitStatus::Unknown); // stopped by SIGSTOP
}

#[test]
fn a_spared_group_outlives_its_leader() {
    let shared = testing::shared();
    let (read, write) = rustix::pipe::pipe().unwrap();
    let forking = shared.reaper.forking(crate::runtime::reaper::exec_deadline());
    // SAFETY: the child makes only async-signal-safe calls, then _exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: as above; the grandchild stays in the child's group and waits.
        unsafe {
            libc::setpgid(0, 0);
            let gc = libc::fork();
            if gc == 0 {
                libc::pause();
                libc::_exit(0);
            }
            let bytes = gc.to_ne_bytes();
            libc::write(rustix::fd::AsRawFd::as_raw_fd(&write), bytes.as_ptr().cast(), bytes.len());
            libc::_exit(0);
        }
    }
    assert!(pid > 0);
    let pid = pid.unsigned_abs();
    // SAFETY: setpgid takes plain integers; the child may have done it already.
    unsafe { libc::setpgid(pid as i32, pid as i32) };
    forking.forked_sparing_group(pid);
    shared.reaper.children_may_exist();
    let mut buf = [0u8; 4];
    assert_eq!(rustix::io::read(&read, &mut buf).unwrap(), 4);
    let grandchild = i32::from_ne_bytes(buf);
    assert_eq!(shared.wait_for(pid), Some(ExitStatus::Code(0)));
    // SAFETY: kill takes plain integers; the grandchild is ours to end.
    unsafe { libc::kill(grandchild, libc::SIGTERM) };
    // Ended by this SIGTERM, not by a SIGKILL to its group at its leader's reap.
    let status = shared.wait_for(grandchild.unsigned_abs());
    assert_eq!(status, Some(ExitStatus::Signal(libc::SIGTERM)), "its group was not killed");
}

#[test]
fn reaps_a_direct_child_forked_after_a_park() {
    let shared = testing::shared();
    // SAFETY: the child only calls _exit, which is async-signal-safe.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: ends the child at once, without running any Rust code.
        unsafe { libc::_exit(7) };
    }
    assert!(pid > 0, "fork: {}", io::Error::last_os_error());
    shared.reaper.children_may_exist();
    let pid = pid.unsigned_abs();
    assert_eq!(shared.wait_for(pid), Some(ExitStatus::Code(7)));
}

/// Forks a recorded child that waits on `read` and exits 0 when every
/// `write` end is closed.
fn recorded_child(read: &rustix::fd::OwnedFd, write: &rustix::fd::OwnedFd) -> u32 {
    let shared = testing::shared();
    let forking = shared.reaper.forking(crate::runtime::reaper::exec_deadline());
    // SAFETY: the child makes only async-signal-safe calls, then _exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let mut b = [0u8; 1];
        // SAFETY: close, read and _exit are async-signal-safe.
        unsafe {
            libc::close(rustix::fd::AsRawFd::as_raw_fd(write));
            libc::read(rustix::fd::AsRawFd::as_raw_fd(read), b.as_mut_ptr().cast(), 1);
            libc::_exit(0);
        }
    }
    assert!(pid > 0, "fork: {}", io::Error::last_os_error());
    forking.forked(pid.unsigned_abs());
    shared.reaper.children_may_exist();
    pid.unsigned_abs()
}

/// Descriptors open in this process's table.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

#[test]
fn pidfds_stay_out_of_the_descriptor_table_that_forks_copy() {
    let shared = testing::shared();
    let (read, write) = rustix::pipe::pipe().unwrap();
    let before = open_fds();
    let pids: Vec<u32> = (0..40).map(|_| recorded_child(&read, &write)).collect();
    // Each child's pidfd is in the watching thread's own table (other tests
    // open a few descriptors meanwhile: far fewer than 40).
    let during = open_fds();
    assert!(during < before + 20, "{before} descriptors before, {during} with 40 watched children");
    drop(write); // every child reads the end and exits 0
    for pid in pids {
        assert_eq!(shared.wait_for(pid), Some(ExitStatus::Code(0)), "child {pid}");
    }
}
