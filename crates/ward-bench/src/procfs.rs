//! What /proc says about a supervisor's own processes: which they are (the
//! process tree under its pid, less the service instances), their memory,
//! and their threads' context switches.

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
    }

    #[test]
    fn switch_deltas() {
        let before = HashMap::from([(1, 10), (2, 5)]);
        let after = HashMap::from([(1, 12), (3, 4)]);
        assert_eq!(switches_between(&before, &after), 2 + 4 + 1);
    }
}
