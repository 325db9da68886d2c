//! What an instance uses, as a runtime counts it (a cgroup, a container):
//! shown in status, `why`, metrics and crash dossiers.

/// An instance's use of resources; `None` where its cgroup does not count it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CgroupStats {
    /// CPU time of every process that ran in it, in µs.
    pub cpu_usec: Option<u64>,
    /// Memory charged now, in bytes.
    pub memory_bytes: Option<u64>,
    /// The most memory charged at once, in bytes.
    pub memory_peak_bytes: Option<u64>,
    /// Processes killed by the kernel's OOM killer in it.
    pub oom_kills: Option<u64>,
}

/// `cpu 1.25s, memory 12.0 MiB (peak 14.2 MiB), 0 OOM kills`, for `why`.
pub fn describe(u: &CgroupStats) -> String {
    let mib = |b: u64| format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0));
    let mut parts = Vec::new();
    if let Some(us) = u.cpu_usec {
        parts.push(format!("cpu {:.2}s", us as f64 / 1e6));
    }
    match (u.memory_bytes, u.memory_peak_bytes) {
        (Some(now), Some(peak)) => parts.push(format!("memory {} (peak {})", mib(now), mib(peak))),
        (Some(now), None) => parts.push(format!("memory {}", mib(now))),
        _ => {}
    }
    if let Some(n) = u.oom_kills {
        parts.push(format!("{n} OOM kills"));
    }
    parts.join(", ")
}
