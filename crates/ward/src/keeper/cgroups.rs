//! The keeper's side of per-instance cgroups (see `crate::cgroup`): which
//! cgroup each child runs in, its OOM count when it started, the cgroups of
//! exited instances until the brain says to clean them up, and those that
//! still held a dying process when they were to be removed (retried each
//! time the keeper reaps an orphan, which is how their last process ends).

use super::{Child, Keeper};
use crate::cgroup::{Instance, Stats, instance_name};
use std::collections::HashMap;
use ward_core::spec::ResourcesSpec;

/// What the keeper holds of cgroups.
#[derive(Default)]
pub(super) struct Book {
    /// Cgroups of instance processes that exited, by pid, until `Cleanup`.
    exited: HashMap<u32, Instance>,
    /// Cgroups to remove once empty, by folder name.
    unremoved: HashMap<String, Instance>,
    /// Live children that handed over (`MAINPID=`): the pid their cgroup goes with.
    handed: HashMap<u32, u32>,
}

/// A child's cgroup, its OOM-kill count and CPU time when the child started
/// (a folder lives on from run to run, and so do its counters), and the
/// limits its folders were made for.
pub(super) struct ChildCgroup {
    inst: Instance,
    /// A count of kills, so 32 bits: with `killed`, in the padding of the
    /// 64-bit fields (at 10,000 children every 8 bytes of this box count).
    oom_base: u32,
    cpu_base: u64,
    /// The memory peak its folder had counted before, when that goes on
    /// from run to run (see `Instance::peak_carries`; 0: none): a run whose
    /// peak is not above it has a peak of its own that cannot be told.
    peak_base: u64,
    /// `None` for no limits (most children: 8 bytes, not 56, at 10,000 it counts).
    limits: Option<Box<ResourcesSpec>>,
    /// The keeper killed what is in it (its v2 folder is marked: no child
    /// may be born in it again).
    killed: bool,
}

// One per child in a cgroup: 88 bytes take a 96-byte chunk of the
// allocator, 89 a 112-byte one (and at 10,000 children the keeper's heap
// was 2 MB larger).
const _: () = assert!(std::mem::size_of::<ChildCgroup>() <= 88);

/// The cgroup of an instance's last process, empty, for its replacement
/// (see `Cgroups::reuse`): its folders, the limits they were made for, and
/// what they counted when that process was reaped.
pub(super) struct Reusable {
    pub inst: Instance,
    pub resources: ResourcesSpec,
    pub counted: Counted,
}

/// What a cgroup's folders counted when its last process was reaped: where
/// the counts of the next process born in it start. Empty, the folder
/// counts nothing more until then, so its replacement need not read them
/// again.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Counted {
    pub cpu_usec: Option<u64>,
    pub oom_kills: Option<u64>,
    pub memory_peak: Option<u64>,
}

impl Counted {
    /// What `stats` says the folder counted.
    fn of(stats: &Stats) -> Counted {
        Counted { cpu_usec: stats.cpu_usec, oom_kills: stats.oom_kills, memory_peak: stats.memory_peak_bytes }
    }
}

impl Keeper {
    /// A child of `instance` is about to be forked into its cgroup: the
    /// folder is no longer one to remove once empty (an orphan reaped before
    /// the child moved in must not remove it under the child).
    pub(super) fn cgroup_forking(&mut self, instance: &str) {
        if !self.cgroups.unremoved.is_empty() {
            self.cgroups.unremoved.remove(&instance_name(instance));
        }
    }

    /// The cgroup that the new child was placed in (`inst`, made for
    /// `resources`); `before` is what it counted before, when the exit of
    /// its last process here told it.
    pub(super) fn child_cgroup(
        inst: Instance,
        resources: ResourcesSpec,
        before: Option<Counted>,
    ) -> Option<Box<ChildCgroup>> {
        if inst.is_empty() {
            return None;
        }
        // A folder made anew counts from zero; one of an earlier run that
        // was not just reaped here (a start after a wait, a new keeper: the
        // rare case) is read, once.
        let new = inst.is_new();
        let before = match before {
            _ if new => Counted::default(),
            Some(counted) => counted,
            None => Counted::of(&inst.stats()),
        };
        let oom_base = before.oom_kills.map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX));
        let cpu_base = before.cpu_usec.unwrap_or(0);
        let peak_base = if inst.peak_carries() { before.memory_peak.unwrap_or(0) } else { 0 };
        let limits = (resources != ResourcesSpec::default()).then(|| Box::new(resources));
        Some(Box::new(ChildCgroup { inst, oom_base, cpu_base, peak_base, limits, killed: false }))
    }

    /// `child` (pid `pid`) exited: what its cgroup counted over the run. Its
    /// cgroup waits for the brain's `Cleanup` unless `replaced`: then what is
    /// left in it is killed now, before the replacement joins it, and an
    /// empty one is returned for the replacement to be born in.
    pub(super) fn cgroup_exit(
        &mut self,
        pid: u32,
        child: &mut Child,
        replaced: bool,
    ) -> (Option<Stats>, Option<Reusable>) {
        let Some(cgroup) = child.cgroup.take() else { return (None, None) };
        let ChildCgroup { inst, oom_base, cpu_base, peak_base, limits, killed } = *cgroup;
        let resources = limits.map(|l| *l).unwrap_or_default();
        if let Ok(all) = self.runtime.cgroups() {
            all.flush_counters();
        }
        let mut stats = inst.stats();
        let counted = Counted::of(&stats);
        if peak_base > 0 && stats.memory_peak_bytes.is_some_and(|peak| peak <= peak_base) {
            stats.memory_peak_bytes = None;
        }
        stats.oom_kills = stats.oom_kills.map(|n| n.saturating_sub(u64::from(oom_base)));
        stats.cpu_usec = stats.cpu_usec.map(|n| n.saturating_sub(cpu_base));
        let heir = self.cgroups.handed.remove(&pid);
        let mut reusable = None;
        if replaced && heir.is_none() {
            let events = inst.events();
            if events.populated {
                inst.kill();
            } else if !killed && !events.frozen {
                // (A frozen one is looked at again, and refused, by `Cgroups::create`.)
                reusable = Some(Reusable { inst, resources, counted });
            }
        } else {
            self.cgroups.exited.insert(heir.unwrap_or(pid), inst);
        }
        (Some(stats), reusable)
    }

    /// The brain's `Cleanup` of `pid` of `instance`: kills what is left in
    /// its cgroup (the exited instance's, a live child's being discarded, or
    /// that of a process adopted after a crash of the keeper, found by name
    /// when no child of that instance runs) and removes the cgroup once empty.
    pub(super) fn cgroup_cleanup(&mut self, pid: u32, instance: Option<&str>) {
        let adopted = match instance {
            // Only a process an earlier keeper started (a stray of its
            // journal): any other unknown pid is an old one whose instance
            // may already run again in the same cgroup.
            Some(name)
                if self.strays.iter().any(|s| s.pid == pid) && !self.cgroups.exited.contains_key(&pid) =>
            {
                let running = self.children.values().any(|c| *c.instance == *name);
                let cgroups = self.runtime.cgroups().ok();
                cgroups.filter(|_| !running).map(|c| c.instance(&instance_name(name)))
            }
            _ => None,
        };
        if let Some(inst) = adopted.filter(|i| !i.is_empty()) {
            self.cgroups.exited.insert(pid, inst);
        }
        if let Some(inst) = self.cgroups.exited.remove(&pid) {
            inst.kill();
            if !inst.remove() {
                if let Some(name) = inst.name() {
                    self.cgroups.unremoved.insert(name, inst);
                }
            }
        } else {
            self.cgroup_kill(pid);
        }
    }

    /// The brain's `Handover`: the instance of `from` lives on in `to`
    /// (`MAINPID=`), so its cgroup waits for the `Cleanup` of `to`, whether
    /// `from` has exited already or not yet.
    pub(super) fn cgroup_handover(&mut self, from: u32, to: u32) {
        // A chain (P to C, then C to D while P still lives): P's cgroup goes with D.
        for heir in self.cgroups.handed.values_mut().filter(|h| **h == from) {
            *heir = to;
        }
        match self.cgroups.exited.remove(&from) {
            Some(inst) => {
                self.cgroups.exited.insert(to, inst);
            }
            None if self.children.get(&from).is_some_and(|c| c.cgroup.is_some()) => {
                self.cgroups.handed.insert(from, to);
            }
            None => {}
        }
    }

    /// SIGKILLs every process in the cgroup of the live child `pid`.
    pub(super) fn cgroup_kill(&mut self, pid: u32) {
        if let Some(c) = self.children.get_mut(&pid).and_then(|c| c.cgroup.as_mut()) {
            c.inst.kill();
            c.killed = true;
        }
    }

    /// An orphan was reaped: a cgroup waiting to be removed may be empty now.
    pub(super) fn cgroup_orphan_reaped(&mut self) {
        if !self.cgroups.unremoved.is_empty() {
            self.cgroups.unremoved.retain(|_, inst| !inst.remove());
        }
    }

    /// The end: everything left is killed, and every cgroup of ward's removed.
    pub(super) fn cgroups_end(&mut self) {
        let Ok(cgroups) = self.runtime.cgroups() else { return };
        let cgroups = cgroups.clone();
        let left: Vec<Instance> = self.cgroups.exited.drain().map(|(_, i)| i).collect();
        for inst in left.iter().chain(self.cgroups.unremoved.values()) {
            // A killed process leaves its cgroup as it exits (the reaper
            // collects it); each is waited for through a pidfd.
            inst.kill_and_wait(std::time::Duration::from_secs(2));
            inst.remove();
        }
        cgroups.remove(&self.paths.state);
    }
}
