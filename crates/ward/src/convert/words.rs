//! Small pieces every format needs: splitting a command line into words,
//! deciding whether it needs a shell, service names ward accepts, and
//! durations written the way the spec reads them.

use super::draft::{Service, Value};
use std::time::Duration;

/// Characters that make a command line need a shell to mean what it says.
const SHELL_SYNTAX: &[char] =
    &['$', '`', '|', '&', ';', '<', '>', '(', ')', '*', '?', '[', '~', '{', '}', '#', '\n'];

/// Splits a command line into words with POSIX shell quoting (`'…'`, `"…"`,
/// backslash), without expanding anything. `None` on an unclosed quote.
pub fn split(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => word.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\' | '$' | '`') => word.push(c),
                            '\n' => {}
                            c => {
                                word.push('\\');
                                word.push(c);
                            }
                        },
                        c => word.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') | None => {}
                    Some(c) => word.push(c),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Some(words)
}

/// Whether a command line uses shell syntax outside single quotes
/// (variables, pipes, redirections, globs, several commands).
pub fn needs_shell(line: &str) -> bool {
    let mut single = false;
    for c in line.chars() {
        match c {
            '\'' => single = !single,
            c if !single && SHELL_SYNTAX.contains(&c) => return true,
            _ => {}
        }
    }
    false
}

/// The argv for a command line that a shell would run: its words when it
/// uses no shell syntax, else `["sh", "-c", line]` (with a note saying so).
pub fn shell_command(s: &mut Service, line: &str, origin: &str) {
    let line = line.trim();
    match split(line) {
        Some(words) if !needs_shell(line) && !words.is_empty() => s.set("command", Value::strs(&words)),
        _ => s.approx(
            "command",
            Value::strs(&["sh", "-c", line]),
            format!("{origin} is a shell command line: ward runs it through sh -c"),
        ),
    }
}

/// The argv for a command line that its tool splits into words itself
/// (no shell); `None` when it is empty or has an unclosed quote.
pub fn plain_command(line: &str) -> Option<Vec<String>> {
    split(line.trim()).filter(|w| !w.is_empty())
}

/// A service name ward accepts: lowercase letters, digits, `-` and `_`,
/// starting with a letter or digit, at most 63 characters.
pub fn service_name(original: &str) -> String {
    let mut name: String = original
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' { c } else { '-' })
        .collect();
    while name.starts_with(['-', '_']) {
        name.remove(0);
    }
    name.truncate(63);
    if name.is_empty() { "service".to_string() } else { name }
}

/// Sets a service's name from the original, noting when it had to change.
pub fn name_service(original: &str, origin: impl Into<String>) -> Service {
    let name = service_name(original);
    let mut s = Service::new(name.clone(), origin);
    if name != original {
        s.note(format!("the name `{original}` is not a valid ward service name; renamed `{name}`"));
    }
    s
}

/// A duration as the spec writes it: `1500ms`, `10s`, `5m`, `2h`, `0s`.
pub fn duration(d: Duration) -> Value {
    let ms = d.as_millis();
    let text = if ms == 0 {
        "0s".to_string()
    } else if ms % 3_600_000 == 0 {
        format!("{}h", ms / 3_600_000)
    } else if ms % 60_000 == 0 {
        format!("{}m", ms / 60_000)
    } else if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    };
    Value::Raw(text)
}

/// Seconds (possibly fractional) as a duration value, if it is a sane number.
pub fn seconds(secs: f64) -> Option<Value> {
    (0.0..1e9).contains(&secs).then(|| duration(Duration::from_secs_f64(secs)))
}

/// Parses durations as tools write them: a bare number of seconds (`30`,
/// `1.5`), or units (`90s`, `1m30s`, `1min 30s`, `500ms`).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<f64>() {
        return (0.0..1e9).contains(&secs).then(|| Duration::from_secs_f64(secs));
    }
    humantime::parse_duration(t).ok()
}

/// A signal name (`TERM`, `SIGTERM`, `15`) as the spec writes it, if known.
pub fn signal(text: &str) -> Option<Value> {
    let t = text.trim();
    let number = match t.parse::<i32>() {
        Ok(n) if (1..=64).contains(&n) => n,
        Ok(_) => return None,
        Err(_) => ward_core::exit::signal_number(t)?,
    };
    Some(Value::Raw(ward_core::exit::signal_name(number)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_a_shell_without_expanding() {
        let words = split(r#"gunicorn -b "0.0.0.0:8000" --name 'my app' a\ b "x\"y""#).unwrap();
        assert_eq!(words, ["gunicorn", "-b", "0.0.0.0:8000", "--name", "my app", "a b", "x\"y"]);
        assert_eq!(split("echo 'open"), None);
        assert_eq!(split("  ").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn shell_syntax_is_seen_outside_single_quotes_only() {
        assert!(needs_shell("bundle exec puma -p $PORT"));
        assert!(needs_shell("a | b"));
        assert!(!needs_shell("echo 'a | b'"));
        assert!(!needs_shell("python -m http.server 8000"));
    }

    #[test]
    fn names_durations_and_signals() {
        assert_eq!(service_name("Web.Worker"), "web-worker");
        assert_eq!(service_name("_x"), "x");
        assert_eq!(duration(Duration::from_millis(1500)), Value::raw("1500ms"));
        assert_eq!(duration(Duration::from_secs(120)), Value::raw("2m"));
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("2.5"), Some(Duration::from_millis(2500)));
        assert_eq!(signal("TERM"), Some(Value::raw("SIGTERM")));
        assert_eq!(signal("2"), Some(Value::raw("SIGINT")));
        assert_eq!(signal("NOPE"), None);
    }
}
