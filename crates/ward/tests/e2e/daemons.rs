//! Real daemons together, as a systemd unit file would run them: PostgreSQL
//! as user `postgres` with sd_notify readiness, redis (`--supervised
//! systemd`, as user `redis`) with sd_notify readiness, nginx in the
//! foreground with an http readiness probe, a double-forking daemon that
//! ignores SIGTERM, and an app that depends on the three (`binds_to`). Kills
//! the postmaster with SIGKILL: PostgreSQL comes back ready (its orphaned
//! backends went with its cgroup), the app was stopped and started again as
//! `binds_to` says; `down` leaves no process and no cgroup.
//!
//! Needs root and the daemons (`scripts/test.sh` installs them); skipped otherwise.

use crate::harness::{Ward, alive, eventually};
use serde_json::Value;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The PostgreSQL server binary of the newest installed major version.
fn postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> =
        std::fs::read_dir("/usr/lib/postgresql").ok()?.flatten().map(|e| e.path().join("bin")).collect();
    versions.sort();
    versions.into_iter().rev().find(|b| b.join("postgres").exists())
}

/// The uid and gid of `user`, from `id`.
fn ids(user: &str) -> Option<(u32, u32)> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, user]).output().ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    Some((id("-u")?, id("-g")?))
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A folder owned by `owner`.
fn owned_dir(path: &Path, (uid, gid): (u32, u32)) {
    std::fs::create_dir_all(path).expect("mkdir");
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown");
}

fn pids_of(cgroup: &Path) -> Vec<u32> {
    std::fs::read_to_string(cgroup.join("cgroup.procs"))
        .map(|t| t.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_default()
}

#[test]
fn postgres_redis_nginx_and_a_dependent_run_like_systemd_units() {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let (Some(pg), Some(pg_ids), Some(redis_ids)) = (postgres_bin(), ids("postgres"), ids("redis")) else {
        eprintln!("skipped: PostgreSQL or redis not installed");
        return;
    };
    let have = |p: &str| {
        Command::new("sh").args(["-c", &format!("command -v {p}")]).output().is_ok_and(|o| o.status.success())
    };
    if !root || !have("redis-server") || !have("nginx") {
        eprintln!("skipped: needs root, redis-server and nginx");
        return;
    }
    let dir = crate::harness::TempDir::new("daemons-data");
    let data = dir.0.clone();
    // SAFETY: chmod of our own folder, so that postgres and redis may traverse it.
    std::fs::set_permissions(&data, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    let (pgdata, pgsock, redis_dir) = (data.join("pg"), data.join("pgsock"), data.join("redis"));
    owned_dir(&pgdata, pg_ids);
    owned_dir(&pgsock, pg_ids);
    owned_dir(&redis_dir, redis_ids);
    let initdb = Command::new(pg.join("initdb"))
        .args(["-D", pgdata.to_str().unwrap(), "-U", "postgres", "--auth=trust", "--no-sync"])
        .uid(pg_ids.0)
        .gid(pg_ids.1)
        .current_dir(&data)
        .output()
        .expect("initdb");
    assert!(initdb.status.success(), "initdb: {}", String::from_utf8_lossy(&initdb.stderr));
    let (pg_port, redis_port, web_port) = (free_port(), free_port(), free_port());
    let nginx_conf = data.join("nginx.conf");
    std::fs::write(
        &nginx_conf,
        format!(
            "pid {d}/nginx.pid;\nerror_log stderr;\nevents {{ worker_connections 64; }}\nhttp {{\n  access_log off;\n  client_body_temp_path {d}/nginx-body;\n  server {{ listen 127.0.0.1:{web_port}; location / {{ return 200 \"ok\\n\"; }} }}\n}}\n",
            d = data.display()
        ),
    )
    .expect("nginx.conf");
    let yaml = format!(
        r#"version: 1
services:
  db:
    command: ["{pg}/postgres", "-D", "{pgdata}", "-p", "{pg_port}", "-k", "{pgsock}", "-c", "listen_addresses=127.0.0.1"]
    user: postgres
    ready: {{ notify: true }}
    resources: {{ memory: 1GiB, pids: 200 }}
    limits: {{ nofile: 4096 }}
    stop: {{ signal: SIGINT, timeout: 30s }}
    backoff: {{ initial: 200ms, jitter: 0 }}
  cache:
    command: ["redis-server", "--port", "{redis_port}", "--bind", "127.0.0.1", "--supervised", "systemd", "--save", "", "--dir", "{redis_dir}"]
    user: redis
    cgroup: true
    ready: {{ notify: true }}
  web:
    command: ["nginx", "-e", "stderr", "-c", "{nginx_conf}", "-g", "daemon off;"]
    cgroup: true
    ready: {{ http: "http://127.0.0.1:{web_port}/", interval: 200ms }}
  stray:
    command: ["sh", "-c", "trap '' TERM; (setsid sh -c 'trap \"\" TERM; echo $$$$ > stray.pid; exec sleep 600' &); while true; do sleep 1; done"]
    cgroup: true
    stop: {{ timeout: 1s }}
  app:
    command: ["sh", "-c", "echo app up; exec sleep 600"]
    depends_on: [db, cache, web]
    binds_to: true
"#,
        pg = pg.display(),
        pgdata = pgdata.display(),
        pgsock = pgsock.display(),
        redis_dir = redis_dir.display(),
        nginx_conf = nginx_conf.display(),
    );
    let mut w = Ward::start("daemons", &yaml);
    for svc in ["db", "cache", "web"] {
        w.wait_event(svc, 0, "ready", 120);
    }
    let app = w.wait_event("app", 0, "started", 60);
    assert!(app["pid"].is_u64());
    let stray_file = w.dir.0.join("stray.pid");
    eventually("the stray's pid", 20, || {
        std::fs::read_to_string(&stray_file).is_ok_and(|s| s.ends_with('\n'))
    });
    let stray: u32 = std::fs::read_to_string(&stray_file).unwrap().trim().parse().unwrap();
    w.track(stray);

    let status: Value = serde_json::from_slice(&w.cli(&["status", "--json"]).stdout).expect("status");
    let iso = status["isolation"].as_str().expect("isolation").to_string();
    let base = PathBuf::from(iso.rsplit(" at ").next().expect("a folder"));
    let db = w.usage("db", 0);
    assert_eq!(db["state"], "ready");
    assert!(db["usage"]["memory_bytes"].as_u64().is_some_and(|b| b > 0), "{db}");
    let postmaster = db["pid"].as_u64().unwrap() as u32;
    let backends = pids_of(&base.join("db@0"));
    assert!(backends.len() > 1, "the postmaster and its processes: {backends:?}");

    // SIGKILL of the postmaster: its backends go with the cgroup, PostgreSQL
    // restarts, recovers and is ready; the app, bound to it, went and came back.
    crate::harness::kill(postmaster as i32, libc::SIGKILL);
    let exited = w.wait_event("db", 0, "exited", 30);
    assert_eq!(exited["exit"]["signal"], 9);
    w.wait_for("the app stopped", 30, |e| {
        e["service"] == "app" && (e["kind"] == "stopped" || e["kind"] == "exited")
    });
    eventually("the old backends gone", 30, || backends.iter().all(|p| !alive(*p)));
    w.wait_event("db", 0, "ready", 120);
    let again = w.wait_event("app", 0, "started", 60);
    assert_ne!(again["pid"], app["pid"]);

    // down: every process of every instance gone, and every cgroup.
    let mut all: Vec<u32> = Vec::new();
    for inst in ["db@0", "cache@0", "web@0", "stray@0", "app@0"] {
        all.extend(pids_of(&base.join(inst)));
    }
    assert!(all.contains(&stray), "the stray is in its cgroup");
    assert!(w.cli(&["down"]).status.success());
    assert_eq!(w.wait_exit(90), 0);
    eventually("no process left", 30, || all.iter().all(|p| !alive(*p)));
    assert!(!base.exists(), "no cgroup left at {}", base.display());
}
