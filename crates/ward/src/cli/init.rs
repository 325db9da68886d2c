//! `ward init`: writes a commented starter `ward.yaml` that passes `ward
//! check`. When the folder has a `Procfile` (`name: command` lines), each
//! line becomes a service that runs its command through `sh -c`; a command
//! that uses `$PORT` gets a port (5000, 5100, … as foreman gives them).
//! An existing spec file is never overwritten.

use crate::paths::Paths;
use std::fmt::Write as _;
use std::path::Path;
use ward_core::ServiceName;

/// A Procfile line that cannot become a service.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {what}\n  help: {help}")]
pub struct ProcfileError {
    /// The Procfile.
    pub file: String,
    /// The line number, from 1.
    pub line: usize,
    /// What is wrong.
    pub what: String,
    /// How to fix it.
    pub help: &'static str,
}

/// Runs `ward init`; returns the exit code.
pub fn run(paths: &Paths) -> i32 {
    let spec = &paths.spec;
    if spec.exists() {
        eprintln!(
            "ward: {} exists; ward init never overwrites a spec (remove it, or pass -f OTHER.yaml)",
            spec.display()
        );
        return 1;
    }
    let folder = spec.parent().unwrap_or(Path::new("."));
    let procfile = folder.join("Procfile");
    let text = match std::fs::read_to_string(&procfile) {
        Ok(p) => match from_procfile(&p, &procfile.display().to_string()) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("ward: {e}");
                return 2;
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => STARTER.to_string(),
        Err(e) => {
            eprintln!("ward: cannot read {}: {e}", procfile.display());
            return 1;
        }
    };
    // create_new: a file that appeared meanwhile is not overwritten either.
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(spec)
        .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()));
    if let Err(e) = written {
        eprintln!("ward: cannot write {}: {e}", spec.display());
        return 1;
    }
    let from = if procfile.exists() { " from the Procfile" } else { "" };
    println!("wrote {}{from}; next: ward check, then ward up", spec.display());
    0
}

/// The starter spec when there is no Procfile: one service, every common
/// key shown in comments.
pub const STARTER: &str = r#"# ward.yaml: the services ward runs. `ward check` validates it, `ward up` runs it.
# Every key and its default: crates/ward-core/src/spec/mod.rs (or the README).
version: 1
# logs: { max_size: 10MiB, keep: 3 }        # rotation of each service's output
services:
  hello:
    # An argv list; no shell unless you write ["sh", "-c", "..."].
    command: ["sh", "-c", "echo hello from replica $WARD_REPLICA on port $PORT; exec sleep 3600"]
    replicas: 1
    ports: { PORT: 8080 }                   # replica i gets PORT=8080+i
    # env: { RUST_LOG: info }
    # workdir: ./srv                        # relative to this file's folder
    restart: on-failure                     # always | on-failure | never
    on_panic: restart                       # restart | shutdown | isolate
    backoff: { initial: 500ms, factor: 2.0, max: 60s, jitter: 0.1 }
    crash_loop: { threshold: 5, window: 60s, cooldown: 5m }
    stop: { signal: SIGTERM, timeout: 10s }
    # health: { tcp: "127.0.0.1:${PORT}", interval: 5s, failures: 3 }
    # ready: { notify: true }               # sd_notify READY=1
    # depends_on: [db]
"#;

/// A spec with one service per Procfile line.
pub fn from_procfile(procfile: &str, file: &str) -> Result<String, ProcfileError> {
    let mut out = String::from(
        "# ward.yaml, made by `ward init` from the Procfile: one service per line, each\n\
         # run through `sh -c`. `ward check` validates it, `ward up` runs it.\n\
         version: 1\nservices:\n",
    );
    let mut seen: Vec<String> = vec![];
    for (n, raw) in procfile.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |what: String, help| ProcfileError { file: file.to_string(), line: n + 1, what, help };
        let Some((name, command)) = line.split_once(':') else {
            return Err(err(
                format!("expected `name: command`, found {line:?}"),
                "write each process as `web: ./server`",
            ));
        };
        let name = service_name(name.trim());
        if let Err(e) = ServiceName::new(&name) {
            return Err(err(format!("process name {name:?}: {e}"), "use letters, digits, '-' and '_'"));
        }
        if seen.contains(&name) {
            return Err(err(format!("process {name:?} appears twice"), "give each process its own name"));
        }
        let command = command.trim();
        if command.is_empty() {
            return Err(err(format!("process {name:?} has no command"), "write the command after the colon"));
        }
        let argv = serde_json::json!(["sh", "-c", format!("exec {command}")]);
        let _ = writeln!(out, "  {name}:\n    command: {argv}");
        if command.contains("$PORT") || command.contains("${PORT}") {
            let _ = writeln!(out, "    ports: {{ PORT: {} }}", 5000 + 100 * seen.len());
        }
        let _ = writeln!(out, "    restart: on-failure\n    # replicas: 1\n    # depends_on: [other]");
        seen.push(name);
    }
    if seen.is_empty() {
        return Err(ProcfileError {
            file: file.to_string(),
            line: 1,
            what: "no process in the Procfile".into(),
            help: "add a line like `web: ./server`, or remove the Procfile for a starter spec",
        });
    }
    Ok(out)
}

/// A Procfile name as a service name: lowercase, other characters as '-'.
fn service_name(name: &str) -> String {
    name.chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_passes_check() {
        let spec = ward_core::spec::parse(STARTER, "ward.yaml").expect("starter is valid");
        assert_eq!(spec.services.len(), 1);
    }

    #[test]
    fn a_procfile_becomes_services_that_pass_check() {
        let p = "# comment\nweb: bundle exec rails s -p $PORT\n\nWorker.1: ./work --queue \"a b\"\n";
        let text = from_procfile(p, "Procfile").unwrap();
        let spec = ward_core::spec::parse(&text, "ward.yaml").unwrap_or_else(|e| panic!("{e}\n{text}"));
        let names: Vec<&str> = spec.services.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["web", "worker-1"]);
        assert!(text.contains("PORT: 5000"), "{text}");
        assert!(text.contains(r#"["sh","-c","exec ./work --queue \"a b\""]"#), "{text}");
    }

    #[test]
    fn bad_procfile_lines_say_where() {
        let e = from_procfile("web ./x\n", "Procfile").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.to_string().starts_with("Procfile:1: expected `name: command`"), "{e}");
        let e = from_procfile("web: a\nweb: b\n", "Procfile").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(from_procfile("# nothing\n", "Procfile").is_err());
    }
}
