//! pm2 ecosystem files in JSON or YAML (`{ apps: [...] }`, or a bare list of
//! apps): each app becomes a service.
//!
//! pm2 runs `script` with an interpreter it guesses from the extension
//! (`node` for `.js`), restarts every exit unless told otherwise, and stops
//! with SIGINT, then SIGKILL after `kill_timeout` (1.6 s); the conversion
//! writes those defaults out so that the result behaves the same.

use super::draft::{Draft, Service, Value};
use super::tree::{self, Tree, boolean, count, number, text};
use super::{ConvertError, words};
use std::time::Duration;

/// Converts a pm2 ecosystem file.
pub fn convert(source: &str, file: &str) -> Result<Draft, ConvertError> {
    let doc = match tree::load(source, file) {
        Err(_) if [".js", ".cjs", ".mjs"].iter().any(|x| file.ends_with(x)) => {
            return Err(super::shape(
                file,
                "a JavaScript ecosystem file, which ward does not run\n  help: print it as JSON and import that: \
                 node -e 'console.log(JSON.stringify(require(\"./ecosystem.config.js\")))' > ecosystem.json",
            ));
        }
        other => other?,
    };
    let apps = match (&doc, doc.get("apps")) {
        (_, Some(Tree::List(apps))) => apps.clone(),
        (_, Some(app @ Tree::Map(_))) => vec![app.clone()],
        (Tree::List(apps), None) => apps.clone(),
        _ => return Err(super::shape(file, "no `apps:` list")),
    };
    let mut draft = Draft::default();
    for (key, value) in doc.as_map().into_iter().flatten() {
        if key != "apps" {
            draft.skipped.push(format!(
                "top-level {}: pm2 deployment settings; no counterpart in ward",
                tree::entry(key, value)
            ));
        }
    }
    for (i, app) in apps.iter().enumerate() {
        let name = app.get("name").and_then(text).unwrap_or_else(|| format!("app{i}"));
        let mut s = words::name_service(&name, format!("{file}: apps[{i}] ({name})"));
        self::app(&mut s, app);
        draft.services.push(s);
    }
    if draft.services.is_empty() {
        return Err(super::shape(file, "`apps:` is empty"));
    }
    Ok(draft)
}

fn app(s: &mut Service, a: &Tree) {
    command(s, a);
    let mut stop_timeout = Duration::from_millis(1600);
    for (key, v) in a.as_map().into_iter().flatten() {
        let orig = tree::entry(key, v);
        match key.as_str() {
            "name" | "script" | "args" | "interpreter" | "interpreter_args" | "node_args" | "autorestart"
            | "stop_exit_codes" | "restart_delay" | "exp_backoff_restart_delay" | "max_restarts" | "min_uptime" => {}
            "cwd" => s.set("workdir", Value::Str(tree::show(v))),
            "user" | "uid" => s.set("user", Value::Str(tree::show(v))),
            "env" => {
                let (set, _) = tree::environment(v);
                s.set("env", Value::Map(set.into_iter().map(|(k, v)| (k, Value::Str(v))).collect()));
            }
            k if k.starts_with("env_") => s.drop(format!("{k}: …"), "pm2's --env variants: merge the one you deploy into env:"),
            "instances" => match count(v).filter(|n| *n > 0) {
                Some(n) => s.set("replicas", Value::raw(n)),
                None => s.drop(orig, "pm2 starts one per CPU: set replicas: to a number"),
            },
            "exec_mode" if tree::show(v).contains("cluster") => s.drop(
                orig,
                "ward runs separate processes, not node's cluster module sharing one port: give each replica its own port with ports:",
            ),
            "exec_mode" => {}
            "kill_timeout" => match number(v) {
                Some(ms) if ms >= 0.0 => stop_timeout = Duration::from_millis(ms as u64),
                _ => s.drop(orig, "not a number of milliseconds"),
            },
            "wait_ready" | "listen_timeout" => {
                s.drop(orig, "pm2's process.send('ready') has no counterpart; use ready: with a probe, or sd_notify")
            }
            k if k.ends_with("_file") || k.starts_with("log") || k == "merge_logs" || k == "time" => {
                s.drop(orig, "ward keeps each instance's output in .ward/logs (`ward logs`)")
            }
            _ => s.drop(orig, "no counterpart in ward"),
        }
    }
    restart(s, a);
    let stop = vec![
        ("signal".to_string(), Value::raw("SIGINT")),
        ("timeout".to_string(), words::duration(stop_timeout)),
    ];
    s.set("stop", Value::Map(stop));
}

/// The argv: interpreter (guessed as pm2 does), its arguments, the script, its arguments.
fn command(s: &mut Service, a: &Tree) {
    let Some(script) = a.get("script").and_then(text) else {
        s.approx("command", Value::strs(&["false"]), "the app has no script");
        return;
    };
    let interpreter = a.get("interpreter").and_then(text).unwrap_or_else(|| guess(&script).to_string());
    let mut argv = Vec::new();
    if interpreter != "none" && !interpreter.is_empty() {
        argv.push(interpreter);
        argv.extend(args(a.get("interpreter_args").or_else(|| a.get("node_args"))));
    }
    let script_words = if a.get("interpreter").is_none() && guess(&script) == "none" {
        words::plain_command(&script).unwrap_or_else(|| vec![script.clone()])
    } else {
        vec![script.clone()]
    };
    argv.extend(script_words);
    argv.extend(args(a.get("args")));
    s.set("command", Value::strs(&argv));
}

/// pm2's interpreter by extension; `none` runs the script as a program.
fn guess(script: &str) -> &'static str {
    match script.rsplit('.').next() {
        Some("js" | "cjs" | "mjs") if script.contains('.') => "node",
        Some("ts") if script.contains('.') => "ts-node",
        Some("py") if script.contains('.') => "python3",
        Some("sh") if script.contains('.') => "bash",
        Some("rb") if script.contains('.') => "ruby",
        Some("php") if script.contains('.') => "php",
        _ => "none",
    }
}

/// Arguments as a list, or a string split into words.
fn args(v: Option<&Tree>) -> Vec<String> {
    match v {
        Some(Tree::List(_)) => v.and_then(tree::strings).unwrap_or_default(),
        Some(other) => text(other).and_then(|t| words::plain_command(&t)).unwrap_or_default(),
        None => Vec::new(),
    }
}

fn restart(s: &mut Service, a: &Tree) {
    let auto = a.get("autorestart").and_then(boolean).unwrap_or(true);
    let stop_codes: Vec<i64> = a
        .get("stop_exit_codes")
        .map(|v| match v {
            Tree::List(items) => items.iter().filter_map(Tree::as_i64).collect(),
            other => other.as_i64().into_iter().collect(),
        })
        .unwrap_or_default();
    if !auto {
        s.set("restart", Value::raw("never"));
    } else if stop_codes.is_empty() {
        s.set("restart", Value::raw("always"));
    } else {
        s.set("restart", Value::raw("on-failure"));
        let list = Value::List(stop_codes.iter().map(|c| Value::raw(*c)).collect());
        s.set("exit_codes", Value::Map(vec![("success".into(), list)]));
    }
    if !auto {
        return;
    }
    let ms =
        |k: &str| a.get(k).and_then(number).filter(|n| *n >= 0.0).map(|n| Duration::from_millis(n as u64));
    if let Some(d) = ms("exp_backoff_restart_delay") {
        let curve = vec![
            ("initial".to_string(), words::duration(d)),
            ("factor".to_string(), Value::raw("1.5")),
            ("max".to_string(), words::duration(Duration::from_secs(15).max(d))),
            ("jitter".to_string(), Value::raw("0.0")),
        ];
        s.set("backoff", Value::Map(curve));
    } else {
        let d = ms("restart_delay").unwrap_or(Duration::ZERO);
        let curve = vec![
            ("initial".to_string(), words::duration(d)),
            ("factor".to_string(), Value::raw("1.0")),
            ("max".to_string(), words::duration(d)),
            ("jitter".to_string(), Value::raw("0.0")),
        ];
        s.set("backoff", Value::Map(curve));
    }
    let uptime = a.get("min_uptime").and_then(|v| match v {
        Tree::Num(ms, _) => Some(Duration::from_millis(*ms as u64)),
        other => text(other).and_then(|t| words::parse_duration(&t)),
    });
    let max = a.get("max_restarts").and_then(count).filter(|n| *n > 0);
    if max.is_some() || uptime.is_some() {
        let mut gate = vec![("threshold".to_string(), Value::raw(max.unwrap_or(16)))];
        if let Some(u) = uptime.filter(|u| !u.is_zero()) {
            gate.push(("window".to_string(), words::duration(u * max.unwrap_or(16))));
        }
        s.approx(
            "crash_loop",
            Value::Map(gate),
            "pm2 stops an app for good after max_restarts (16) restarts that each ran less than min_uptime (1s); ward blocks restarts for crash_loop.cooldown",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apps_in_json_with_interpreters_and_restarts() {
        let j = r#"{"apps": [{"name": "API", "script": "server.js", "node_args": "--max-old-space-size=512", "args": ["--port", "3000"], "instances": 2, "exec_mode": "cluster", "env": {"NODE_ENV": "production"}, "kill_timeout": 5000, "exp_backoff_restart_delay": 100}, {"name": "worker", "script": "./worker", "interpreter": "none", "autorestart": false}]}"#;
        let d = convert(j, "ecosystem.json").unwrap();
        let t = d.render("ecosystem.json", "pm2");
        assert!(t.contains("  api:\n"), "{t}");
        assert!(
            t.contains(
                "command: [\"node\", \"--max-old-space-size=512\", \"server.js\", \"--port\", \"3000\"]"
            ),
            "{t}"
        );
        assert!(t.contains("replicas: 2"), "{t}");
        assert!(t.contains("backoff: { initial: 100ms, factor: 1.5, max: 15s, jitter: 0.0 }"), "{t}");
        assert!(t.contains("stop: { signal: SIGINT, timeout: 5s }"), "{t}");
        assert!(t.contains("command: [\"./worker\"]\n"), "{t}");
        assert!(t.contains("restart: never"), "{t}");
    }
}
