//! What each instance's cgroup counts, read when asked (status, why,
//! metrics): a few small reads of the kernel's counters per instance.

use super::Supervisor;
use crate::cgroup::{Stats, instance_name};
use crate::runtime::Runtime;
use ward_core::InstanceId;

impl<R: Runtime> Supervisor<R> {
    /// The cgroup counters of `id`, when it runs in a cgroup of ward's.
    pub(super) fn usage(&self, id: &InstanceId) -> Option<Stats> {
        let inst = self.cgroups.as_ref()?.instance(&instance_name(&id.to_string()));
        (!inst.is_empty()).then(|| inst.stats())
    }

    /// What holds each instance's processes, in words.
    pub(super) fn isolation(&self) -> Option<String> {
        self.runtime.isolation().or_else(|| self.cgroups.as_ref().map(|c| c.describe()))
    }
}

/// `cpu 1.25s, memory 12.0 MiB (peak 14.2 MiB), 0 OOM kills`, for `why`.
pub(super) fn describe(u: &Stats) -> String {
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
