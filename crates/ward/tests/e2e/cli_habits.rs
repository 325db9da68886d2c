//! CLI habits: completions, man pages, an example in every --help, `ward
//! init`, `ward signal`.

use crate::harness::{TempDir, Ward, eventually, ward_bin};
use std::process::{Command, Output};

fn ward(args: &[&str]) -> Output {
    Command::new(ward_bin()).args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn completions_for_bash_zsh_fish_name_every_verb() {
    for shell in ["bash", "zsh", "fish"] {
        let out = ward(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        for verb in ["status", "top", "signal", "init", "unblock"] {
            assert!(script.contains(verb), "{shell} completion lacks {verb}");
        }
        assert!(!script.contains("__brain"), "{shell}: the hidden verb is not offered");
    }
    // The bash script is valid bash.
    let dir = TempDir::new("completions");
    let file = dir.0.join("ward.bash");
    std::fs::write(&file, ward(&["completions", "bash"]).stdout).unwrap();
    let out = Command::new("bash").arg("-n").arg(&file).output().unwrap();
    assert!(out.status.success(), "bash -n: {}", text(&out.stderr));
    let out = ward(&["completions", "tcsh-ish"]);
    assert_eq!(out.status.code(), Some(2), "an unknown shell is a usage error");
}

#[test]
fn man_prints_roff_and_writes_a_page_per_verb() {
    let out = ward(&["man"]);
    assert!(out.status.success());
    let page = text(&out.stdout);
    assert!(page.starts_with(".ie") || page.contains(".TH ward 1"), "{}", &page[..page.len().min(200)]);
    assert!(page.contains("signal"), "the verbs are listed");
    let dir = TempDir::new("man");
    let out_dir = dir.0.join("man1");
    let out = ward(&["man", "-o", out_dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for page in ["ward.1", "ward-top.1", "ward-signal.1", "ward-status.1", "ward-completions.1"] {
        let body = std::fs::read_to_string(out_dir.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(body.contains(".TH"), "{page} is roff");
    }
    assert!(!out_dir.join("ward-__brain.1").exists(), "no page for the hidden verb");
    let top = std::fs::read_to_string(out_dir.join("ward-top.1")).unwrap();
    assert!(top.contains("Example"), "the --help example is in the page");
}

#[test]
fn every_verb_help_has_an_example() {
    let verbs = [
        "check",
        "up",
        "status",
        "endpoints",
        "start",
        "stop",
        "restart",
        "unblock",
        "logs",
        "why",
        "events",
        "reload",
        "down",
        "top",
        "signal",
        "init",
        "completions",
        "man",
        "token",
    ];
    for verb in verbs {
        let out = ward(&[verb, "--help"]);
        assert!(out.status.success(), "{verb} --help");
        let help = text(&out.stdout);
        assert!(
            help.contains("Example") && help.contains("  ward "),
            "`ward {verb} --help` has no example:\n{help}"
        );
    }
}

#[test]
fn init_writes_a_starter_that_passes_check_and_never_overwrites() {
    let dir = TempDir::new("init");
    let spec = dir.0.join("ward.yaml");
    let spec = spec.to_str().unwrap();
    let out = ward(&["init", "-f", spec]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(spec).unwrap();
    assert!(written.lines().filter(|l| l.trim_start().starts_with('#')).count() >= 5, "commented: {written}");
    let out = ward(&["check", "-f", spec]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    std::fs::write(spec, "version: 1\nservices: {}\n").unwrap();
    let out = ward(&["init", "-f", spec]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("exists"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(spec).unwrap(), "version: 1\nservices: {}\n", "left as it was");
}

#[test]
fn init_turns_a_procfile_into_services() {
    let dir = TempDir::new("procfile");
    std::fs::write(dir.0.join("Procfile"), "web: python3 -m http.server $PORT\nworker: sh -c 'sleep 60'\n")
        .unwrap();
    let spec = dir.0.join("ward.yaml");
    let out = ward(&["init", "-f", spec.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("from the Procfile"));
    let out = ward(&["check", "-f", spec.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("2 services"), "{}", text(&out.stdout));

    std::fs::write(dir.0.join("Procfile"), "web python3\n").unwrap();
    std::fs::remove_file(&spec).unwrap();
    let out = ward(&["init", "-f", spec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("Procfile:1: expected `name: command`"), "{}", text(&out.stderr));
    assert!(!spec.exists());
}

const TRAPPER: &str = r#"version: 1
services:
  web:
    command: ["sh", "-c", "trap 'echo got-hup' HUP; echo waiting; while :; do sleep 0.1; done"]
"#;

#[test]
fn signal_reaches_the_instance_and_bad_signals_are_refused() {
    let mut w = Ward::start("signal", TRAPPER);
    w.wait_event("web", 0, "started", 20);
    eventually("the trap is set", 20, || text(&w.cli(&["logs", "web/0"]).stdout).contains("waiting"));
    let out = w.cli(&["signal", "web/0", "HUP"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("sent SIGHUP to web/0"), "{}", text(&out.stdout));
    eventually("the trap ran", 20, || text(&w.cli(&["logs", "web/0"]).stdout).contains("got-hup"));
    assert_eq!(w.instance("web", 0)["state"], "running", "HUP was trapped: still running");

    let out = w.cli(&["signal", "web/0", "SIGFOO"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown signal \"SIGFOO\""), "{}", text(&out.stderr));
    let out = w.cli(&["signal", "nope", "HUP"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no service named nope"), "{}", text(&out.stderr));

    // A number works too: 15 ends it, and the policy sees the signal.
    let out = w.cli(&["signal", "web", "15"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ev = w.wait_event("web", 0, "exited", 20);
    assert_eq!(ev["exit"]["signal"], 15, "{ev}");
}

const FAST: &str = r#"version: 1
services:
  web:
    command: ["sh", "-c", "exec sleep 600"]
    backoff: { initial: 0s }
"#;

#[test]
fn isolate_keeps_the_process_out_of_rotation_and_never_restarts_it() {
    // `initial: 0s`: the keeper holds a standing order to restart at once; isolate withdraws it.
    let mut w = Ward::start("isolate", FAST);
    let started = w.wait_event("web", 0, "started", 20);
    let pid = started["pid"].as_u64().unwrap();
    let out = w.cli(&["isolate", "web/0"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    w.wait_event("web", 0, "isolated", 20);
    let i = w.instance("web", 0);
    assert_eq!((i["state"].as_str(), i["pid"].as_u64()), (Some("isolated"), Some(pid)), "{i}");
    let endpoints = text(&w.cli(&["endpoints", "web"]).stdout);
    assert!(endpoints.contains("no instance of web in rotation"), "{endpoints}");
    let out = w.cli(&["isolate", "web/0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("already isolated"), "{}", text(&out.stderr));

    crate::harness::kill(pid as i32, libc::SIGKILL);
    w.wait_event("web", 0, "exited", 20);
    let i = w.instance("web", 0);
    assert_eq!((i["state"].as_str(), i["pid"].as_u64()), (Some("isolated"), None), "not restarted: {i}");
    let out = w.cli(&["start", "web/0"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    w.wait_event("web", 0, "started", 20);
}
