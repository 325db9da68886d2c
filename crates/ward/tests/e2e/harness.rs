//! A real `ward up` on a spec in its own temp folder, driven through the real
//! CLI, synchronised on its event stream with deadlines.
//!
//! Everything a test starts is killed by pid when the `Ward` drops: ward
//! itself, and every service process group it reported.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Path of the ward binary under test.
pub fn ward_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ward"))
}

/// A fresh temp folder, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("ward-e2e-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `ward up` and a live reader of its events.
pub struct Ward {
    pub dir: TempDir,
    pub spec: PathBuf,
    pub up: Option<Child>,
    /// The lines `ward up` (keeper and brains) writes on stderr after it started.
    log: mpsc::Receiver<String>,
    events: mpsc::Receiver<Value>,
    events_child: Option<Child>,
    /// Every event seen so far, in order.
    pub seen: Vec<Value>,
    /// Every process seen (pid, start time), killed at the end if the pid still names it.
    pids: Vec<(u32, u64)>,
    /// Events up to this seq were seen before a rerun; the new reader replays them.
    replayed: u64,
    /// Events already returned by `wait_for`.
    used: std::collections::HashSet<u64>,
}

impl Ward {
    /// Writes `yaml` as ward.yaml in a new temp folder and starts `ward up` on it.
    pub fn start(tag: &str, yaml: &str) -> Ward {
        Ward::start_with_files(tag, yaml, &[])
    }

    /// [`Ward::start`], with `files` (name, text) written beside the spec first.
    pub fn start_with_files(tag: &str, yaml: &str, files: &[(&str, &str)]) -> Ward {
        let dir = TempDir::new(tag);
        for (name, text) in files {
            std::fs::write(dir.0.join(name), text).unwrap();
        }
        Ward::start_in(dir, yaml, &[])
    }

    /// [`Ward::start`], with variables added to `ward up`'s environment.
    pub fn start_with_env(tag: &str, yaml: &str, env: &[(&str, &str)]) -> Ward {
        Ward::start_in(TempDir::new(tag), yaml, env)
    }

    /// Writes `yaml` as ward.yaml in `dir` and starts `ward up` on it with
    /// `env` added to its environment.
    pub fn start_in(dir: TempDir, yaml: &str, env: &[(&str, &str)]) -> Ward {
        let spec = dir.0.join("ward.yaml");
        std::fs::write(&spec, yaml).unwrap();
        let (up, log) = launch_up(&spec, env);
        let (events, events_child) = follow_events(&spec);
        Ward {
            dir,
            spec,
            up: Some(up),
            log,
            events,
            events_child: Some(events_child),
            seen: vec![],
            pids: vec![],
            replayed: 0,
            used: Default::default(),
        }
    }

    /// The pid of the `ward up` process.
    pub fn up_pid(&self) -> u32 {
        self.up.as_ref().expect("ward up runs").id()
    }

    /// Kills `ward up` with SIGKILL (its services live on) and starts a new
    /// `ward up` on the same spec and state folder, with a new event reader.
    pub fn kill9_and_rerun(&mut self) {
        let mut old = self.up.take().expect("ward up runs");
        kill(old.id() as i32, libc::SIGKILL);
        let _ = old.wait();
        self.rerun();
    }

    /// Starts `ward up` again (after the previous one is gone), with a new event reader.
    pub fn rerun(&mut self) {
        let (up, log) = launch_up(&self.spec, &[]);
        self.up = Some(up);
        self.log = log;
        self.refollow();
    }

    /// Waits (with a deadline) for a line of `ward up`'s stderr, written after
    /// the last one this returned, that matches `pred`; returns it.
    pub fn wait_log(&mut self, what: &str, secs: u64, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.log.recv_timeout(left) {
                Ok(line) if pred(&line) => return line,
                Ok(_) => continue,
                Err(_) => panic!("timed out after {secs}s waiting for {what} in ward's stderr"),
            }
        }
    }

    /// A new event reader; events already seen, replayed by it, are skipped.
    pub fn refollow(&mut self) {
        if let Some(mut c) = self.events_child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.replayed = self.seen.iter().filter_map(|e| e["seq"].as_u64()).max().unwrap_or(0);
        let (events, child) = follow_events(&self.spec);
        self.events = events;
        self.events_child = Some(child);
    }

    /// The pid of the brain, the keeper's child that runs `ward __brain`.
    pub fn brain_pid(&self) -> Option<u32> {
        let keeper = self.up_pid();
        children(keeper).into_iter().find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.windows(7).any(|w| w == b"__brain"))
        })
    }

    /// Waits until a brain other than `old` answers, then follows its events.
    pub fn wait_new_brain(&mut self, old: u32) -> u32 {
        let mut new = 0;
        eventually("a new brain that answers", 20, || {
            new = self.brain_pid().unwrap_or(old);
            new != old && self.cli(&["status", "--json"]).status.success()
        });
        self.refollow();
        new
    }

    /// Runs the ward CLI on this deployment.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(ward_bin())
            .arg("--file")
            .arg(&self.spec)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// `ward status --json`, parsed.
    pub fn status(&mut self) -> Vec<Value> {
        self.status_with(&[])
    }

    /// `ward status --json` with more arguments (`--usage`, a service), parsed.
    pub fn status_with(&mut self, more: &[&str]) -> Vec<Value> {
        let out = self.cli(&[&["status", "--json"], more].concat());
        assert!(out.status.success(), "status failed: {}", String::from_utf8_lossy(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let list = v["instances"].as_array().unwrap().clone();
        for i in &list {
            if let Some(pid) = i["pid"].as_u64() {
                self.track(pid as u32);
            }
        }
        list
    }

    /// One instance of `status`.
    pub fn instance(&mut self, service: &str, replica: u64) -> Value {
        self.status()
            .into_iter()
            .find(|i| i["service"] == service && i["replica"] == replica)
            .unwrap_or_else(|| panic!("no instance {service}/{replica}"))
    }

    /// One instance of `status --usage`: with what its cgroup counts.
    pub fn usage(&mut self, service: &str, replica: u64) -> Value {
        self.status_with(&["--usage"])
            .into_iter()
            .find(|i| i["service"] == service && i["replica"] == replica)
            .unwrap_or_else(|| panic!("no instance {service}/{replica}"))
    }

    /// Waits (with a deadline) for the next event matching `pred`; returns it.
    /// Events seen earlier but not returned yet count first, oldest first.
    pub fn wait_for(&mut self, what: &str, secs: u64, pred: impl Fn(&Value) -> bool) -> Value {
        let earlier =
            self.seen.iter().find(|e| e["seq"].as_u64().is_some_and(|s| !self.used.contains(&s)) && pred(e));
        if let Some(ev) = earlier.cloned() {
            self.used.insert(ev["seq"].as_u64().unwrap_or(0));
            return ev;
        }
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(ev) if ev["seq"].as_u64().is_some_and(|s| s <= self.replayed) => continue,
                Ok(ev) => {
                    if let Some(pid) = ev["pid"].as_u64() {
                        self.track(pid as u32);
                    }
                    self.seen.push(ev.clone());
                    if pred(&ev) {
                        self.used.insert(ev["seq"].as_u64().unwrap_or(0));
                        return ev;
                    }
                }
                Err(_) => panic!("timed out after {secs}s waiting for {what}; events seen: {:#?}", self.seen),
            }
        }
    }

    /// Waits for event `kind` of `service/replica`.
    pub fn wait_event(&mut self, service: &str, replica: u64, kind: &str, secs: u64) -> Value {
        self.wait_for(&format!("{kind} of {service}/{replica}"), secs, |e| {
            e["service"] == service && e["replica"] == replica && e["kind"] == kind
        })
    }

    /// Waits for `ward up` to exit; returns its exit code.
    pub fn wait_exit(&mut self, secs: u64) -> i32 {
        let mut child = self.up.take().expect("ward up already waited for");
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(st) = child.try_wait().unwrap() {
                return st.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("ward up did not exit within {secs}s");
            }
            // The test process has no event for another process's exit but
            // waiting on it; a short wait step bounded by the deadline.
            wait_a_little();
        }
    }

    /// The state folder.
    pub fn state(&self) -> PathBuf {
        self.dir.0.join(".ward")
    }

    /// Remembers a pid to kill at the end (e.g. a grandchild), with its
    /// start time: pids are reused (pid_max may be 32768, and a loaded
    /// machine goes through them in minutes), so the end kills only the
    /// process seen here, never one that took its pid since.
    pub fn track(&mut self, pid: u32) {
        if let Some(t) = start_time(pid) {
            if !self.pids.contains(&(pid, t)) {
                self.pids.push((pid, t));
            }
        }
    }
}

/// Waits 20 ms: only for polling another process's exit from the test harness.
pub fn wait_a_little() {
    let (_tx, rx) = mpsc::channel::<()>();
    let _ = rx.recv_timeout(Duration::from_millis(20));
}

/// Starts `ward up -f spec` and waits (with a deadline) until it says it
/// supervises; returns it and the lines of its stderr that follow.
fn launch_up(spec: &Path, env: &[(&str, &str)]) -> (Child, mpsc::Receiver<String>) {
    let mut up = Command::new(ward_bin())
        .envs(env.iter().copied())
        .arg("up")
        .arg("-f")
        .arg(spec)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = up.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            eprintln!("[ward] {line}");
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains("supervising") => break,
            Ok(_) => continue,
            Err(_) => panic!("ward up did not start in time"),
        }
    }
    // The thread above keeps printing its stderr, and queues each line for `wait_log`.
    (up, rx)
}

fn follow_events(spec: &Path) -> (mpsc::Receiver<Value>, Child) {
    let mut child = Command::new(ward_bin())
        .arg("--file")
        .arg(spec)
        .args(["events", "-f", "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                if tx.send(v).is_err() {
                    break;
                }
            }
        }
    });
    (rx, child)
}

impl Drop for Ward {
    fn drop(&mut self) {
        if let Some(mut c) = self.events_child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some(mut up) = self.up.take() {
            // Freeze the keeper so that it starts nothing more, then kill
            // every process it holds (instances, orphans it adopted, the
            // brain), by pid, before the keeper itself.
            let keeper = up.id();
            kill(keeper as i32, libc::SIGSTOP);
            for pid in children(keeper) {
                kill(-(pid as i32), 9);
                kill(pid as i32, 9);
            }
            let _ = up.kill();
            let _ = up.wait();
        }
        for &(pid, t) in &self.pids {
            match start_time(pid) {
                // Still the process seen: it and its group.
                Some(now) if now == t => {
                    kill(-(pid as i32), 9);
                    kill(pid as i32, 9);
                }
                // Gone: what is left of its group (a pid is not given out
                // again while a process group of that number lives).
                None => {
                    kill(-(pid as i32), 9);
                }
                Some(_) => {} // the pid names another process now
            }
        }
        remove_cgroups(&self.state());
    }
}

/// Kills what is left in the cgroups the keeper listed in `state/cgroups`
/// (only those: ward's own, of this test) and removes them.
fn remove_cgroups(state: &Path) {
    let Ok(list) = std::fs::read_to_string(state.join("cgroups")) else { return };
    for base in list.lines().map(PathBuf::from) {
        let subs: Vec<PathBuf> = std::fs::read_dir(&base)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        for dir in &subs {
            if std::fs::write(dir.join("cgroup.kill"), "1").is_err() {
                let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
                for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
                    kill(pid, 9);
                }
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for dir in subs.iter().chain(std::iter::once(&base)) {
            while std::fs::remove_dir(dir).is_err() && dir.exists() && Instant::now() < deadline {
                wait_a_little();
            }
        }
    }
}

/// The children of every thread of `pid`.
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return vec![] };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("children")).ok())
        .flat_map(|list| list.split_whitespace().filter_map(|p| p.parse().ok()).collect::<Vec<u32>>())
        .collect()
}

/// kill(2) of a pid (or a process group, negative).
pub fn kill(pid: i32, sig: i32) -> bool {
    // SAFETY: kill(2) has no memory effects; the pids are ones this test started.
    unsafe { libc::kill(pid, sig) == 0 }
}

/// True while /proc/PID exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}

/// The start time of `pid` (clock ticks after boot, field 22 of
/// /proc/PID/stat), while it exists.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command (which may hold spaces) start at field 3.
    stat.rsplit_once(')')?.1.split_whitespace().nth(22 - 3)?.parse().ok()
}

/// True while /proc/PID exists (alive or zombie).
pub fn exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Waits until `cond` holds, checking every 20 ms, for at most `secs`.
pub fn eventually(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out after {secs}s waiting for {what}");
        wait_a_little();
    }
}

/// The busybox rootfs for container tests (`WARD_TEST_ROOTFS`), or `None`
/// with a notice naming `module::test` when containers cannot run here.
pub fn container_rootfs(module: &str, test: &str) -> Option<PathBuf> {
    let skip = |why: &str| {
        eprintln!("SKIPPED {module}::{test}: {why}");
        None
    };
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return skip("containers need root");
    }
    if Command::new("runc").arg("--version").output().is_err() {
        return skip("runc is not installed (apt-get install runc)");
    }
    match std::env::var_os("WARD_TEST_ROOTFS").map(PathBuf::from) {
        Some(dir) if dir.join("bin/busybox").exists() => Some(dir),
        _ => skip("WARD_TEST_ROOTFS does not name a busybox rootfs (scripts/busybox-rootfs.sh DIR)"),
    }
}

/// `bin` and the shared libraries it links (as `ldd` lists them), absolute:
/// what a container's rootfs needs to run a binary of the host.
pub fn with_libraries(bin: &Path) -> Vec<PathBuf> {
    let mut files = vec![bin.to_path_buf()];
    let ldd = Command::new("ldd").arg(bin).output().expect("ldd runs");
    for line in String::from_utf8_lossy(&ldd.stdout).lines() {
        let target = line.rsplit("=>").next().unwrap_or("").split_whitespace().next().unwrap_or("");
        if target.starts_with('/') {
            files.push(PathBuf::from(target));
        }
    }
    files
}
