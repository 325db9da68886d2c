//! The folders: the deployment's (once, at the keeper's start) and each
//! instance's (at its spawn), and the descriptors a child writes itself into.

use super::detect::{Controller, Layout};
use super::{CgroupError, Cgroups, Unavailable, limits};
use std::fs::{self, OpenOptions};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use ward_core::spec::ResourcesSpec;

/// The v2 controllers ward enables below its folder, when the host lets it.
const V2_CONTROLLERS: [&str; 3] = ["memory", "cpu", "pids"];

/// How a child joins an instance's v2 folder (see [`Instance::v2_files`]).
#[derive(Debug)]
pub enum V2Entry {
    /// Born in the folder (open): its `cgroup.procs` is opened from it only
    /// where the kernel cannot do that (see [`V2Entry::procs_of`]).
    Folder(OwnedFd),
    /// Moves itself in through this `cgroup.procs`.
    Procs(OwnedFd),
}

impl V2Entry {
    /// `cgroup.procs` of the open v2 folder `dir`.
    pub fn procs_of(dir: std::os::fd::BorrowedFd<'_>) -> std::io::Result<OwnedFd> {
        use rustix::fs::{Mode, OFlags};
        Ok(rustix::fs::openat(dir, "cgroup.procs", OFlags::WRONLY | OFlags::CLOEXEC, Mode::empty())?)
    }
}

/// One instance's folders: the v2 one (tracking and, where enabled, every
/// controller) and v1 ones by controller.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Instance {
    pub(super) v2: Option<PathBuf>,
    pub(super) v1: Vec<(Controller, PathBuf)>,
    /// Its v2 folder has the memory controller.
    pub(super) v2_memory: bool,
    /// No `cgroup.kill` ever reached its v2 folder: a child may be born in
    /// it (see [`Cgroups::create`]).
    pub(super) v2_fresh: bool,
    /// Its folders were made for it just now: its counters start at zero.
    pub(super) made: bool,
}

/// Creates the deployment's folder `name` in each hierarchy of `layout`.
pub(super) fn deployment(layout: &Layout, name: &str) -> Result<Cgroups, Unavailable> {
    let mut v2 = None;
    if let Some(own) = &layout.v2 {
        let base = own.join(name);
        mkdir(&base).map_err(|source| Unavailable::Create { path: base.clone(), source })?;
        // Best effort: our own cgroup may hold processes (then the kernel
        // refuses controllers below it) or lack the controllers altogether.
        let _ = fs::write(own.join("cgroup.subtree_control"), plus(&controllers_of(own)));
        let offered = controllers_of(&base);
        let _ = fs::write(base.join("cgroup.subtree_control"), plus(&offered));
        v2 = Some((base.clone(), enabled(&base)));
    }
    let v2_has = |c: Controller| {
        v2.as_ref().is_some_and(|(_, on): &(PathBuf, Vec<String>)| on.iter().any(|n| n == c.name()))
    };
    let mut v1 = Vec::new();
    for (c, own) in &layout.v1 {
        let wanted = match c {
            Controller::Memory | Controller::Cpu | Controller::Pids => !v2_has(*c),
            Controller::Cpuacct | Controller::Freezer => v2.is_none(),
        };
        if !wanted {
            continue;
        }
        let dir = own.join(name);
        match mkdir(&dir) {
            Ok(_) => v1.push((*c, dir)),
            Err(e) if *c == Controller::Freezer => return Err(Unavailable::Create { path: dir, source: e }),
            Err(e) => {
                tracing::warn!("cgroup: cannot use the v1 {} controller ({}): {e}", c.name(), dir.display())
            }
        }
    }
    if v2.is_none() && !v1.iter().any(|(c, _)| *c == Controller::Freezer) {
        return Err(Unavailable::NoHierarchy(layout.kind()));
    }
    let kind = match (&v2, v1.is_empty()) {
        (Some(_), true) => "v2",
        (Some(_), false) => "hybrid",
        (None, _) => "v1",
    };
    Ok(Cgroups { v2, v1, kind, flusher: Default::default() })
}

/// The deployment's folders that exist already (made by the keeper).
pub(super) fn existing(layout: &Layout, name: &str) -> Option<Cgroups> {
    let v2 = layout.v2.as_ref().map(|own| own.join(name)).filter(|d| d.is_dir());
    let v2 = v2.map(|d| {
        let on = enabled(&d);
        (d, on)
    });
    let v1: Vec<(Controller, PathBuf)> =
        layout.v1.iter().map(|(c, own)| (*c, own.join(name))).filter(|(_, d)| d.is_dir()).collect();
    let kind = match (&v2, v1.is_empty()) {
        (Some(_), true) => "v2",
        (Some(_), false) => "hybrid",
        (None, false) if v1.iter().any(|(c, _)| *c == Controller::Freezer) => "v1",
        _ => return None,
    };
    Some(Cgroups { v2, v1, kind, flusher: Default::default() })
}

impl Cgroups {
    /// Creates (or reuses) the folders of instance `name` for `resources`
    /// and writes its limits (clearing any that the spec no longer sets).
    ///
    /// Once `cgroup.kill` was written to a v2 folder, the kernel (6.x, the
    /// `kill_seq` check of `cgroup_post_fork`) SIGKILLs every child born in
    /// it by `clone3(CLONE_INTO_CGROUP)` from another cgroup: it compares
    /// the folder's kill count with that of the parent's cgroup. So a folder
    /// marked as killed (see `kill`) is made anew when empty; one that still
    /// holds a dying process is reused, and its child moves in by writing
    /// `cgroup.procs` (the slow path) instead. An unmarked folder is reused
    /// as it is (a new folder costs the next fork a wait for the kernel's
    /// cgroup lock while the old one goes offline).
    pub fn create(&self, name: &str, resources: &ResourcesSpec) -> Result<Instance, CgroupError> {
        let v2_has = |c: &str| self.v2.as_ref().is_some_and(|(_, on)| on.iter().any(|n| n == c));
        let need = |key, c: Controller| -> Result<(), CgroupError> {
            if v2_has(c.name()) || self.v1_dir(c).is_some() {
                return Ok(());
            }
            Err(CgroupError::NoController { key, controller: c.name(), kind: self.kind })
        };
        if resources.memory.is_some() {
            need("memory", Controller::Memory)?;
        }
        if resources.memory_high.is_some() {
            need("memory_high", Controller::Memory)?;
        }
        if resources.cpu.is_some() {
            need("cpu", Controller::Cpu)?;
        }
        if resources.pids.is_some() {
            need("pids", Controller::Pids)?;
        }
        let mut inst = Instance { v2_memory: v2_has("memory"), ..Instance::default() };
        // Made just now only if every folder was: a v1 one that lives on
        // (beside a v2 one made anew) counts on too.
        let mut made = true;
        if let Some((base, _)) = &self.v2 {
            let dir = base.join(name);
            let (fresh, new) =
                fresh_dir(&dir).map_err(|source| CgroupError::Io { path: dir.clone(), source })?;
            // A process born in a frozen folder would hold the keeper until
            // the exec deadline, and then be killed: none is started there.
            if !new && super::kill::events(&dir).frozen {
                return Err(CgroupError::Frozen { path: dir });
            }
            inst.v2_fresh = fresh;
            made &= new;
            inst.v2 = Some(dir);
        }
        for (c, base) in &self.v1 {
            // Each v1 folder costs a `cgroup.procs` write per spawn (the
            // kernel's slow path), so only limits get one; on v1 alone, the
            // freezer tracks and cpuacct counts.
            let used = match c {
                Controller::Memory => resources.memory.is_some() || resources.memory_high.is_some(),
                Controller::Cpuacct | Controller::Freezer => true,
                Controller::Cpu => resources.cpu.is_some(),
                Controller::Pids => resources.pids.is_some(),
            };
            let dir = base.join(name);
            if used {
                made &= mkdir(&dir).map_err(|source| CgroupError::Io { path: dir.clone(), source })?;
                inst.v1.push((*c, dir));
            } else if dir.is_dir() {
                // Limited by an earlier spec: no limit now.
                made = false;
                inst.v1.push((*c, dir));
            }
        }
        inst.made = made;
        let v2_controllers = self.v2.as_ref().map(|(_, on)| on.as_slice()).unwrap_or(&[]);
        limits::apply(&inst, v2_controllers, resources)?;
        if !inst.made {
            inst.reset_peak();
        }
        Ok(inst)
    }

    /// The folders for the next process of instance `name`, given `last`,
    /// those of its last process (empty now, see [`Instance::events`],
    /// and never killed since [`Cgroups::create`] returned them: the caller
    /// knows, having made every kill of them through [`Instance::kill`]),
    /// made for the limits `was`: reused as they are when the limits are the
    /// same (no folder to make or check, no limit to write); else as
    /// [`Cgroups::create`] makes them.
    pub fn reuse(
        &self,
        name: &str,
        last: Instance,
        was: &ResourcesSpec,
        resources: &ResourcesSpec,
    ) -> Result<Instance, CgroupError> {
        if was != resources || last.v2.is_none() || !last.v2_fresh {
            return self.create(name, resources);
        }
        last.reset_peak();
        Ok(Instance { made: false, ..last })
    }

    /// The folders of instance `name` that exist, to read or kill.
    pub fn instance(&self, name: &str) -> Instance {
        let v2 = self.v2.as_ref().map(|(b, _)| b.join(name)).filter(|d| d.is_dir());
        let v1 = self.v1.iter().map(|(c, b)| (*c, b.join(name))).filter(|(_, d)| d.is_dir()).collect();
        let v2_memory = self.v2.as_ref().is_some_and(|(_, on)| on.iter().any(|c| c == "memory"));
        Instance { v2, v1, v2_memory, v2_fresh: false, made: false }
    }

    /// What the cgroup of instance `id` (`service/N`) counts now, when it has one.
    pub fn usage(&self, id: &str) -> Option<super::Stats> {
        let inst = self.instance(&super::instance_name(id));
        (!inst.is_empty()).then(|| inst.stats())
    }
}

impl Instance {
    /// Its folder name (`service@replica`).
    pub fn name(&self) -> Option<String> {
        self.dirs().next()?.file_name().map(|n| n.to_string_lossy().into_owned())
    }

    /// What its v2 folder's `cgroup.events` says: whether a process is in it
    /// (true when that cannot be told, v1 alone included, to be safe), and
    /// whether it is frozen.
    pub fn events(&self) -> super::Events {
        self.v2.as_deref().map_or(super::Events::UNKNOWN, super::kill::events)
    }

    /// Whether its folders were made for it just now (its counters are zero).
    pub fn is_new(&self) -> bool {
        self.made
    }

    /// Whether it has no folder at all.
    pub fn is_empty(&self) -> bool {
        self.v2.is_none() && self.v1.is_empty()
    }

    /// Every folder of the instance.
    pub(super) fn dirs(&self) -> impl Iterator<Item = &PathBuf> {
        self.v2.iter().chain(self.v1.iter().map(|(_, d)| d))
    }

    /// The v1 folder of controller `c`.
    pub(super) fn v1_dir(&self, c: Controller) -> Option<&PathBuf> {
        self.v1.iter().find(|(k, _)| *k == c).map(|(_, d)| d)
    }

    /// Write-only descriptors of each folder's `cgroup.procs`: a child writes
    /// `0` to each, between fork and exec, to move itself in.
    #[cfg(test)]
    pub fn procs_files(&self) -> Result<Vec<OwnedFd>, CgroupError> {
        self.dirs().map(|dir| procs_file(dir)).collect()
    }

    /// How a child joins the v2 folder, when the instance has one: born in
    /// it (`clone3(CLONE_INTO_CGROUP)`; only a fresh one, see
    /// [`Cgroups::create`]), or moving itself in through its `cgroup.procs`.
    pub fn v2_files(&self) -> Result<Option<V2Entry>, CgroupError> {
        let Some(dir) = &self.v2 else { return Ok(None) };
        if !self.v2_fresh {
            return Ok(Some(V2Entry::Procs(procs_file(dir)?)));
        }
        let folder = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(dir)
            .map_err(|source| CgroupError::Io { path: dir.clone(), source })?;
        Ok(Some(V2Entry::Folder(folder.into())))
    }

    /// `cgroup.procs` of each v1 folder (see [`Instance::procs_files`]).
    pub fn v1_procs_files(&self) -> Result<Vec<OwnedFd>, CgroupError> {
        self.v1.iter().map(|(_, dir)| procs_file(dir)).collect()
    }

    /// Removes its folders; false while a process is still in one (`EBUSY`).
    pub fn remove(&self) -> bool {
        let mut all = true;
        for dir in self.dirs() {
            match fs::remove_dir(dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    if e.raw_os_error() != Some(libc::EBUSY) {
                        tracing::warn!("cannot remove cgroup {}: {e}", dir.display());
                    }
                    all = false;
                }
            }
        }
        all
    }

    /// The pids in its tracking folder (v2, else the v1 freezer, else any).
    pub fn pids(&self) -> Vec<u32> {
        let dir = self.v2.as_ref().or(self.v1_dir(Controller::Freezer)).or(self.v1.first().map(|(_, d)| d));
        let Some(dir) = dir else { return Vec::new() };
        fs::read_to_string(dir.join("cgroup.procs"))
            .map(|text| text.lines().filter_map(|l| l.trim().parse().ok()).collect())
            .unwrap_or_default()
    }
}

/// `dir/cgroup.procs`, write-only.
fn procs_file(dir: &Path) -> Result<OwnedFd, CgroupError> {
    let path = dir.join("cgroup.procs");
    OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(&path)
        .map(OwnedFd::from)
        .map_err(|source| CgroupError::Io { path, source })
}

/// Makes v2 folder `dir`, or reuses it; a killed one is made anew when
/// empty. Says whether a child may be born in it (false when it was killed
/// and holds a process still, `EBUSY`: reused, the child moves in), and
/// whether it was made just now.
fn fresh_dir(dir: &Path) -> io::Result<(bool, bool)> {
    match fs::create_dir(dir) {
        Ok(()) => return Ok((true, true)),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    if !super::kill::was_killed(dir) {
        return Ok((true, false));
    }
    match fs::remove_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) if e.raw_os_error() == Some(libc::EBUSY) => return Ok((false, false)),
        Err(e) => return Err(e),
    }
    fs::create_dir(dir)?;
    Ok((true, true))
}

/// Creates `dir`; one that exists already is fine. Says whether it was made.
fn mkdir(dir: &Path) -> io::Result<bool> {
    match fs::create_dir(dir) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// The v2 controllers of ward's list that `dir` offers to its children.
fn controllers_of(dir: &Path) -> Vec<String> {
    let text = fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default();
    text.split_whitespace().filter(|c| V2_CONTROLLERS.contains(c)).map(str::to_owned).collect()
}

/// The v2 controllers enabled for the children of `dir`.
fn enabled(dir: &Path) -> Vec<String> {
    let text = fs::read_to_string(dir.join("cgroup.subtree_control")).unwrap_or_default();
    text.split_whitespace().filter(|c| V2_CONTROLLERS.contains(c)).map(str::to_owned).collect()
}

/// `+a +b` for `cgroup.subtree_control`.
fn plus(controllers: &[String]) -> String {
    controllers.iter().map(|c| format!("+{c}")).collect::<Vec<_>>().join(" ")
}
