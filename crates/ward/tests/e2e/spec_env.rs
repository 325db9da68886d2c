//! Writing a spec the way people already do: `${VAR}` from ward's
//! environment and `.env`, `env_file:` for a service's environment, and a
//! command given as one string (split into words, no shell). Values from
//! the environment or env files never show in `check`, `status` or `why`.

use crate::harness::{TempDir, Ward, eventually, ward_bin};
use std::process::{Command, Output, Stdio};

/// `ward check -f ward.yaml` in `dir`, with `env` added to the environment.
fn check(dir: &TempDir, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(ward_bin());
    cmd.arg("check").arg("-f").arg(dir.0.join("ward.yaml")).stdin(Stdio::null());
    cmd.env_remove("DB_URL").env_remove("HEALTH_URL");
    cmd.envs(env.iter().copied());
    cmd.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn dotenv_env_file_and_a_command_string_reach_the_service() {
    let spec = r#"version: 1
services:
  app:
    command: "sh -c 'echo \"${GREETING} ${WHO:-world} $$SECRET $$MODE on $${PORT}\"; exec sleep 600'"
    env_file: [app.env, "${STAGE}.env"]
    env: { MODE: spec }
    ports: { PORT: 7101 }
  words:
    command: printf '%s|' "a b" c ${GREETING}
    restart: never
"#;
    let files = [
        (".env", "GREETING=hello\nSTAGE=prod\n"),
        ("app.env", "# the app's secrets\nSECRET=s3cr3t-value\nMODE=file\n"),
        ("prod.env", "export SECRET='s3cr3t-prod'\n"),
    ];
    let mut w = Ward::start_with_files("spec-env", spec, &files);
    w.wait_event("app", 0, "started", 20);
    w.wait_event("words", 0, "completed", 20);
    let out = w.cli(&["logs", "words"]);
    assert_eq!(text(&out.stdout), "a b|c|hello|", "split by shell-word rules, no shell");
    eventually("app printed its line", 20, || {
        text(&w.cli(&["logs", "app"]).stdout).contains("hello world s3cr3t-prod spec on 7101")
    });
    for args in [&["status", "--json"][..], &["why", "app"], &["check"]] {
        let out = w.cli(args);
        let all = text(&out.stdout) + &text(&out.stderr);
        assert!(out.status.success(), "{args:?}: {all}");
        assert!(!all.contains("s3cr3t"), "{args:?} shows a secret: {all}");
    }
}

#[test]
fn check_names_unset_variables_and_missing_env_files_without_values() {
    let dir = TempDir::new("spec-env-check");
    let spec = r#"version: 1
services:
  api:
    command: ["./api", "${DB_URL:?set DB_URL to the database's URL}"]
    env_file: missing.env
    health: { http: "${HEALTH_URL}" }
"#;
    std::fs::write(dir.0.join("ward.yaml"), spec).unwrap();
    let file = dir.0.join("ward.yaml").display().to_string();
    let out = check(&dir, &[("HEALTH_URL", "ftp://user:hunter2@host")]);
    assert_eq!(out.status.code(), Some(2));
    let missing = dir.0.join("missing.env").display().to_string();
    assert_eq!(
        text(&out.stderr),
        format!(
            "{file}:4:24: services.api.command[1]: DB_URL is not set: set DB_URL to the database's URL\n  \
             help: set DB_URL in ward's environment or in .env beside the spec\n\
             {file}:5:15: services.api.env_file: cannot read env file {missing}: No such file or directory (os error 2)\n  \
             help: create it, or remove it from env_file\n\
             {file}:6:21: services.api.health.http: invalid http url `${{HEALTH_URL}}`, expected a url starting with http://\n\
             ward: {file}: 3 errors\n"
        )
    );
    std::fs::write(dir.0.join("missing.env"), "A=1\n").unwrap();
    let out = check(&dir, &[("DB_URL", "pg://db/x"), ("HEALTH_URL", "http://127.0.0.1:1/")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{file}: ok: 1 service, 1 instance\n"));
}
