//! Procfile (Heroku, foreman, honcho): one `name: command` per line.
//!
//! Each process type becomes a service running its command line (through
//! `sh -c` when it uses shell syntax, as the runners do). Runners give each
//! type a `PORT` (foreman: 5000, then 5100, 5200…); a command that uses
//! `$PORT` gets that port as a ward port variable.

use super::draft::{Draft, Value};
use super::words;
use super::{ConvertError, convert_error_line};

/// Converts a Procfile.
pub fn convert(text: &str, file: &str) -> Result<Draft, ConvertError> {
    let mut draft = Draft::default();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, command)) = line.split_once(':') else {
            return Err(convert_error_line(file, i + 1, format!("expected `name: command`, found `{line}`")));
        };
        let (name, command) = (name.trim(), command.trim());
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if name.is_empty() || !name.chars().all(valid) || command.is_empty() {
            return Err(convert_error_line(file, i + 1, format!("expected `name: command`, found `{line}`")));
        }
        let mut s = words::name_service(name, format!("{file}:{} `{name}`", i + 1));
        words::shell_command(&mut s, command, "the Procfile line");
        if command.contains("$PORT") || command.contains("${PORT}") {
            let port = 5000 + 100 * draft.services.len();
            if let Ok(port) = u16::try_from(port) {
                s.approx(
                    "ports",
                    Value::Map(vec![("PORT".into(), Value::raw(port))]),
                    "foreman's PORT for this line (5000, 5100, … by position); Heroku assigns its own",
                );
            }
        }
        if name == "release" {
            s.approx(
                "restart",
                Value::raw("never"),
                "Heroku runs `release` once per deploy, before the other types",
            );
        } else {
            s.approx(
                "restart",
                Value::raw("always"),
                "Heroku restarts a dyno that exits; foreman and honcho stop everything instead",
            );
        }
        draft.services.push(s);
    }
    if draft.services.is_empty() {
        return Err(ConvertError::Shape {
            file: file.to_string(),
            message: "no `name: command` lines".into(),
        });
    }
    Ok(draft)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_lines_ports_and_errors() {
        let d = convert(
            "web: bundle exec puma -p $PORT\n# jobs\nworker: python worker.py --queue high\n",
            "Procfile",
        )
        .unwrap();
        let text = d.render("Procfile", "procfile");
        assert!(text.contains("command: [\"sh\", \"-c\", \"bundle exec puma -p $PORT\"]"), "{text}");
        assert!(text.contains("PORT: 5000"), "{text}");
        assert!(text.contains("command: [\"python\", \"worker.py\", \"--queue\", \"high\"]"), "{text}");
        let e = convert("web bundle\n", "Procfile").unwrap_err();
        assert_eq!(e.to_string(), "Procfile:1: expected `name: command`, found `web bundle`");
    }
}
