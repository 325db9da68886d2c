//! The process runtime on real processes: exits and their statuses, signals
//! to the whole group, leftovers of an ended leader, spawn failures, and a
//! supervisor restarting a real crashing child behind its backoff.
//!
//! Every process a test starts is ended by the test (by pid), and waits have
//! deadlines; nothing sleeps.

use std::io::BufRead;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;
use ward_core::deployment::Deployment;
use ward_core::spec::{ServiceSpec, Spec};
use ward_core::{ExitStatus, InstanceId};
use ward_supervisor::ports::runtime::process::ProcessRuntime;
use ward_supervisor::{
    EventItem, Exit, Inputs, Launch, MemoryStore, Ports, Report, Runtime, Settings, Supervisor,
};

const DEADLINE: Duration = Duration::from_secs(30);

/// A fresh folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ward-supervisor-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn launch(script: &str, log: PathBuf) -> Launch {
    Launch {
        id: InstanceId::new("t".parse().unwrap(), 0),
        argv: vec!["sh".into(), "-c".into(), script.into()],
        env: vec![("GREETING".into(), "hello".into())],
        workdir: None,
        user: None,
        log,
        image: None,
        process: Default::default(),
    }
}

fn spawn(rt: &mut ProcessRuntime, l: Launch) -> u32 {
    let mut answers = rt.request(vec![(1, l)]);
    answers.pop().unwrap().1.unwrap()
}

async fn next_exit(rx: &mut mpsc::UnboundedReceiver<Report>) -> Exit {
    match tokio::time::timeout(DEADLINE, rx.recv()).await {
        Ok(Some(Report::Exit(exit))) => exit,
        other => panic!("no exit within {DEADLINE:?}: {other:?}"),
    }
}

/// A log that is a FIFO, and its reading end: the test reads what the
/// child writes, as it writes it. Opened before the spawn (the runtime
/// opens the log for the child, and a FIFO's writer waits for a reader).
fn fifo(dir: &std::path::Path) -> (PathBuf, std::fs::File) {
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join("out");
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: `c` is a valid C string for the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let reader = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(&path).unwrap();
    (path, reader)
}

/// The first line written to the FIFO read by `reader`.
fn first_line(reader: std::fs::File) -> String {
    use std::os::fd::AsRawFd;
    // Blocking from now on: a writer has it open.
    // SAFETY: fcntl on an fd we own, with flags only.
    unsafe { libc::fcntl(reader.as_raw_fd(), libc::F_SETFL, 0) };
    let mut line = String::new();
    std::io::BufReader::new(reader).read_line(&mut line).unwrap();
    line.trim().to_string()
}

/// Waits (up to the deadline) until process `pid` has ended; false if it still runs.
fn ended(pid: u32) -> bool {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) } as i32;
    if fd < 0 {
        return std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
    }
    let mut poll = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd; the fd is ours and closed right after.
    let n = unsafe { libc::poll(&mut poll, 1, DEADLINE.as_millis() as i32) };
    // SAFETY: closing the pidfd opened above.
    unsafe { libc::close(fd) };
    n == 1
}

/// Kills process `pid` (a test's leftover), if it still runs.
fn kill(pid: u32) {
    // SAFETY: kill has no memory effects.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
}

#[tokio::test(flavor = "current_thread")]
async fn an_exit_comes_with_its_status_usage_and_output() {
    let dir = scratch("exit");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut rt = ProcessRuntime::new(tx);
    let log = dir.join("t.log");
    let pid = spawn(&mut rt, launch("echo \"$GREETING\"; exit 3", log.clone()));
    let exit = next_exit(&mut rx).await;
    assert_eq!((exit.pid, exit.status), (pid, ExitStatus::Code(3)));
    assert!(exit.rusage.is_some());
    assert!(!rt.alive(pid));
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "hello\n");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "current_thread")]
async fn a_signal_reaches_the_whole_group() {
    let dir = scratch("group");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut rt = ProcessRuntime::new(tx);
    let (out, reader) = fifo(&dir);
    let pid = spawn(&mut rt, launch("sleep 300 & echo $!; wait", out));
    let helper: u32 = first_line(reader).parse().unwrap();
    assert!(rt.alive(pid));
    rt.signal(&InstanceId::new("t".parse().unwrap(), 0), pid, libc::SIGTERM).unwrap();
    let exit = next_exit(&mut rx).await;
    assert_eq!((exit.pid, exit.status), (pid, ExitStatus::Signal(libc::SIGTERM)));
    let gone = ended(helper);
    kill(helper);
    assert!(gone, "the leader's helper got the signal too");
    // Once reaped, the pid is never signalled again (it may be another process's).
    rt.signal(&InstanceId::new("t".parse().unwrap(), 0), pid, libc::SIGKILL).unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "current_thread")]
async fn what_a_leader_leaves_behind_is_killed() {
    let dir = scratch("leftover");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut rt = ProcessRuntime::new(tx);
    let (out, reader) = fifo(&dir);
    let pid = spawn(&mut rt, launch("sleep 300 & echo $!; exit 0", out));
    let helper: u32 = first_line(reader).parse().unwrap();
    let exit = next_exit(&mut rx).await;
    assert_eq!((exit.pid, exit.status), (pid, ExitStatus::Code(0)));
    let gone = ended(helper);
    kill(helper);
    assert!(gone, "the rest of the group is killed when its leader ends");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_spawn_that_cannot_start_says_why() {
    let (tx, _rx) = mpsc::unbounded_channel();
    let mut rt = ProcessRuntime::new(tx);
    let mut l = launch("", "/dev/null".into());
    l.argv = vec!["/nonexistent/program".into()];
    let e = rt.request(vec![(1, l.clone())]).pop().unwrap().1.unwrap_err();
    assert!(e.to_string().starts_with("cannot start /nonexistent/program: "), "{e}");
    l.argv.clear();
    assert_eq!(
        rt.request(vec![(2, l.clone())]).pop().unwrap().1.unwrap_err().to_string(),
        "the command is empty"
    );
    l.argv = vec!["true".into()];
    l.log = "/nonexistent/folder/log".into();
    let e = rt.request(vec![(3, l)]).pop().unwrap().1.unwrap_err();
    assert!(e.to_string().starts_with("cannot open the log /nonexistent/folder/log: "), "{e}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_crashing_child_is_restarted_behind_its_backoff() {
    let dir = scratch("supervised");
    let (inputs, feeds) = Inputs::channels();
    let runtime = ProcessRuntime::new(feeds.exits.clone());
    let mut crasher =
        ServiceSpec::new("crasher".parse().unwrap(), vec!["sh".into(), "-c".into(), "exit 4".into()]);
    crasher.backoff.initial = Duration::from_millis(100);
    crasher.backoff.jitter = 0.0;
    let settings = Settings::new(&dir, &dir);
    let sup = Supervisor::new(
        Deployment::new(Spec::new([crasher])),
        runtime,
        Ports::new(MemoryStore::new()),
        settings,
    );
    let handle = feeds.handle();
    let running = tokio::spawn(sup.run(inputs));
    let mut events = handle.events_since(1).await.unwrap();
    let mut seen = Vec::new();
    let mut starts = 0;
    tokio::time::timeout(DEADLINE, async {
        while starts < 2 {
            let Some(EventItem::Event(ev)) = events.next().await else { panic!("the stream ended") };
            starts += usize::from(ev.kind == "started");
            seen.push(ev.kind.clone());
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no restart within {DEADLINE:?}: {seen:?}"));
    assert_eq!(seen[..4], ["started", "exited", "backoff", "restarted"], "{seen:?}");
    handle.down().await.unwrap();
    assert_eq!(tokio::time::timeout(DEADLINE, running).await.unwrap().unwrap(), 0);
    let _ = std::fs::remove_dir_all(dir);
}
