//! The host's count of OOM kills: the fallback for telling an OOM kill of a
//! process that has no cgroup of its own.

/// The kernel's count of OOM kills (`oom_kill` in /proc/vmstat).
pub fn oom_kills() -> u64 {
    std::fs::read_to_string("/proc/vmstat")
        .ok()
        .and_then(|v| super::stats::parse_keyed(&v, "oom_kill"))
        .unwrap_or(0)
}
