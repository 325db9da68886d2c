//! What /proc says about a supervisor's own processes: which they are (the
//! process tree under its pid, less the service instances), their memory,
//! their threads' context switches, and their CPU time.

use std::collections::{HashMap, HashSet};
use std::fs;

/// The name of the service program; its processes are instances, not the supervisor.
pub const SVC_COMM: &str = "bench-svc";

/// Every process of `root`'s tree (root included) that is not an instance
/// nor below one: a keeper, a brain, helpers.
pub fn own_processes(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    let mut comm: HashMap<u32, String> = HashMap::new();
    for pid in all_pids() {
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        // "pid (comm) state ppid …"; comm may contain spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        let ppid = stat[close + 1..].split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok());
        if let Some(ppid) = ppid {
            children.entry(ppid).or_default().push(pid);
        }
        comm.insert(pid, stat[open + 1..close].to_string());
    }
    let mut out = vec![];
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        if comm.get(&pid).is_some_and(|c| c == SVC_COMM) {
            continue;
        }
        out.push(pid);
        stack.extend(children.get(&pid).into_iter().flatten());
    }
    out
}

fn all_pids() -> impl Iterator<Item = u32> {
    fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
}

fn status_field(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// Resident memory of `pids`, summed, in bytes.
pub fn rss_bytes(pids: &[u32]) -> u64 {
    pids.iter()
        .filter_map(|p| fs::read_to_string(format!("/proc/{p}/status")).ok())
        .filter_map(|s| status_field(&s, "VmRSS:"))
        .sum::<u64>()
        * 1024
}

/// Context switches (voluntary + involuntary) of every thread of `pids`, by thread id.
pub fn switches(pids: &[u32]) -> HashMap<u32, u64> {
    let mut out = HashMap::new();
    for pid in pids {
        let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else { continue };
        for t in tasks.flatten() {
            let Some(tid) = t.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
            let Ok(s) = fs::read_to_string(t.path().join("status")) else { continue };
            let n = status_field(&s, "voluntary_ctxt_switches:").unwrap_or(0)
                + status_field(&s, "nonvoluntary_ctxt_switches:").unwrap_or(0);
            out.insert(tid, n);
        }
    }
    out
}

/// Switches between two snapshots: the growth of threads seen in both, all
/// of a new thread's, and one for each thread that ended (it woke to end).
pub fn switches_between(before: &HashMap<u32, u64>, after: &HashMap<u32, u64>) -> u64 {
    let grown: u64 = after.iter().map(|(t, n)| n.saturating_sub(before.get(t).copied().unwrap_or(0))).sum();
    let ended = before.keys().collect::<HashSet<_>>().difference(&after.keys().collect()).count();
    grown + ended as u64
}

/// CPU time of a set of processes at one moment: per process, user + system
/// of the whole process from `/proc/PID/stat` (in clock ticks, threads that
/// ended included), and the run time of each live thread from
/// `/proc/PID/task/TID/schedstat` (nanoseconds).
#[derive(Clone, Debug, Default)]
pub struct Cpu {
    procs: HashMap<u32, (u64, HashMap<u32, u64>)>,
}

/// Nanoseconds per clock tick of `/proc/PID/stat` (USER_HZ).
fn tick_ns() -> u64 {
    // SAFETY: sysconf takes a plain integer.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    1_000_000_000 / u64::try_from(hz).ok().filter(|&h| h > 0).unwrap_or(100)
}

/// utime + stime (fields 14 and 15) of a `/proc/PID/stat` line, in ticks.
fn stat_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(14 - 3);
    Some(fields.next()?.parse::<u64>().ok()? + fields.next()?.parse::<u64>().ok()?)
}

/// The CPU time of `pids` now.
pub fn cpu(pids: &[u32]) -> Cpu {
    let mut out = Cpu::default();
    for &pid in pids {
        let Some(ticks) = fs::read_to_string(format!("/proc/{pid}/stat")).ok().and_then(|s| stat_ticks(&s))
        else {
            continue;
        };
        let mut threads = HashMap::new();
        for t in fs::read_dir(format!("/proc/{pid}/task")).into_iter().flatten().flatten() {
            let Some(tid) = t.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
            let run = fs::read_to_string(t.path().join("schedstat"))
                .ok()
                .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok());
            if let Some(ns) = run {
                threads.insert(tid, ns);
            }
        }
        out.procs.insert(pid, (ticks * tick_ns(), threads));
    }
    out
}

/// CPU time spent between two snapshots, in nanoseconds. Per process, the
/// growth of its live threads' run time (exact, but blind to threads that
/// ended meanwhile), unless the process's own total grew by more than that
/// plus two ticks of rounding: then threads that ended did the rest, and the
/// total is taken.
pub fn cpu_between(before: &Cpu, after: &Cpu) -> u64 {
    let slack = 2 * tick_ns();
    let mut sum = 0;
    for (pid, (total, threads)) in &after.procs {
        let (total0, threads0) = before.procs.get(pid).map(|(t, th)| (*t, Some(th))).unwrap_or((0, None));
        let live: u64 = threads
            .iter()
            .map(|(tid, ns)| ns.saturating_sub(threads0.and_then(|t| t.get(tid)).copied().unwrap_or(0)))
            .sum();
        let whole = total.saturating_sub(total0);
        sum += if whole > live + slack { whole } else { live };
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_found_with_its_threads() {
        let me = std::process::id();
        let pids = own_processes(me);
        assert_eq!(pids[0], me);
        assert!(rss_bytes(&[me]) > 0);
        assert!(!switches(&[me]).is_empty());
        let before = cpu(&[me]);
        // Spin until this thread alone used 30 ms of CPU.
        let thread_ns = || {
            let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
            // SAFETY: `ts` is a valid, writable timespec.
            unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
            ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
        };
        let t = thread_ns();
        while thread_ns() - t < 30_000_000 {
            std::hint::black_box(0);
        }
        let spent = cpu_between(&before, &cpu(&[me]));
        assert!(spent >= 29_000_000, "{spent} ns");
    }

    #[test]
    fn ticks_of_a_stat_line() {
        let stat = "42 (a b) c) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14";
        // Fields 14 and 15 are "11" and "12" here (state is field 3).
        assert_eq!(stat_ticks(stat), Some(23));
    }

    #[test]
    fn switch_deltas() {
        let before = HashMap::from([(1, 10), (2, 5)]);
        let after = HashMap::from([(1, 12), (3, 4)]);
        assert_eq!(switches_between(&before, &after), 2 + 4 + 1);
    }
}
