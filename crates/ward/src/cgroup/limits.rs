//! `resources:` written into an instance's controllers, before its exec. Every
//! limit is written at each spawn, the unset ones as "no limit", so a limit
//! removed from the spec is lifted at the next start.

use super::CgroupError;
use super::create::Instance;
use super::detect::Controller;
use std::path::Path;
use ward_core::spec::ResourcesSpec;

/// The CPU quota period, in µs (the kernel's default).
const PERIOD_US: u64 = 100_000;

/// Writes `r` into the folders of `inst`; `v2_on` are the controllers enabled in its v2 folder.
pub(super) fn apply(inst: &Instance, v2_on: &[String], r: &ResourcesSpec) -> Result<(), CgroupError> {
    let on = |c: Controller| v2_on.iter().any(|n| n == c.name());
    if let Some(dir) = &inst.v2 {
        if on(Controller::Memory) {
            write(dir, "memory.max", &max_or(r.memory))?;
            write(dir, "memory.high", &max_or(r.memory_high))?;
            if r.memory.is_some() {
                // A limit means the limit: no swapping past it instead of the OOM kill.
                let _ = write(dir, "memory.swap.max", "0");
            }
        }
        if on(Controller::Cpu) {
            let quota = r.cpu.map_or("max".to_string(), |cpu| quota_us(cpu).to_string());
            write(dir, "cpu.max", &format!("{quota} {PERIOD_US}"))?;
        }
        if on(Controller::Pids) {
            write(dir, "pids.max", &max_or(r.pids.map(u64::from)))?;
        }
    }
    if let Some(dir) = inst.v1_dir(Controller::Memory) {
        // memsw (memory + swap) must stay at least the memory limit: lift it
        // first, then set both (it is absent without swap accounting).
        let _ = write(dir, "memory.memsw.limit_in_bytes", "-1");
        write(dir, "memory.limit_in_bytes", &minus_one_or(r.memory))?;
        if let Some(bytes) = r.memory {
            let _ = write(dir, "memory.memsw.limit_in_bytes", &bytes.to_string());
        }
        // v1 has no `high`: the soft limit is its nearest kin (reclaim first under pressure).
        write(dir, "memory.soft_limit_in_bytes", &minus_one_or(r.memory_high))?;
    }
    if let Some(dir) = inst.v1_dir(Controller::Cpu) {
        write(dir, "cpu.cfs_period_us", &PERIOD_US.to_string())?;
        let quota = r.cpu.map_or(-1, |cpu| i64::try_from(quota_us(cpu)).unwrap_or(i64::MAX));
        write(dir, "cpu.cfs_quota_us", &quota.to_string())?;
    }
    if let Some(dir) = inst.v1_dir(Controller::Pids) {
        write(dir, "pids.max", &max_or(r.pids.map(u64::from)))?;
    }
    Ok(())
}

/// The quota per period for `cpu` CPUs (at least 1 ms, the kernel's minimum).
fn quota_us(cpu: f64) -> u64 {
    ((cpu * PERIOD_US as f64).round() as u64).max(1000)
}

fn max_or(v: Option<u64>) -> String {
    v.map_or("max".to_string(), |n| n.to_string())
}

fn minus_one_or(v: Option<u64>) -> String {
    v.map_or("-1".to_string(), |n| n.to_string())
}

/// Writes `value` to the control file `file` of `dir`.
fn write(dir: &Path, file: &str, value: &str) -> Result<(), CgroupError> {
    let path = dir.join(file);
    std::fs::write(&path, value).map_err(|source| CgroupError::Io { path, source })
}

#[cfg(test)]
mod tests {
    #[test]
    fn cpu_quota() {
        assert_eq!(super::quota_us(0.5), 50_000);
        assert_eq!(super::quota_us(2.0), 200_000);
        assert_eq!(super::quota_us(0.001), 1000);
    }
}
