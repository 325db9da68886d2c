//! INI-style files as supervisord and systemd write them: `[section]`
//! headers and `key=value` entries, each remembered with its line number.
//!
//! The two differ in details, chosen by [`Dialect`]: systemd joins a line
//! ending in `\` with the next; supervisord (Python's configparser) continues
//! a value on indented lines, accepts `key: value`, and ends a value at ` ;`.

use super::ConvertError;

/// Which tool's rules to read with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// systemd unit files.
    Systemd,
    /// supervisord.conf.
    Supervisord,
}

/// One `key=value`, with its 1-based line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The key, as written.
    pub key: String,
    /// The value, trimmed.
    pub value: String,
    /// Its line in the file.
    pub line: usize,
}

/// One `[section]` and its entries, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// The name between the brackets.
    pub name: String,
    /// Its line.
    pub line: usize,
    /// Its entries, repeated keys included.
    pub entries: Vec<Entry>,
}

impl Section {
    /// The last value of `key` (later entries override earlier ones).
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().rev().find(|e| e.key == key)
    }

    /// Every value of `key` after its last empty assignment (systemd's reset).
    pub fn all(&self, key: &str) -> Vec<&Entry> {
        let mut out = Vec::new();
        for e in self.entries.iter().filter(|e| e.key == key) {
            if e.value.is_empty() {
                out.clear();
            } else {
                out.push(e);
            }
        }
        out
    }
}

/// Parses `text`; `file` names it in errors.
pub fn parse(text: &str, file: &str, dialect: Dialect) -> Result<Vec<Section>, ConvertError> {
    let mut sections: Vec<Section> = Vec::new();
    let mut pending: Option<Entry> = None; // a systemd value continued by `\`
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if let Some(mut entry) = pending.take() {
            let (more, continues) = continued(raw);
            if !is_comment(raw) {
                entry.value.push(' ');
                entry.value.push_str(more.trim());
            }
            if continues {
                pending = Some(entry);
            } else {
                push(&mut sections, entry, file)?;
            }
            continue;
        }
        let indented = raw.starts_with([' ', '\t']);
        let trimmed = raw.trim();
        if trimmed.is_empty() || is_comment(trimmed) {
            continue;
        }
        if dialect == Dialect::Supervisord && indented {
            if let Some(last) = sections.last_mut().and_then(|s| s.entries.last_mut()) {
                last.value.push('\n');
                last.value.push_str(strip_inline_comment(trimmed));
                continue;
            }
        }
        if let Some(name) = trimmed.strip_prefix('[') {
            let Some(name) = name.strip_suffix(']') else {
                return Err(syntax(file, line, "a section header without its closing `]`"));
            };
            sections.push(Section { name: name.trim().to_string(), line, entries: Vec::new() });
            continue;
        }
        let split = match dialect {
            Dialect::Systemd => trimmed.split_once('='),
            Dialect::Supervisord => {
                let at = trimmed.find(['=', ':']);
                at.map(|at| (&trimmed[..at], &trimmed[at + 1..]))
            }
        };
        let Some((key, value)) = split else {
            return Err(syntax(file, line, &format!("expected `key=value`, found `{trimmed}`")));
        };
        let mut entry = Entry { key: key.trim().to_string(), value: String::new(), line };
        match dialect {
            Dialect::Systemd => {
                let (value, continues) = continued(value);
                entry.value = value.trim().to_string();
                if continues {
                    pending = Some(entry);
                    continue;
                }
            }
            Dialect::Supervisord => entry.value = strip_inline_comment(value).trim().to_string(),
        }
        push(&mut sections, entry, file)?;
    }
    if let Some(entry) = pending {
        push(&mut sections, entry, file)?;
    }
    Ok(sections)
}

fn push(sections: &mut [Section], entry: Entry, file: &str) -> Result<(), ConvertError> {
    match sections.last_mut() {
        Some(section) => {
            section.entries.push(entry);
            Ok(())
        }
        None => Err(syntax(file, entry.line, &format!("`{}` comes before any [section]", entry.key))),
    }
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with(['#', ';'])
}

/// A systemd line without its trailing `\`, and whether it had one.
fn continued(line: &str) -> (&str, bool) {
    let t = line.trim_end();
    match t.strip_suffix('\\') {
        Some(rest) => (rest, true),
        None => (t, false),
    }
}

/// configparser's inline comments: ` ;` and what follows.
fn strip_inline_comment(value: &str) -> &str {
    let bytes = value.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b';' && i > 0 && bytes[i - 1].is_ascii_whitespace() {
            return &value[..i];
        }
    }
    value
}

fn syntax(file: &str, line: usize, message: &str) -> ConvertError {
    ConvertError::Syntax { file: file.to_string(), line, message: message.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systemd_continuations_resets_and_comments() {
        let text = "[Service]\n# c\nExecStart=/bin/a \\\n  --flag \\\n  x\nEnvironment=A=1\nEnvironment=\nEnvironment=B=2\n";
        let s = parse(text, "a.service", Dialect::Systemd).unwrap();
        assert_eq!(s[0].get("ExecStart").unwrap().value, "/bin/a --flag x");
        let env: Vec<&str> = s[0].all("Environment").iter().map(|e| e.value.as_str()).collect();
        assert_eq!(env, ["B=2"]);
        assert_eq!(s[0].get("Environment").unwrap().line, 8);
    }

    #[test]
    fn supervisord_indented_continuations_and_inline_comments() {
        let text = "[program:web]\ncommand = run ; comment\nenvironment=A=\"1\",\n  B=\"2\"\nuser: app\n";
        let s = parse(text, "s.conf", Dialect::Supervisord).unwrap();
        assert_eq!(s[0].get("command").unwrap().value, "run");
        assert_eq!(s[0].get("environment").unwrap().value, "A=\"1\",\nB=\"2\"");
        assert_eq!(s[0].get("user").unwrap().value, "app");
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("x=1\n", "f.conf", Dialect::Supervisord).unwrap_err();
        assert_eq!(e.to_string(), "f.conf:1: `x` comes before any [section]");
        let e = parse("[a]\nnot an entry\n", "f.service", Dialect::Systemd).unwrap_err();
        assert!(e.to_string().starts_with("f.service:2: expected `key=value`"), "{e}");
    }
}
