//! Compose files (Docker Compose, Podman Compose): each service that names
//! its command becomes a ward service running that command as a process.
//!
//! ward cannot pull an image or build one, so a service with `build:` is left
//! out, and one without `command:`/`entrypoint:` too (its image's own command
//! is not known offline). A `healthcheck` becomes a readiness probe, as
//! Compose uses it (`depends_on: condition: service_healthy`); Docker never
//! restarts an unhealthy container.

use super::draft::{Draft, Service, Value};
use super::tree::{self, Tree, count, text};
use super::{ConvertError, words};

/// Converts a compose file.
pub fn convert(source: &str, file: &str) -> Result<Draft, ConvertError> {
    let doc = tree::load(source, file)?;
    let Some(services) = doc.get("services").and_then(Tree::as_map) else {
        return Err(super::shape(file, "no `services:` mapping"));
    };
    let mut draft = Draft::default();
    for (key, value) in doc.as_map().into_iter().flatten() {
        if !matches!(key.as_str(), "services" | "version" | "name") {
            draft.skipped.push(format!("top-level `{key}`: no counterpart in ward"));
        }
        let _ = value;
    }
    for (name, svc) in services {
        if svc.get("build").is_some() {
            draft.skipped.push(format!("service {name}: it builds its image (build:); ward runs no builds"));
            continue;
        }
        let Some(argv) = argv(svc) else {
            draft.skipped.push(format!(
                "service {name}: no command: or entrypoint:, and its image's own command is not known offline"
            ));
            continue;
        };
        let mut s = words::name_service(name, format!("{file}: services.{name}"));
        s.set("command", Value::tpls(&argv.iter().map(|w| braced(w)).collect::<Vec<_>>()));
        service(&mut s, svc);
        draft.services.push(s);
    }
    if draft.services.is_empty() {
        return Err(super::shape(file, "no service that ward can run (each needs command: and no build:)"));
    }
    Ok(draft)
}

/// entrypoint + command, each a list or a string that Compose splits into words.
fn argv(svc: &Tree) -> Option<Vec<String>> {
    let words_of = |v: Option<&Tree>| -> Option<Vec<String>> {
        match v? {
            Tree::List(_) => tree::strings(v?),
            other => words::plain_command(&text(other)?),
        }
    };
    let mut argv = words_of(svc.get("entrypoint")).unwrap_or_default();
    argv.extend(words_of(svc.get("command")).unwrap_or_default());
    (!argv.is_empty()).then_some(argv)
}

fn service(s: &mut Service, svc: &Tree) {
    for (key, v) in svc.as_map().into_iter().flatten() {
        let orig = tree::entry(key, v);
        match key.as_str() {
            "command" | "entrypoint" | "restart" | "depends_on" | "stop_signal" | "stop_grace_period" | "deploy" => {}
            "image" => s.drop(
                orig,
                "ward runs the command as a host process; to run the image, unpack it into a rootfs and add image: { rootfs: … } (docs/containers.md)",
            ),
            "environment" => environment(s, v),
            "env_file" => env_file(s, v),
            "working_dir" => s.approx(
                "workdir",
                Value::Tpl(braced(&tree::show(v))),
                "a path inside the container in Compose; ward uses it on the host",
            ),
            "user" => s.set("user", Value::Tpl(braced(&tree::show(v)))),
            "healthcheck" => healthcheck(s, v),
            "ports" => s.drop(orig, "a host process binds its ports itself; nothing to publish"),
            _ => s.drop(orig, "no counterpart in ward"),
        }
    }
    restart(s, svc);
    stop(s, svc);
    dependencies(s, svc.get("depends_on"));
}

/// `environment:` as `env:`. Compose and ward both fill `${VAR}` from the
/// shell's environment and `.env` when they read the file; a name without a
/// value (passed from the shell) becomes `${NAME}`.
fn environment(s: &mut Service, v: &Tree) {
    let (set, inherited) = tree::environment(v);
    let mut env: Vec<(String, Value)> = set.into_iter().map(|(k, v)| (k, Value::Tpl(braced(&v)))).collect();
    if !inherited.is_empty() {
        let names = inherited.join(", ");
        env.extend(inherited.into_iter().map(|k| (k.clone(), Value::Tpl(format!("${{{k}}}")))));
        s.approx(
            "env",
            Value::Map(env),
            format!("{names}: Compose passes it from the shell when set; ward requires it set (or in .env)"),
        );
    } else if !env.is_empty() {
        s.set("env", Value::Map(env));
    }
}

/// `env_file:` (a path, a list, or `{ path, required }` items); optional ones
/// stay comments, since a missing env file is an error in ward.
fn env_file(s: &mut Service, v: &Tree) {
    let items: Vec<&Tree> = match v {
        Tree::List(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut files = Vec::new();
    for item in items {
        let path = item.get("path").unwrap_or(item);
        let Some(path) = text(path) else { continue };
        if item.get("required").and_then(tree::boolean) == Some(false) {
            s.drop(format!("env_file {path} (required: false)"), "a missing env file is an error in ward");
        } else {
            files.push(Value::Tpl(braced(&path)));
        }
    }
    if !files.is_empty() {
        s.approx(
            "env_file",
            Value::List(files),
            "ward's env files are literal dotenv (no ${VAR} inside), relative to the spec's folder",
        );
    }
}

/// Compose's `$NAME` as ward's `${NAME}` (ward fills only the braced form);
/// `$$` and `${…}` mean the same in both.
fn braced(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let name_len = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
        if let Some(tail) = after.strip_prefix('$') {
            out.push_str("$$");
            rest = tail;
        } else if name_len > 0 && !after.starts_with(|c: char| c.is_ascii_digit()) {
            out.push_str(&format!("${{{}}}", &after[..name_len]));
            rest = &after[name_len..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn restart(s: &mut Service, svc: &Tree) {
    let deploy = svc.get("deploy");
    if let Some(n) = deploy.and_then(|d| d.get("replicas")).and_then(count) {
        s.set("replicas", Value::raw(n));
    }
    for (key, v) in deploy.and_then(Tree::as_map).into_iter().flatten() {
        if key != "replicas" {
            s.drop(format!("deploy.{}", tree::entry(key, v)), "no counterpart in ward");
        }
    }
    let policy = svc.get("restart").and_then(text);
    match policy.as_deref() {
        None => s.approx("restart", Value::raw("never"), "restart: is not set: Compose's default is no"),
        Some("no") => s.set("restart", Value::raw("never")),
        Some("always") => s.set("restart", Value::raw("always")),
        Some("unless-stopped") => s.approx(
            "restart",
            Value::raw("always"),
            "unless-stopped: a service stopped with `ward stop` stays down until `ward up` starts afresh",
        ),
        Some(p) if p.starts_with("on-failure") => {
            match p.split_once(':').and_then(|(_, n)| n.parse::<u32>().ok()) {
                Some(n) => {
                    s.set("restart", Value::raw("on-failure"));
                    s.approx(
                    "crash_loop",
                    Value::Map(vec![("threshold".into(), Value::raw(n + 1))]),
                    format!("{p}: Docker stops retrying for good after {n}; ward blocks restarts for crash_loop.cooldown"),
                );
                }
                None => s.set("restart", Value::raw("on-failure")),
            }
        }
        Some(other) => s.drop(format!("restart: {other}"), "unknown policy"),
    }
}

fn stop(s: &mut Service, svc: &Tree) {
    let mut stop = Vec::new();
    if let Some(v) = svc.get("stop_signal").and_then(text) {
        match words::signal(&v) {
            Some(sig) => stop.push(("signal".to_string(), sig)),
            None => s.drop(format!("stop_signal: {v}"), "unknown signal"),
        }
    }
    if let Some(v) = svc.get("stop_grace_period").and_then(text) {
        match words::parse_duration(&v) {
            Some(d) => stop.push(("timeout".to_string(), words::duration(d))),
            None => s.drop(format!("stop_grace_period: {v}"), "not a duration ward reads"),
        }
    }
    if !stop.is_empty() {
        s.set("stop", Value::Map(stop));
    }
}

fn dependencies(s: &mut Service, deps: Option<&Tree>) {
    match deps {
        Some(Tree::List(items)) => {
            s.depends_on.extend(items.iter().filter_map(text).map(|d| (words::service_name(&d), "started")))
        }
        Some(Tree::Map(map)) => {
            for (dep, how) in map {
                let condition = how.get("condition").and_then(Tree::as_str).unwrap_or("service_started");
                let name = words::service_name(dep);
                match condition {
                    "service_started" => s.depends_on.push((name, "started")),
                    "service_healthy" => s.depends_on.push((name, "ready")),
                    "service_completed_successfully" => s.depends_on.push((name, "completed")),
                    other => s.drop(format!("depends_on {dep} (condition: {other})"), "unknown condition"),
                }
            }
        }
        _ => {}
    }
}

/// `healthcheck:` as a readiness probe: `CMD` runs the words, `CMD-SHELL`
/// (or a string) runs `sh -c`.
fn healthcheck(s: &mut Service, h: &Tree) {
    if h.get("disable").and_then(tree::boolean) == Some(true) {
        return;
    }
    let exec = match h.get("test") {
        Some(Tree::Str(line)) => vec!["sh".to_string(), "-c".to_string(), line.clone()],
        Some(t @ Tree::List(_)) => {
            let list = tree::strings(t).unwrap_or_default();
            match list.split_first() {
                Some((kind, rest)) if kind == "CMD" && !rest.is_empty() => rest.to_vec(),
                Some((kind, rest)) if kind == "CMD-SHELL" && !rest.is_empty() => {
                    vec!["sh".to_string(), "-c".to_string(), rest.join(" ")]
                }
                _ => return, // NONE, or empty
            }
        }
        _ => return,
    };
    let exec: Vec<String> = exec.iter().map(|w| braced(w)).collect();
    let mut probe = vec![("exec".to_string(), Value::tpls(&exec))];
    for (from, to) in [("interval", "interval"), ("timeout", "timeout"), ("start_period", "grace")] {
        if let Some(d) = h.get(from).and_then(text).and_then(|t| words::parse_duration(&t)) {
            probe.push((to.to_string(), words::duration(d)));
        }
    }
    if let Some(n) = h.get("retries").and_then(count).filter(|n| *n > 0) {
        probe.push(("failures".to_string(), Value::raw(n)));
    }
    s.approx(
        "ready",
        Value::Map(probe),
        "healthcheck: as readiness (what depends_on: service_healthy waits for); Docker never restarts an unhealthy container — add health: for that",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_with_commands_healthchecks_and_conditions() {
        let y = "services:\n  web:\n    build: .\n  api:\n    image: example/api:1\n    command: [\"./api\", \"--port\", \"8080\"]\n    environment: { DB: \"postgres://db/app\" }\n    depends_on:\n      db: { condition: service_healthy }\n      web: { condition: service_started }\n    restart: on-failure:3\n  db:\n    image: postgres:16\n    entrypoint: postgres\n    command: -D /data\n    healthcheck:\n      test: [\"CMD-SHELL\", \"pg_isready -U app\"]\n      interval: 5s\n      retries: 5\n    stop_grace_period: 1m30s\n";
        let d = crate::convert::merge(vec![convert(y, "compose.yaml").unwrap()]);
        let t = d.render("compose.yaml", "compose");
        assert!(t.contains("service web: it builds its image"), "{t}");
        assert!(t.contains("command: [\"postgres\", \"-D\", \"/data\"]"), "{t}");
        assert!(
            t.contains("ready: { exec: [\"sh\", \"-c\", \"pg_isready -U app\"], interval: 5s, failures: 5 }"),
            "{t}"
        );
        assert!(t.contains("stop: { timeout: 90s }"), "{t}");
        assert!(t.contains("crash_loop: { threshold: 4 }"), "{t}");
        let api = d.services.iter().find(|s| s.name == "api").unwrap();
        assert_eq!(api.depends_on, [("db".to_string(), "ready")]);
        assert_eq!(braced("a $HOME ${X} $$ $1 $"), "a ${HOME} ${X} $$ $1 $");
    }
}
