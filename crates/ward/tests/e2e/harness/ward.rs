//! The `Ward` driver: a running `ward up`, its CLI, its events and stderr,
//! and the processes it reported. Everything it tracked is killed when it drops.

use super::launch::{follow_events, launch_up, ward_bin};
use super::process::{children, kill, start_time};
use super::temp_dir::TempDir;
use super::wait::{eventually, wait_a_little};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

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
