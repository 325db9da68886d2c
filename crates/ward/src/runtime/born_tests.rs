//! Children born in their cgroup (`clone3(CLONE_INTO_CGROUP)`), as root on a
//! host with a v2 hierarchy (else skipped): the child is in its instance's
//! folder from its first instruction, and a run after a `cgroup.kill` of that
//! instance's folder is not killed at birth (the kernel's `kill_seq` check,
//! see `Cgroups::create`: the folder is made anew for it).

use super::process::ProcessRuntime;
use super::reaper::testing::shared;
use crate::cgroup::{Cgroups, Layout, instance_name};
use std::path::{Path, PathBuf};
use ward_core::{ExitStatus, InstanceId, ServiceName};
use ward_supervisor::ports::runtime::{Launch, ProcessOptions};

/// A runtime with a deployment folder of its own, or `None` where this host
/// gives no v2 hierarchy to root.
fn runtime(tag: &str) -> Option<(ProcessRuntime, Cgroups, PathBuf)> {
    if !rustix::process::geteuid().is_root() || Layout::of_self().ok()?.v2.is_none() {
        eprintln!("skipped: needs root and a cgroup v2 hierarchy");
        return None;
    }
    let state = std::env::temp_dir().join(format!("ward-born-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&state).ok()?;
    let cgroups = Cgroups::setup(&state).ok()?;
    let mut rt = ProcessRuntime::new(shared().reaper.clone());
    rt.set_cgroups(Ok(cgroups.clone()));
    Some((rt, cgroups, state))
}

fn launch(script: &str, state: &Path) -> Launch {
    Launch {
        id: InstanceId { service: ServiceName::new("born").expect("name"), replica: 0 },
        argv: vec!["sh".into(), "-c".into(), script.into()],
        env: Vec::new(),
        workdir: None,
        user: None,
        log: state.join("out.log"),
        image: None,
        process: ProcessOptions { cgroup: true, ..ProcessOptions::default() },
    }
}

#[test]
fn a_run_after_a_kill_of_its_instance_cgroup_lives() {
    let Some((mut rt, cgroups, state)) = runtime("kill") else { return };
    let name = instance_name("born/0");
    // The child checks that it runs in its instance's v2 folder.
    let check = format!("grep -q '^0::/.*/{name}$' /proc/self/cgroup && exit 7; exit 1");
    for round in 0..3 {
        let first = rt.spawn(&launch("exec sleep 30", &state)).expect("spawn");
        let inst = cgroups.instance(&name);
        assert!(inst.pids().contains(&first), "round {round}: in its cgroup");
        inst.kill();
        assert_eq!(shared().wait_for(first), Some(ExitStatus::Signal(libc::SIGKILL)));
        // The same instance again, as a restart does: born alive, in its folder.
        let next = rt.spawn(&launch(&check, &state)).expect("spawn");
        assert_eq!(shared().wait_for(next), Some(ExitStatus::Code(7)), "round {round}");
    }
    assert!(cgroups.instance(&name).remove());
    cgroups.remove(&state);
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn a_replacement_is_born_in_the_last_folder_and_after_a_kill_in_a_new_one() {
    let Some((rt, cgroups, state)) = runtime("reuse") else { return };
    let name = instance_name("born/0");
    let check = format!("grep -q '^0::/.*/{name}$' /proc/self/cgroup && exit 7; exit 1");
    let none = ward_core::spec::ResourcesSpec::default();
    let run = |script: &str, last| {
        let l = launch(script, &state);
        let (forked, placed) = rt.fork_in(&l, last).expect("fork");
        let pid = ProcessRuntime::finish_fork(&l, forked).expect("exec");
        (pid, placed.expect("placed in a cgroup"))
    };
    let (first, inst) = run(&check, None);
    assert_eq!(shared().wait_for(first), Some(ExitStatus::Code(7)));
    assert!(!inst.events().populated, "empty once its process is reaped");
    assert!(inst.is_new(), "made for the first run");
    let folder = inst.name();
    let (second, inst) = run(&check, Some((inst, none)));
    assert!(inst.name() == folder && !inst.is_new(), "the same folders, as they were");
    assert_eq!(shared().wait_for(second), Some(ExitStatus::Code(7)));
    // A kill reached it while the process ran: the keeper then offers no
    // folder to reuse (it made the kill), and the next is made anew, and lives.
    let (third, inst) = run("exec sleep 30", Some((inst, none)));
    inst.kill();
    assert_eq!(shared().wait_for(third), Some(ExitStatus::Signal(libc::SIGKILL)));
    let (fourth, _) = run(&check, None);
    assert_eq!(shared().wait_for(fourth), Some(ExitStatus::Code(7)), "born alive in a new folder");
    assert!(cgroups.instance(&name).remove());
    cgroups.remove(&state);
    let _ = std::fs::remove_dir_all(&state);
}
