//! The per-instance and process metrics of `/metrics`, computed at scrape
//! time: each instance's state, restarts, last exit, gate, readiness, and
//! the CPU seconds and resident memory of its live process (from
//! `/proc/PID/stat`); then ward's own process metrics under the standard
//! `process_` names. Written as Prometheus text after the registry's
//! counters; an instance that is gone is simply not written again.

use super::types::InstanceStatus;
use std::fmt::Write;

/// What `/proc/PID/stat` tells of a process.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct ProcStat {
    cpu_seconds: f64,
    rss_bytes: u64,
    /// Seconds after boot.
    start_seconds: f64,
}

fn sysconf(name: libc::c_int, fallback: i64) -> f64 {
    // SAFETY: sysconf only reads a system constant.
    let v = unsafe { libc::sysconf(name) };
    (if v > 0 { v } else { fallback }) as f64
}

/// Parses the text of `/proc/PID/stat` (the fields after the command's `)`).
fn parse_stat(text: &str, ticks: f64, page: f64) -> Option<ProcStat> {
    let rest = text.rsplit_once(')')?.1;
    // rest starts with " S ppid ...": field 3 of stat(5) is rest[0].
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3)?.parse::<f64>().ok();
    Some(ProcStat {
        cpu_seconds: (field(14)? + field(15)?) / ticks,
        rss_bytes: (field(24)? * page) as u64,
        start_seconds: field(22)? / ticks,
    })
}

fn stat_of(pid: &str) -> Option<ProcStat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text, sysconf(libc::_SC_CLK_TCK, 100), sysconf(libc::_SC_PAGESIZE, 4096))
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// The per-instance families, one sample per instance (per state for the
/// state and gate families, which are 1 for the current one).
pub fn instances(instances: &[InstanceStatus]) -> String {
    let stats: Vec<Option<ProcStat>> =
        instances.iter().map(|i| i.pid.and_then(|p| stat_of(&p.to_string()))).collect();
    let mut out = String::new();
    let labels = |i: &InstanceStatus| format!("service=\"{}\",replica=\"{}\"", i.service, i.replica);
    let mut family = |name: &str, kind: &str, help: &str, value: Value<'_>| {
        header(&mut out, name, kind, help);
        for (i, stat) in instances.iter().zip(&stats) {
            if let Some((extra, v)) = value(i, *stat) {
                let _ = writeln!(out, "{name}{{{}{extra}}} {v}", labels(i));
            }
        }
    };
    let one = |label: &str, v: &str| Some((format!(",{label}=\"{v}\""), "1".to_string()));
    family("ward_instance_state", "gauge", "1 for the state each instance is in", &|i, _| {
        one("state", &i.state)
    });
    family("ward_instance_gate", "gauge", "1 for the state of each instance's restart gate", &|i, _| {
        one("gate", &i.gate.state)
    });
    let plain = |v: String| Some((String::new(), v));
    family("ward_instance_restarts", "gauge", "Restarts of each instance so far", &|i, _| {
        plain(i.restarts.to_string())
    });
    family("ward_instance_ready", "gauge", "1 when the instance is ready", &|i, _| {
        plain(u8::from(i.state == "ready").to_string())
    });
    family("ward_instance_gate_crashes", "gauge", "Crashes inside the crash-loop window now", &|i, _| {
        plain(i.gate.crashes.to_string())
    });
    let help = "The exit code of the last process (when it exited with one)";
    family("ward_instance_last_exit_code", "gauge", help, &|i, _| {
        plain(i.last_exit.as_ref()?.code?.to_string())
    });
    let help = "The signal that killed the last process (when one did)";
    family("ward_instance_last_exit_signal", "gauge", help, &|i, _| {
        plain(i.last_exit.as_ref()?.signal?.to_string())
    });
    let help = "CPU time (user and system) of the live process";
    family("ward_instance_cpu_seconds_total", "counter", help, &|_, s| plain(s?.cpu_seconds.to_string()));
    let help = "Resident memory of the live process";
    family("ward_instance_resident_memory_bytes", "gauge", help, &|_, s| plain(s?.rss_bytes.to_string()));
    out
}

/// One family's sample of an instance: extra labels and the value, or none.
type Value<'a> = &'a dyn Fn(&InstanceStatus, Option<ProcStat>) -> Option<(String, String)>;

/// ward's own process (the brain, which serves the scrape).
pub fn process() -> String {
    let mut out = String::new();
    let Some(me) = stat_of("self") else { return out };
    header(
        &mut out,
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds",
    );
    let _ = writeln!(out, "process_cpu_seconds_total {}", me.cpu_seconds);
    header(&mut out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes");
    let _ = writeln!(out, "process_resident_memory_bytes {}", me.rss_bytes);
    let boot = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("btime ")?.trim().parse::<f64>().ok()));
    if let Some(boot) = boot {
        header(
            &mut out,
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since unix epoch in seconds",
        );
        let _ = writeln!(out, "process_start_time_seconds {}", boot + me.start_seconds);
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        header(&mut out, "process_open_fds", "gauge", "Number of open file descriptors");
        let _ = writeln!(out, "process_open_fds {}", fds.count());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command() {
        // A command with spaces and a parenthesis, as /proc prints it.
        let text = "42 (a) b) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 1000 12345678 300 18446744073709551615";
        let s = parse_stat(text, 100.0, 4096.0).unwrap();
        assert_eq!(s, ProcStat { cpu_seconds: 3.0, rss_bytes: 300 * 4096, start_seconds: 10.0 });
    }

    #[test]
    fn our_own_process_is_measured() {
        let text = process();
        assert!(text.contains("# TYPE process_cpu_seconds_total counter\n"), "{text}");
        assert!(text.lines().any(|l| l.starts_with("process_resident_memory_bytes ")), "{text}");
    }
}
