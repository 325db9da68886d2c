//! What the shell passes to the parser besides the spec's text: ward's
//! environment, `.env` beside the spec, and the env files it names, all
//! read by the shell (ward-core opens no file and reads no variable). Also
//! the redaction that keeps variables' values out of error messages.

use super::SpecError;
use super::env_file;
use super::interpolate;
use super::raw::{self, Kind, Node, Reader};
use std::collections::BTreeMap;

/// What the shell read for one spec: the variables for `${VAR}` and the
/// text of the env files the spec names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpecInputs {
    /// ward's own environment; it wins over `.env`.
    pub environment: BTreeMap<String, String>,
    /// `.env` in the spec's folder, when it exists.
    pub dotenv: Option<EnvFileText>,
    /// Each `env_file` of the spec, by the path as written (after
    /// interpolation, relative to the spec's folder unless absolute).
    pub env_files: BTreeMap<String, EnvFileText>,
}

/// One env file as the shell found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvFileText {
    /// Its name in messages (the path ward opened).
    pub name: String,
    /// Its text, or why it could not be read (like "no such file or directory").
    pub text: Result<String, String>,
}

/// The env files a spec names (after interpolation), for the shell to read
/// before [`parse_with`](super::parse_with); empty when the spec does not parse.
pub fn env_file_paths(source: &str, inputs: &SpecInputs) -> Vec<String> {
    let Ok(mut root) = raw::load(source) else { return Vec::new() };
    let mut reader = Reader::new("");
    let vars = variables(&mut reader, inputs);
    interpolate::tree(&mut reader, &mut root, &vars);
    let Some(Kind::Map(services)) = root.get("services").map(|n| &n.kind) else { return Vec::new() };
    let mut paths = Vec::new();
    for (_, service) in services {
        match service.get("env_file").map(|n| &n.kind) {
            Some(Kind::Str(p)) => paths.push(p.clone()),
            Some(Kind::Seq(items)) => paths.extend(items.iter().filter_map(|n| n.text().map(str::to_string))),
            _ => {}
        }
    }
    paths
}

/// `.env` beside the spec, with ward's environment over it.
pub(super) fn variables(r: &mut Reader<'_>, inputs: &SpecInputs) -> BTreeMap<String, String> {
    let mut vars = match &inputs.dotenv {
        Some(dotenv) => read_env_text(r, dotenv, "", None).unwrap_or_default(),
        None => BTreeMap::new(),
    };
    vars.extend(inputs.environment.iter().map(|(k, v)| (k.clone(), v.clone())));
    vars
}

/// The variables of one env file; its mistakes are errors positioned in it
/// (or at `node`, the spec value that names it, when it cannot be read).
fn read_env_text(
    r: &mut Reader<'_>,
    file: &EnvFileText,
    path: &str,
    node: Option<&Node>,
) -> Option<BTreeMap<String, String>> {
    let text = match (&file.text, node) {
        (Ok(text), _) => text,
        (Err(why), Some(node)) => {
            let help = Some("create it, or remove it from env_file");
            return r.reject(node, path, format!("cannot read env file {}: {why}", file.name), help);
        }
        (Err(why), None) => {
            let message = format!("cannot read {}: {why}", file.name);
            r.errors.push(SpecError::at_file(&file.name, 1, 1, path, message));
            return None;
        }
    };
    match env_file::parse_env_file(text) {
        Ok(vars) => Some(env_file::merge(&[vars])),
        Err(e) => {
            r.errors.push(SpecError::at_file(&file.name, e.line, e.column, path, e.message));
            r.failed.push(path.to_string());
            None
        }
    }
}

/// Quotes the spec as written instead of an interpolated value in the
/// message of an error at that value.
pub(super) fn redact(e: &mut SpecError, root: &Node) {
    let Ok(node) = root.find(&e.path) else { return };
    let (Some(written), Some(value)) = (&node.written, node.text()) else { return };
    for text in std::iter::once(&mut e.message).chain(e.help.as_mut()) {
        *text = text.replace(&format!("`{value}`"), &format!("`{written}`"));
        if value.chars().count() >= 4 {
            *text = text.replace(value, written);
        } else {
            // A short value (a number in a range error) only where it stands as a word.
            *text = replace_first_word(text, value, written);
        }
    }
}

/// `text` with the first occurrence of `word` that stands alone (not inside
/// a longer number or name) replaced by `with`.
fn replace_first_word(text: &str, word: &str, with: &str) -> String {
    let part_of_word = |c: char| c.is_alphanumeric() || c == '.' || c == '_';
    let mut from = 0;
    while let Some(i) = text.get(from..).and_then(|rest| rest.find(word)) {
        let (at, end) = (from + i, from + i + word.len());
        let alone_before = text[..at].chars().next_back().is_none_or(|c| !part_of_word(c));
        let alone_after = text[end..].chars().next().is_none_or(|c| !part_of_word(c));
        if alone_before && alone_after && !word.is_empty() {
            return format!("{}{with}{}", &text[..at], &text[end..]);
        }
        from = end.max(at + 1);
    }
    text.to_string()
}

/// `env_file: path` or a list of paths, merged in order (a later file wins).
pub(super) fn read_env_files(
    r: &mut Reader<'_>,
    node: &Node,
    path: &str,
    inputs: &SpecInputs,
) -> BTreeMap<String, String> {
    let items: Vec<(String, &Node)> = match &node.kind {
        Kind::Seq(items) => items.iter().enumerate().map(|(i, n)| (format!("{path}[{i}]"), n)).collect(),
        _ => vec![(path.to_string(), node)],
    };
    let mut vars = BTreeMap::new();
    for (item_path, item) in items {
        let Some(file) = r.string(item, &item_path) else { continue };
        let text = match inputs.env_files.get(&file) {
            Some(text) => text.clone(),
            None => EnvFileText { name: file.clone(), text: Err("it was not read".into()) },
        };
        vars.extend(read_env_text(r, &text, &item_path, Some(item)).unwrap_or_default());
    }
    vars
}
