//! supervisord.conf: each `[program:x]` becomes a service.
//!
//! supervisord splits `command` into words itself (no shell), so does ward.
//! Its `%(…)s` expressions are expanded where ward has the same value
//! (`program_name`, `process_num` → `${WARD_REPLICA}`, `here`), and noted
//! where it has not (`ENV_X`, expanded by supervisord from its own environment).

use super::draft::{Draft, Service, Value, literal};
use super::ini::{self, Dialect, Section};
use super::{ConvertError, words};

/// Converts a supervisord.conf.
pub fn convert(text: &str, file: &str) -> Result<Draft, ConvertError> {
    let sections = ini::parse(text, file, Dialect::Supervisord)?;
    let here = match file.rsplit_once('/') {
        Some((dir, _)) if !dir.is_empty() => dir.to_string(),
        _ => ".".to_string(),
    };
    let mut draft = Draft::default();
    for section in &sections {
        match section.name.split_once(':') {
            Some(("program", name)) => draft.services.push(program(section, name.trim(), &here, file)),
            _ if section.name == "include" => {
                draft.skipped.push("[include]: the files it names are not read; import them too".to_string())
            }
            _ if is_supervisor_own(&section.name) => draft.skipped.push(format!(
                "[{}]: supervisord's own settings; ward has its own (ward.yaml, .ward/)",
                section.name
            )),
            _ => draft
                .skipped
                .push(format!("[{}] (line {}): no counterpart in ward", section.name, section.line)),
        }
    }
    if draft.services.is_empty() {
        return Err(super::shape(file, "no [program:x] section"));
    }
    Ok(draft)
}

fn is_supervisor_own(name: &str) -> bool {
    matches!(name, "supervisord" | "supervisorctl" | "unix_http_server" | "inet_http_server")
        || name.starts_with("rpcinterface:")
}

fn program(section: &Section, name: &str, here: &str, file: &str) -> Service {
    let mut s = words::name_service(name, format!("{file}:{} [program:{name}]", section.line));
    let expand = |text: &str, s: &mut Service| expand(text, name, here, s);
    match section.get("command") {
        Some(e) => {
            let line = expand(&e.value, &mut s);
            match words::plain_command(&line) {
                Some(argv) => s.set("command", Value::tpls(&argv)),
                None => {
                    s.approx("command", Value::tpls(&["sh", "-c", &line]), "command did not split into words")
                }
            }
        }
        None => s.approx("command", Value::strs(&["false"]), "the program has no command= (a required key)"),
    }
    for e in &section.entries {
        let expands = matches!(e.key.as_str(), "environment" | "directory" | "user");
        let value = if expands { expand(&e.value, &mut s) } else { e.value.clone() };
        setting(&mut s, &e.key, &value, section);
    }
    s
}

fn setting(s: &mut Service, key: &str, value: &str, section: &Section) {
    let orig = format!("{key}={value}");
    match key {
        "command" | "autorestart" | "exitcodes" => {}
        "numprocs" => match value.parse::<u32>() {
            Ok(n) => s.set("replicas", Value::raw(n)),
            Err(_) => s.drop(orig, "not a number"),
        },
        "directory" => s.set("workdir", Value::Tpl(value.to_string())),
        "user" => s.set("user", Value::Tpl(value.to_string())),
        "environment" => s.set("env", Value::Map(environment(value))),
        "stopsignal" => match words::signal(value) {
            Some(sig) => set_stop(s, section, Some(sig)),
            None => s.drop(orig, "unknown signal"),
        },
        "stopwaitsecs" => {
            if !section.entries.iter().any(|e| e.key == "stopsignal") {
                set_stop(s, section, None);
            }
        }
        "startsecs" => match words::parse_duration(value) {
            Some(d) => s.approx(
                "stable_after",
                words::duration(d),
                format!("{orig}: supervisord calls a start successful after this long; ward resets backoff and crash history after a run this long"),
            ),
            None => s.drop(orig, "not a number of seconds"),
        },
        "startretries" => match value.parse::<u32>() {
            Ok(n) => s.approx(
                "crash_loop",
                Value::Map(vec![("threshold".into(), Value::raw(n + 1))]),
                format!("{orig}: supervisord gives up (FATAL) after {n} failed starts in a row; ward blocks restarts for crash_loop.cooldown after {} crashes in its window", n + 1),
            ),
            Err(_) => s.drop(orig, "not a number"),
        },
        "redirect_stderr" | "stopasgroup" | "killasgroup" => {
            if value == "false" && key != "redirect_stderr" {
                s.drop(orig, "ward always signals the whole process group");
            } else if value == "false" {
                s.drop(orig, "ward writes stdout and stderr to one log file");
            }
        }
        "process_name" => s.drop(orig, "ward names instances SERVICE/N (N is ${WARD_REPLICA})"),
        "autostart" if value == "false" => s.drop(orig, "ward starts every service; `ward stop` it after `ward up`"),
        "autostart" => {}
        "priority" => s.drop(orig, "ward orders starts by depends_on only"),
        k if k.starts_with("stdout_") || k.starts_with("stderr_") => {
            s.drop(orig, "ward keeps each instance's output in .ward/logs (`ward logs`), rotated by logs: in the spec")
        }
        _ => s.drop(orig, "no counterpart in ward"),
    }
    if key == "autorestart" || (key == "exitcodes" && section.get("autorestart").is_none()) {
        restart(s, section);
    }
}

/// `restart:` (and `exit_codes:`) from autorestart and exitcodes, written once.
fn restart(s: &mut Service, section: &Section) {
    if s.has("restart") {
        return;
    }
    let auto = section.get("autorestart").map_or("unexpected", |e| e.value.as_str());
    let codes: Option<Vec<i32>> =
        section.get("exitcodes").map(|e| e.value.split(',').filter_map(|c| c.trim().parse().ok()).collect());
    match auto {
        "true" => s.set("restart", Value::raw("always")),
        "false" => s.set("restart", Value::raw("never")),
        _ => s.set("restart", Value::raw("on-failure")),
    }
    if let Some(codes) = codes.filter(|c| !c.is_empty()) {
        let list = Value::List(codes.iter().map(|c| Value::raw(*c)).collect());
        s.set("exit_codes", Value::Map(vec![("success".into(), list)]));
    }
}

fn set_stop(s: &mut Service, section: &Section, signal: Option<Value>) {
    let mut stop = Vec::new();
    if let Some(sig) = signal {
        stop.push(("signal".to_string(), sig));
    }
    if let Some(d) = section.get("stopwaitsecs").and_then(|e| words::parse_duration(&e.value)) {
        stop.push(("timeout".to_string(), words::duration(d)));
    }
    if !stop.is_empty() {
        s.set("stop", Value::Map(stop));
    }
}

/// `KEY="value",KEY2=value2` (values may be quoted; commas inside quotes stay).
fn environment(text: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let (mut item, mut quote) = (String::new(), None);
    let mut items = Vec::new();
    for c in text.chars() {
        match (c, quote) {
            ('"' | '\'', None) => quote = Some(c),
            (c, Some(q)) if c == q => quote = None,
            (',' | '\n', None) => items.push(std::mem::take(&mut item)),
            (c, _) => item.push(c),
        }
    }
    items.push(item);
    for item in items {
        if let Some((k, v)) = item.split_once('=') {
            if !k.trim().is_empty() {
                out.push((k.trim().to_string(), Value::Tpl(v.to_string())));
            }
        }
    }
    out
}

/// Expands supervisord's `%(name)s` expressions where ward has the same value,
/// into ward's template syntax: `%(ENV_X)s` becomes `${X}`, which ward fills
/// from its environment when it reads the spec, as supervisord did; the rest
/// of the text is escaped to stay literal.
fn expand(text: &str, program: &str, here: &str, s: &mut Service) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('%') {
        out.push_str(&literal(&rest[..at]));
        if rest[at..].starts_with("%%") {
            out.push('%');
            rest = &rest[at + 2..];
            continue;
        }
        if !rest[at..].starts_with("%(") {
            out.push('%');
            rest = &rest[at + 1..];
            continue;
        }
        let after = &rest[at + 2..];
        let Some(close) = after.find(')') else {
            out.push_str(&rest[at..]);
            return out;
        };
        let name = &after[..close];
        let spec_len = after[close + 1..].find(|c: char| c.is_ascii_alphabetic()).map_or(0, |i| i + 1);
        let spec = &after[close + 1..close + 1 + spec_len];
        let whole = &rest[at..at + 2 + close + 1 + spec_len];
        match name {
            "program_name" | "group_name" => out.push_str(program),
            "process_num" => {
                out.push_str("${WARD_REPLICA}");
                if spec != "d" {
                    s.drop(format!("{whole} (padded)"), "ward's ${WARD_REPLICA} is not zero-padded");
                }
            }
            "here" => out.push_str(&literal(here)),
            n if n.starts_with("ENV_") => {
                out.push_str(&format!("${{{}}}", &n[4..]));
                s.note(format!(
                    "{whole} is ${{{}}}: ward fills it from its environment (or .env) when it reads the spec, as supervisord did; unset, it is an error",
                    &n[4..]
                ));
            }
            _ => {
                out.push_str(whole);
                s.drop(whole.to_string(), "an expansion ward does not have");
            }
        }
        rest = &after[close + 1 + spec_len..];
    }
    out.push_str(&literal(rest));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_with_replicas_restart_stop_and_env() {
        let conf = "[supervisord]\nlogfile=/tmp/s.log\n\n[program:worker]\ncommand=/usr/bin/python3 worker.py --id %(process_num)d\nnumprocs=3\nprocess_name=%(program_name)s_%(process_num)02d\nautorestart=unexpected\nexitcodes=0,2\nstopsignal=INT\nstopwaitsecs=20\nenvironment=QUEUE=\"high,low\",DEBUG=0\npriority=5\n";
        let d = convert(conf, "/etc/supervisor/supervisord.conf").unwrap();
        let t = d.render("supervisord.conf", "supervisord");
        assert!(
            t.contains("command: [\"/usr/bin/python3\", \"worker.py\", \"--id\", \"${WARD_REPLICA}\"]"),
            "{t}"
        );
        assert!(t.contains("replicas: 3\n"), "{t}");
        assert!(t.contains("restart: on-failure\n    exit_codes: { success: [0, 2] }"), "{t}");
        assert!(t.contains("stop: { signal: SIGINT, timeout: 20s }"), "{t}");
        assert!(t.contains("QUEUE: \"high,low\""), "{t}");
        assert!(t.contains("priority=5: ward orders starts"), "{t}");
        assert!(t.contains("[supervisord]: supervisord's own settings"), "{t}");
    }
}
