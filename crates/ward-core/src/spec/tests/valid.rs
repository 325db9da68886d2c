//! Valid specs: every key of a full spec, the defaults of what is left out,
//! and a spec built in code equal to the same spec read from a file.

use super::*;

const FULL: &str = r#"version: 1
logs: { max_size: 20MiB, keep: 5 }
services:
  api:
    command: ["./api", "--port", "${PORT}", 8]
    replicas: 2
    env: { RUST_LOG: info, RATIO: 2.0, DEBUG: on }
    workdir: ./srv
    user: 1000
    ports: { PORT: 8080, ADMIN_PORT: 9090 }
    restart: always
    on_panic: { action: shutdown, scope: all }
    backoff:   { initial: 1s, factor: 1.5, max: 30s, jitter: 0 }
    crash_loop: { threshold: 3, window: 2m, cooldown: 10m }
    stable_after: 90s
    stop: { signal: INT, timeout: 5s }
    health: { http: "http://127.0.0.1:${PORT}/healthz", interval: 2s, timeout: 500ms, failures: 2, grace: 3s }
    ready:  { notify: true, watchdog: 20s }
    depends_on: [db]
    binds_to: true
    hooks: { on_isolate: ["./page", "isolated"], on_crashloop: [./page], on_shutdown: [./bye], timeout: 5s }
  db:
    image: { rootfs: ./images/db, writable: true, runtime: crun, runtime_path: /opt/crun }
    command: ["/bin/db"]
    resources: { memory: 256MiB, pids: 100, cpu: 0.5 }
    on_panic: isolate
    stop: { signal: 1 }
    ready: { tcp: "127.0.0.1:5432" }
"#;

#[test]
fn full_spec_parses_every_key() {
    let spec = ok(FULL);
    assert_eq!(spec.version, 1);
    assert_eq!(spec.logs, LogSpec { max_size: 20 << 20, keep: 5 });
    let api = &spec.services[&name("api")];
    assert_eq!(api.command, ["./api", "--port", "${PORT}", "8"]);
    assert_eq!(api.replicas, 2);
    let env: Vec<(&str, &str)> = api.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(env, [("DEBUG", "on"), ("RATIO", "2.0"), ("RUST_LOG", "info")]);
    assert_eq!(api.workdir.as_deref(), Some("./srv"));
    assert_eq!(api.user.as_deref(), Some("1000"));
    assert_eq!(api.ports.get("PORT"), Some(&8080));
    assert_eq!(api.ports.get("ADMIN_PORT"), Some(&9090));
    assert_eq!(api.restart, RestartPolicy::Always);
    let shutdown_all = OnPanic { action: PanicAction::Shutdown, scope: PanicScope::All, replace: false };
    assert_eq!(api.on_panic, shutdown_all);
    let backoff = BackoffSpec { initial: secs(1), factor: 1.5, max: secs(30), jitter: 0.0 };
    assert_eq!(api.backoff, backoff);
    let crash_loop = CrashLoopSpec { threshold: 3, window: secs(120), cooldown: secs(600) };
    assert_eq!(api.crash_loop, crash_loop);
    assert_eq!(api.stable_after, secs(90));
    assert_eq!(api.stop, StopSpec { signal: 2, timeout: secs(5) });
    let health = ProbeSpec {
        check: ProbeCheck::Http("http://127.0.0.1:${PORT}/healthz".into()),
        interval: secs(2),
        timeout: Duration::from_millis(500),
        failures: 2,
        grace: secs(3),
    };
    assert_eq!(api.health, Some(health));
    assert_eq!(api.ready, Some(ReadySpec::Notify { watchdog: Some(secs(20)) }));
    assert_eq!(api.depends_on, [Dependency::ready(name("db"))]);
    assert!(api.binds_to);
    let hooks = HooksSpec {
        on_isolate: Some(vec!["./page".into(), "isolated".into()]),
        on_crashloop: Some(vec!["./page".into()]),
        on_shutdown: Some(vec!["./bye".into()]),
        timeout: secs(5),
    };
    assert_eq!(api.hooks, hooks);

    let db = &spec.services[&name("db")];
    let image = ImageSpec {
        rootfs: "./images/db".into(),
        writable: true,
        runtime: "crun".into(),
        runtime_path: Some("/opt/crun".into()),
    };
    assert_eq!(db.image, Some(image));
    let resources =
        ResourcesSpec { memory: Some(256 << 20), memory_high: None, pids: Some(100), cpu: Some(0.5) };
    assert_eq!(db.resources, resources);
    assert_eq!(db.on_panic.action, PanicAction::Isolate);
    assert_eq!(db.stop, StopSpec { signal: 1, timeout: secs(10) });
    let ready = ProbeSpec {
        check: ProbeCheck::Tcp("127.0.0.1:5432".into()),
        interval: secs(5),
        timeout: secs(1),
        failures: 3,
        grace: Duration::ZERO,
    };
    assert_eq!(db.ready, Some(ReadySpec::Probe(ready)));
}

#[test]
fn minimal_spec_gets_every_default() {
    let spec = ok("version: 1\nservices:\n  api:\n    command: [\"./api\"]\n");
    assert_eq!(spec.logs, LogSpec { max_size: 10 * 1024 * 1024, keep: 3 });
    let expected = ServiceSpec {
        name: name("api"),
        command: vec!["./api".into()],
        image: None,
        replicas: 1,
        env: Default::default(),
        workdir: None,
        user: None,
        group: None,
        umask: None,
        cgroup: None,
        resources: ResourcesSpec { memory: None, memory_high: None, pids: None, cpu: None },
        limits: Vec::new(),
        ports: Default::default(),
        restart: RestartPolicy::OnFailure,
        on_panic: OnPanic { action: PanicAction::Restart, scope: PanicScope::Service, replace: false },
        backoff: BackoffSpec { initial: Duration::from_millis(500), factor: 2.0, max: secs(60), jitter: 0.1 },
        success_backoff: None,
        exit_codes: crate::spec::ExitCodesSpec::default(),
        crash_loop: CrashLoopSpec { threshold: 5, window: secs(60), cooldown: secs(300) },
        stable_after: secs(60),
        stop: StopSpec { signal: 15, timeout: secs(10) },
        health: None,
        ready: None,
        depends_on: vec![],
        binds_to: false,
        hooks: HooksSpec { on_isolate: None, on_crashloop: None, on_shutdown: None, timeout: secs(30) },
    };
    assert_eq!(spec.services[&name("api")], expected);
}

#[test]
fn section_defaults_fill_missing_keys() {
    let spec = ok(&api(
        "    image: { rootfs: ./r }\n    on_panic: { action: isolate, replace: true }\n    backoff: { max: 2m }\n    health: { exec: [./check] }\n",
    ));
    let api = &spec.services[&name("api")];
    assert_eq!(api.image.as_ref().map(|i| (i.runtime.as_str(), i.writable)), Some(("runc", false)));
    let isolate = OnPanic { action: PanicAction::Isolate, scope: PanicScope::Service, replace: true };
    assert_eq!(api.on_panic, isolate);
    assert_eq!(api.backoff, BackoffSpec { max: secs(120), ..BackoffSpec::default() });
    let health = api.health.as_ref().unwrap();
    assert_eq!(health.check, ProbeCheck::Exec(vec!["./check".into()]));
    assert_eq!((health.interval, health.timeout, health.failures), (secs(5), secs(1), 3));
}

#[test]
fn replicas_zero_and_signal_names() {
    let spec = ok(&api("    replicas: 0\n    ports: { PORT: 65535 }\n    stop: { signal: SIGKILL }\n"));
    let api = &spec.services[&name("api")];
    assert_eq!((api.replicas, api.stop.signal), (0, 9));
}

#[test]
fn a_spec_built_in_code_has_the_defaults_of_a_file() {
    let web = ServiceSpec::new("web".parse().unwrap(), vec!["./web".into()]);
    let spec = Spec::new([web.clone()]);
    let parsed = ok("version: 1\nservices:\n  web:\n    command: [\"./web\"]\n");
    assert_eq!(spec.services.get(&web.name), Some(&web));
    assert_eq!(spec, parsed);
}
