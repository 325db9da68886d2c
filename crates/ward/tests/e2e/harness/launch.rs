//! Starting the ward binary: `ward up`, read until it supervises, and a
//! reader of `ward events -f --json`.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Path of the ward binary under test.
pub fn ward_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ward"))
}

/// Starts `ward up -f spec` and waits (with a deadline) until it says it
/// supervises; returns it and the lines of its stderr that follow.
pub(super) fn launch_up(spec: &Path, env: &[(&str, &str)]) -> (Child, mpsc::Receiver<String>) {
    let mut up = Command::new(ward_bin())
        .envs(env.iter().copied())
        .arg("up")
        .arg("-f")
        .arg(spec)
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

pub(super) fn follow_events(spec: &Path) -> (mpsc::Receiver<Value>, Child) {
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
