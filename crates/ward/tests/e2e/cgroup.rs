//! A cgroup per instance: escapees (double fork, setsid, SIGTERM ignored) go
//! with a restart and with `down`, limits bite (`oom_killed` from the cgroup's
//! own counter), rlimits/umask/group reach the process, usage is reported, and
//! `down` leaves no cgroup. Needs root and writable cgroups (else skipped).

use crate::harness::{Ward, alive, eventually};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Whether this host lets the tests create cgroups (root; ward then says how in `status`).
fn can_run() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        eprintln!("skipped: cgroup tests need root");
    }
    root
}

/// The deployment's folder name (`ward-…`) from `status --json`'s `isolation`.
fn base_name(w: &Ward) -> String {
    let out = w.cli(&["status", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("status json");
    let iso = v["isolation"].as_str().expect("isolation in status").to_string();
    assert!(iso.starts_with("cgroup "), "ward runs in cgroups here: {iso}");
    let dir = iso.rsplit(" at ").next().expect("a folder");
    Path::new(dir).file_name().expect("a name").to_string_lossy().into_owned()
}

/// Every folder named `name` in the cgroup mounts, at most 4 levels down.
fn folders_named(name: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, name: &str, depth: u32, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            if !e.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            if e.file_name() == name {
                found.push(p);
            } else if depth > 0 {
                walk(&p, name, depth - 1, found);
            }
        }
    }
    let mut found = Vec::new();
    walk(Path::new("/sys/fs/cgroup"), name, 4, &mut found);
    found
}

/// Reads a pid the service wrote to `file` in the spec folder.
fn pid_in(w: &Ward, file: &str) -> u32 {
    let f = w.dir.0.join(file);
    eventually(file, 20, || std::fs::read_to_string(&f).is_ok_and(|s| s.ends_with('\n')));
    std::fs::read_to_string(&f).unwrap().trim().parse().unwrap()
}

const ESCAPEE: &str = r#"version: 1
services:
  daemon:
    command: ["sh", "-c", "trap '' TERM; rm -f esc.pid; (setsid sh -c 'trap \"\" TERM; echo $$$$ > esc.pid; exec sleep 600' &) ; while true; do sleep 1; done"]
    cgroup: true
    stop: { timeout: 1s }
"#;

#[test]
fn escapees_go_with_a_restart_and_with_down_and_no_cgroup_is_left() {
    if !can_run() {
        return;
    }
    let mut w = Ward::start("cg-escape", ESCAPEE);
    w.wait_event("daemon", 0, "started", 20);
    let escapee = pid_in(&w, "esc.pid");
    w.track(escapee);
    let base = base_name(&w);
    let inst = w.usage("daemon", 0);
    assert!(inst["usage"]["cpu_usec"].is_u64(), "usage from the cgroup: {inst}");
    let dirs = folders_named(&base);
    assert!(!dirs.is_empty(), "the deployment's cgroup exists");
    assert!(
        dirs.iter().any(|d| std::fs::read_to_string(d.join("daemon@0/cgroup.procs"))
            .is_ok_and(|t| t.lines().any(|l| l.trim() == escapee.to_string()))),
        "the escapee is in its instance's cgroup"
    );

    // A restart leaves nothing of the old run, the escapee included.
    assert!(w.cli(&["restart", "daemon"]).status.success());
    eventually("the first escapee gone", 20, || !alive(escapee));
    let after = w.wait_for("the restart", 20, |e| e["kind"] == "started" && e["service"] == "daemon");
    assert!(after["pid"].is_u64());
    let f = w.dir.0.join("esc.pid");
    eventually("the second escapee's pid", 20, || {
        std::fs::read_to_string(&f).is_ok_and(|s| s.ends_with('\n') && s.trim() != escapee.to_string())
    });
    let second = pid_in(&w, "esc.pid");
    w.track(second);

    // down: exit 0, no process of the instance, no cgroup of ward's.
    assert!(w.cli(&["down"]).status.success());
    assert_eq!(w.wait_exit(30), 0);
    eventually("the second escapee gone", 10, || !alive(second));
    assert!(folders_named(&base).is_empty(), "no cgroup left: {:?}", folders_named(&base));
}

#[test]
fn a_service_past_its_memory_limit_is_oom_killed() {
    if !can_run() {
        return;
    }
    let mut w = Ward::start(
        "cg-oom",
        r#"version: 1
services:
  hog:
    command: ["sh", "-c", "x=$(head -c 400000000 /dev/zero | tr '\\0' x); echo survived"]
    resources: { memory: 32MiB }
    restart: never
"#,
    );
    let exited = w.wait_event("hog", 0, "exited", 60);
    assert_eq!(exited["dossier"]["oom_killed"], true, "{exited}");
    // The kernel may kill more than one process of the cgroup (the shell, then a
    // pipeline member that allocated before the first victim's memory was freed).
    let kills = exited["dossier"]["cgroup"]["oom_kills"].as_u64();
    assert!(kills.is_some_and(|n| n >= 1), "{exited}");
    assert_eq!(exited["exit"]["signal"], 9, "{exited}");
}

#[test]
fn each_run_counts_its_own_oom_kills() {
    if !can_run() {
        return;
    }
    // The first run is OOM-killed; its replacement (restarted at once, into
    // the same cgroup when it is empty) exits on its own: it was killed by no one.
    let mut w = Ward::start(
        "cg-oom-runs",
        r#"version: 1
services:
  hog:
    command: ["sh", "-c", "if [ -e ran ]; then exit 3; fi; touch ran; x=$(head -c 400000000 /dev/zero | tr '\\0' x)"]
    resources: { memory: 32MiB }
    restart: always
    backoff: { initial: 0s, jitter: 0 }
"#,
    );
    let first = w.wait_event("hog", 0, "exited", 60);
    assert_eq!(first["dossier"]["oom_killed"], true, "{first}");
    let second = w.wait_event("hog", 0, "exited", 60);
    assert_eq!(second["exit"]["code"], 3, "{second}");
    assert_ne!(second["dossier"]["oom_killed"], true, "{second}");
    assert_eq!(second["dossier"]["cgroup"]["oom_kills"], 0, "{second}");
    // Its memory peak is its own (v1: reset for it), or untold (v2: the
    // folder's peak goes on from the first run), never the first run's 32 MiB.
    let peak = second["dossier"]["cgroup"]["memory_peak_bytes"].as_u64();
    assert!(peak.is_none_or(|p| p < 16 << 20), "{second}");
    assert!(w.cli(&["down"]).status.success());
    assert_eq!(w.wait_exit(30), 0);
}

#[test]
fn limits_umask_group_and_identity_reach_the_process() {
    if !can_run() {
        return;
    }
    let mut w = Ward::start(
        "cg-limits",
        r#"version: 1
services:
  id:
    command: ["sh", "-c", "ulimit -n; umask; id -gn; id -Gn; echo \"$HOME $USER $LOGNAME\"; sleep 600"]
    user: nobody
    group: nogroup
    umask: "0027"
    limits: { nofile: 777, core: 0 }
    resources: { pids: 20, cpu: 0.5 }
"#,
    );
    w.wait_event("id", 0, "started", 20);
    let log = w.state().join("logs/id.0.log");
    eventually("the output", 20, || std::fs::read_to_string(&log).is_ok_and(|t| t.lines().count() >= 5));
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "777", "{text}");
    assert_eq!(lines[1], "0027", "{text}");
    assert_eq!(lines[2], "nogroup", "{text}");
    assert_eq!(lines[4], "/nonexistent nobody nobody", "{text}");
    let why = w.cli(&["why", "id"]);
    let why = String::from_utf8_lossy(&why.stdout);
    assert!(why.contains("cgroup:        cpu "), "{why}");
}

#[test]
fn without_cgroups_ward_runs_in_process_groups_and_refuses_limits() {
    // (its one warning at start comes before `supervising`, which the harness waits for)
    let mut w = Ward::start_with_env(
        "cg-off",
        r#"version: 1
services:
  plain:
    command: ["sleep", "600"]
  limited:
    command: ["sleep", "600"]
    resources: { memory: 64MiB }
    restart: never
"#,
        &[("WARD_CGROUP", "off")],
    );
    w.wait_event("plain", 0, "started", 20);
    let failed = w.wait_event("limited", 0, "spawn_failed", 20);
    assert!(failed["error"].as_str().is_some_and(|e| e.contains("resources: need cgroups")), "{failed}");
    let out = w.cli(&["status", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("status json");
    assert!(v["isolation"].as_str().is_some_and(|s| s.starts_with("process groups")), "{v}");
    let table = String::from_utf8_lossy(&w.cli(&["status"]).stdout).to_string();
    let says = "instances run in: process groups (no cgroups: turned off by WARD_CGROUP=off)";
    assert!(table.contains(says), "{table}");
}

#[test]
fn a_native_instance_has_its_cgroup_by_default_and_cgroup_false_opts_out() {
    if !can_run() {
        return;
    }
    // Restarted at once under the keeper's standing order: each run is born
    // in the instance's folder (clone3), the first after a kill included.
    let mut w = Ward::start(
        "cg-default",
        r#"version: 1
services:
  plain:
    command: ["sh", "-c", "sleep 600 & exec sleep 600"]
    backoff: { initial: 0s, jitter: 0 }
  bare:
    command: ["sleep", "600"]
    cgroup: false
"#,
    );
    let first = w.wait_event("plain", 0, "started", 20)["pid"].as_u64().unwrap() as u32;
    w.wait_event("bare", 0, "started", 20);
    let base = base_name(&w);
    let procs = |inst: &str| -> Vec<u32> {
        let dirs = folders_named(&base);
        let text = dirs.iter().find_map(|d| std::fs::read_to_string(d.join(inst).join("cgroup.procs")).ok());
        text.unwrap_or_default().lines().filter_map(|l| l.trim().parse().ok()).collect()
    };
    assert!(procs("plain@0").contains(&first), "plain/0 runs in its cgroup: {:?}", procs("plain@0"));
    assert!(w.usage("plain", 0)["usage"]["cpu_usec"].is_u64(), "usage from the cgroup");
    assert!(procs("bare@0").is_empty(), "cgroup: false has no cgroup");
    assert!(w.usage("bare", 0)["usage"].is_null(), "{}", w.usage("bare", 0));

    // Its background sleep is left in the cgroup when it dies: killed, then
    // the replacement is born in the same instance's folder and lives.
    let mut pid = first;
    for round in 0..3 {
        assert!(crate::harness::kill(pid as i32, libc::SIGKILL));
        let next = w.wait_for("the restart", 20, |e| {
            e["kind"] == "started" && e["service"] == "plain" && e["pid"].as_u64() != Some(pid as u64)
        });
        pid = next["pid"].as_u64().unwrap() as u32;
        w.track(pid);
        eventually("the new run in its cgroup", 20, || procs("plain@0").contains(&pid));
        let st = w.instance("plain", 0);
        assert_eq!(st["state"], "running", "round {round}: {st}");
    }
    eventually("two processes of the last run only", 20, || procs("plain@0").len() == 2);
    assert!(alive(pid));
    assert!(w.cli(&["down"]).status.success());
    assert_eq!(w.wait_exit(30), 0);
    assert!(folders_named(&base).is_empty(), "no cgroup left");
}

#[test]
fn each_run_counts_its_own_cpu_in_a_cgroup_that_lives_on() {
    if !can_run() {
        return;
    }
    // Restarted at once (the keeper's standing order): the replacement is
    // born in the same folder, whose counters go on.
    let mut w = Ward::start(
        "cg-cpu",
        r#"version: 1
services:
  burner:
    command: ["sh", "-c", "i=0; while [ $i -lt 150000 ]; do i=$((i+1)); done; exit 1"]
    restart: always
    backoff: { initial: 0s, jitter: 0 }
"#,
    );
    let cpu = |e: &Value| e["dossier"]["cgroup"]["cpu_usec"].as_u64().expect("the cgroup's CPU time");
    let runs: Vec<u64> = (0..3).map(|_| cpu(&w.wait_event("burner", 0, "exited", 60))).collect();
    for pair in runs.windows(2) {
        let ratio = pair[1] as f64 / pair[0] as f64;
        assert!((0.4..1.6).contains(&ratio), "each run counts its own time, not the sum: {runs:?}");
    }
    assert!(w.cli(&["down"]).status.success());
    assert_eq!(w.wait_exit(30), 0);
}
