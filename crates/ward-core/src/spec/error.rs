//! Spec errors: where (file:line:col), which key, what was expected.
//!
//! A [`SpecError`] renders as `ward.yaml:5:29: services.api.backoff: message`,
//! with an optional second line `  help: ...`. [`SpecErrors`] is the whole list
//! of errors of one file, sorted by position.

use std::fmt;

/// One problem in a spec file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    /// The file name, as given to [`parse()`](super::parse()).
    pub file: String,
    /// 1-based line of the offending value (or key).
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// The key path, like `services.api.backoff.max`; empty at the top level.
    pub path: String,
    /// What is wrong and what was expected; lowercase.
    pub message: String,
    /// A hint on how to fix it.
    pub help: Option<String>,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecError {}

impl SpecError {
    /// An error at a position of `file` (which may be an env file, not the spec).
    pub(super) fn at_file(file: &str, line: u32, column: u32, path: &str, message: String) -> SpecError {
        SpecError { file: file.to_string(), line, column, path: path.to_string(), message, help: None }
    }
}

/// Every problem found in one spec file, sorted by position; never empty when returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecErrors(pub Vec<SpecError>);

impl std::error::Error for SpecErrors {}

impl SpecErrors {
    /// How many errors there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The errors, in file order.
    pub fn iter(&self) -> std::slice::Iter<'_, SpecError> {
        self.0.iter()
    }
}

impl<'a> IntoIterator for &'a SpecErrors {
    type Item = &'a SpecError;
    type IntoIter = std::slice::Iter<'a, SpecError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

/// Turns a YAML syntax error into a [`SpecError`]: our own short message (no
/// snippet, no "at line" suffix) and a key path guessed from the indentation
/// of the lines above, since no tree exists for text that does not parse.
pub(super) fn from_yaml(err: &serde_saphyr::Error, source: &str, file: &str) -> SpecError {
    let (line, column) = err.location().map_or((1, 1), |l| {
        (u32::try_from(l.line()).unwrap_or(u32::MAX), u32::try_from(l.column()).unwrap_or(u32::MAX))
    });
    let text = err.without_snippet().to_string();
    let text = match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => &text,
    };
    let message = if let Some(rest) = text.strip_prefix("duplicate mapping key: ") {
        let key = rest.split(',').next().unwrap_or(rest);
        format!("duplicate key `{key}`, expected each key once")
    } else if let Some(rest) = text.strip_prefix("non-finite float ") {
        let value = rest.split(' ').next().unwrap_or(rest);
        format!("non-finite number {value}, expected a finite number")
    } else if text.starts_with("budget breached") {
        // The YAML reader's limits (nodes, depth, aliases): an alias bomb or a huge file.
        "too large or too deeply nested once its aliases (`*name`) are expanded, expected a smaller spec"
            .to_string()
    } else if text.starts_with("cannot deserialize null into string") {
        "empty key, expected a name".to_string()
    } else {
        format!("invalid yaml: {text}")
    };
    SpecError {
        file: file.to_string(),
        line,
        column,
        path: guess_path(source, line, column),
        message,
        help: None,
    }
}

/// The block keys enclosing (line, column): each earlier `key:` line indented
/// less than the last one taken, plus a `key:` on the error line that ends
/// before the column. A heuristic for syntax errors only.
fn guess_path(source: &str, line: u32, column: u32) -> String {
    let lines: Vec<&str> = source.lines().take(line as usize).collect();
    let mut keys = Vec::new();
    let mut limit = match lines.get((line as usize).saturating_sub(1)) {
        Some(text) if !text.trim().is_empty() => text.len() - text.trim_start().len(),
        _ => usize::MAX,
    };
    for (i, text) in lines.iter().enumerate().rev() {
        let Some((indent, key)) = block_key(text) else {
            continue;
        };
        let on_error_line = i + 1 == line as usize;
        let key_end = indent + key.chars().count() + 1;
        if on_error_line {
            if key_end < column as usize {
                keys.push(key);
                limit = indent;
            }
            continue;
        }
        if indent < limit {
            keys.push(key);
            limit = indent;
        }
        if indent == 0 {
            break;
        }
    }
    keys.reverse();
    keys.join(".")
}

/// `Some((indent, key))` when the line is `  key: ...` (ignoring a `- ` item marker).
fn block_key(text: &str) -> Option<(usize, &str)> {
    let body = text.trim_start();
    let mut indent = text.len() - body.len();
    let body = match body.strip_prefix("- ") {
        Some(rest) => {
            indent += 2;
            rest.trim_start()
        }
        None => body,
    };
    let (key, _) = body.split_once(':')?;
    let ok = !key.is_empty() && key.chars().all(|c| c.is_alphanumeric() || "_-.".contains(c));
    ok.then_some((indent, key))
}
