//! systemd `.service` units: one service per unit, named after the file.
//!
//! Restart policy follows systemd's own defaults when the unit says nothing
//! (`Restart=no`, a flat `RestartSec=100ms` with no jitter), so the result
//! behaves as the unit did. Dependencies on other converted units become
//! `depends_on`; the rest (targets, sockets) are noted.

use super::draft::{Draft, Service, Value};
use super::ini::{self, Dialect, Section};
use super::{ConvertError, words};
use std::time::Duration;

/// Converts one unit file; `file` also gives the service its name.
pub fn convert(text: &str, file: &str) -> Result<Draft, ConvertError> {
    let sections = ini::parse(text, file, Dialect::Systemd)?;
    let base = file.rsplit('/').next().unwrap_or(file);
    let unit = base.strip_suffix(".service").unwrap_or(base);
    let Some(service) = sections.iter().find(|s| s.name == "Service") else {
        return Err(super::shape(file, "no [Service] section"));
    };
    let empty = Section { name: "Unit".into(), line: 0, entries: Vec::new() };
    let unit_section = sections.iter().find(|s| s.name == "Unit").unwrap_or(&empty);
    let mut s = words::name_service(unit.trim_end_matches('@'), file);
    if unit.ends_with('@') {
        s.drop(format!("{base} is a template"), "ward converts it once; %i is left as written");
    }
    command(&mut s, service);
    kind(&mut s, service);
    restart(&mut s, service, unit_section);
    process(&mut s, service);
    dependencies(&mut s, unit_section);
    let mut draft = Draft { services: vec![s], skipped: Vec::new() };
    for other in sections.iter().filter(|x| !matches!(x.name.as_str(), "Unit" | "Service")) {
        draft.skipped.push(format!("{base} [{}]: ward starts every service of its spec", other.name));
    }
    Ok(draft)
}

fn command(s: &mut Service, sec: &Section) {
    let starts = sec.all("ExecStart");
    let Some(first) = starts.first() else {
        s.approx("command", Value::strs(&["false"]), "the unit has no ExecStart=");
        return;
    };
    let mut line = first.value.as_str();
    let prefix: String = line.chars().take_while(|c| "@-:+!".contains(*c)).collect();
    line = &line[prefix.len()..];
    let argv = words::plain_command(line).unwrap_or_default();
    if argv.is_empty() {
        s.approx("command", Value::strs(&["sh", "-c", line]), "ExecStart= did not split into words");
    } else if line.contains('%') {
        s.approx("command", Value::strs(&argv), "ExecStart= has %-specifiers, which ward leaves as written");
    } else if line.contains('$') {
        s.approx("command", Value::strs(&argv), "systemd expands $VAR from Environment=; ward leaves ${VAR} as written (only ports and WARD_* are templates)");
    } else {
        s.set("command", Value::strs(&argv));
    }
    if !prefix.is_empty() {
        s.drop(format!("the ExecStart= prefix `{prefix}`"), "no counterpart in ward");
    }
    for extra in &starts[1..] {
        s.drop(
            format!("ExecStart={} (line {})", extra.value, extra.line),
            "ward runs one command per service",
        );
    }
}

fn kind(s: &mut Service, sec: &Section) {
    let ty = sec.get("Type").map_or("simple", |e| e.value.as_str());
    let watchdog = sec.get("WatchdogSec").and_then(|e| secs(&e.value));
    match ty {
        "notify" | "notify-reload" => {
            let mut ready = vec![("notify".to_string(), Value::raw("true"))];
            if let Some(w) = watchdog.filter(|w| !w.is_zero()) {
                ready.push(("watchdog".to_string(), words::duration(w)));
            }
            s.set("ready", Value::Map(ready));
        }
        "simple" | "exec" | "idle" => {}
        "oneshot" => {
            s.drop("Type=oneshot", "ward runs it once with restart: never unless Restart= says otherwise")
        }
        "forking" => {
            s.drop("Type=forking", "ward supervises the process it starts: run the program in the foreground")
        }
        other => s.drop(format!("Type={other}"), "no counterpart in ward"),
    }
    if watchdog.is_some() && !ty.starts_with("notify") {
        s.drop("WatchdogSec=", "ward's watchdog needs Type=notify (ready: { notify: true })");
    }
}

fn restart(s: &mut Service, sec: &Section, unit: &Section) {
    let policy = sec.get("Restart").map_or("no", |e| e.value.as_str());
    let (word, note) = match policy {
        "no" => {
            ("never", sec.get("Restart").is_none().then_some("Restart= is not set: systemd's default is no"))
        }
        "always" => ("always", None),
        "on-failure" => ("on-failure", None),
        "on-abnormal" | "on-abort" | "on-watchdog" => {
            ("on-failure", Some("ward restarts every failure; systemd only signals, timeouts and watchdog"))
        }
        "on-success" => ("always", Some("Restart=on-success: ward restarts failures too")),
        _ => ("on-failure", Some("unknown Restart= value")),
    };
    match note {
        Some(n) => s.approx("restart", Value::raw(word), format!("Restart={policy}: {n}")),
        None => s.set("restart", Value::raw(word)),
    }
    if word != "never" {
        backoff(s, sec);
    }
    let burst = unit.get("StartLimitBurst").or_else(|| sec.get("StartLimitBurst"));
    let interval = ["StartLimitIntervalSec", "StartLimitInterval"]
        .iter()
        .find_map(|k| unit.get(k).or_else(|| sec.get(k)))
        .and_then(|e| secs(&e.value));
    if let Some(n) = burst.and_then(|e| e.value.parse::<u32>().ok()).filter(|n| *n > 0) {
        let mut gate = vec![("threshold".to_string(), Value::raw(n))];
        if let Some(w) = interval.filter(|w| !w.is_zero()) {
            gate.push(("window".to_string(), words::duration(w)));
        }
        s.approx(
            "crash_loop",
            Value::Map(gate),
            "StartLimitBurst/IntervalSec count starts and leave the unit failed until reset; ward counts crashes and blocks for crash_loop.cooldown (5m)",
        );
    }
    exit_codes(s, sec);
}

/// systemd's restart delay: `RestartSec` (100ms), growing to
/// `RestartMaxDelaySec` over `RestartSteps` steps, without jitter.
fn backoff(s: &mut Service, sec: &Section) {
    let initial = sec.get("RestartSec").and_then(|e| secs(&e.value)).unwrap_or(Duration::from_millis(100));
    let steps = sec.get("RestartSteps").and_then(|e| e.value.parse::<u32>().ok()).filter(|n| *n > 0);
    let max = sec.get("RestartMaxDelaySec").and_then(|e| secs(&e.value));
    let mut curve = vec![("initial".to_string(), words::duration(initial))];
    match (steps, max) {
        (Some(n), Some(max)) if max > initial && !initial.is_zero() => {
            let factor = (max.as_secs_f64() / initial.as_secs_f64()).powf(1.0 / f64::from(n));
            curve.push(("factor".to_string(), Value::raw(format!("{:.3}", factor.max(1.0)))));
            curve.push(("max".to_string(), words::duration(max)));
        }
        _ => {
            curve.push(("factor".to_string(), Value::raw("1.0")));
            curve.push(("max".to_string(), words::duration(initial)));
        }
    }
    curve.push(("jitter".to_string(), Value::raw("0.0")));
    s.set("backoff", Value::Map(curve));
}

/// `exit_codes:` from SuccessExitStatus (codes, and signals as 128+N) and
/// RestartPreventExitStatus (codes).
fn exit_codes(s: &mut Service, sec: &Section) {
    let mut map = Vec::new();
    for (key, spec_key) in [("SuccessExitStatus", "success"), ("RestartPreventExitStatus", "no_restart")] {
        let Some(e) = sec.get(key) else { continue };
        let mut list = if spec_key == "success" { vec![Value::raw(0)] } else { Vec::new() };
        for word in e.value.split_whitespace() {
            match (word.parse::<i32>(), ward_core::exit::signal_number(word)) {
                (Ok(code), _) => list.push(Value::raw(code)),
                (_, Some(sig)) if spec_key == "success" => list.push(Value::raw(128 + sig)),
                _ => s.drop(format!("{key}={word}"), "not an exit code ward can match"),
            }
        }
        map.push((spec_key.to_string(), Value::List(list)));
    }
    if !map.is_empty() {
        s.set("exit_codes", Value::Map(map));
    }
}

fn process(s: &mut Service, sec: &Section) {
    let mut stop = Vec::new();
    let mut env_files = Vec::new();
    for e in &sec.entries {
        let orig = format!("{}={}", e.key, e.value);
        match e.key.as_str() {
            "ExecStart"
            | "Type"
            | "Restart"
            | "RestartSec"
            | "RestartSteps"
            | "RestartMaxDelaySec"
            | "StartLimitBurst"
            | "StartLimitIntervalSec"
            | "StartLimitInterval"
            | "WatchdogSec"
            | "SuccessExitStatus"
            | "RestartPreventExitStatus"
            | "Environment" => {}
            "User" => s.set("user", Value::Str(e.value.clone())),
            "WorkingDirectory" => {
                let dir = e.value.trim_start_matches('-');
                if dir == "~" {
                    s.drop(orig, "the user's home is not known here");
                } else {
                    s.set("workdir", Value::Str(dir.to_string()));
                }
            }
            "KillSignal" => match words::signal(&e.value) {
                Some(sig) => stop.push(("signal".to_string(), sig)),
                None => s.drop(orig, "unknown signal"),
            },
            "TimeoutStopSec" | "TimeoutSec" => match secs(&e.value) {
                Some(d) => stop.push(("timeout".to_string(), words::duration(d))),
                None => s.drop(orig, "not a duration ward reads"),
            },
            "KillMode" if matches!(e.value.as_str(), "control-group" | "mixed") => {}
            "EnvironmentFile" => env_files.push(e.value.clone()),
            _ => s.drop(orig, "no counterpart in ward"),
        }
    }
    let env: Vec<(String, Value)> = sec
        .all("Environment")
        .iter()
        .flat_map(|e| words::split(&e.value).unwrap_or_default())
        .filter_map(|w| w.split_once('=').map(|(k, v)| (k.to_string(), Value::Str(v.to_string()))))
        .collect();
    env_file(s, &env_files);
    if !env.is_empty() {
        s.set("env", Value::Map(env));
    }
    if !stop.is_empty() {
        s.set("stop", Value::Map(stop));
    }
}

/// `EnvironmentFile=` as `env_file:`; an optional one (`-path`) stays a
/// comment, since a missing env file is an error in ward.
fn env_file(s: &mut Service, values: &[String]) {
    let mut files = Vec::new();
    for value in values {
        match value.strip_prefix('-') {
            Some(path) => s.drop(
                format!("EnvironmentFile={value}"),
                format!("optional in systemd; a missing env file is an error in ward: add env_file: [{path:?}] if it is always there"),
            ),
            None => files.push(Value::Str(value.clone())),
        }
    }
    if !files.is_empty() {
        s.approx(
            "env_file",
            Value::List(files),
            "systemd reads it with its own quoting rules; ward reads the dotenv format (KEY=value, quotes, # comments)",
        );
    }
}

fn dependencies(s: &mut Service, unit: &Section) {
    let mut bound: Vec<String> = Vec::new();
    for e in &unit.entries {
        let orig = format!("{}={}", e.key, e.value);
        match e.key.as_str() {
            "After" | "Requires" | "BindsTo" | "Wants" | "Requisite" => {
                for name in e.value.split_whitespace() {
                    match name.strip_suffix(".service") {
                        Some(dep) => {
                            s.depends_on.push((words::service_name(dep), "ready"));
                            if e.key == "BindsTo" {
                                bound.push(words::service_name(dep));
                            }
                        }
                        None if e.key == "After" => {}
                        None => s.drop(
                            format!("{}={name}", e.key),
                            "not a service: ward has no targets or sockets",
                        ),
                    }
                }
                if e.key == "After" {
                    s.drop(orig, "After= only orders starts (and names no service ward has, for targets and sockets); ward's depends_on waits until each service dependency is running (or ready)");
                }
            }
            "Description"
            | "Documentation"
            | "StartLimitBurst"
            | "StartLimitIntervalSec"
            | "StartLimitInterval" => {}
            _ => s.drop(orig, "no counterpart in ward"),
        }
    }
    if bound.is_empty() {
        return;
    }
    if s.depends_on.iter().all(|(d, _)| bound.contains(d)) {
        s.set("binds_to", Value::raw("true"));
    } else {
        s.approx(
            "binds_to",
            Value::raw("true"),
            format!(
                "BindsTo= names {}; ward's binds_to stops it when any dependency goes down",
                bound.join(", ")
            ),
        );
    }
}

/// A systemd time span: `30`, `30s`, `1min 30s`, `500ms`, `infinity` (none).
fn secs(text: &str) -> Option<Duration> {
    let t = text.trim().replace("min", "m").replace("sec", "s");
    words::parse_duration(&t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notify_unit_with_restart_steps_and_limits() {
        let unit = "[Unit]\nDescription=API\nAfter=network.target db.service\nBindsTo=db.service\nStartLimitBurst=4\nStartLimitIntervalSec=60\n\n[Service]\nType=notify\nWatchdogSec=30\nExecStart=/usr/bin/api --port 8080\nRestart=on-failure\nRestartSec=1\nRestartSteps=4\nRestartMaxDelaySec=16\nUser=api\nEnvironment=\"A=1\" B=two\nKillSignal=SIGINT\nTimeoutStopSec=20s\n\n[Install]\nWantedBy=multi-user.target\n";
        let d = convert(unit, "/etc/systemd/system/api.service").unwrap();
        let t = d.render("api.service", "systemd");
        assert!(t.contains("ready: { notify: true, watchdog: 30s }"), "{t}");
        assert!(t.contains("backoff: { initial: 1s, factor: 2.000, max: 16s, jitter: 0.0 }"), "{t}");
        assert!(t.contains("crash_loop: { threshold: 4, window: 1m }"), "{t}");
        assert!(t.contains("stop: { signal: SIGINT, timeout: 20s }"), "{t}");
        assert!(t.contains("binds_to: true"), "{t}");
        assert!(t.contains("After=network.target"), "{t}");
        assert_eq!(d.services[0].depends_on, [("db".to_string(), "ready"), ("db".to_string(), "ready")]);
    }
}
