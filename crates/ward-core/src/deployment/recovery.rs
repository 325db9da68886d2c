//! Adopt or discard: after a crash of ward, which of the processes it
//! started still run on as an instance, and which must be stopped.
//!
//! What the store recorded and what the OS shows can disagree: the keeper
//! may have started a process (a restart under a standing order, or a spawn
//! the brain asked for) that the brain did not live to record. Every live
//! process ward started is either adopted, as the one process of its
//! instance, or discarded (stopped): none is left running unnamed, and no
//! instance ends up with two.

/// A process that ward started for an instance, as found after a crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    /// Its pid.
    pub pid: u32,
    /// Whether it still runs (same identity: pid reuse ruled out by the shell).
    pub alive: bool,
}

/// What to do with the processes of one instance.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// The process to adopt as the instance's, if any.
    pub adopt: Option<u32>,
    /// Whether that process is one the store did not record (a restart or
    /// spawn the last brain did not live to record).
    pub unrecorded: bool,
    /// Live processes to stop: second copies.
    pub discard: Vec<u32>,
}

/// Decides for one instance, from the process the store recorded for it and
/// the processes started for it that the store does not name, oldest first.
///
/// - The recorded process, when it still runs, is the instance's (the store
///   holds the decisions made about it); any other live one is a second copy.
/// - Otherwise the newest live unrecorded process is: it replaced the
///   recorded one (which ended) under the policy, or was the spawn asked for.
///   Older live ones are second copies.
/// - Otherwise nothing runs, and the instance goes on from its record.
pub fn adopt_or_discard(recorded: Option<Found>, unrecorded: &[Found]) -> Verdict {
    let others = unrecorded.iter().filter(|f| f.alive && recorded.is_none_or(|r| r.pid != f.pid));
    if let Some(r) = recorded.filter(|r| r.alive) {
        return Verdict { adopt: Some(r.pid), unrecorded: false, discard: others.map(|f| f.pid).collect() };
    }
    let mut live: Vec<u32> = others.map(|f| f.pid).collect();
    match live.pop() {
        Some(newest) => Verdict { adopt: Some(newest), unrecorded: true, discard: live },
        None => Verdict::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(pid: u32, alive: bool) -> Found {
        Found { pid, alive }
    }

    #[test]
    fn a_recorded_process_that_runs_is_kept_and_copies_are_discarded() {
        let v = adopt_or_discard(Some(f(10, true)), &[f(11, true), f(12, false), f(10, true)]);
        assert_eq!(v, Verdict { adopt: Some(10), unrecorded: false, discard: vec![11] });
    }

    #[test]
    fn the_newest_unrecorded_replacement_of_a_dead_record_is_adopted() {
        let v = adopt_or_discard(Some(f(10, false)), &[f(11, true), f(12, true), f(13, false)]);
        assert_eq!(v, Verdict { adopt: Some(12), unrecorded: true, discard: vec![11] });
        let v = adopt_or_discard(None, &[f(20, true)]);
        assert_eq!(v, Verdict { adopt: Some(20), unrecorded: true, discard: vec![] });
    }

    #[test]
    fn nothing_alive_means_nothing_to_adopt() {
        assert_eq!(adopt_or_discard(Some(f(10, false)), &[f(11, false)]), Verdict::default());
        assert_eq!(adopt_or_discard(None, &[]), Verdict::default());
    }

    #[test]
    fn at_most_one_process_per_instance_whatever_is_found() {
        // Every combination of up to three found processes and a record.
        for mask in 0..64u32 {
            let rec = (mask & 1 != 0).then(|| f(1, mask & 2 != 0));
            let found: Vec<Found> = (0..2).map(|i| f(2 + i, mask & (4 << i) != 0)).collect();
            let v = adopt_or_discard(rec, &found);
            let alive: Vec<u32> =
                rec.into_iter().chain(found.iter().copied()).filter(|x| x.alive).map(|x| x.pid).collect();
            let mut kept: Vec<u32> = v.adopt.into_iter().chain(v.discard.iter().copied()).collect();
            kept.sort_unstable();
            assert_eq!(kept, alive, "every live process is adopted or discarded ({mask})");
            assert!(!v.discard.contains(&v.adopt.unwrap_or(0)));
        }
    }
}
