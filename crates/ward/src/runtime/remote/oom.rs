//! The count of OOM kills the brain looks at when an instance killed by
//! SIGKILL has no count of its own (no memory controller in its cgroup, or
//! no cgroup): the narrowest counter that covers its processes, opened once
//! and read again in place (`pread`), instead of the whole of `/proc/vmstat`
//! opened and parsed at every such exit.
//!
//! - v1 `memory`: `memory.oom_control` of the brain's memory cgroup (the
//!   keeper's: an instance without memory limits stays in it, and v1 counts
//!   the kills of the processes charged to that very cgroup);
//! - else v2: `memory.events` of the nearest cgroup, from the brain's own
//!   upwards, that has the memory controller (v2 counts the kills below it);
//! - else the host's count, `oom_kill` in `/proc/vmstat`.

use crate::cgroup::stats::parse_keyed;
use crate::cgroup::{Controller, Layout};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// A counter of OOM kills, read in place.
#[derive(Debug)]
pub struct OomCount {
    /// The file, open (`None`: it could not be opened).
    file: Option<File>,
    /// Its path, for the logs.
    path: PathBuf,
    /// The key of the count in the file.
    key: &'static str,
}

impl OomCount {
    /// The narrowest counter for the brain's place in the cgroups.
    pub fn find() -> OomCount {
        let (path, key) = match Layout::of_self() {
            Ok(layout) => source(&layout, |p| p.exists()),
            Err(_) => (PathBuf::from(VMSTAT), VMSTAT_KEY),
        };
        let file = File::open(&path).ok();
        tracing::debug!(counter = %path.display(), open = file.is_some(), "OOM kills of instances without their own count");
        OomCount { file, path, key }
    }

    /// The count now; `None` when it cannot be read.
    pub fn read(&self) -> Option<u64> {
        let file = self.file.as_ref()?;
        // On the stack: a heap buffer this size, taken and given back at
        // every such exit, made the allocator consolidate and fault pages in.
        let mut stack = [0u8; 16 * 1024];
        let mut heap = Vec::new();
        let mut len = 0;
        loop {
            if len == stack.len() && heap.is_empty() {
                heap.extend_from_slice(&stack); // larger than ever seen (`/proc/vmstat` is ~6 KiB)
            }
            let buf = match heap.is_empty() {
                true => &mut stack[len..],
                false => {
                    heap.resize(len + 8192, 0);
                    &mut heap[len..]
                }
            };
            match file.read_at(buf, len as u64) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    tracing::debug!("cannot read {}: {e}", self.path.display());
                    return None;
                }
            }
        }
        let text = if heap.is_empty() { &stack[..len] } else { &heap[..len] };
        parse_keyed(&String::from_utf8_lossy(text), self.key)
    }
}

const VMSTAT: &str = "/proc/vmstat";
const VMSTAT_KEY: &str = "oom_kill";

/// Which file counts the OOM kills of processes placed as `layout` says,
/// and the key of the count in it; `exists` says whether a file is there.
fn source(layout: &Layout, exists: impl Fn(&Path) -> bool) -> (PathBuf, &'static str) {
    if let Some((_, dir)) = layout.v1.iter().find(|(c, _)| *c == Controller::Memory) {
        let file = dir.join("memory.oom_control");
        if exists(&file) {
            return (file, "oom_kill");
        }
    }
    let mut dir = layout.v2.as_deref();
    // Up to the hierarchy's root, which has no memory.events.
    while let Some(d) = dir.filter(|d| exists(&d.join("cgroup.controllers"))) {
        let file = d.join("memory.events");
        if exists(&file) {
            return (file, "oom_kill");
        }
        dir = d.parent();
    }
    (PathBuf::from(VMSTAT), VMSTAT_KEY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(v2: Option<&str>, memory: Option<&str>) -> Layout {
        Layout {
            v2: v2.map(PathBuf::from),
            v1: memory
                .map(|m| vec![(Controller::Cpu, PathBuf::from("/c")), (Controller::Memory, PathBuf::from(m))])
                .unwrap_or_default(),
        }
    }

    #[test]
    fn the_narrowest_counter_is_chosen() {
        let files = |list: &'static [&'static str]| move |p: &Path| list.iter().any(|f| Path::new(f) == p);
        // Hybrid: the v1 memory cgroup, even with a v2 hierarchy beside it.
        let hybrid = layout(Some("/u/a"), Some("/m/api/x"));
        let (path, key) = source(&hybrid, files(&["/m/api/x/memory.oom_control", "/u/a/cgroup.controllers"]));
        assert_eq!((path, key), (PathBuf::from("/m/api/x/memory.oom_control"), "oom_kill"));
        // v2: the nearest ancestor with the memory controller.
        let v2 = layout(Some("/g/a/b"), None);
        let tree = files(&[
            "/g/cgroup.controllers",
            "/g/a/cgroup.controllers",
            "/g/a/memory.events",
            "/g/a/b/cgroup.controllers",
        ]);
        assert_eq!(source(&v2, tree).0, PathBuf::from("/g/a/memory.events"));
        // v2 without memory anywhere below the root: the host's count.
        let bare = files(&["/g/cgroup.controllers", "/g/a/cgroup.controllers", "/g/a/b/cgroup.controllers"]);
        assert_eq!(source(&v2, bare), (PathBuf::from(VMSTAT), "oom_kill"));
        assert_eq!(source(&Layout::default(), |_| true).0, PathBuf::from(VMSTAT));
    }

    #[test]
    fn counts_are_read() {
        assert_eq!(parse_keyed("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n", "oom_kill"), Some(2));
        assert_eq!(parse_keyed("low 0\noom 1\noom_kill 4\noom_group_kill 0\n", "oom_kill"), Some(4));
        assert_eq!(parse_keyed("pgfault 9\n", "oom_kill"), None);
    }

    #[test]
    fn a_counter_is_read_again_in_place() {
        let counter = OomCount::find();
        let first = counter.read();
        assert!(first.is_some(), "{} gives a count", counter.path.display());
        assert!(counter.read() >= first, "read again from its start");
        // /proc/vmstat read in place shows new values (pgfault grows as we fault pages in).
        let vmstat = OomCount { file: File::open(VMSTAT).ok(), path: VMSTAT.into(), key: "pgfault" };
        let before = vmstat.read().expect("pgfault");
        let pages: Vec<Vec<u8>> = (0..16).map(|_| vec![1u8; 1 << 20]).collect();
        assert!(pages.iter().all(|p| p[1 << 19] == 1));
        assert!(vmstat.read().expect("pgfault") > before, "a fresh count each read");
    }

    #[test]
    fn a_counter_longer_than_the_stack_buffer_is_read_whole() {
        let path = std::env::temp_dir().join(format!("ward-oom-long-{}", std::process::id()));
        let mut text: String = (0..3000).map(|i| format!("counter_{i} {i}\n")).collect();
        text.push_str("oom_kill 7\n");
        assert!(text.len() > 40_000);
        std::fs::write(&path, &text).expect("written");
        let counter = OomCount { file: File::open(&path).ok(), path: path.clone(), key: "oom_kill" };
        let _ = std::fs::remove_file(&path); // the open file stays readable
        assert_eq!(counter.read(), Some(7));
    }
}
