//! `ward import FILE… [-o ward.yaml] [--format F]`: another tool's process
//! file as a ward spec (see `crate::convert`).
//!
//! The text is checked with ward-core's parser before anything is written,
//! so what `import` writes is a spec `ward check` accepts. Without `-o` the
//! spec goes to stdout; the summary of what was not converted always goes
//! to stderr.

use crate::convert::{self, Format};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What `ward import` was asked.
pub struct ImportArgs<'a> {
    /// The input files (several systemd units merge into one spec).
    pub files: &'a [PathBuf],
    /// Where to write the spec; stdout when `None`.
    pub output: Option<&'a Path>,
    /// The format, instead of guessing it.
    pub format: Option<&'a str>,
    /// Overwrite an existing output file.
    pub force: bool,
}

/// Runs `ward import`; returns the exit code (2: bad input or usage, 1: cannot write).
pub fn run(args: &ImportArgs<'_>) -> i32 {
    let forced = match args.format.map(|w| (w, Format::from_word(w))) {
        Some((w, None)) => {
            let all: Vec<&str> = Format::ALL.iter().map(|(w, _)| *w).collect();
            eprintln!("ward import: unknown format `{w}`, expected one of {}", all.join(", "));
            return 2;
        }
        Some((_, f)) => f,
        None => None,
    };
    let mut drafts = Vec::new();
    let mut sources = Vec::new();
    for path in args.files {
        let name = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("ward import: cannot read {name}: {e}");
                return 2;
            }
        };
        let Some(format) = forced.or_else(|| convert::detect(&name, &text)) else {
            eprintln!("ward import: {}", convert::ConvertError::Unknown { file: name });
            return 2;
        };
        match convert::convert(format, &text, &name) {
            Ok(d) => drafts.push(d),
            Err(e) => {
                eprintln!("ward import: {e}");
                return 2;
            }
        }
        sources.push((name, format.word()));
    }
    let draft = convert::merge(drafts);
    let source: Vec<String> = sources.iter().map(|(n, _)| n.clone()).collect();
    let mut formats: Vec<&str> = sources.iter().map(|(_, f)| *f).collect();
    formats.dedup();
    let text = draft.render(&source.join(", "), &formats.join(", "));
    let out_name = args.output.map_or_else(|| "ward.yaml".to_string(), |p| p.display().to_string());
    if let Err(errors) = validate(&text, &out_name) {
        eprintln!("{text}\n{errors}");
        eprintln!(
            "ward import: the converted spec is not valid (above); please report this with the input file"
        );
        return 1;
    }
    if let Err(code) = write(args, &text) {
        return code;
    }
    summary(&draft, &source.join(", "), args.output);
    0
}

/// Checks the spec's shape with ward-core's parser. The variables it reads
/// from ward's environment (`${VAR}`) and its env files are the user's to
/// provide where ward runs: each gets a placeholder here, so that the check
/// judges the conversion, not this machine's environment.
fn validate(text: &str, file: &str) -> Result<(), ward_core::spec::SpecErrors> {
    use ward_core::spec::{EnvFileText, SpecInputs};
    let mut inputs = SpecInputs::default();
    for name in variables(text) {
        inputs.environment.insert(name, "1".to_string());
    }
    for path in ward_core::spec::env_file_paths(text, &inputs) {
        let file = EnvFileText { name: path.clone(), text: Ok(String::new()) };
        inputs.env_files.insert(path, file);
    }
    ward_core::spec::parse_with(text, file, &inputs).map(drop)
}

/// The names of the `${NAME…}` references in `text` (`$$` is a literal `$`).
fn variables(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(body.len());
            names.push(body[..end].to_string());
            rest = &body[end..];
        } else {
            rest = after;
        }
    }
    names
}

fn write(args: &ImportArgs<'_>, text: &str) -> Result<(), i32> {
    let Some(path) = args.output else {
        let mut out = std::io::stdout().lock();
        return out.write_all(text.as_bytes()).map_err(|e| {
            eprintln!("ward import: cannot write to stdout: {e}");
            1
        });
    };
    let mut open = std::fs::OpenOptions::new();
    open.write(true);
    if args.force {
        open.create(true).truncate(true);
    } else {
        open.create_new(true);
    }
    let result = open.open(path).and_then(|mut f| f.write_all(text.as_bytes()));
    result.map_err(|e| {
        let help = if e.kind() == std::io::ErrorKind::AlreadyExists {
            " (pass --force to overwrite it)"
        } else {
            ""
        };
        eprintln!("ward import: cannot write {}: {e}{help}", path.display());
        1
    })
}

fn summary(draft: &convert::Draft, source: &str, output: Option<&Path>) {
    let n = draft.services.len();
    let approx: usize = draft
        .services
        .iter()
        .flat_map(|s| &s.lines)
        .filter(|l| matches!(l, convert::draft::Line::Set { note: Some(_), .. }))
        .count();
    let into = output.map_or_else(|| "stdout".to_string(), |p| p.display().to_string());
    eprintln!(
        "ward import: {source}: {n} service{} written to {into}; {approx} setting{} marked as not exact",
        if n == 1 { "" } else { "s" },
        if approx == 1 { "" } else { "s" },
    );
    let skipped = draft.summary();
    if !skipped.is_empty() {
        eprintln!("not converted:");
        for line in skipped {
            eprintln!("  - {}", line.replace('\n', "\n    "));
        }
    }
}
