//! CPU and memory of a live instance, read from `/proc/PID` on the client's
//! side: the API has no such figures (they are the kernel's, and `ward top`
//! runs on the same machine as the processes it shows).

/// One reading of a process: CPU time so far and resident memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcSample {
    /// The pid.
    pub pid: u32,
    /// When it was read (Unix ms).
    pub at_ms: u64,
    /// User + system CPU time so far, in milliseconds.
    pub cpu_ms: u64,
    /// Resident set size, KiB.
    pub rss_kb: u64,
}

/// What the table shows of a process.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProcFigures {
    /// CPU use since the previous reading, in % of one CPU (none after one reading).
    pub cpu_pct: Option<f64>,
    /// Resident set size, KiB.
    pub rss_kb: u64,
}

impl ProcFigures {
    /// The figures of `now`, with CPU use over the time since `prev`.
    pub fn between(prev: Option<&ProcSample>, now: &ProcSample) -> ProcFigures {
        let cpu_pct = prev
            .filter(|p| now.at_ms > p.at_ms && now.cpu_ms >= p.cpu_ms)
            .map(|p| (now.cpu_ms - p.cpu_ms) as f64 * 100.0 / (now.at_ms - p.at_ms) as f64);
        ProcFigures { cpu_pct, rss_kb: now.rss_kb }
    }
}

/// Parses `/proc/PID/stat` and `/proc/PID/statm` texts; `None` when malformed.
pub fn parse(
    pid: u32,
    at_ms: u64,
    stat: &str,
    statm: &str,
    tick_hz: u64,
    page_kb: u64,
) -> Option<ProcSample> {
    // The command name (field 2) may hold spaces and parentheses: fields after the last ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    let rss_pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    let cpu_ms = (utime + stime) * 1000 / tick_hz.max(1);
    Some(ProcSample { pid, at_ms, cpu_ms, rss_kb: rss_pages * page_kb })
}

/// Reads a live process; `None` once it is gone.
pub fn read(pid: u32, at_ms: u64) -> Option<ProcSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let tick_hz = rustix::param::clock_ticks_per_second();
    let page_kb = (rustix::param::page_size() / 1024) as u64;
    parse(pid, at_ms, &stat, &statm, tick_hz, page_kb)
}

/// A process's sample with its instance's cgroup figures where the cgroup
/// counts them: CPU time of every process of the instance, and memory
/// charged to it (a daemon's children included).
pub fn with_cgroup(sample: Option<ProcSample>, cgroup: Option<crate::cgroup::Stats>) -> Option<ProcSample> {
    let mut s = sample?;
    if let Some(c) = cgroup {
        if let Some(us) = c.cpu_usec {
            s.cpu_ms = us / 1000;
        }
        if let Some(bytes) = c.memory_bytes {
            s.rss_kb = bytes / 1024;
        }
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_names_and_computes_cpu() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 1 0 100 1000 300";
        let a = parse(42, 1_000, stat, "1000 300 200 1 0 100 0", 100, 4).unwrap();
        assert_eq!(a.cpu_ms, 2_000);
        assert_eq!(a.rss_kb, 1_200);
        let b = ProcSample { at_ms: 3_000, cpu_ms: 3_000, ..a };
        let f = ProcFigures::between(Some(&a), &b);
        assert_eq!(f.cpu_pct, Some(50.0));
        assert_eq!(ProcFigures::between(None, &b).cpu_pct, None);
        assert!(parse(42, 0, "garbage", "", 100, 4).is_none());
        let cg = crate::cgroup::Stats {
            cpu_usec: Some(7_000_000),
            memory_bytes: Some(8 << 20),
            ..Default::default()
        };
        let merged = with_cgroup(Some(a), Some(cg)).unwrap();
        assert_eq!((merged.cpu_ms, merged.rss_kb), (7_000, 8 * 1024), "the cgroup's figures win");
        let cpu_only = crate::cgroup::Stats { cpu_usec: Some(1_000), ..Default::default() };
        assert_eq!(
            with_cgroup(Some(a), Some(cpu_only)).unwrap().rss_kb,
            1_200,
            "no memory counted: the process's"
        );
        assert_eq!(with_cgroup(None, Some(cg)), None, "a process that is gone");
    }
}
