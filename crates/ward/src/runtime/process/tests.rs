//! The process runtime's tests: real children of a test reaper, their exit
//! statuses, groups, environment, log files and users.

use super::*;
use crate::runtime::reaper::testing::{TestReaper, shared};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use ward_core::{ExitStatus, InstanceId, ServiceName};

/// A scratch directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("ward-process-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }
    fn log(&self) -> PathBuf {
        self.0.join("logs/out.log")
    }
    fn read_log(&self) -> String {
        fs::read_to_string(self.log()).expect("read log")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn launch(argv: &[&str], scratch: &Scratch) -> Launch {
    Launch {
        id: InstanceId { service: ServiceName::new("test").expect("name"), replica: 0 },
        argv: argv.iter().map(|a| (*a).to_owned()).collect(),
        env: Vec::new(),
        workdir: None,
        user: None,
        log: scratch.log(),
        image: None,
        process: Default::default(),
    }
}

fn runtime() -> (ProcessRuntime, &'static TestReaper) {
    let shared = shared();
    (ProcessRuntime::new(shared.reaper.clone()), shared)
}

#[test]
fn reports_the_exit_code() {
    let (mut rt, reaper) = runtime();
    let scratch = Scratch::new("code");
    let pid = rt.spawn(&launch(&["sh", "-c", "exit 3"], &scratch)).expect("spawn");
    assert_eq!(reaper.wait_for(pid), Some(ExitStatus::Code(3)));
}

#[test]
fn kills_the_group_and_reports_the_signal() {
    let (mut rt, reaper) = runtime();
    let scratch = Scratch::new("kill");
    let pid = rt.spawn(&launch(&["sleep", "30"], &scratch)).expect("spawn");
    // SAFETY: getpgid takes a plain integer.
    let pgid = unsafe { libc::getpgid(pid as libc::pid_t) };
    rt.signal_group(pid, libc::SIGKILL).expect("kill");
    assert_eq!(pgid, pid as libc::pid_t, "leader of its own group");
    assert_eq!(reaper.wait_for(pid), Some(ExitStatus::Signal(libc::SIGKILL)));
    // The group is gone now: not an error.
    rt.signal_group(pid, libc::SIGKILL).expect("gone is fine");
}

#[test]
fn never_signals_groups_zero_and_one() {
    let (rt, _) = runtime();
    for pid in [0, 1, u32::MAX] {
        assert!(!rt.reaper.signal_group(pid, 0).expect("refused quietly"), "{pid}");
    }
}

#[test]
fn exec_failure_is_reported_and_the_child_reaped() {
    let (rt, reaper) = runtime();
    let scratch = Scratch::new("noexec");
    let failed = rt.start(&launch(&["/nonexistent/ward-test-program"], &scratch)).expect_err("must fail");
    let SpawnError::Exec { program, source } = failed.error else {
        panic!("wrong error: {:?}", failed.error);
    };
    assert_eq!(program, "/nonexistent/ward-test-program");
    assert_eq!(source.raw_os_error(), Some(libc::ENOENT));
    // posix_spawn reaps its failed child itself; a forked one is reaped by the reaper.
    if let Some(pid) = failed.child {
        assert_eq!(reaper.wait_for(pid), Some(ExitStatus::Code(127)));
        assert!(!Path::new(&format!("/proc/{pid}/status")).exists(), "no zombie");
    }
}

#[test]
fn a_program_missing_from_path_fails_before_forking() {
    let (rt, _) = runtime();
    let scratch = Scratch::new("nopath");
    let failed = rt.start(&launch(&["ward-no-such-program"], &scratch)).expect_err("must fail");
    assert!(failed.child.is_none());
    assert!(
        matches!(failed.error, SpawnError::Exec { ref source, .. } if source.raw_os_error() == Some(libc::ENOENT))
    );
}

#[test]
fn a_missing_workdir_is_an_exec_error() {
    let (mut rt, _) = runtime();
    let scratch = Scratch::new("nodir");
    let mut l = launch(&["true"], &scratch);
    l.workdir = Some(scratch.0.join("absent"));
    let err = rt.spawn(&l).expect_err("must fail");
    assert!(
        matches!(err, SpawnError::Exec { ref source, .. } if source.raw_os_error() == Some(libc::ENOENT))
    );
}

#[test]
fn env_and_workdir_reach_the_child() {
    let (mut rt, reaper) = runtime();
    let scratch = Scratch::new("env");
    let mut l = launch(&["sh", "-c", "pwd; echo \"$FOO\"; echo \"$WARD_A\""], &scratch);
    l.workdir = Some(scratch.0.clone());
    l.env = vec![
        ("FOO".into(), "bar baz".into()),
        ("WARD_A".into(), "first".into()),
        ("WARD_A".into(), "second".into()),
    ];
    let pid = rt.spawn(&l).expect("spawn");
    assert_eq!(reaper.wait_for(pid), Some(ExitStatus::Code(0)));
    let dir = fs::canonicalize(&scratch.0).expect("canonical");
    assert_eq!(scratch.read_log(), format!("{}\nbar baz\nsecond\n", dir.display()));
}

#[test]
fn stdout_and_stderr_go_to_the_log_and_stdin_is_empty() {
    let (mut rt, reaper) = runtime();
    let scratch = Scratch::new("output");
    fs::create_dir_all(scratch.log().parent().expect("parent")).expect("mkdir");
    fs::write(scratch.log(), "before\n").expect("seed log");
    let script = "echo out; echo err >&2; cat; echo end";
    let pid = rt.spawn(&launch(&["sh", "-c", script], &scratch)).expect("spawn");
    assert_eq!(reaper.wait_for(pid), Some(ExitStatus::Code(0)));
    assert_eq!(scratch.read_log(), "before\nout\nerr\nend\n");
}

#[test]
fn signals_are_unblocked_and_default_in_the_child() {
    let (mut rt, reaper) = runtime();
    let scratch = Scratch::new("signals");
    let argv = ["grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"];
    let pid = rt.spawn(&launch(&argv, &scratch)).expect("spawn");
    assert_eq!(reaper.wait_for(pid), Some(ExitStatus::Code(0)));
    // posix_spawn leaves glibc's internal signals 32 and 33 ignored (see `vspawn`).
    let log = scratch.read_log();
    assert!(
        ["0000000000000000", "0000000180000000"]
            .iter()
            .any(|ign| log == format!("SigBlk:\t0000000000000000\nSigIgn:\t{ign}\n")),
        "{log}"
    );
}

#[test]
fn a_new_log_is_created_0640() {
    let (mut rt, reaper) = runtime();
    let scratch = Scratch::new("mode");
    let pid = rt.spawn(&launch(&["true"], &scratch)).expect("spawn");
    assert_eq!(reaper.wait_for(pid), Some(ExitStatus::Code(0)));
    let mode = fs::metadata(scratch.log()).expect("meta").permissions().mode();
    assert_eq!(mode & 0o777 & !0o640, 0, "at most 0640, got {mode:o}");
}

#[test]
fn orphaned_grandchildren_are_reaped() {
    let (mut rt, reaper) = runtime();
    let scratch = Scratch::new("orphan");
    // In a session of its own, so that the kill of its parent's group spares it.
    // (The parent waits until it is: field 5 of /proc/PID/stat is the group.)
    let script = r#"setsid sleep 0.2 & p=$!
        while [ "$(cut -d' ' -f5 /proc/$p/stat)" != "$p" ]; do :; done; echo $p; exit 0"#;
    let l = launch(&["sh", "-c", script], &scratch);
    let pid = rt.spawn(&l).expect("spawn");
    assert_eq!(reaper.wait_for(pid), Some(ExitStatus::Code(0)));
    let grandchild: u32 = scratch.read_log().trim().parse().expect("grandchild pid");
    assert_eq!(reaper.wait_for(grandchild), Some(ExitStatus::Code(0)));
}

#[test]
fn runs_as_another_user() {
    let (mut rt, reaper) = runtime();
    let scratch = Scratch::new("user");
    let mut l = launch(&["sh", "-c", "id -u; id -g"], &scratch);
    l.user = Some("nobody".into());
    let Ok(Some(creds)) = crate::runtime::users::lookup_user("nobody") else {
        return; // no such user on this system
    };
    match rt.spawn(&l) {
        Err(SpawnError::NotRoot(..)) => assert!(!rustix::process::geteuid().is_root()),
        Err(e) => panic!("spawn: {e}"),
        Ok(pid) => {
            assert_eq!(reaper.wait_for(pid), Some(ExitStatus::Code(0)));
            assert_eq!(scratch.read_log(), format!("{}\n{}\n", creds.uid, creds.gid));
        }
    }
    l.user = Some("ward-no-such-user".into());
    let err = rt.spawn(&l).expect_err("unknown user");
    assert!(matches!(err, SpawnError::UnknownUser(_) | SpawnError::NotRoot(..)), "{err}");
}

/// Waits (bounded, on its pidfd) until `pid` has ended.
fn gone_soon(pid: u32) -> bool {
    let Some(raw) = rustix::process::Pid::from_raw(pid as i32) else { return true };
    let Ok(fd) = rustix::process::pidfd_open(raw, rustix::process::PidfdFlags::empty()) else {
        return true; // ESRCH: gone already
    };
    let mut fds = [rustix::event::PollFd::new(&fd, rustix::event::PollFlags::IN)];
    let timeout = rustix::event::Timespec { tv_sec: 5, tv_nsec: 0 };
    matches!(rustix::event::poll(&mut fds, Some(&timeout)), Ok(n) if n > 0)
}

/// A script that starts `sleep 30` in a session of its own, waits until
/// it is (field 5 of /proc/PID/stat is the group), prints its pid, exits.
const STRANGER: &str = r#"setsid sleep 30 & p=$!
    while [ "$(cut -d' ' -f5 /proc/$p/stat)" != "$p" ]; do :; done; echo $p; exit 0"#;

#[test]
fn signals_reach_only_groups_whose_leader_is_an_unreaped_child() {
    let (mut rt, reaper) = runtime();
    let scratch = Scratch::new("stranger");
    // A group leader the runtime did not fork (as a stranger that reused a pid would be).
    let pid = rt.spawn(&launch(&["sh", "-c", STRANGER], &scratch)).expect("spawn");
    assert_eq!(reaper.wait_for(pid), Some(ExitStatus::Code(0)));
    let stranger: u32 = scratch.read_log().trim().parse().expect("the stranger's pid");
    rt.signal_group(stranger, libc::SIGKILL).expect("refused quietly");
    assert!(process_alive(stranger), "a group we did not fork is never signalled");
    // Once reaped, the leader's number is no longer ours.
    assert!(!rt.reaper.signal_group(pid, 0).expect("check"));
    // SAFETY: kill takes plain integers; `stranger` is the sleep started above.
    unsafe { libc::kill(stranger as libc::pid_t, libc::SIGKILL) };
    assert!(gone_soon(stranger));
}

#[test]
fn what_a_leader_leaves_in_its_group_is_killed_before_it_is_reaped() {
    let (mut rt, reaper) = runtime();
    let scratch = Scratch::new("leftover");
    let pid = rt.spawn(&launch(&["sh", "-c", "sleep 30 & echo $!; exit 0"], &scratch)).expect("spawn");
    assert_eq!(reaper.wait_for(pid), Some(ExitStatus::Code(0)));
    let left: u32 = scratch.read_log().trim().parse().expect("the background pid");
    assert!(gone_soon(left), "the leftover of the group was killed at the reap");
}

#[test]
fn a_child_held_before_its_exec_is_killed_at_the_exec_deadline() {
    use rustix::pipe::PipeFlags;
    let (rt, reaper) = runtime();
    let scratch = Scratch::new("deadline");
    let mut plan = prepare(&launch(&["true"], &scratch)).expect("plan");
    // Before anything else the child writes its pid into each `cgroup.procs`
    // it is given: a full pipe holds it there, before its exec, for good.
    let (read, write) = rustix::pipe::pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK).expect("pipe");
    while rustix::io::write(&write, &[0u8; 4096]).is_ok() {}
    rustix::fs::fcntl_setfl(&write, rustix::fs::OFlags::empty()).expect("blocking again");
    plan.cgroup_procs = vec![write];
    plan.exec_deadline = std::time::Duration::from_millis(300);
    // Should the deadline fail, room in the pipe lets the child go (the test fails, not hangs).
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let rescue = std::thread::spawn(move || {
        if finished.recv_timeout(std::time::Duration::from_secs(10)).is_err() {
            let mut buf = [0u8; 65536];
            while rustix::io::read(&read, &mut buf).is_ok_and(|n| n > 0) {}
        }
    });
    #[allow(clippy::disallowed_methods)] // how long the fork took, to check the deadline
    let t = std::time::Instant::now();
    let outcome = spawn::fork_child(plan, &rt.reaper).expect("forked").outcome().expect("an outcome");
    let took = t.elapsed();
    let Outcome::TimedOut { pid, after } = outcome else { panic!("not timed out: {outcome:?}") };
    assert_eq!(after, std::time::Duration::from_millis(300));
    assert!(took >= after && took < std::time::Duration::from_secs(5), "{took:?}");
    assert_eq!(reaper.wait_for(pid), Some(ExitStatus::Signal(libc::SIGKILL)));
    let _ = done.send(());
    rescue.join().expect("the rescue thread");
}
