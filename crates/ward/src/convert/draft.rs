//! The result of a conversion before it is text: services as ordered lists
//! of settings, each setting with the note that says where it is not exact,
//! and the list of what was left out. [`Draft::render`] writes the YAML.
//!
//! Values are written in YAML's flow style, strings JSON-quoted (a JSON
//! string is a valid YAML double-quoted scalar), so nothing in the input can
//! break the document's structure. Text taken literally from the input has
//! its `$$` and `${` escaped, so that ward's `${VAR}` interpolation leaves it
//! as written; text in ward's own template syntax is marked as such.

use std::collections::BTreeSet;

/// A value as it is written in the spec.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A string taken literally, always quoted; a `$` before `$` or `{` is
    /// doubled, so that ward does not interpolate it.
    Str(String),
    /// A string in ward's template syntax (`${VAR}` filled by ward), quoted as is.
    Tpl(String),
    /// A number, boolean, duration or keyword, written as is.
    Raw(String),
    /// A flow list `[a, b]`.
    List(Vec<Value>),
    /// A mapping; block style for `env`, flow style elsewhere.
    Map(Vec<(String, Value)>),
}

impl Value {
    /// A list of strings.
    pub fn strs<S: AsRef<str>>(items: &[S]) -> Value {
        Value::List(items.iter().map(|s| Value::Str(s.as_ref().to_string())).collect())
    }

    /// A list of strings in ward's template syntax.
    pub fn tpls<S: AsRef<str>>(items: &[S]) -> Value {
        Value::List(items.iter().map(|s| Value::Tpl(s.as_ref().to_string())).collect())
    }

    /// A raw value from anything printable (numbers, durations, keywords).
    pub fn raw(text: impl ToString) -> Value {
        Value::Raw(text.to_string())
    }

    fn flow(&self) -> String {
        match self {
            Value::Str(s) => quote(&literal(s)),
            Value::Tpl(s) => quote(s),
            Value::Raw(s) => s.clone(),
            Value::List(items) => {
                let items: Vec<String> = items.iter().map(Value::flow).collect();
                format!("[{}]", items.join(", "))
            }
            Value::Map(entries) => {
                let entries: Vec<String> =
                    entries.iter().map(|(k, v)| format!("{}: {}", key(k), v.flow())).collect();
                format!("{{ {} }}", entries.join(", "))
            }
        }
    }
}

/// One line of a converted service.
#[derive(Clone, Debug, PartialEq)]
pub enum Line {
    /// `key: value`, with a comment above it when the match is not exact.
    Set {
        /// The spec key.
        key: String,
        /// Its value.
        value: Value,
        /// Why this is only close to the original setting.
        note: Option<String>,
    },
    /// A comment line: an original setting that was not converted.
    Dropped(String),
    /// A comment line about what follows (not a loss: not in the summary).
    Note(String),
}

/// One converted service.
#[derive(Clone, Debug, PartialEq)]
pub struct Service {
    /// Its ward name.
    pub name: String,
    /// Where it came from, like `[program:web]`.
    pub origin: String,
    /// Its settings and comments, in order.
    pub lines: Vec<Line>,
    /// Services it depends on, with ward's condition (`started`, `ready`,
    /// `completed`), written after the settings.
    pub depends_on: Vec<(String, &'static str)>,
    /// What was not converted, one line each (copied into the summary).
    pub skipped: Vec<String>,
}

impl Service {
    /// A service with no settings yet.
    pub fn new(name: impl Into<String>, origin: impl Into<String>) -> Service {
        let (name, origin) = (name.into(), origin.into());
        Service { name, origin, lines: Vec::new(), depends_on: Vec::new(), skipped: Vec::new() }
    }

    /// An exact setting.
    pub fn set(&mut self, key: &str, value: Value) {
        self.lines.push(Line::Set { key: key.to_string(), value, note: None });
    }

    /// A setting that is close to the original but not the same.
    pub fn approx(&mut self, key: &str, value: Value, note: impl Into<String>) {
        self.lines.push(Line::Set { key: key.to_string(), value, note: Some(note.into()) });
    }

    /// An original setting with no counterpart: a comment, and a line of the summary.
    pub fn drop(&mut self, what: impl Into<String>, why: impl AsRef<str>) {
        let line = format!("{}: {}", what.into(), why.as_ref());
        self.lines.push(Line::Dropped(line.clone()));
        self.skipped.push(line);
    }

    /// A comment about how something was converted.
    pub fn note(&mut self, text: impl Into<String>) {
        self.lines.push(Line::Note(text.into()));
    }

    /// Whether `key` is set already.
    pub fn has(&self, key: &str) -> bool {
        self.lines.iter().any(|l| matches!(l, Line::Set { key: k, .. } if k == key))
    }
}

/// A whole converted file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Draft {
    /// The services, in the input's order.
    pub services: Vec<Service>,
    /// What was not converted outside any service (whole sections, services left out).
    pub skipped: Vec<String>,
}

impl Draft {
    /// Drops dependencies on services that are not in the draft (noting each),
    /// and removes duplicates.
    pub fn settle_dependencies(&mut self) {
        let names: BTreeSet<String> = self.services.iter().map(|s| s.name.clone()).collect();
        for s in &mut self.services {
            let mut seen = BTreeSet::new();
            let wanted = std::mem::take(&mut s.depends_on);
            for (dep, condition) in wanted {
                if !seen.insert(dep.clone()) || dep == s.name {
                    continue;
                }
                if names.contains(&dep) {
                    s.depends_on.push((dep, condition));
                } else {
                    s.drop(format!("dependency on {dep}"), "no such service in the converted file");
                }
            }
        }
    }

    /// Every line of the summary of what was not converted.
    pub fn summary(&self) -> Vec<String> {
        let mut lines = self.skipped.clone();
        for s in &self.services {
            lines.extend(s.skipped.iter().map(|l| format!("{}: {l}", s.name)));
        }
        lines
    }

    /// The spec text: a header naming the source and the summary, then the services.
    pub fn render(&self, source: &str, format: &str) -> String {
        let mut out = format!("# Converted by `ward import` from {source} ({format}).\n");
        out.push_str("# A comment marks every setting without an exact counterpart in ward.\n");
        let summary = self.summary();
        if !summary.is_empty() {
            out.push_str("#\n# Not converted:\n");
            for line in &summary {
                out.push_str(&comment("#   - ", line, "#     "));
            }
        }
        out.push_str("version: 1\nservices:\n");
        for s in &self.services {
            out.push_str(&format!("  {}:\n", key(&s.name)));
            out.push_str(&comment("    # from ", &s.origin, "    #   "));
            for line in &s.lines {
                render_line(&mut out, line);
            }
            out.push_str(&depends_on(&s.depends_on));
        }
        out
    }
}

/// `depends_on:` as a list when every condition is `ready` (the default),
/// else as a mapping of services to conditions.
fn depends_on(deps: &[(String, &str)]) -> String {
    if deps.is_empty() {
        return String::new();
    }
    let value = if deps.iter().all(|(_, c)| *c == "ready") {
        Value::List(deps.iter().map(|(d, _)| Value::Str(d.clone())).collect())
    } else {
        Value::Map(deps.iter().map(|(d, c)| (d.clone(), Value::raw(c))).collect())
    };
    format!("    depends_on: {}\n", value.flow())
}

fn render_line(out: &mut String, line: &Line) {
    match line {
        Line::Set { key: k, value, note } => {
            if let Some(note) = note {
                out.push_str(&comment("    # ward import: ", note, "    #   "));
            }
            match value {
                Value::Map(entries) if !entries.is_empty() && k == "env" => {
                    out.push_str(&format!("    {k}:\n"));
                    for (name, v) in entries {
                        out.push_str(&format!("      {}: {}\n", key(name), v.flow()));
                    }
                }
                _ => out.push_str(&format!("    {k}: {}\n", value.flow())),
            }
        }
        Line::Dropped(text) => out.push_str(&comment("    # not converted: ", text, "    #   ")),
        Line::Note(text) => out.push_str(&comment("    # ward import: ", text, "    #   ")),
    }
}

/// A comment of one or more lines: `first` before the first line, `rest` before the others.
fn comment(first: &str, text: &str, rest: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let lead = if i == 0 { first } else { rest };
        out.push_str(lead.trim_end_matches(' '));
        if !line.is_empty() {
            out.push_str(&lead[lead.trim_end_matches(' ').len()..]);
            out.push_str(line);
        }
        out.push('\n');
    }
    if out.is_empty() {
        out.push_str(first.trim_end());
        out.push('\n');
    }
    out
}

/// `text` with each `$` that ward would read as `$$` or `${` doubled.
pub fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '$' && matches!(chars.peek(), Some('$' | '{')) {
            out.push('$');
        }
    }
    out
}

/// A string as a YAML double-quoted scalar.
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// A mapping key: bare when it is a plain word, quoted otherwise.
fn key(k: &str) -> String {
    let plain = !k.is_empty()
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        && !k.starts_with(['-', '.'])
        && !matches!(
            k.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n" | "~"
        );
    if plain { k.to_string() } else { quote(k) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_notes_drops_and_block_maps() {
        let mut s = Service::new("web", "[program:web]");
        s.set("command", Value::strs(&["gunicorn", "-b", ":80"]));
        s.approx("stable_after", Value::raw("5s"), "startsecs=5: close, not the same");
        s.set(
            "env",
            Value::Map(vec![("A".into(), Value::Str("1".into())), ("on".into(), Value::Str("x\"y".into()))]),
        );
        s.drop("priority=10", "ward orders starts by depends_on");
        s.depends_on.push(("db".into(), "ready"));
        let mut d = Draft { services: vec![s], skipped: vec!["[group:all]: no counterpart".into()] };
        d.settle_dependencies();
        let text = d.render("supervisord.conf", "supervisord");
        assert!(text.contains("    command: [\"gunicorn\", \"-b\", \":80\"]\n"), "{text}");
        assert!(text.contains("    # ward import: startsecs=5: close, not the same\n    stable_after: 5s\n"));
        assert!(text.contains("      \"on\": \"x\\\"y\"\n"), "{text}");
        assert!(text.contains("# not converted: priority=10: ward orders starts by depends_on\n"));
        assert!(text.contains("#   - web: dependency on db: no such service"), "{text}");
        assert!(!text.contains("    depends_on:"), "{text}");
    }

    #[test]
    fn literal_text_escapes_what_ward_would_interpolate() {
        assert_eq!(literal("echo $$ ${HOME} $PATH $"), "echo $$$ $${HOME} $PATH $");
        let v = Value::List(vec![Value::Str("${X}".into()), Value::Tpl("${X}".into())]);
        assert_eq!(v.flow(), "[\"$${X}\", \"${X}\"]");
        let deps = [("db".to_string(), "ready"), ("migrate".to_string(), "completed")];
        assert_eq!(depends_on(&deps), "    depends_on: { db: ready, migrate: completed }\n");
        assert_eq!(depends_on(&deps[..1]), "    depends_on: [\"db\"]\n");
    }
}
