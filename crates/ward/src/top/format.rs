//! Short texts for the table: durations, sizes, exits.

use crate::api::types::InstanceStatus;

/// A duration in a few characters: `850ms`, `4.2s`, `59s`, `3m12s`, `2h05m`, `3d04h`.
pub fn short_duration(ms: u64) -> String {
    let s = ms / 1000;
    match ms {
        0..1_000 => format!("{ms}ms"),
        1_000..10_000 => format!("{}.{}s", s, (ms % 1000) / 100),
        10_000..60_000 => format!("{s}s"),
        60_000..3_600_000 => format!("{}m{:02}s", s / 60, s % 60),
        3_600_000..86_400_000 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// A size in KiB as `812K`, `45.3M`, `1.2G`.
pub fn short_size(kb: u64) -> String {
    match kb {
        0..10_240 => format!("{kb}K"),
        10_240..10_485_760 => format!("{:.1}M", kb as f64 / 1024.0),
        _ => format!("{:.1}G", kb as f64 / 1_048_576.0),
    }
}

/// How long the instance's process has run, at `now_ms`, given a status had at `at_ms`.
pub fn uptime(i: &InstanceStatus, at_ms: u64, now_ms: u64) -> String {
    match (i.pid, i.uptime_ms) {
        (Some(_), Some(up)) => short_duration(up + now_ms.saturating_sub(at_ms)),
        _ => "-".into(),
    }
}

/// Time until the gate opens, or `-` when it is idle.
pub fn gate_left(i: &InstanceStatus, now_ms: u64) -> String {
    match i.gate.until_ms {
        Some(until) => short_duration(until.saturating_sub(now_ms)),
        None => "-".into(),
    }
}

/// The last exit: `code 3`, `SIGKILL`, `unknown`, or `-`.
pub fn last_exit(i: &InstanceStatus) -> String {
    i.last_exit.as_ref().map_or_else(|| "-".into(), |e| e.to_string())
}

/// Readiness: `yes` once the instance is `ready`, else `-` (the status does
/// not say whether its service declares `ready:`).
pub fn readiness(i: &InstanceStatus) -> &'static str {
    if i.state == "ready" { "yes" } else { "-" }
}

/// The `HH:MM:SS` of an RFC 3339 time stamp.
pub fn clock_of(ts: &str) -> &str {
    ts.get(11..19).unwrap_or(ts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes() {
        assert_eq!(short_duration(850), "850ms");
        assert_eq!(short_duration(4_250), "4.2s");
        assert_eq!(short_duration(59_000), "59s");
        assert_eq!(short_duration(192_000), "3m12s");
        assert_eq!(short_duration(7_500_000), "2h05m");
        assert_eq!(short_duration(273_600_000), "3d04h");
        assert_eq!(short_size(812), "812K");
        assert_eq!(short_size(46_387), "45.3M");
        assert_eq!(clock_of("2026-12-03T13:18:54.123Z"), "13:18:54");
    }
}
