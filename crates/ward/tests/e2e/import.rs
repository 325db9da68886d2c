//! `ward import`: realistic files of each format (tests/fixtures/import,
//! written for these tests) become specs that `ward check` accepts, with the
//! settings a user expects and comments where ward differs; and a converted
//! Procfile runs under `ward up`.

use crate::harness::{TempDir, Ward, ward_bin};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import").join(name)
}

fn ward(args: &[&str]) -> Output {
    Command::new(ward_bin()).args(args).stdin(Stdio::null()).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Imports `files` into a fresh folder's ward.yaml, checks it with `ward
/// check` (which must count `services` services), and returns the spec text
/// and import's stderr (its summary).
fn import_and_check(tag: &str, files: &[&str], extra: &[&str], services: usize) -> (String, String) {
    let dir = TempDir::new(tag);
    let out = dir.0.join("ward.yaml");
    let mut args: Vec<String> = vec!["import".into()];
    args.extend(files.iter().map(|f| fixture(f).display().to_string()));
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(["-o".into(), out.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let imported = ward(&args);
    let stderr = text(&imported.stderr);
    assert!(imported.status.success(), "import failed: {stderr}");
    let spec = std::fs::read_to_string(&out).unwrap();
    // What the converted specs read from ward's environment, and an env file
    // they name, as a user would provide them where ward runs.
    std::fs::write(dir.0.join(".env"), "SECRET_KEY=from-dotenv\n").unwrap();
    let checked = Command::new(ward_bin())
        .args(["check", "-f", &out.display().to_string()])
        .env("BROKER_URL", "redis://127.0.0.1:6379/0")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let said = text(&checked.stdout);
    assert!(checked.status.success(), "ward check refused the import:\n{spec}\n{}", text(&checked.stderr));
    let plural = if services == 1 { "" } else { "s" };
    assert!(said.contains(&format!("ok: {services} service{plural}")), "{said}");
    (spec, stderr)
}

fn has(spec: &str, line: &str) {
    assert!(spec.contains(line), "expected `{line}` in:\n{spec}");
}

#[test]
fn a_procfile_becomes_one_service_per_line_with_shell_lines_through_sh() {
    let (spec, summary) = import_and_check("imp-procfile", &["Procfile"], &[], 4);
    has(&spec, "command: [\"sh\", \"-c\", \"bundle exec puma -C config/puma.rb -p $PORT\"]");
    has(&spec, "ports: { PORT: 5000 }");
    has(
        &spec,
        "command: [\"bundle\", \"exec\", \"sidekiq\", \"-q\", \"default\", \"-q\", \"mailers\", \"-c\", \"5\"]",
    );
    has(&spec, "# ward import: Heroku runs `release` once per deploy");
    assert!(summary.contains("4 services written to"), "{summary}");
}

#[test]
fn supervisord_programs_keep_replicas_restart_stop_env_and_note_the_rest() {
    let (spec, summary) = import_and_check("imp-supervisord", &["supervisord.conf"], &[], 2);
    has(&spec, "replicas: 2");
    has(&spec, "\"--hostname=worker${WARD_REPLICA}@%h\"");
    has(&spec, "BROKER_URL: \"${BROKER_URL}\"");
    has(&spec, "restart: on-failure\n    exit_codes: { success: [0, 2] }");
    has(&spec, "stop: { signal: SIGQUIT, timeout: 10m }");
    has(&spec, "stop: { signal: SIGTERM, timeout: 30s }");
    has(&spec, "      DJANGO_SETTINGS_MODULE: \"app.settings.prod\"\n      PYTHONUNBUFFERED: \"1\"");
    has(&spec, "# ward import: startsecs=5:");
    assert!(summary.contains("[group:app] (line 43): no counterpart in ward"), "{summary}");
    assert!(summary.contains("api: priority=100"), "{summary}");
}

#[test]
fn systemd_units_merge_with_their_dependencies_restart_curve_and_notify() {
    let (spec, summary) = import_and_check("imp-systemd", &["api.service", "db.service"], &[], 2);
    has(&spec, "ready: { notify: true, watchdog: 30s }");
    has(&spec, "backoff: { initial: 2s, factor: 1.974, max: 1m, jitter: 0.0 }");
    has(&spec, "crash_loop: { threshold: 5, window: 2m }");
    has(&spec, "exit_codes: { success: [0, 143, 75] }");
    has(&spec, "exit_codes: { no_restart: [78] }");
    has(&spec, "stop: { timeout: 45s, signal: SIGINT }");
    has(&spec, "command: [\"/usr/bin/kvdb\", \"--data\", \"/var/lib/kvdb\", \"--port\", \"7000\"]");
    has(&spec, "    depends_on: [\"db\"]");
    has(&spec, "# not converted: EnvironmentFile=-/etc/default/api");
    assert!(summary.contains("api: LimitNOFILE=65536"), "{summary}");
}

#[test]
fn process_compose_probes_availability_and_conditions() {
    let (spec, summary) = import_and_check("imp-pc", &["process-compose.yaml"], &[], 3);
    has(
        &spec,
        "ready: { exec: [\"sh\", \"-c\", \"pg_isready -h 127.0.0.1 -p 5433\"], interval: 5s, timeout: 2s, grace: 2s, failures: 10 }",
    );
    has(&spec, "health: { http: \"http://127.0.0.1:8080/healthz\", interval: 10s, failures: 3 }");
    has(&spec, "command: [\"sh\", \"-c\", \"./bin/api --port 8080 2>&1 | tee -a api.log\"]");
    has(&spec, "stop: { signal: SIGINT, timeout: 20s }");
    has(&spec, "depends_on: { migrate: completed, postgres: ready }");
    has(&spec, "restart: never\n    depends_on: [\"postgres\"]");
    assert!(summary.contains("top-level log_location"), "{summary}");
}

#[test]
fn pm2_ecosystems_in_json_and_yaml() {
    let (spec, summary) = import_and_check("imp-pm2", &["ecosystem.config.json", "ecosystem.yaml"], &[], 3);
    has(&spec, "command: [\"node\", \"--enable-source-maps\", \"./dist/server.js\", \"--port\", \"3000\"]");
    has(&spec, "replicas: 4");
    has(&spec, "backoff: { initial: 100ms, factor: 1.5, max: 15s, jitter: 0.0 }");
    has(&spec, "command: [\"./bin/mailer\", \"--queue\", \"outgoing\"]");
    has(&spec, "restart: never");
    assert!(summary.contains("web: exec_mode: cluster"), "{summary}");
}

#[test]
fn compose_services_without_builds_with_healthchecks_as_readiness() {
    let (spec, summary) = import_and_check("imp-compose", &["docker-compose.yml"], &[], 3);
    has(
        &spec,
        "command: [\"/app/api\", \"--listen\", \"0.0.0.0:8080\", \"--redis\", \"redis://127.0.0.1:6380\"]",
    );
    has(
        &spec,
        "ready: { exec: [\"redis-cli\", \"-p\", \"6380\", \"ping\"], interval: 5s, timeout: 3s, failures: 5 }",
    );
    has(&spec, "stop: { signal: SIGINT, timeout: 90s }");
    has(&spec, "replicas: 2");
    has(&spec, "env_file: [\".env\"]");
    has(&spec, "SECRET_KEY: \"${SECRET_KEY}\"");
    has(&spec, "    depends_on: [\"redis\"]\n");
    has(&spec, "    depends_on: { redis: started }\n");
    assert!(summary.contains("service frontend: it builds its image"), "{summary}");
    assert!(summary.contains("service db: no command:"), "{summary}");
    assert!(summary.contains("api: dependency on frontend"), "{summary}");
}

#[test]
fn the_format_is_found_by_content_or_forced_and_bad_input_is_refused() {
    let dir = TempDir::new("imp-detect");
    let odd = dir.0.join("procs.txt");
    std::fs::write(&odd, std::fs::read_to_string(fixture("supervisord.conf")).unwrap()).unwrap();
    let out = ward(&["import", &odd.display().to_string()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("from"), "the spec goes to stdout");
    assert!(text(&out.stderr).contains("(line 43)"), "{}", text(&out.stderr));

    let unknown = dir.0.join("notes.txt");
    std::fs::write(&unknown, "just some words\n").unwrap();
    let out = ward(&["import", &unknown.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("help: pass --format with one of procfile, supervisord"),
        "{}",
        text(&out.stderr)
    );

    let out = ward(&["import", "--format", "procfile", &unknown.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    let said = text(&out.stderr);
    assert!(said.contains("notes.txt:1: expected `name: command`, found `just some words`"), "{said}");

    let target = dir.0.join("ward.yaml");
    std::fs::write(&target, "keep me").unwrap();
    let (p, t) = (fixture("Procfile").display().to_string(), target.display().to_string());
    let out = ward(&["import", &p, "-o", &t]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("pass --force to overwrite it"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    assert!(ward(&["import", &p, "-o", &t, "--force"]).status.success());
}

#[test]
fn a_converted_procfile_runs_under_ward_up() {
    let dir = TempDir::new("imp-run");
    let procfile = dir.0.join("Procfile");
    // `${…}` and `$$` are the shell's here: ward must pass them through untouched.
    let line = "web: echo \"listening on $PORT as ${WARD_SERVICE:-nobody} ($$)\" && exec sleep 300\n";
    std::fs::write(&procfile, line).unwrap();
    let out = ward(&["import", &procfile.display().to_string()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut w = Ward::start("imp-run-up", &text(&out.stdout));
    w.wait_event("web", 0, "started", 20);
    crate::harness::eventually("the line in web's log", 20, || {
        text(&w.cli(&["logs", "-n", "5", "web"]).stdout).contains("listening on 5000 as web (")
    });
    assert!(w.cli(&["down"]).status.success());
    assert_eq!(w.wait_exit(30), 0);
}
