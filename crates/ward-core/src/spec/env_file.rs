//! Env files (`.env` beside the spec, a service's `env_file:`) in the dotenv
//! format, parsed from text the shell read: ward-core never opens a file.
//!
//! One `KEY=VALUE` per line; blank lines and `#` comments are skipped; an
//! optional `export ` prefix is allowed. A value is unquoted (trimmed; ` #`
//! starts a comment), in single quotes (literal), or in double quotes (with
//! `\n`, `\t`, `\"`, `\\` and `\$` escapes); quoted values may span lines.
//! Values are taken literally otherwise: no `${VAR}` inside env files.
//! (Not the `dotenvy` crate: its parser reads the process environment to
//! substitute variables, and ward-core must stay pure.)

use std::collections::BTreeMap;

pub use super::inputs::{EnvFileText, SpecInputs};

/// A mistake in an env file, at a 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvFileError {
    /// The line.
    pub line: u32,
    /// The column, in characters.
    pub column: u32,
    /// What is wrong; lowercase.
    pub message: String,
}

/// The variables of an env file, in file order (a later key wins).
pub fn parse_env_file(text: &str) -> Result<Vec<(String, String)>, EnvFileError> {
    let mut scan = Scanner { chars: text.chars().collect(), at: 0, line: 1, column: 1 };
    let mut vars = Vec::new();
    loop {
        scan.skip_while(|c| c == ' ' || c == '\t' || c == '\n' || c == '\r');
        match scan.peek() {
            None => return Ok(vars),
            Some('#') => scan.skip_while(|c| c != '\n'),
            Some(_) => vars.push(scan.entry()?),
        }
    }
}

/// The variables of several env files merged in order, each later one winning.
pub(super) fn merge(files: &[Vec<(String, String)>]) -> BTreeMap<String, String> {
    files.iter().flatten().cloned().collect()
}

struct Scanner {
    chars: Vec<char>,
    at: usize,
    line: u32,
    column: u32,
}

impl Scanner {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += 1;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn skip_while(&mut self, keep: impl Fn(char) -> bool) {
        while self.peek().is_some_and(&keep) {
            self.bump();
        }
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, EnvFileError> {
        Err(EnvFileError { line: self.line, column: self.column, message: message.into() })
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek().filter(|c| keep(*c)) {
            out.push(c);
            self.bump();
        }
        out
    }

    /// `[export ]KEY=VALUE` up to the end of its line.
    fn entry(&mut self) -> Result<(String, String), EnvFileError> {
        let (line, column) = (self.line, self.column);
        let mut key = self.take_while(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        if key == "export" && self.peek().is_some_and(|c| c == ' ' || c == '\t') {
            self.skip_while(|c| c == ' ' || c == '\t');
            key = self.take_while(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        }
        if key.is_empty() {
            let message = "expected a variable name, like KEY=value".to_string();
            return Err(EnvFileError { line, column, message });
        }
        if key.starts_with(|c: char| c.is_ascii_digit()) {
            let message =
                format!("invalid variable name `{key}`, expected a name that does not start with a digit");
            return Err(EnvFileError { line, column, message });
        }
        self.skip_while(|c| c == ' ' || c == '\t');
        if self.peek() != Some('=') {
            return self.error(format!("expected `=` after `{key}`, like {key}=value"));
        }
        self.bump();
        self.skip_while(|c| c == ' ' || c == '\t');
        let value = match self.peek() {
            Some('\'') => self.quoted('\'')?,
            Some('"') => self.quoted('"')?,
            _ => self.unquoted(),
        };
        self.end_of_line()?;
        Ok((key, value))
    }

    fn unquoted(&mut self) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek().filter(|c| *c != '\n') {
            if c == '#' && out.ends_with([' ', '\t']) {
                break;
            }
            out.push(c);
            self.bump();
        }
        out.trim_end().to_string()
    }

    fn quoted(&mut self, quote: char) -> Result<String, EnvFileError> {
        let (line, column) = (self.line, self.column);
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump() {
                None => {
                    let message = format!("unclosed {quote} quote, expected a closing {quote}");
                    return Err(EnvFileError { line, column, message });
                }
                Some(c) if c == quote => return Ok(out),
                Some('\\') if quote == '"' => {
                    let escaped = self.bump().unwrap_or('\\');
                    out.push(match escaped {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        other => other,
                    });
                }
                Some(c) => out.push(c),
            }
        }
    }

    /// Only blanks or a comment may follow a value.
    fn end_of_line(&mut self) -> Result<(), EnvFileError> {
        self.skip_while(|c| c == ' ' || c == '\t' || c == '\r');
        match self.peek() {
            None | Some('\n') => Ok(()),
            Some('#') => {
                self.skip_while(|c| c != '\n');
                Ok(())
            }
            Some(c) => {
                self.error(format!("unexpected `{c}` after the closing quote, expected the end of the line"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(text: &str) -> Vec<(String, String)> {
        parse_env_file(text).unwrap()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn reads_the_dotenv_forms() {
        let text = "# comment\n\nA=1\nexport B = two words # note\nC='single $X # kept'\nD=\"line\\nnext \\\"q\\\"\"\nE=\nF=\"multi\nline\"\nG=a#b\n";
        assert_eq!(
            vars(text),
            pairs(&[
                ("A", "1"),
                ("B", "two words"),
                ("C", "single $X # kept"),
                ("D", "line\nnext \"q\""),
                ("E", ""),
                ("F", "multi\nline"),
                ("G", "a#b"),
            ])
        );
    }

    #[test]
    fn crlf_lines_are_read() {
        assert_eq!(vars("A=1\r\nB='x'\r\n"), pairs(&[("A", "1"), ("B", "x")]));
    }

    #[test]
    fn mistakes_have_positions() {
        let e = parse_env_file("A=1\nnot a line\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 5));
        assert_eq!(e.message, "expected `=` after `not`, like not=value");
        let e = parse_env_file("A='open\n").unwrap_err();
        assert_eq!((e.line, e.column, e.message.as_str()), (1, 3, "unclosed ' quote, expected a closing '"));
        let e = parse_env_file("=x\n").unwrap_err();
        assert_eq!(
            (e.line, e.column, e.message.as_str()),
            (1, 1, "expected a variable name, like KEY=value")
        );
        let e = parse_env_file("A=\"x\" y\n").unwrap_err();
        assert_eq!(e.message, "unexpected `y` after the closing quote, expected the end of the line");
    }

    #[test]
    fn later_files_win() {
        let merged = merge(&[pairs(&[("A", "1"), ("B", "1")]), pairs(&[("B", "2")])]);
        assert_eq!(merged.get("B").map(String::as_str), Some("2"));
        assert_eq!(merged.len(), 2);
    }
}
