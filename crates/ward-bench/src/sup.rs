//! A supervisor under test, ward or the baseline: started on `n` instances of
//! the service program, stopped and cleaned up by pid.

use crate::feed::{Feed, mono_ns};
use crate::{baseline, procfs};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// Which supervisor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The real `ward up`.
    Ward,
    /// The minimal loop of [`baseline`].
    Baseline,
}

/// Where the programs are.
#[derive(Clone, Debug)]
pub struct Programs {
    /// The `ward` binary.
    pub ward: PathBuf,
    /// The `bench-svc` binary.
    pub svc: PathBuf,
    /// This benchmark's own binary (it runs the baseline).
    pub bench: PathBuf,
}

/// A running supervisor.
pub struct Sup {
    /// Which one.
    pub kind: Kind,
    child: Child,
    /// Start records of its instances.
    pub feed: Feed,
    /// Its temp folder.
    pub dir: PathBuf,
    /// CLOCK_MONOTONIC ns just before it was started.
    pub t0: u64,
    ward: PathBuf,
}

/// The spec ward runs: `n` replicas, restarted at once, never crash-looping.
fn spec(svc: &Path, fifo: &Path, n: usize) -> String {
    format!(
        "version: 1\nservices:\n  svc:\n    command: [{svc:?}]\n    replicas: {n}\n    env: {{ BENCH_OUT: {fifo:?} }}\n    restart: always\n    backoff: {{ initial: 0s, jitter: 0 }}\n    crash_loop: {{ threshold: 1000000, window: 1s, cooldown: 1s }}\n    stop: {{ signal: SIGTERM, timeout: 5s }}\n"
    )
}

impl Sup {
    /// Starts `kind` on `n` instances in a fresh folder under `root`.
    pub fn start(kind: Kind, p: &Programs, n: usize, root: &Path, tag: &str) -> io::Result<Sup> {
        let dir = root.join(tag);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let feed = Feed::open(&dir.join("starts.fifo"))?;
        let log = std::fs::File::create(dir.join("supervisor.log"))?;
        let mut cmd = match kind {
            Kind::Ward => {
                let spec_path = dir.join("ward.yaml");
                std::fs::write(&spec_path, spec(&p.svc, &feed.path, n))?;
                let mut c = Command::new(&p.ward);
                c.arg("--state-dir").arg(dir.join("state")).arg("up").arg("-f").arg(spec_path);
                c
            }
            Kind::Baseline => {
                let mut c = Command::new(&p.bench);
                c.arg(baseline::ARG).arg(&p.svc).arg(n.to_string()).arg(&feed.path);
                c
            }
        };
        cmd.stdin(Stdio::null()).stdout(log.try_clone()?).stderr(log);
        let t0 = mono_ns();
        let child = cmd.spawn()?;
        Ok(Sup { kind, child, feed, dir, t0, ward: p.ward.clone() })
    }

    /// The pid of the process that was started.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The supervisor's own processes (not its instances).
    pub fn own(&self) -> Vec<u32> {
        procfs::own_processes(self.pid())
    }

    /// Runs a `ward` client verb against this ward.
    pub fn cli(&self, args: &[&str]) -> io::Result<Output> {
        self.command(args).output()
    }

    /// `ward ARGS` on its control socket, to run as the caller likes.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.ward);
        cmd.arg("--socket").arg(self.dir.join("state/ward.sock")).args(args).stdin(Stdio::null());
        cmd
    }

    /// Stops it (`ward down`, or SIGKILL to the baseline, whose instances
    /// die with it), waits for it, kills any instance left, and reaps orphans.
    pub fn stop(mut self) -> io::Result<()> {
        if self.kind == Kind::Ward {
            match self.cli(&["down"]) {
                Ok(o) if o.status.success() => {}
                _ => kill(self.pid(), libc::SIGKILL),
            }
        } else {
            kill(self.pid(), libc::SIGKILL);
        }
        let pid = self.pid();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let st = self.child.wait();
            let _ = tx.send(());
            (st, self.feed, self.dir)
        });
        if rx.recv_timeout(Duration::from_secs(180)).is_err() {
            eprintln!("ward-bench: supervisor {pid} did not stop in 180 s; killing it");
            kill(pid, libc::SIGKILL);
        }
        let (status, feed, dir) = waiter.join().map_err(|_| io::Error::other("waiter panicked"))?;
        status?;
        for pid in feed.live_pids() {
            let is_svc = std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == procfs::SVC_COMM);
            if is_svc {
                kill(pid, libc::SIGKILL);
            }
        }
        reap_orphans(Duration::from_secs(30));
        let _ = std::fs::remove_dir_all(dir);
        Ok(())
    }
}

/// kill(2).
pub fn kill(pid: u32, sig: i32) {
    // SAFETY: plain integers; the pids are ones this benchmark started.
    unsafe { libc::kill(pid as libc::pid_t, sig) };
}

/// Reaps every child (orphans come to us: we are child subreaper) until
/// none is left or `within` has passed.
fn reap_orphans(within: Duration) {
    let deadline = mono_ns() + within.as_nanos() as u64;
    loop {
        let mut st = 0;
        // SAFETY: `st` is a valid, writable int.
        let pid = unsafe { libc::waitpid(-1, &mut st, libc::WNOHANG) };
        if pid > 0 {
            continue;
        }
        if pid < 0 || mono_ns() > deadline {
            return; // ECHILD: nothing left
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
