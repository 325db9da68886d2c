//! Tests of the spec parser: a full spec, defaults, and one test per mistake
//! pinning the exact rendered error (file:line:col, key path, message, help).

use super::*;
use std::time::Duration;

fn ok(source: &str) -> Spec {
    match parse(source, "ward.yaml") {
        Ok(spec) => spec,
        Err(errors) => panic!("unexpected errors:\n{errors}"),
    }
}

fn err(source: &str) -> String {
    match parse(source, "ward.yaml") {
        Ok(spec) => panic!("expected an error, got {spec:?}"),
        Err(errors) => errors.to_string(),
    }
}

/// A spec with a single service `api` whose body is `body` (indented 4).
fn api(body: &str) -> String {
    format!("version: 1\nservices:\n  api:\n    command: [\"./api\"]\n{body}")
}

fn name(s: &str) -> ServiceName {
    ServiceName::new(s).unwrap()
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

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

/// One test per mistake: the source and the exact text it renders to.
macro_rules! rejects {
    ($($name:ident: $source:expr => $expected:expr;)*) => {
        $(
            #[test]
            fn $name() {
                assert_eq!(err(&String::from($source)), $expected);
            }
        )*
    };
}

rejects! {
    unknown_key_names_the_allowed_ones: api("    backoff: { initial: 1s, facter: 2 }\n")
        => concat!(
        "ward.yaml:5:29: services.api.backoff: unknown key `facter`, expected one of initial, factor, max, jitter\n",
        "  help: did you mean `factor`?",
    );
    command_string_with_an_open_quote: "version: 1\nservices:\n  api:\n    command: ./api --name 'x\n"
        => concat!(
        "ward.yaml:4:14: services.api.command: cannot split the string `./api --name 'x` into words: missing closing quote\n",
        r#"  help: close the quote, or write a list, like ["./api", "--port", "${PORT}"]"#,
    );
    yaml_syntax_error: "version: 1\nservices:\n  api:\n    command: [a, b\n    x: 1\n"
        => "ward.yaml:5:6: services.api: invalid yaml: illegal placement of ':' indicator";
    duplicate_key: "version: 1\nservices:\n  api:\n    command: [a]\n  api:\n    command: [b]\n"
        => "ward.yaml:5:3: services: duplicate key `api`, expected each key once";
    missing_command: "version: 1\nservices:\n  api:\n    replicas: 2\n"
        => "ward.yaml:3:3: services.api: missing key `command`";
    missing_version: "services:\n  api: { command: [a] }\n"
        => "ward.yaml:1:1: missing key `version`";
    empty_file: "# nothing\n"
        => "ward.yaml:2:1: empty spec, expected a mapping with `version` and `services`";
    top_level_not_a_mapping: "- a\n"
        => "ward.yaml:1:1: expected a mapping, found a list";
    wrong_version_and_no_services: "version: 2\nservices: {}\n"
        => concat!(
        "ward.yaml:1:10: version: unsupported version 2, expected 1\n",
        "ward.yaml:2:1: services: no services, expected at least one\n",
        r#"  help: add a service, like `api: { command: ["./api"] }`"#,
    );
    replicas_not_a_number: api("    replicas: two\n")
        => "ward.yaml:5:15: services.api.replicas: expected a whole number from 0 to 4294967295, found the string `two`";
    replicas_negative: api("    replicas: -1\n")
        => "ward.yaml:5:15: services.api.replicas: expected a whole number from 0 to 4294967295, found the number -1";
    unknown_duration: api("    stable_after: 5x\n")
        => "ward.yaml:5:19: services.api.stable_after: invalid duration `5x`, expected a duration such as 500ms, 10s or 5m";
    duration_without_unit: api("    stable_after: 30\n")
        => concat!(
        "ward.yaml:5:19: services.api.stable_after: expected a duration such as 500ms, 10s or 5m, found the number 30\n",
        "  help: add a unit, like 30s for seconds or 30ms for milliseconds",
    );
    unknown_size_and_keep_zero: "version: 1\nlogs: { max_size: 10XB, keep: 0 }\nservices:\n  api: { command: [a] }\n"
        => concat!(
        "ward.yaml:2:19: logs.max_size: invalid size `10XB`, expected a size such as 4096, 512KiB, 10MiB or 1GiB\n",
        "ward.yaml:2:31: logs.keep: keep 0 is out of range, expected at least 1",
    );
    max_size_zero: "version: 1\nlogs: { max_size: 0 }\nservices:\n  api: { command: [a] }\n"
        => "ward.yaml:2:19: logs.max_size: max_size 0 is out of range, expected more than 0 bytes";
    unknown_signal_name: api("    stop: { signal: SIGNOPE }\n")
        => "ward.yaml:5:21: services.api.stop.signal: unknown signal `SIGNOPE`, expected a name like SIGTERM or TERM, or a number from 1 to 64";
    unknown_signal_number: api("    stop: { signal: 99 }\n")
        => "ward.yaml:5:21: services.api.stop.signal: unknown signal `99`, expected a name like SIGTERM or TERM, or a number from 1 to 64";
    jitter_one: api("    backoff: { jitter: 1.0 }\n")
        => "ward.yaml:5:24: services.api.backoff.jitter: jitter 1.0 is out of range, expected at least 0 and less than 1";
    jitter_negative: api("    backoff: { jitter: -0.1 }\n")
        => "ward.yaml:5:24: services.api.backoff.jitter: jitter -0.1 is out of range, expected at least 0 and less than 1";
    factor_below_one: api("    backoff: { factor: 0.5 }\n")
        => "ward.yaml:5:24: services.api.backoff.factor: factor 0.5 is out of range, expected a number of at least 1";
    factor_nan: api("    backoff: { factor: .nan }\n")
        => "ward.yaml:5:24: services.api.backoff: non-finite number `.nan`, expected a finite number";
    max_below_initial: api("    backoff: { initial: 2m, max: 1m }\n")
        => "ward.yaml:5:34: services.api.backoff.max: max 1m is less than initial 2m, expected max >= initial";
    initial_above_default_max: api("    backoff: { initial: 2m }\n")
        => "ward.yaml:5:25: services.api.backoff.initial: initial 2m is more than max 1m (the default), expected initial <= max";
    rejected_value_is_not_judged_again: api("    backoff: { initial: 2x, max: 1s }\n")
        => "ward.yaml:5:25: services.api.backoff.initial: invalid duration `2x`, expected a duration such as 500ms, 10s or 5m";
    threshold_zero: api("    crash_loop: { threshold: 0 }\n")
        => "ward.yaml:5:30: services.api.crash_loop.threshold: threshold 0 is out of range, expected at least 1";
    probe_without_check: api("    health: { interval: 1s }\n")
        => "ward.yaml:5:5: services.api.health: no check, expected exactly one of exec, tcp, http";
    probe_with_two_checks: api("    health: { exec: [a], tcp: 'x:1' }\n")
        => "ward.yaml:5:26: services.api.health: several checks (exec, tcp), expected exactly one of exec, tcp, http";
    tcp_without_port: api("    health: { tcp: localhost }\n")
        => concat!(
        "ward.yaml:5:20: services.api.health.tcp: invalid tcp address `localhost`, expected host:port like 127.0.0.1:8080\n",
        "  help: the port may be a port name, like 127.0.0.1:${PORT}",
    );
    http_with_https: api("    ready: { http: 'https://example.com' }\n")
        => "ward.yaml:5:20: services.api.ready.http: invalid http url `https://example.com`, expected a url starting with http://";
    probe_zero_failures_and_interval: api("    ready: { http: 'http://x', failures: 0, interval: 0s }\n")
        => concat!(
        "ward.yaml:5:42: services.api.ready.failures: failures 0 is out of range, expected at least 1\n",
        "ward.yaml:5:55: services.api.ready.interval: interval 0s is out of range, expected more than 0s",
    );
    notify_false: api("    ready: { notify: false }\n")
        => concat!(
        "ward.yaml:5:22: services.api.ready.notify: expected `notify: true` or a probe\n",
        "  help: remove `ready` to treat a started instance as ready",
    );
    notify_with_probe_key: api("    ready: { notify: true, interval: 1s }\n")
        => "ward.yaml:5:28: services.api.ready: unknown key `interval`, expected one of notify, watchdog";
    unknown_runtime: api("    image: { rootfs: ./r, runtime: docker }\n")
        => "ward.yaml:5:36: services.api.image.runtime: unknown value `docker`, expected one of runc, crun, youki";
    image_without_rootfs: api("    image: { writable: true }\n")
        => "ward.yaml:5:5: services.api.image: missing key `rootfs`";
    resources_zero: api("    resources: { memory: 0, pids: 0 }\n")
        => concat!(
        "ward.yaml:5:26: services.api.resources.memory: memory 0 is out of range, expected more than 0 bytes\n",
        "ward.yaml:5:35: services.api.resources.pids: pids 0 is out of range, expected at least 1",
    );
    resources_bad_cpu: api("    resources: { cpu: -1 }\n")
        => concat!(
        "ward.yaml:5:23: services.api.resources.cpu: cpu -1.0 is out of range, expected a number of CPUs more than 0\n",
        "  help: write 0.5 for half of one CPU, 2 for two CPUs",
    );
    resources_without_a_cgroup: api("    cgroup: false\n    resources: { memory: 1GiB }\n")
        => concat!(
        "ward.yaml:5:13: services.api.cgroup: cgroup: false cannot go with resources:, which a native instance's cgroup applies\n",
        "  help: remove cgroup: false, or the resources: limits",
    );
    resources_bad_memory: api("    resources: { memory: lots }\n")
        => "ward.yaml:5:26: services.api.resources.memory: invalid size `lots`, expected a size such as 4096, 512KiB, 10MiB or 1GiB";
    resources_unknown_key: api("    resources: { disk: 1GiB }\n")
        => "ward.yaml:5:18: services.api.resources: unknown key `disk`, expected one of memory, memory_high, pids, cpu";
    empty_hook: api("    hooks: { on_isolate: [] }\n")
        => concat!(
        "ward.yaml:5:26: services.api.hooks.on_isolate: empty command, expected a list with the program first\n",
        r#"  help: name the program first, like ["./api", "--port", "${PORT}"]"#,
    );
    unknown_dependency: api("    depends_on: [db]\n")
        => concat!(
        "ward.yaml:5:18: services.api.depends_on[0]: unknown service `db`\n",
        "  help: known services: api",
    );
    self_dependency: api("    depends_on: [api]\n")
        => "ward.yaml:5:18: services.api.depends_on[0]: `api` depends on itself";
    invalid_dependency_name: api("    depends_on: [Db]\n")
        => "ward.yaml:5:18: services.api.depends_on[0]: invalid service name `Db`, expected to start with a lowercase letter or a digit";
    depends_on_not_a_list: api("    depends_on: db\n")
        => "ward.yaml:5:17: services.api.depends_on: expected a list of service names, or a mapping of service names to conditions, found the string `db`";
    invalid_port_name: api("    ports: { port: 80 }\n")
        => "ward.yaml:5:14: services.api.ports.port: invalid port name `port`, expected uppercase letters, digits and `_`, like PORT";
    port_zero: api("    ports: { PORT: 0 }\n")
        => "ward.yaml:5:20: services.api.ports.PORT: port 0 is out of range, expected 1 to 65535";
    port_too_large: api("    ports: { PORT: 70000 }\n")
        => "ward.yaml:5:20: services.api.ports.PORT: expected a port number from 1 to 65535, found the number 70000";
    port_range_past_65535: api("    replicas: 3\n    ports: { PORT: 65534 }\n")
        => concat!(
        "ward.yaml:6:20: services.api.ports.PORT: port range 65534-65536 of 3 replicas goes past 65535\n",
        "  help: lower the base port or the number of replicas",
    );
    same_port_twice_in_a_service: api("    ports: { PORT: 8080, ADMIN: 8080 }\n")
        => concat!(
        "ward.yaml:5:33: services.api.ports.ADMIN: port 8080 overlaps services.api.ports.PORT (8080)\n",
        "  help: give each port range its own ports",
    );
    unknown_panic_action: api("    on_panic: explode\n")
        => "ward.yaml:5:15: services.api.on_panic: unknown value `explode`, expected one of restart, shutdown, isolate";
    panic_mapping_without_action: api("    on_panic: { scope: all }\n")
        => "ward.yaml:5:5: services.api.on_panic: missing key `action`";
    unknown_restart_policy: api("    restart: sometimes\n")
        => "ward.yaml:5:14: services.api.restart: unknown value `sometimes`, expected one of always, on-failure, never";
    bad_env: api("    env: { A=B: x, C: ~ }\n")
        => concat!(
        "ward.yaml:5:12: services.api.env: invalid variable name `A=B`, expected no `=` and no NUL\n",
        "ward.yaml:5:23: services.api.env.C: expected a string, found nothing",
    );
    user_as_a_list: api("    user: [a]\n")
        => "ward.yaml:5:11: services.api.user: expected a user name or uid, found a list";
    invalid_service_name_and_empty_commands: "version: 1\nservices:\n  API: { command: [a] }\n  ok: { command: [] }\n  two: { command: [''] }\n"
        => concat!(
        "ward.yaml:3:3: services: invalid service name `API`, expected to start with a lowercase letter or a digit\n",
        "ward.yaml:4:18: services.ok.command: empty command, expected a list with the program first\n",
        r#"  help: name the program first, like ["./api", "--port", "${PORT}"]"#, "\n",
        "ward.yaml:5:20: services.two.command[0]: empty program name, expected the program to run",
    );
    fixture_unknown_key: include_str!("../../tests/specs/unknown_key.yaml")
        => concat!(
        "ward.yaml:6:29: services.api.backoff: unknown key `facter`, expected one of initial, factor, max, jitter\n",
        "  help: did you mean `factor`?",
    );
    fixture_cycle_is_named_once: include_str!("../../tests/specs/cycle.yaml")
        => concat!(
        "ward.yaml:9:18: services.api.depends_on[0]: dependency cycle: api -> db -> web -> api\n",
        "  help: remove one of these dependencies",
    );
    fixture_port_overlap_names_both: include_str!("../../tests/specs/port_overlap.yaml")
        => concat!(
        "ward.yaml:11:20: services.web.ports.PORT: port range 8081-8082 overlaps services.api.ports.PORT (8080-8081)\n",
        "  help: give each port range its own ports",
    );
    fixture_many_errors_all_reported: include_str!("../../tests/specs/many_errors.yaml")
        => concat!(
        "ward.yaml:5:14: services.api.command: cannot split the string `./api --port '8080` into words: missing closing quote\n",
        r#"  help: close the quote, or write a list, like ["./api", "--port", "${PORT}"]"#, "\n",
        "ward.yaml:6:14: services.api.restart: unknown value `sometimes`, expected one of always, on-failure, never\n",
        "ward.yaml:7:37: services.api.backoff.factor: factor 0.5 is out of range, expected a number of at least 1\n",
        "ward.yaml:7:47: services.api.backoff.max: max 1s is less than initial 2s, expected max >= initial\n",
        "ward.yaml:7:59: services.api.backoff.jitter: jitter 1.5 is out of range, expected at least 0 and less than 1\n",
        "ward.yaml:8:30: services.api.crash_loop.threshold: threshold 0 is out of range, expected at least 1\n",
        "ward.yaml:8:41: services.api.crash_loop.window: expected a duration such as 500ms, 10s or 5m, found the number 60\n",
        "  help: add a unit, like 60s for seconds or 60ms for milliseconds\n",
        "ward.yaml:9:21: services.api.stop.signal: unknown signal `SIGNOPE`, expected a name like SIGTERM or TERM, or a number from 1 to 64\n",
        "ward.yaml:10:20: services.api.health.tcp: invalid tcp address `localhost`, expected host:port like 127.0.0.1:8080\n",
        "  help: the port may be a port name, like 127.0.0.1:${PORT}\n",
        "ward.yaml:10:41: services.api.health.interval: interval 0s is out of range, expected more than 0s\n",
        "ward.yaml:11:22: services.api.depends_on[1]: unknown service `cache`\n",
        "  help: known services: api, db\n",
        "ward.yaml:14:33: services.db.ready: several checks (exec, http), expected exactly one of exec, tcp, http",
    );
}

#[test]
fn several_errors_are_all_reported_in_file_order() {
    let errors = parse(include_str!("../../tests/specs/many_errors.yaml"), "ward.yaml").unwrap_err();
    assert_eq!(errors.len(), 12);
    let positions: Vec<(u32, u32)> = errors.iter().map(|e| (e.line, e.column)).collect();
    let mut sorted = positions.clone();
    sorted.sort();
    assert_eq!(positions, sorted);
}

#[test]
fn a_cycle_of_two_is_reported_once() {
    let source = "version: 1\nservices:\n  b: { command: [b], depends_on: [a] }\n  a: { command: [a], depends_on: [b] }\n";
    assert_eq!(
        err(source),
        concat!(
            "ward.yaml:4:35: services.a.depends_on[0]: dependency cycle: a -> b -> a\n",
            "  help: remove one of these dependencies",
        )
    );
}

#[test]
fn error_display_without_path_or_help() {
    let error = SpecError {
        file: "w.yaml".into(),
        line: 1,
        column: 2,
        path: String::new(),
        message: "boom".into(),
        help: None,
    };
    assert_eq!(error.to_string(), "w.yaml:1:2: boom");
    let with_help = SpecError { path: "a.b".into(), help: Some("do this".into()), ..error };
    assert_eq!(with_help.to_string(), "w.yaml:1:2: a.b: boom\n  help: do this");
}

#[test]
fn durations() {
    assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
    assert_eq!(parse_duration("60s"), Ok(secs(60)));
    assert_eq!(parse_duration("5m"), Ok(secs(300)));
    assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
    assert_eq!(
        parse_duration("soon"),
        Err("invalid duration `soon`, expected a duration such as 500ms, 10s or 5m".into())
    );
}

#[test]
fn sizes() {
    assert_eq!(parse_size("4096"), Ok(4096));
    assert_eq!(parse_size("512KiB"), Ok(512 * 1024));
    assert_eq!(parse_size("10MiB"), Ok(10 << 20));
    assert_eq!(parse_size("10MB"), Ok(10_000_000));
    assert_eq!(parse_size("1GiB"), Ok(1 << 30));
    assert_eq!(parse_size("1 gib"), Ok(1 << 30));
    let expected = "invalid size `MiB`, expected a size such as 4096, 512KiB, 10MiB or 1GiB";
    assert_eq!(parse_size("MiB"), Err(expected.into()));
    assert!(parse_size("1.5GiB").is_err());
    assert!(parse_size("99999999999TiB").unwrap_err().contains("too large"));
}

#[test]
fn positions_in_depends_on_count_rejected_names() {
    assert_eq!(
        err(&api("    depends_on: [Db, zz]\n")),
        concat!(
            "ward.yaml:5:18: services.api.depends_on[0]: invalid service name `Db`, expected to start with a lowercase letter or a digit\n",
            "ward.yaml:5:22: services.api.depends_on[1]: unknown service `zz`\n",
            "  help: known services: api",
        )
    );
}

#[test]
fn huge_replica_counts_do_not_overflow_port_ranges() {
    assert_eq!(
        err(&api("    replicas: 4294967295\n    ports: { PORT: 80 }\n")),
        concat!(
            "ward.yaml:6:20: services.api.ports.PORT: port range 80-4294967374 of 4294967295 replicas goes past 65535\n",
            "  help: lower the base port or the number of replicas",
        )
    );
}

#[test]
fn syntax_errors_name_the_enclosing_keys() {
    let source = "version: 1\nservices:\n  api:\n    command: [\"./api\"]\n    backoff:\n      initial: 1s\n     max: 2s\n";
    assert_eq!(
        err(source),
        "ward.yaml:7:6: services.api.backoff: invalid yaml: while parsing a block mapping, did not find expected key"
    );
}

#[test]
fn exit_classes_success_curve_and_budget() {
    let spec = ok(&format!(
        "restart_budget: {{ rate: 300/m, burst: 50 }}\n{}",
        api(
            "    exit_codes: { success: [0, 143], no_restart: [78] }\n    success_backoff: { initial: 0s, factor: 1.0, max: 1s, jitter: 0 }\n"
        )
    ));
    let budget = spec.restart_budget.unwrap();
    assert_eq!((budget.rate, budget.burst), (5.0, 50));
    let s = &spec.services[&name("api")];
    assert_eq!(s.exit_codes, ExitCodesSpec { success: vec![0, 143], no_restart: vec![78] });
    assert_eq!(s.success_backoff.unwrap().max, secs(1));
    let spec = ok(&format!("restart_budget: {{ rate: 20/s }}\n{}", api("")));
    assert_eq!(spec.restart_budget.unwrap().burst, 20, "one second's worth by default");
    let spec = ok(&api(""));
    assert_eq!(spec.restart_budget, None);
    assert_eq!(spec.services[&name("api")].exit_codes, ExitCodesSpec::default());
}

rejects! {
    budget_rate_without_unit: format!("restart_budget: {{ rate: 20/d }}\n{}", api(""))
        => "ward.yaml:1:25: restart_budget.rate: invalid rate the string `20/d`, expected a rate like 20/s, 300/m or 1000/h (more than 0)";
    exit_code_in_both_lists: api("    exit_codes: { success: [0, 78], no_restart: [78] }\n")
        => "ward.yaml:5:49: services.api.exit_codes.no_restart: exit code 78 is in both success and no_restart, expected it in one of them";
    exit_code_out_of_range: api("    exit_codes: { no_restart: [300] }\n")
        => "ward.yaml:5:32: services.api.exit_codes.no_restart[0]: expected a whole number from 0 to 255, found the number 300";
    success_backoff_checked_like_backoff: api("    success_backoff: { jitter: 2 }\n")
        => "ward.yaml:5:32: services.api.success_backoff.jitter: jitter 2.0 is out of range, expected at least 0 and less than 1";
}

#[test]
fn a_spec_built_in_code_has_the_defaults_of_a_file() {
    let web = ServiceSpec::new("web".parse().unwrap(), vec!["./web".into()]);
    let spec = Spec::new([web.clone()]);
    let parsed = ok("version: 1\nservices:\n  web:\n    command: [\"./web\"]\n");
    assert_eq!(spec.services.get(&web.name), Some(&web));
    assert_eq!(spec, parsed);
}
