//! Real cgroups (as root, on a host whose cgroups ward may write): a tree
//! with a double-forked escapee is killed whole, on the v2 path and on the v1
//! freezer path; folders go once empty. Skipped where that cannot run.

use super::create::deployment;
use super::{Cgroups, Layout};
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::time::{Duration, Instant};
use ward_core::spec::ResourcesSpec;

/// The deployment for `tag`, or `None` when this host does not let us.
fn setup(tag: &str, v1_only: bool) -> Option<Cgroups> {
    if !rustix::process::geteuid().is_root() {
        return None;
    }
    let mut layout = Layout::of_self().ok()?;
    if v1_only {
        layout.v2 = None;
    }
    deployment(&layout, &format!("ward-test-{}-{tag}", std::process::id())).ok()
}

/// Starts `sh -c script` inside `inst` (placed before exec, as ward does).
fn start_in(inst: &super::Instance, script: &str) -> std::process::Child {
    let fds: Vec<OwnedFd> = inst.procs_files().expect("procs files");
    let raw: Vec<i32> = fds.iter().map(|f| f.as_raw_fd()).collect();
    let mut cmd = std::process::Command::new("sh");
    cmd.args(["-c", script]).stdout(std::process::Stdio::piped());
    // SAFETY: the hook only calls write(2) on descriptors opened above.
    unsafe {
        cmd.pre_exec(move || {
            for fd in &raw {
                if libc::write(*fd, b"0".as_ptr().cast(), 1) != 1 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    cmd.spawn().expect("spawn")
}

/// Polls `done` until it holds, for at most 20 s (the kernel has no event for
/// an emptied v1 cgroup; a test may poll with a deadline).
#[allow(clippy::disallowed_methods)]
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn kills_the_whole_tree(v1_only: bool) {
    let Some(cg) = setup(if v1_only { "v1" } else { "v2" }, v1_only) else {
        eprintln!("skipped: cannot create cgroups here");
        return;
    };
    let inst = cg.create("esc@0", &ResourcesSpec::default()).expect("instance");
    // A daemon that double-forks into a new session and ignores SIGTERM.
    let script = "(trap '' TERM; setsid sh -c 'trap \"\" TERM; sleep 300' & ) ; echo started; sleep 300";
    let mut child = start_in(&inst, script);
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
        &mut line,
    )
    .expect("read");
    wait_until("three processes in the cgroup", || inst.pids().len() >= 3);
    assert!(inst.pids().contains(&child.id()), "the child is in its cgroup");
    inst.kill();
    let _ = child.wait();
    wait_until("an empty cgroup", || inst.pids().is_empty());
    wait_until("the folders removed", || inst.remove());
    assert!(cg.instance("esc@0").is_empty());
    cg.remove(Path::new("/nonexistent"));
    let _ = std::io::stderr().flush();
}

#[test]
fn v2_kill_leaves_nothing() {
    kills_the_whole_tree(false);
}

#[test]
fn v1_freezer_kill_leaves_nothing() {
    kills_the_whole_tree(true);
}

#[test]
fn limits_and_stats() {
    let Some(cg) = setup("limits", false) else { return };
    let r = ResourcesSpec { memory: Some(64 << 20), memory_high: None, pids: Some(50), cpu: Some(0.5) };
    let inst = cg.create("lim@0", &r).expect("instance");
    let mut child = start_in(&inst, "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done");
    let _ = child.wait();
    let stats = inst.stats();
    assert!(stats.cpu_usec.is_some_and(|us| us > 0), "{stats:?}");
    assert!(stats.memory_peak_bytes.is_some(), "{stats:?}");
    assert_eq!(stats.oom_kills, Some(0));
    let mem = inst.v1_dir(super::Controller::Memory).map(|d| d.join("memory.limit_in_bytes"));
    let mem = mem.or(inst.v2.as_ref().map(|d| d.join("memory.max"))).expect("a memory file");
    assert_eq!(std::fs::read_to_string(mem).expect("read").trim(), (64u64 << 20).to_string());
    wait_until("the folders removed", || inst.remove());
    cg.remove(Path::new("/nonexistent"));
}

#[test]
fn a_folder_is_new_only_when_every_folder_was_made_and_a_reused_one_peaks_afresh() {
    let Some(cg) = setup("reuse", false) else { return };
    let r = ResourcesSpec { memory: Some(64 << 20), ..ResourcesSpec::default() };
    let first = cg.create("re@0", &r).expect("instance");
    assert!(first.is_new());
    let mut child = start_in(&first, "x=$(head -c 8000000 /dev/zero | tr '\\0' x)");
    let _ = child.wait();
    let peak = first.stats().memory_peak_bytes.expect("a memory peak");
    assert!(peak > 4 << 20, "{peak}");
    // Its v2 folder made anew while a v1 one lives on (a hybrid host): not new.
    if let (Some(v2), false) = (&first.v2, first.v1.is_empty()) {
        std::fs::remove_dir(v2).expect("the empty v2 folder removed");
    }
    let again = cg.create("re@0", &r).expect("instance");
    assert!(!again.is_new(), "{again:?}");
    let reused = cg.reuse("re@0", again, &r, &r).expect("reused");
    let after = reused.stats().memory_peak_bytes;
    if reused.peak_carries() {
        assert!(after.is_some_and(|p| p >= peak), "{after:?}");
    } else {
        assert!(after.is_some_and(|p| p < 4 << 20), "a v1 peak reset for the next run: {after:?}");
    }
    wait_until("the folders removed", || reused.remove());
    cg.remove(Path::new("/nonexistent"));
}
