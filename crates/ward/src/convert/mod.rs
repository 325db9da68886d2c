//! `ward import`: other tools' process files turned into a ward spec.
//!
//! Each format reads its file into a [`Draft`]: services as ordered settings,
//! each with a note where ward's setting is only close to the original, and
//! a list of what has no counterpart at all. The draft renders as YAML with
//! those notes as comments; the caller checks the text with ward-core's
//! parser before writing it. Nothing here touches the file system.
//!
//! - `draft`: the converted services and their rendering.
//! - `words`: command lines, names, durations, signals.
//! - `ini`: supervisord's and systemd's INI dialects.
//! - `procfile`, `supervisord`, `systemd`, `process_compose`, `pm2`, `compose`: one per format.
//! - `tree`: YAML/JSON input as a value tree.

pub mod draft;
mod ini;
mod words;

mod compose;
mod pm2;
mod process_compose;
mod procfile;
mod supervisord;
mod systemd;
mod tree;

pub use draft::Draft;

/// The formats `ward import` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Heroku/foreman `Procfile`: `name: command` lines.
    Procfile,
    /// supervisord.conf `[program:x]` sections.
    Supervisord,
    /// systemd `.service` units.
    Systemd,
    /// process-compose.yaml.
    ProcessCompose,
    /// pm2 ecosystem file (JSON or YAML).
    Pm2,
    /// Docker Compose / Podman Compose file.
    Compose,
}

impl Format {
    /// Every format with its `--format` word.
    pub const ALL: [(&'static str, Format); 6] = [
        ("procfile", Format::Procfile),
        ("supervisord", Format::Supervisord),
        ("systemd", Format::Systemd),
        ("process-compose", Format::ProcessCompose),
        ("pm2", Format::Pm2),
        ("compose", Format::Compose),
    ];

    /// The `--format` word.
    pub fn word(self) -> &'static str {
        Format::ALL.iter().find(|(_, f)| *f == self).map_or("?", |(w, _)| w)
    }

    /// The format named by a `--format` word.
    pub fn from_word(word: &str) -> Option<Format> {
        Format::ALL.iter().find(|(w, _)| *w == word).map(|(_, f)| *f)
    }
}

/// Why a file cannot be converted.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The file does not follow its format's syntax.
    #[error("{file}:{line}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A YAML or JSON file that does not parse.
    #[error("{file}: {message}")]
    Document {
        /// The file.
        file: String,
        /// The parser's message (with line and column).
        message: String,
    },
    /// The file parses but is not what its format expects.
    #[error("{file}: {message}")]
    Shape {
        /// The file.
        file: String,
        /// What was expected.
        message: String,
    },
    /// Neither the name nor the content says which format the file is in.
    #[error(
        "{file}: cannot tell the format from its name or content\n  help: pass --format with one of {}",
        formats()
    )]
    Unknown {
        /// The file.
        file: String,
    },
}

fn formats() -> String {
    Format::ALL.iter().map(|(w, _)| *w).collect::<Vec<_>>().join(", ")
}

/// Guesses the format of `text`, read from a file named `name`: by name
/// first (`Procfile`, `*.service`, `docker-compose.yml`…), then by content.
pub fn detect(name: &str, text: &str) -> Option<Format> {
    by_name(name).or_else(|| by_content(text))
}

fn by_name(path: &str) -> Option<Format> {
    let base = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let yaml = base.ends_with(".yml") || base.ends_with(".yaml");
    if base.starts_with("procfile") {
        Some(Format::Procfile)
    } else if base.ends_with(".service") {
        Some(Format::Systemd)
    } else if base.starts_with("supervisord") || base.starts_with("supervisor.") {
        Some(Format::Supervisord)
    } else if base.starts_with("process-compose") && yaml {
        Some(Format::ProcessCompose)
    } else if base.starts_with("ecosystem") || base.starts_with("pm2") {
        Some(Format::Pm2)
    } else if (base.contains("compose") && yaml) || base == "compose.json" {
        Some(Format::Compose)
    } else {
        None
    }
}

fn by_content(text: &str) -> Option<Format> {
    let has_line = |prefix: &str| text.lines().any(|l| l.trim_start().starts_with(prefix));
    if has_line("[program:") {
        return Some(Format::Supervisord);
    }
    if has_line("[Service]") || has_line("ExecStart=") {
        return Some(Format::Systemd);
    }
    let doc = tree::load(text, "").ok()?;
    if doc.get("processes").is_some() {
        Some(Format::ProcessCompose)
    } else if doc.get("apps").is_some()
        || doc.as_list().is_some_and(|a| a.iter().any(|x| x.get("script").is_some()))
    {
        Some(Format::Pm2)
    } else if doc.get("services").is_some() {
        Some(Format::Compose)
    } else if doc.as_map().is_some_and(|m| !m.is_empty() && m.iter().all(|(_, v)| v.as_str().is_some())) {
        Some(Format::Procfile)
    } else {
        None
    }
}

/// Converts `text` (the content of the file named `file`) from `format`.
/// Dependencies are settled by [`merge`], once every file is converted.
pub fn convert(format: Format, text: &str, file: &str) -> Result<Draft, ConvertError> {
    let draft = match format {
        Format::Procfile => procfile::convert(text, file)?,
        Format::Supervisord => supervisord::convert(text, file)?,
        Format::Systemd => systemd::convert(text, file)?,
        Format::ProcessCompose => process_compose::convert(text, file)?,
        Format::Pm2 => pm2::convert(text, file)?,
        Format::Compose => compose::convert(text, file)?,
    };
    Ok(draft)
}

/// Merges the drafts of every input file (several systemd units) into one,
/// and drops dependencies on services none of them has; a later service
/// with a name already taken is left out and noted.
pub fn merge(drafts: Vec<Draft>) -> Draft {
    let mut all = Draft::default();
    for d in drafts {
        all.skipped.extend(d.skipped);
        for s in d.services {
            if all.services.iter().any(|t| t.name == s.name) {
                all.skipped.push(format!("{} ({}): a service of that name came first", s.name, s.origin));
            } else {
                all.services.push(s);
            }
        }
    }
    all.settle_dependencies();
    all
}

/// A syntax error at a line of `file`.
fn convert_error_line(file: &str, line: usize, message: String) -> ConvertError {
    ConvertError::Syntax { file: file.to_string(), line, message }
}

/// A file that parses but does not have the shape its format expects.
fn shape(file: &str, message: impl Into<String>) -> ConvertError {
    ConvertError::Shape { file: file.to_string(), message: message.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_name_then_by_content() {
        assert_eq!(detect("Procfile.dev", ""), Some(Format::Procfile));
        assert_eq!(detect("/etc/systemd/system/api.service", ""), Some(Format::Systemd));
        assert_eq!(detect("process-compose.yml", ""), Some(Format::ProcessCompose));
        assert_eq!(detect("docker-compose.override.yaml", ""), Some(Format::Compose));
        assert_eq!(detect("ecosystem.config.json", ""), Some(Format::Pm2));
        assert_eq!(detect("x.conf", "[program:a]\ncommand=a\n"), Some(Format::Supervisord));
        assert_eq!(detect("x", "[Unit]\n[Service]\nExecStart=/bin/a\n"), Some(Format::Systemd));
        assert_eq!(detect("x", "processes:\n  a: { command: a }\n"), Some(Format::ProcessCompose));
        assert_eq!(detect("x", "[{\"name\": \"a\", \"script\": \"a.js\"}]"), Some(Format::Pm2));
        assert_eq!(detect("x", "services:\n  a: { image: a }\n"), Some(Format::Compose));
        assert_eq!(detect("x", "web: ./web\nworker: ./worker\n"), Some(Format::Procfile));
        assert_eq!(detect("x", "just words\n"), None);
        assert_eq!(Format::from_word("pm2").map(Format::word), Some("pm2"));
    }
}
