//! Single values as written in the spec: durations and byte sizes as human
//! strings, and the [`Reader`] methods that read one scalar (or one argv).
//!
//! Durations use humantime's grammar (`500ms`, `10s`, `5m`, `1h30m`); sizes are
//! a whole number with an optional unit, binary (`KiB`, `MiB`, `GiB`, `TiB`) or
//! decimal (`KB`, `MB`, `GB`, `TB`), e.g. `10MiB` or `4096`.

use super::raw::{Kind, Node, Reader, Scalar};
use std::time::Duration;

/// The expected form of a duration, used in error messages.
pub(super) const DURATION_FORM: &str = "a duration such as 500ms, 10s or 5m";

/// The expected form of a size, used in error messages.
pub(super) const SIZE_FORM: &str = "a size such as 4096, 512KiB, 10MiB or 1GiB";

/// Parses a human duration such as `500ms`, `60s`, `5m` or `0s`.
///
/// The error is a lowercase sentence naming the text and the expected form.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|_| format!("invalid duration `{s}`, expected {DURATION_FORM}"))
}

/// Parses a byte size such as `10MiB`, `512KiB`, `10MB`, `1GiB` or plain `4096`.
///
/// Units are case-insensitive; `KiB` is 1024 bytes, `KB` is 1000 bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let invalid = || format!("invalid size `{s}`, expected {SIZE_FORM}");
    let text = s.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    if digits.is_empty() {
        return Err(invalid());
    }
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "mb" => 1000_u64.pow(2),
        "gb" => 1000_u64.pow(3),
        "tb" => 1000_u64.pow(4),
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => return Err(invalid()),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(multiplier))
        .ok_or_else(|| format!("size `{s}` is too large, expected at most {} bytes", u64::MAX))
}

impl Reader<'_> {
    pub fn string(&mut self, node: &Node, path: &str) -> Option<String> {
        match &node.kind {
            Kind::Str(s) => Some(s.clone()),
            _ => self.expected(node, path, "a string"),
        }
    }

    /// Any scalar as text: `5` in an argv or env value is the string `"5"`.
    pub fn text(&mut self, node: &Node, path: &str) -> Option<String> {
        match node.text() {
            Some(s) => Some(s.to_string()),
            None => self.expected(node, path, "a string"),
        }
    }

    pub fn bool(&mut self, node: &Node, path: &str) -> Option<bool> {
        match node.scalar() {
            Scalar::Bool(b) => Some(b),
            _ => self.expected(node, path, "true or false"),
        }
    }

    pub(super) fn uint(&mut self, node: &Node, path: &str, max: u64) -> Option<u64> {
        match node.scalar() {
            Scalar::Int(n) if (0..=i128::from(max)).contains(&n) => u64::try_from(n).ok(),
            _ => self.expected(node, path, &format!("a whole number from 0 to {max}")),
        }
    }

    pub fn u32(&mut self, node: &Node, path: &str) -> Option<u32> {
        self.uint(node, path, u32::MAX.into()).and_then(|n| u32::try_from(n).ok())
    }

    pub fn port(&mut self, node: &Node, path: &str) -> Option<u16> {
        match node.scalar() {
            Scalar::Int(n) => u16::try_from(n).ok(),
            _ => None,
        }
        .or_else(|| self.expected(node, path, "a port number from 1 to 65535"))
    }

    pub fn number(&mut self, node: &Node, path: &str) -> Option<f64> {
        match node.scalar() {
            Scalar::Float(x) => Some(x),
            Scalar::Int(n) => Some(n as f64),
            _ => self.expected(node, path, "a number"),
        }
    }

    pub fn duration(&mut self, node: &Node, path: &str) -> Option<Duration> {
        match &node.kind {
            Kind::Str(s) => match parse_duration(s) {
                Ok(d) => Some(d),
                Err(message) => self.reject(node, path, message, None),
            },
            Kind::Int(n, _) => {
                let help = format!("add a unit, like {n}s for seconds or {n}ms for milliseconds");
                let message = format!("expected {DURATION_FORM}, found the number {n}");
                self.reject(node, path, message, Some(&help))
            }
            _ => self.expected(node, path, DURATION_FORM),
        }
    }

    pub fn size(&mut self, node: &Node, path: &str) -> Option<u64> {
        match &node.kind {
            Kind::Str(s) => match parse_size(s) {
                Ok(n) => Some(n),
                Err(message) => self.reject(node, path, message, None),
            },
            Kind::Int(..) => self.uint(node, path, u64::MAX),
            _ => self.expected(node, path, SIZE_FORM),
        }
    }

    /// A command as a list of strings; a single string is an error with a hint.
    pub fn argv(&mut self, node: &Node, path: &str) -> Option<Vec<String>> {
        match &node.kind {
            Kind::Seq(items) => {
                let read: Vec<_> =
                    items.iter().enumerate().map(|(i, n)| self.text(n, &format!("{path}[{i}]"))).collect();
                read.into_iter().collect()
            }
            // One string is split into words as a shell would (quotes,
            // escapes), but no shell runs it.
            Kind::Str(s) => match shell_words::split(s) {
                Ok(words) => Some(words),
                Err(e) => {
                    let help = r#"close the quote, or write a list, like ["./api", "--port", "${PORT}"]"#;
                    let message = format!("cannot split {} into words: {e}", node.describe());
                    self.reject(node, path, message, Some(help))
                }
            },
            _ => self.expected(node, path, "a list of strings"),
        }
    }

    /// A list of exit codes, each from 0 to 255.
    pub fn codes(&mut self, node: &Node, path: &str) -> Option<Vec<i32>> {
        let Kind::Seq(items) = &node.kind else {
            return self.expected(node, path, "a list of exit codes like [0, 143]");
        };
        let read: Vec<Option<i32>> = items
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let p = format!("{path}[{i}]");
                self.uint(n, &p, 255).and_then(|c| i32::try_from(c).ok())
            })
            .collect();
        read.into_iter().collect()
    }

    /// A rate: `20/s`, `300/m`, `1000/h`, or a number of restarts per second.
    pub fn rate(&mut self, node: &Node, path: &str) -> Option<f64> {
        const FORM: &str = "a rate like 20/s, 300/m or 1000/h";
        let per_second = match &node.kind {
            Kind::Int(n, _) => Some(*n as f64),
            Kind::Float(x, _) => Some(*x),
            Kind::Str(s) => s.split_once('/').and_then(|(n, unit)| {
                let n: f64 = n.trim().parse().ok()?;
                let seconds = match unit.trim() {
                    "s" | "sec" | "second" => 1.0,
                    "m" | "min" | "minute" => 60.0,
                    "h" | "hour" => 3600.0,
                    _ => return None,
                };
                Some(n / seconds)
            }),
            _ => None,
        };
        match per_second {
            Some(r) if r.is_finite() && r > 0.0 => Some(r),
            _ => {
                let message = format!("invalid rate {}, expected {FORM} (more than 0)", node.describe());
                self.reject(node, path, message, None)
            }
        }
    }

    /// One of a fixed set of words, as the value paired with it.
    pub fn choice<T: Copy>(&mut self, node: &Node, path: &str, options: &[(&str, T)]) -> Option<T> {
        let words: Vec<&str> = options.iter().map(|(w, _)| *w).collect();
        let expected = format!("one of {}", words.join(", "));
        let Kind::Str(s) = &node.kind else {
            return self.expected(node, path, &expected);
        };
        match options.iter().find(|(w, _)| w == s) {
            Some((_, value)) => Some(*value),
            None => self.reject(node, path, format!("unknown value `{s}`, expected {expected}"), None),
        }
    }
}
