//! process-compose.yaml: each entry of `processes:` becomes a service.
//!
//! process-compose runs `command` through a shell; ward runs its words
//! directly when it uses no shell syntax, else `sh -c`. Probes map onto
//! ward's probes key for key; `depends_on` conditions onto ward's
//! (`started`, `ready`, `completed`).

use super::draft::{Draft, Service, Value};
use super::tree::{self, Tree, boolean, count, number, text};
use super::{ConvertError, words};

/// Converts a process-compose file.
pub fn convert(source: &str, file: &str) -> Result<Draft, ConvertError> {
    let doc = tree::load(source, file)?;
    let Some(processes) = doc.get("processes").and_then(Tree::as_map) else {
        return Err(super::shape(file, "no `processes:` mapping"));
    };
    let mut draft = Draft::default();
    let global = doc.get("environment").map(tree::environment).unwrap_or_default().0;
    for (key, value) in doc.as_map().into_iter().flatten() {
        if !matches!(key.as_str(), "processes" | "version" | "environment") {
            draft.skipped.push(format!("top-level {}: no counterpart in ward", tree::entry(key, value)));
        }
    }
    for (name, p) in processes {
        let mut s = words::name_service(name, format!("{file}: processes.{name}"));
        process(&mut s, p, &global);
        draft.services.push(s);
    }
    if draft.services.is_empty() {
        return Err(super::shape(file, "`processes:` is empty"));
    }
    Ok(draft)
}

fn process(s: &mut Service, p: &Tree, global: &[(String, String)]) {
    match p.get("command").and_then(text) {
        Some(line) => words::shell_command(s, &line, "process-compose's command"),
        None => s.approx("command", Value::strs(&["false"]), "the process has no command"),
    }
    let mut env: Vec<(String, Value)> =
        global.iter().map(|(k, v)| (k.clone(), Value::Str(v.clone()))).collect();
    for (key, v) in p.as_map().into_iter().flatten() {
        let orig = tree::entry(key, v);
        match key.as_str() {
            "command" | "availability" | "shutdown" | "depends_on" | "description" => {}
            "working_dir" => s.set("workdir", Value::Str(tree::show(v))),
            "environment" => {
                let (set, inherited) = tree::environment(v);
                env.extend(set.into_iter().map(|(k, v)| (k, Value::Str(v))));
                for name in inherited {
                    s.drop(format!("environment {name}"), "no value given");
                }
            }
            "replicas" => match count(v) {
                Some(n) => s.set("replicas", Value::raw(n)),
                None => s.drop(orig, "not a number"),
            },
            "readiness_probe" => probe(s, "ready", v),
            "liveness_probe" => probe(s, "health", v),
            "disabled" if boolean(v) == Some(true) => {
                s.drop(orig, "ward starts every service; remove it or `ward stop` it after `ward up`")
            }
            "is_daemon" if boolean(v) == Some(true) => {
                s.drop(orig, "ward supervises the process it starts: run the program in the foreground")
            }
            _ => s.drop(orig, "no counterpart in ward"),
        }
    }
    if !env.is_empty() {
        if !global.is_empty() {
            s.approx("env", Value::Map(env), "the file's top-level environment is copied into each service");
        } else {
            s.set("env", Value::Map(env));
        }
    }
    match p.get("availability") {
        Some(a) => availability(s, a),
        None => s.approx(
            "restart",
            Value::raw("never"),
            "no availability: process-compose's default restart is no",
        ),
    }
    if let Some(sh) = p.get("shutdown") {
        shutdown(s, sh);
    }
    if let Some(deps) = p.get("depends_on").and_then(Tree::as_map) {
        for (dep, cond) in deps {
            let condition = cond.get("condition").and_then(Tree::as_str).unwrap_or("process_started");
            let name = words::service_name(dep);
            match condition {
                "process_started" => s.depends_on.push((name, "started")),
                "process_healthy" => s.depends_on.push((name, "ready")),
                "process_completed_successfully" => s.depends_on.push((name, "completed")),
                "process_completed" => {
                    s.depends_on.push((name, "completed"));
                    s.drop(
                        format!("depends_on {dep} (condition: process_completed)"),
                        "process-compose accepts any exit; ward's completed needs a successful one",
                    );
                }
                other => s.drop(
                    format!("depends_on {dep} (condition: {other})"),
                    "no counterpart in ward (started, ready, completed)",
                ),
            }
        }
    }
}

fn availability(s: &mut Service, a: &Tree) {
    match a.get("restart").and_then(Tree::as_str).unwrap_or("no") {
        "always" => s.set("restart", Value::raw("always")),
        "on_failure" => s.set("restart", Value::raw("on-failure")),
        "exit_on_failure" => {
            s.set("restart", Value::raw("on-failure"));
            s.set(
                "on_panic",
                Value::Map(vec![
                    ("action".into(), Value::raw("shutdown")),
                    ("scope".into(), Value::raw("all")),
                ]),
            );
        }
        "no" => s.set("restart", Value::raw("never")),
        other => s.drop(format!("availability.restart: {other}"), "unknown policy"),
    }
    if let Some(secs) = a.get("backoff_seconds").and_then(number).and_then(words::seconds) {
        let curve = vec![
            ("initial".to_string(), secs.clone()),
            ("factor".to_string(), Value::raw("1.0")),
            ("max".to_string(), secs),
            ("jitter".to_string(), Value::raw("0.0")),
        ];
        s.set("backoff", Value::Map(curve));
    }
    if let Some(n) = a.get("max_restarts").and_then(count).filter(|n| *n > 0) {
        s.approx(
            "crash_loop",
            Value::Map(vec![("threshold".into(), Value::raw(n + 1))]),
            format!("max_restarts: {n}: process-compose stops restarting for good; ward blocks restarts for crash_loop.cooldown"),
        );
    }
    for (key, v) in a.as_map().into_iter().flatten() {
        if !matches!(key.as_str(), "restart" | "backoff_seconds" | "max_restarts") {
            s.drop(format!("availability.{}", tree::entry(key, v)), "no counterpart in ward");
        }
    }
}

fn shutdown(s: &mut Service, sh: &Tree) {
    let mut stop = Vec::new();
    if let Some(sig) = sh.get("signal").and_then(text).and_then(|t| words::signal(&t)) {
        stop.push(("signal".to_string(), sig));
    }
    if let Some(t) = sh.get("timeout_seconds").and_then(number).and_then(words::seconds) {
        stop.push(("timeout".to_string(), t));
    }
    if !stop.is_empty() {
        s.set("stop", Value::Map(stop));
    }
    if let Some(c) = sh.get("command") {
        s.drop(format!("shutdown.{}", tree::entry("command", c)), "ward stops with a signal only");
    }
}

/// A readiness or liveness probe: exec or http_get, with its timing.
fn probe(s: &mut Service, key: &str, p: &Tree) {
    let mut map = Vec::new();
    if let Some(line) = p.get("exec").and_then(|e| e.get("command")).and_then(text) {
        map.push(("exec".to_string(), Value::strs(&["sh", "-c", &line])));
    } else if let Some(h) = p.get("http_get") {
        let host = h.get("host").and_then(text).unwrap_or_else(|| "127.0.0.1".into());
        let port = h.get("port").and_then(text).unwrap_or_else(|| "80".into());
        let path = h.get("path").and_then(text).unwrap_or_else(|| "/".into());
        let scheme = h.get("scheme").and_then(text).unwrap_or_else(|| "http".into());
        if scheme != "http" {
            s.drop(format!("{key} probe scheme {scheme}"), "ward's http probe speaks plain http");
        }
        map.push(("http".to_string(), Value::Str(format!("http://{host}:{port}{path}"))));
    } else {
        s.drop(format!("{key} probe {}", tree::show(p)), "neither exec nor http_get");
        return;
    }
    for (from, to) in
        [("period_seconds", "interval"), ("timeout_seconds", "timeout"), ("initial_delay_seconds", "grace")]
    {
        if let Some(v) = p.get(from).and_then(number).and_then(words::seconds) {
            map.push((to.to_string(), v));
        }
    }
    if let Some(n) = p.get("failure_threshold").and_then(count).filter(|n| *n > 0) {
        map.push(("failures".to_string(), Value::raw(n)));
    }
    if p.get("success_threshold").and_then(count).is_some_and(|n| n > 1) {
        s.drop(format!("{key} probe success_threshold"), "ward counts one pass");
    }
    s.set(key, Value::Map(map));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_probes_and_conditions() {
        let y = "version: \"0.5\"\nprocesses:\n  db:\n    command: postgres -D /data\n    readiness_probe:\n      exec: { command: \"pg_isready\" }\n      period_seconds: 2\n  api:\n    command: ./api --db $DB_URL\n    availability: { restart: on_failure, backoff_seconds: 2, max_restarts: 5 }\n    depends_on:\n      db: { condition: process_healthy }\n      migrate: { condition: process_completed_successfully }\n    shutdown: { signal: 2, timeout_seconds: 15 }\n";
        let d = convert(y, "process-compose.yaml").unwrap();
        let t = d.render("process-compose.yaml", "process-compose");
        assert!(t.contains("ready: { exec: [\"sh\", \"-c\", \"pg_isready\"], interval: 2s }"), "{t}");
        assert!(t.contains("backoff: { initial: 2s, factor: 1.0, max: 2s, jitter: 0.0 }"), "{t}");
        assert!(t.contains("stop: { signal: SIGINT, timeout: 15s }"), "{t}");
        assert!(t.contains("depends_on: { db: ready, migrate: completed }"), "{t}");
    }
}
