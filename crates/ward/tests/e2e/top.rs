//! `ward top` in a real terminal: a detached tmux session of 80x24 on a tmux
//! server of its own (`-L`), driven with send-keys and read with capture-pane.

use crate::harness::{Ward, eventually, kill, wait_a_little, ward_bin};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const SPEC: &str = r#"version: 1
services:
  web:
    command: ["sh", "-c", "echo web $WARD_REPLICA up; exec sleep 600"]
    replicas: 2
"#;

/// A tmux server of the test's own; killed (by its socket, and its pane's
/// processes by pid) on drop.
struct Tmux {
    socket: String,
    pane_pid: Option<u32>,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().expect("tmux runs")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "top"]).stdout).into_owned()
    }

    fn keys(&self, keys: &str) {
        assert!(self.run(&["send-keys", "-t", "top", keys]).status.success());
    }

    /// Waits until the screen shows every one of `texts`; returns it. On a
    /// timeout the panic shows the last screen.
    fn wait_screen(&self, what: &str, texts: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if texts.iter().all(|t| screen.contains(t)) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after 30s waiting for {what}; the screen:\n{screen}"
            );
            wait_a_little();
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // The pane's processes first, while they still run (so that their
        // pids cannot have been given to another process), then the server.
        if let Some(pid) = self.pane_pid {
            kill(-(pid as i32), 9);
            kill(pid as i32, 9);
        }
        let _ = self.run(&["kill-server"]);
    }
}

#[test]
fn top_shows_the_instances_restarts_on_a_confirmed_key_and_quits_cleanly() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("skipped: tmux is not installed (scripts/test.sh installs it)");
        return;
    }
    let mut w = Ward::start("top", SPEC);
    w.wait_event("web", 0, "started", 20);
    w.wait_event("web", 1, "started", 20);
    let before = w.instance("web", 0);
    let other = w.instance("web", 1);
    let mut tmux = Tmux { socket: format!("ward-e2e-top-{}", std::process::id()), pane_pid: None };
    // The shell waits for a line (Enter) between the two tops: the first
    // one's exit line must stay on screen until the test has read it, and a
    // second top started at once would cover it with its alternate screen.
    let cmd = format!(
        "'{bin}' --file '{spec}' top; echo ward-top-exited=$?; read go; '{bin}' --file '{spec}' top; echo again-exited=$?; exec sleep 600",
        bin = ward_bin().display(),
        spec = w.spec.display()
    );
    let started = tmux.run(&["new-session", "-d", "-s", "top", "-x", "80", "-y", "24", &cmd]);
    assert!(started.status.success(), "tmux: {}", String::from_utf8_lossy(&started.stderr));
    let pane = tmux.run(&["display-message", "-p", "-t", "top", "#{pane_pid}"]);
    tmux.pane_pid = String::from_utf8_lossy(&pane.stdout).trim().parse().ok();

    let pid0 = before["pid"].as_u64().unwrap().to_string();
    let screen = tmux.wait_screen("top to show both instances", &["web/0", "web/1", "running", &pid0]);
    assert!(screen.contains("ward top"), "{screen}");
    assert!(screen.lines().count() <= 24 && screen.lines().all(|l| l.chars().count() <= 80), "{screen}");

    // A destructive key asks first; `y` confirms. web/0 is selected at start
    // (its output pane names it).
    tmux.wait_screen("web/0 selected", &["output of web/0"]);
    tmux.keys("r");
    tmux.wait_screen("the confirmation prompt", &["restart web/0? y"]);
    tmux.keys("y");
    w.wait_event("web", 0, "restarted", 30);
    let mut after = w.instance("web", 0);
    eventually("web/0 running again with a new pid", 30, || {
        after = w.instance("web", 0);
        after["state"] == "running" && after["pid"] != before["pid"]
    });
    assert_eq!(after["restarts"].as_u64(), before["restarts"].as_u64().map(|r| r + 1));
    assert_eq!(w.instance("web", 1)["pid"], other["pid"], "web/1 was left alone");
    // The screen follows the event stream: the new pid shows up.
    let pid = after["pid"].as_u64().unwrap().to_string();
    tmux.wait_screen("the new pid on screen", &[&pid]);
    let screen = tmux.wait_screen("the answer to the restart", &["web/0: restarting"]);
    assert!(!screen.contains("? y: yes"), "the prompt is gone: {screen}");

    // `q` quits with 0 and gives the terminal back (the shell's line shows).
    tmux.keys("q");
    let screen = tmux.wait_screen("top to exit", &["ward-top-exited=0"]);
    assert!(!screen.contains("instances ("), "the alternate screen is gone: {screen}");

    // A second top (the pane's shell runs it after a line) ends on SIGTERM the same way.
    tmux.keys("Enter");
    tmux.wait_screen("the second top", &["instances (", "web/0", "web/1"]);
    let shell = tmux.pane_pid.expect("the pane's pid");
    let top = children(shell).into_iter().next().expect("the shell runs ward top");
    kill(top as i32, libc::SIGTERM);
    let screen = tmux.wait_screen("top to exit on SIGTERM", &["again-exited=0"]);
    assert!(!screen.contains("instances ("), "the alternate screen is gone: {screen}");
}

fn children(pid: u32) -> Vec<u32> {
    crate::harness::children(pid)
}
