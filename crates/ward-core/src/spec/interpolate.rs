//! `${VAR}` interpolation of spec values, compose-style, from variables the
//! shell passes in (ward's environment over `.env` beside the spec).
//!
//! Forms: `${VAR}`, `${VAR:-default}` (unset or empty), `${VAR-default}`
//! (unset), `${VAR:?message}` (an error when unset or empty), `${VAR?message}`
//! (when unset); `$$` is a literal `$`. A bare `$VAR` is left as it is, so a
//! `sh -c` command keeps its shell variables. Names that an instance fills
//! at launch (its `ports:` names and every `WARD_*` name) are left in place
//! as templates. Only mapping and list values are interpolated, never keys.
//!
//! A value that interpolation changed remembers how it was written, so that
//! error messages quote the spec as written and never a variable's value.

use super::raw::{Kind, Node, Reader, join};
use std::collections::BTreeMap;

/// Why a value cannot be interpolated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Problem {
    /// What is wrong; lowercase.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl Problem {
    fn new(message: impl Into<String>, help: Option<String>) -> Self {
        Problem { message: message.into(), help }
    }
}

/// Whether `name` is left for the instance to fill at launch.
pub(super) fn is_instance_variable(name: &str, ports: &[String]) -> bool {
    name.starts_with("WARD_") || ports.iter().any(|p| p == name)
}

/// `[A-Za-z_][A-Za-z0-9_]*`.
fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Interpolates `text`; `None` when it has nothing to replace.
pub(super) fn interpolate(
    text: &str,
    vars: &BTreeMap<String, String>,
    keep: &dyn Fn(&str) -> bool,
) -> Result<Option<String>, Problem> {
    if !text.contains('$') {
        return Ok(None);
    }
    let out = expand(text, vars, keep)?;
    Ok((out != text).then_some(out))
}

fn expand(
    text: &str,
    vars: &BTreeMap<String, String>,
    keep: &dyn Fn(&str) -> bool,
) -> Result<String, Problem> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body_start) = after.strip_prefix('{') {
            let end = closing_brace(body_start).ok_or_else(|| {
                Problem::new("unclosed `${`, expected `}`", Some("write $$ for a literal $".into()))
            })?;
            let body = &body_start[..end];
            out.push_str(&substitute(body, vars, keep)?);
            rest = &body_start[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The index of the `}` that closes a `${`, counting nested `${…}`.
fn closing_brace(body: &str) -> Option<usize> {
    let mut depth = 0usize;
    let bytes = body.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'{' if i > 0 && bytes[i - 1] == b'$' => depth += 1,
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// The value of one `${body}`.
fn substitute(
    body: &str,
    vars: &BTreeMap<String, String>,
    keep: &dyn Fn(&str) -> bool,
) -> Result<String, Problem> {
    let name_end = body.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(body.len());
    let (name, modifier) = body.split_at(name_end);
    if !is_name(name) {
        let message = format!(
            "invalid variable `${{{body}}}`, expected a name of letters, digits and `_` that does not start with a digit"
        );
        return Err(Problem::new(message, Some("write $$ for a literal $".into())));
    }
    if keep(name) {
        if modifier.is_empty() {
            return Ok(format!("${{{name}}}"));
        }
        let message = format!(
            "`${{{body}}}`: {name} is an instance variable, filled at launch, and takes no default or message"
        );
        return Err(Problem::new(message, Some(format!("write ${{{name}}}"))));
    }
    let value = vars.get(name).map(String::as_str);
    let (op, arg) = split_modifier(modifier).ok_or_else(|| {
        let message = format!("invalid variable `${{{body}}}`, expected `${{{name}}}`, `${{{name}:-default}}` or `${{{name}:?message}}`");
        Problem::new(message, None)
    })?;
    let missing = match op {
        ":-" | ":?" => value.is_none_or(str::is_empty),
        _ => value.is_none(),
    };
    match (op, missing) {
        (_, false) => Ok(value.unwrap_or_default().to_string()),
        (":-" | "-", true) => expand(arg, vars, keep),
        (":?" | "?", true) => {
            let why = expand(arg, vars, keep)?;
            let why = if why.is_empty() { "it is required".to_string() } else { why };
            Err(Problem::new(format!("{name} is not set: {why}"), Some(set_help(name))))
        }
        _ => {
            let help = format!(
                "{}, give a default with ${{{name}:-default}}, or write $${{{name}}} for a literal ${{{name}}}",
                set_help(name)
            );
            Err(Problem::new(format!("variable {name} is not set"), Some(help)))
        }
    }
}

fn set_help(name: &str) -> String {
    format!("set {name} in ward's environment or in .env beside the spec")
}

/// `("", "")` for no modifier, else the operator and its argument.
fn split_modifier(modifier: &str) -> Option<(&str, &str)> {
    if modifier.is_empty() {
        return Some(("", ""));
    }
    [":-", ":?", "-", "?"].into_iter().find_map(|op| modifier.strip_prefix(op).map(|arg| (op, arg)))
}

/// Interpolates every value of the tree in place; under `services.NAME`, that
/// service's `ports:` names are instance variables.
pub(super) fn tree(r: &mut Reader<'_>, root: &mut Node, vars: &BTreeMap<String, String>) {
    let Kind::Map(top) = &mut root.kind else { return };
    for (key, node) in top.iter_mut() {
        if key != "services" {
            walk(r, node, key, vars, &[]);
            continue;
        }
        let Kind::Map(services) = &mut node.kind else {
            walk(r, node, key, vars, &[]);
            continue;
        };
        for (name, service) in services.iter_mut() {
            let ports: Vec<String> = match service.get("ports").map(|p| &p.kind) {
                Some(Kind::Map(entries)) => entries.iter().map(|(k, _)| k.clone()).collect(),
                _ => Vec::new(),
            };
            walk(r, service, &join("services", name), vars, &ports);
        }
    }
}

fn walk(r: &mut Reader<'_>, node: &mut Node, path: &str, vars: &BTreeMap<String, String>, ports: &[String]) {
    match &mut node.kind {
        Kind::Map(entries) => {
            for (key, value) in entries.iter_mut() {
                walk(r, value, &join(path, key), vars, ports);
            }
        }
        Kind::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk(r, item, &format!("{path}[{i}]"), vars, ports);
            }
        }
        Kind::Str(text) => {
            let keep = |name: &str| is_instance_variable(name, ports);
            match interpolate(text, vars, &keep) {
                Ok(None) => {}
                Ok(Some(value)) => node.interpolated(value),
                Err(p) => r.fail(node, path, p.message, p.help.as_deref()),
            }
        }
        Kind::Null | Kind::Bool(..) | Kind::Int(..) | Kind::Float(..) => {}
    }
}

#[cfg(test)]
#[path = "interpolate_tests.rs"]
mod tests;
