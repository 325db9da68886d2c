//! One test per mistake: the source and the exact text it renders to
//! (file:line:col, key path, message, help).

use super::*;

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
    fixture_unknown_key: include_str!("../../../tests/specs/unknown_key.yaml")
        => concat!(
        "ward.yaml:6:29: services.api.backoff: unknown key `facter`, expected one of initial, factor, max, jitter\n",
        "  help: did you mean `factor`?",
    );
    fixture_cycle_is_named_once: include_str!("../../../tests/specs/cycle.yaml")
        => concat!(
        "ward.yaml:9:18: services.api.depends_on[0]: dependency cycle: api -> db -> web -> api\n",
        "  help: remove one of these dependencies",
    );
    fixture_port_overlap_names_both: include_str!("../../../tests/specs/port_overlap.yaml")
        => concat!(
        "ward.yaml:11:20: services.web.ports.PORT: port range 8081-8082 overlaps services.api.ports.PORT (8080-8081)\n",
        "  help: give each port range its own ports",
    );
    fixture_many_errors_all_reported: include_str!("../../../tests/specs/many_errors.yaml")
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
