//! `ward logs` as one stream: several instances merged in time order, each
//! line prefixed by its instance, `--json`, `--since`/`--until`, `--grep`,
//! no colour off a terminal, and `-f` picking up instances as they start
//! and restart.

use crate::harness::{Ward, eventually, kill, ward_bin};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Two services that each print a numbered line every 50 ms.
const CHATTY: &str = r#"version: 1
services:
  alpha:
    command: ["sh", "-c", "i=0; while :; do i=$((i+1)); echo \"alpha $i\"; sleep 0.05; done"]
  beta:
    command: ["sh", "-c", "i=0; while :; do i=$((i+1)); echo \"beta $i\"; sleep 0.05; done"]
"#;

/// `ward logs ARGS`, its stdout as text (asserting success).
fn logs(w: &Ward, args: &[&str]) -> String {
    let mut all = vec!["logs"];
    all.extend_from_slice(args);
    let out = w.cli(&all);
    assert!(out.status.success(), "ward logs {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// `ward logs --json ARGS`, parsed.
fn json_lines(w: &Ward, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    logs(w, &all).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The number at the end of a line such as `alpha 12`.
fn counter(v: &Value) -> u64 {
    v["line"].as_str().unwrap().rsplit(' ').next().unwrap().parse().unwrap()
}

#[test]
fn several_instances_merge_in_time_order_with_filters() {
    let mut w = Ward::start("logs-merge", CHATTY);
    w.wait_event("alpha", 0, "started", 10);
    w.wait_event("beta", 0, "started", 10);
    eventually("both services to print 30 lines", 30, || {
        let all = json_lines(&w, &["-n", "1000"]);
        ["alpha", "beta"].iter().all(|s| all.iter().filter(|v| v["service"] == *s).count() >= 30)
    });

    let all = json_lines(&w, &["-n", "1000"]);
    for v in &all {
        for key in ["service", "replica", "run", "ts", "ts_ms", "line"] {
            assert!(!v[key].is_null(), "{key} missing in {v}");
        }
        assert_eq!(v["run"], 1, "{v}");
    }
    let times: Vec<u64> = all.iter().map(|v| v["ts_ms"].as_u64().unwrap()).collect();
    assert!(times.windows(2).all(|p| p[0] <= p[1]), "not in time order: {times:?}");
    for s in ["alpha", "beta"] {
        let counts: Vec<u64> = all.iter().filter(|v| v["service"] == s).map(counter).collect();
        assert!(counts.windows(2).all(|p| p[1] == p[0] + 1), "{s} lines out of order: {counts:?}");
    }
    // Interleaved, not one service after the other.
    let switches = all.windows(2).filter(|p| p[0]["service"] != p[1]["service"]).count();
    assert!(switches > 10, "expected the services interleaved, got {switches} switches");

    // The same stream as text: `svc/N | ` prefixes, no colour off a terminal.
    let text = logs(&w, &["alpha", "beta", "-n", "50"]);
    assert_eq!(text.lines().count(), 50);
    assert!(!text.contains('\x1b'), "colour off a terminal: {text:?}");
    assert!(
        text.lines().all(|l| l.starts_with("alpha/0 | alpha ") || l.starts_with("beta/0 | beta ")),
        "{text}"
    );
    // On a terminal (`script` gives it one): colour, unless NO_COLOR says no.
    let on_tty = |no_color: Option<&str>| {
        let cmd = format!("{} --file {} logs alpha beta -n 3", ward_bin().display(), w.spec.display());
        let mut c = Command::new("script");
        c.args(["-qec", &cmd, "/dev/null"]).stdin(Stdio::null());
        match no_color {
            Some(v) => c.env("NO_COLOR", v),
            None => c.env_remove("NO_COLOR"),
        };
        String::from_utf8_lossy(&c.output().unwrap().stdout).into_owned()
    };
    let coloured = on_tty(None);
    assert!(coloured.contains("\x1b[") && coloured.contains("/0 | \x1b[0m"), "{coloured:?}");
    assert!(!on_tty(Some("1")).contains('\x1b'), "NO_COLOR is respected");
    let bare = logs(&w, &["b*", "--no-prefix", "-n", "3", "--timestamps"]);
    assert!(bare.lines().all(|l| l.contains("Z beta ")), "{bare}");

    // --since and --until at the time of a line in the middle.
    let mid = &all[all.len() / 2];
    let (t, ts) = (mid["ts_ms"].as_u64().unwrap(), mid["ts"].as_str().unwrap());
    let since = json_lines(&w, &["--since", ts]);
    assert!(since.iter().all(|v| v["ts_ms"].as_u64().unwrap() >= t));
    let first = since.first().expect("lines since the middle");
    assert_eq!(
        first["ts_ms"].as_u64(),
        all.iter().map(|v| v["ts_ms"].as_u64()).find(|x| x.unwrap() >= t).unwrap()
    );
    let until = json_lines(&w, &["--until", ts]);
    assert!(!until.is_empty() && until.iter().all(|v| v["ts_ms"].as_u64().unwrap() <= t));
    assert_eq!(json_lines(&w, &["--since", "1h", "-n", "1"]).len(), 1);
    assert_eq!(json_lines(&w, &["--since", "1h"])[0], all[0], "the whole history since an hour ago");

    // --grep keeps matching lines, -n counts after the filter.
    let grep = json_lines(&w, &["--grep", "^alpha 1[0-9]$", "-n", "1000"]);
    let counts: Vec<u64> = grep.iter().map(counter).collect();
    assert_eq!(counts, (10..20).collect::<Vec<_>>());
    // Bad input says what and where.
    let out = w.cli(&["logs", "--grep", "(", "alpha", "beta"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--grep"));
    let out = w.cli(&["logs", "--since", "yesterday"]);
    assert_eq!(out.status.code(), Some(2), "a bad time is a usage error");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("expected a duration back (10m, 1h30m) or a UTC time")
    );
    let out = w.cli(&["logs", "nothing*"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no instance matches nothing*"));
    // Today's single-instance form is unchanged: the bytes as written.
    assert!(logs(&w, &["alpha", "-n", "2"]).lines().all(|l| l.starts_with("alpha ")));
}

/// `ward logs ARGS` left running, its lines on a channel.
struct Follower {
    child: Child,
    lines: mpsc::Receiver<Value>,
}

impl Follower {
    fn start(w: &Ward, args: &[&str]) -> Follower {
        let mut child = Command::new(ward_bin())
            .arg("--file")
            .arg(&w.spec)
            .args(["logs", "-f", "--json"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(serde_json::from_str::<Value>(&line).unwrap()).is_err() {
                    break;
                }
            }
        });
        Follower { child, lines }
    }

    /// Waits (with a deadline) for a line that matches; returns it.
    fn wait(&self, what: &str, secs: u64, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(v) if pred(&v) => return v,
                Ok(_) => continue,
                Err(_) => panic!("timed out after {secs}s waiting for {what} in ward logs -f"),
            }
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        kill(self.child.id() as i32, libc::SIGKILL);
        let _ = self.child.wait();
    }
}

#[test]
fn follow_picks_up_new_instances_and_restarts() {
    let mut w = Ward::start("logs-follow", CHATTY);
    w.wait_event("alpha", 0, "started", 10);
    w.wait_event("beta", 0, "started", 10);
    let out = w.cli(&["stop", "beta"]);
    assert!(out.status.success());
    w.wait_event("beta", 0, "stopped", 10);

    let f = Follower::start(&w, &["-n", "0"]);
    f.wait("alpha's output", 20, |v| v["service"] == "alpha");
    // A stopped instance that starts again.
    assert!(w.cli(&["start", "beta"]).status.success());
    let beta = f.wait("beta's output after ward start", 20, |v| v["service"] == "beta");
    assert_eq!(beta["run"], 2, "beta's second run: {beta}");
    // A new instance: the spec scaled to two replicas of alpha.
    std::fs::write(&w.spec, CHATTY.replacen("  alpha:\n", "  alpha:\n    replicas: 2\n", 1)).unwrap();
    assert!(w.cli(&["reload"]).status.success());
    let new = f.wait("alpha/1's output", 20, |v| v["service"] == "alpha" && v["replica"] == 1);
    assert_eq!(new["line"], "alpha 1", "from its first line: {new}");
    // A restart: the same file, the next run.
    assert!(w.cli(&["restart", "alpha/0"]).status.success());
    f.wait("alpha/0's second run", 20, |v| v["service"] == "alpha" && v["replica"] == 0 && v["run"] == 2);
    w.status(); // remember the pids, to kill them at the end
}
