//! Processes seen through /proc and signalled by pid: children, alive,
//! exists, start time, and kill(2).

use std::path::Path;

/// The children of every thread of `pid`.
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return vec![] };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("children")).ok())
        .flat_map(|list| list.split_whitespace().filter_map(|p| p.parse().ok()).collect::<Vec<u32>>())
        .collect()
}

/// kill(2) of a pid (or a process group, negative).
pub fn kill(pid: i32, sig: i32) -> bool {
    // SAFETY: kill(2) has no memory effects; the pids are ones this test started.
    unsafe { libc::kill(pid, sig) == 0 }
}

/// True while /proc/PID exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}

/// The start time of `pid` (clock ticks after boot, field 22 of
/// /proc/PID/stat), while it exists.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command (which may hold spaces) start at field 3.
    stat.rsplit_once(')')?.1.split_whitespace().nth(22 - 3)?.parse().ok()
}

/// True while /proc/PID exists (alive or zombie).
pub fn exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}
