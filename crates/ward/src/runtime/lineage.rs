//! Whose is a process? What `/proc` (or a cgroup) says about the process
//! that an instance names as its new main process (sd_notify `MAINPID=`),
//! for ward-core to decide whether to take it (see
//! `ward_core::instance::Kinship`).
//!
//! With a cgroup, only membership counts. Without one, the process counts
//! as the instance's when it descends from the instance's process or is in
//! its process group, or when it is an orphan that ward holds (re-parented
//! to ward, its parent having ended: a double-forked daemon whose parent
//! already exited) that started after the instance's process and is no
//! instance's process itself.

use std::fs;
use ward_core::instance::Kinship;
use ward_supervisor::ports::runtime::Family;

/// How many parents are followed before giving up (a chain that long is no daemon's).
const MAX_DEPTH: usize = 64;

/// How `pid` relates to `family`: `cgroup` holds the pids of its cgroup
/// when it runs in one; `holder` is the process that orphans are
/// re-parented to (the keeper, ward's subreaper).
pub fn kinship(pid: u32, family: &Family<'_>, cgroup: Option<Vec<u32>>, holder: u32) -> Kinship {
    let Some(stat) = Stat::read(pid).filter(|s| s.alive) else { return Kinship::Gone };
    if let Some(procs) = cgroup {
        return if procs.contains(&pid) { Kinship::InCgroup } else { Kinship::Stranger };
    }
    if stat.pgrp == family.main {
        return Kinship::Descendant;
    }
    let (mut at, mut stat) = (pid, stat);
    for _ in 0..MAX_DEPTH {
        if stat.ppid == family.main {
            return Kinship::Descendant;
        }
        if stat.ppid == holder {
            let after = match (stat.start, family.main_start) {
                (Some(s), Some(m)) => s >= m,
                _ => false,
            };
            return if after && !(family.is_instance)(at) { Kinship::Orphan } else { Kinship::Stranger };
        }
        if stat.ppid <= 1 {
            return Kinship::Stranger;
        }
        at = stat.ppid;
        match Stat::read(at) {
            Some(parent) => stat = parent,
            None => return Kinship::Stranger,
        }
    }
    Kinship::Stranger
}

/// The fields of `/proc/PID/stat` used here.
struct Stat {
    alive: bool,
    ppid: u32,
    pgrp: u32,
    start: Option<u64>,
}

impl Stat {
    fn read(pid: u32) -> Option<Stat> {
        parse(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    }
}

/// Fields are counted after the last `)` (the command name may hold spaces
/// and parentheses): state (3), ppid (4), pgrp (5), …, starttime (22).
fn parse(stat: &str) -> Option<Stat> {
    let rest: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    Some(Stat {
        alive: !matches!(*rest.first()?, "Z" | "X"),
        ppid: rest.get(1)?.parse().ok()?,
        pgrp: rest.get(2)?.parse().ok()?,
        start: rest.get(22 - 3).and_then(|s| s.parse().ok()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn family(main: u32) -> Family<'static> {
        Family { main, main_start: Some(0), cgroup: false, is_instance: &|_| false }
    }

    #[test]
    fn parses_stat_lines_with_odd_names() {
        let s = parse("12 (a) b (c)) S 7 12 12 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 999 0 0").unwrap();
        assert_eq!((s.alive, s.ppid, s.pgrp, s.start), (true, 7, 12, Some(999)));
        assert!(!parse("12 (x) Z 7 12 12").unwrap().alive);
        assert!(parse("nonsense").is_none());
    }

    #[test]
    fn this_process_descends_from_its_parent_and_is_in_no_other_cgroup() {
        let me = std::process::id();
        let parent = rustix::process::getppid().map_or(1, |p| p.as_raw_nonzero().get() as u32);
        assert_eq!(kinship(me, &family(parent), None, 0), Kinship::Descendant);
        assert_eq!(kinship(me, &family(parent), Some(vec![me]), 0), Kinship::InCgroup);
        assert_eq!(kinship(me, &family(parent), Some(vec![]), 0), Kinship::Stranger);
        assert_eq!(kinship(u32::MAX - 1, &family(parent), None, 0), Kinship::Gone);
    }
}
