//! Which cgroup hierarchies this host has, and where ward's own process sits
//! in each: from `/proc/self/mountinfo` (the mounts, and the controllers of
//! each v1 mount) and `/proc/self/cgroup` (our path in each hierarchy).
//!
//! Pure functions of the two files' text, so every host shape is a unit test.

use std::path::PathBuf;

/// A controller ward uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Controller {
    /// Memory limit, usage, OOM kills.
    Memory,
    /// CPU quota.
    Cpu,
    /// CPU usage (v1 only; v2 reports usage in every cgroup).
    Cpuacct,
    /// Task count limit.
    Pids,
    /// Freezing (v1 only; v2 has `cgroup.freeze` and `cgroup.kill`).
    Freezer,
}

impl Controller {
    /// The kernel's name of the controller.
    pub fn name(self) -> &'static str {
        match self {
            Controller::Memory => "memory",
            Controller::Cpu => "cpu",
            Controller::Cpuacct => "cpuacct",
            Controller::Pids => "pids",
            Controller::Freezer => "freezer",
        }
    }

    const ALL: [Controller; 5] =
        [Controller::Memory, Controller::Cpu, Controller::Cpuacct, Controller::Pids, Controller::Freezer];
}

/// The hierarchies found, each with the folder of ward's own cgroup in it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// The cgroup v2 hierarchy: our own cgroup's folder (on a hybrid host, the
    /// `unified` mount, which may hold no controller).
    pub v2: Option<PathBuf>,
    /// v1 hierarchies: a controller and our own cgroup's folder in its mount.
    pub v1: Vec<(Controller, PathBuf)>,
}

impl Layout {
    /// Reads the layout of the calling process.
    pub fn of_self() -> std::io::Result<Layout> {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")?;
        let cgroup = std::fs::read_to_string("/proc/self/cgroup")?;
        Ok(parse(&mountinfo, &cgroup))
    }

    /// Our folder in the v1 hierarchy of `c`, if it has one.
    #[cfg(test)]
    pub fn v1_dir(&self, c: Controller) -> Option<&PathBuf> {
        self.v1.iter().find(|(k, _)| *k == c).map(|(_, d)| d)
    }

    /// How the host's cgroups look, in words: `v2`, `hybrid`, `v1` or `none`.
    pub fn kind(&self) -> &'static str {
        match (self.v2.is_some(), self.v1.is_empty()) {
            (true, true) => "v2",
            (true, false) => "hybrid",
            (false, false) => "v1",
            (false, true) => "none",
        }
    }
}

/// A cgroup mount: its root inside the hierarchy and where it is mounted.
struct Mount<'a> {
    root: &'a str,
    point: &'a str,
    /// `None` for cgroup2; else the v1 controllers mounted there.
    controllers: Option<Vec<&'a str>>,
}

/// The layout from the text of `/proc/self/mountinfo` and `/proc/self/cgroup`.
pub fn parse(mountinfo: &str, cgroup: &str) -> Layout {
    let mounts: Vec<Mount<'_>> = mountinfo.lines().filter_map(mount_of).collect();
    let mut layout = Layout::default();
    for line in cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(names), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if id == "0" && names.is_empty() {
            if let Some(m) = mounts.iter().find(|m| m.controllers.is_none()) {
                layout.v2 = Some(join(m, path));
            }
            continue;
        }
        let names: Vec<&str> = names.split(',').collect();
        let Some(m) = mounts.iter().find(|m| m.controllers.as_ref().is_some_and(|c| c == &names)) else {
            continue;
        };
        for c in Controller::ALL {
            if names.contains(&c.name()) {
                layout.v1.push((c, join(m, path)));
            }
        }
    }
    layout
}

/// A cgroup mount from one mountinfo line; `None` for any other mount.
fn mount_of(line: &str) -> Option<Mount<'_>> {
    let (left, right) = line.split_once(" - ")?;
    let fields: Vec<&str> = left.split(' ').collect();
    let (root, point) = (*fields.get(3)?, *fields.get(4)?);
    let mut right = right.split(' ');
    let fstype = right.next()?;
    let _source = right.next()?;
    let options = right.next().unwrap_or("");
    match fstype {
        "cgroup2" => Some(Mount { root, point, controllers: None }),
        "cgroup" => {
            let known: Vec<&str> = options.split(',').filter(|o| !matches!(*o, "rw" | "ro")).collect();
            Some(Mount { root, point, controllers: Some(known) })
        }
        _ => None,
    }
}

/// The folder of cgroup `path` in mount `m` (a path outside the mount's root
/// cannot be reached through it: then the mount point itself).
fn join(m: &Mount<'_>, path: &str) -> PathBuf {
    let inside = path.strip_prefix(m.root).unwrap_or("");
    let inside = inside.trim_start_matches('/');
    let point = PathBuf::from(m.point.replace("\\040", " "));
    if inside.is_empty() { point } else { point.join(inside) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID_MOUNTS: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn hybrid_host() {
        let cgroup =
            "9:name=systemd:/\n8:pids:/\n6:freezer:/\n4:memory:/api/x1\n2:cpuacct:/\n1:cpu:/\n0::/\n";
        let l = parse(HYBRID_MOUNTS, cgroup);
        assert_eq!(l.kind(), "hybrid");
        assert_eq!(l.v2, Some(PathBuf::from("/sys/fs/cgroup/unified")));
        assert_eq!(l.v1_dir(Controller::Memory), Some(&PathBuf::from("/sys/fs/cgroup/memory/api/x1")));
        assert_eq!(l.v1_dir(Controller::Pids), Some(&PathBuf::from("/sys/fs/cgroup/pids")));
        assert_eq!(l.v1_dir(Controller::Freezer), Some(&PathBuf::from("/sys/fs/cgroup/freezer")));
    }

    #[test]
    fn pure_v2_with_a_namespaced_root() {
        let mounts = "29 23 0:26 /user.slice /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
        let l = parse(mounts, "0::/user.slice/session-3.scope\n");
        assert_eq!(l.kind(), "v2");
        assert_eq!(l.v2, Some(PathBuf::from("/sys/fs/cgroup/session-3.scope")));
        assert!(l.v1.is_empty());
    }

    #[test]
    fn joint_v1_mounts_and_no_cgroups() {
        let mounts = "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n";
        let l = parse(mounts, "3:cpu,cpuacct:/a\n");
        assert_eq!(l.kind(), "v1");
        assert_eq!(l.v1_dir(Controller::Cpu), Some(&PathBuf::from("/sys/fs/cgroup/cpu,cpuacct/a")));
        assert_eq!(l.v1_dir(Controller::Cpuacct), Some(&PathBuf::from("/sys/fs/cgroup/cpu,cpuacct/a")));
        assert_eq!(parse("", "0::/\n").kind(), "none");
    }
}
