//! YAML and JSON input (process-compose, pm2, compose) as a `serde_json`
//! value tree, and the readers of its leaves: strings, numbers and lists as
//! their tools accept them.

use super::ConvertError;
use serde_json::Value as J;

/// Parses YAML (JSON is YAML too) into a value tree.
pub fn load(text: &str, file: &str) -> Result<J, ConvertError> {
    serde_saphyr::from_str::<J>(text)
        .map_err(|e| ConvertError::Document { file: file.to_string(), message: e.to_string() })
}

/// A scalar as text: strings as they are, numbers and booleans printed.
pub fn text(v: &J) -> Option<String> {
    match v {
        J::String(s) => Some(s.clone()),
        J::Number(n) => Some(n.to_string()),
        J::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A number, also when written as a string (`"3"`).
pub fn number(v: &J) -> Option<f64> {
    match v {
        J::Number(n) => n.as_f64(),
        J::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A whole non-negative number that fits in u32.
pub fn count(v: &J) -> Option<u32> {
    number(v).filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= f64::from(u32::MAX)).map(|n| n as u32)
}

/// A boolean, also `"true"`/`"yes"`.
pub fn boolean(v: &J) -> Option<bool> {
    match v {
        J::Bool(b) => Some(*b),
        J::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" => Some(true),
            "false" | "no" | "off" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A list of strings (each scalar printed); `None` when it is not a list of scalars.
pub fn strings(v: &J) -> Option<Vec<String>> {
    v.as_array()?.iter().map(text).collect()
}

/// Environment as a mapping `{K: v}` or a list `["K=v"]`. Entries without a
/// value (a list item `K`, or `K: null`) come back in the second list: their
/// tool takes them from its own environment.
pub fn environment(v: &J) -> (Vec<(String, String)>, Vec<String>) {
    let (mut set, mut inherited) = (Vec::new(), Vec::new());
    match v {
        J::Object(m) => {
            for (k, val) in m {
                match text(val) {
                    Some(t) => set.push((k.clone(), t)),
                    None => inherited.push(k.clone()),
                }
            }
        }
        J::Array(items) => {
            for item in items.iter().filter_map(text) {
                match item.split_once('=') {
                    Some((k, val)) => set.push((k.to_string(), val.to_string())),
                    None => inherited.push(item),
                }
            }
        }
        _ => {}
    }
    set.retain(|(k, _)| !k.is_empty() && !k.contains('\0'));
    (set, inherited)
}

/// A short rendering of a value for comments (JSON, cut at 120 characters).
pub fn show(v: &J) -> String {
    let s = match v {
        J::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > 120 { format!("{}…", s.chars().take(120).collect::<String>()) } else { s }
}

/// `key: value` for a comment.
pub fn entry(key: &str, v: &J) -> String {
    format!("{key}: {}", show(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_as_map_or_list() {
        let v = load("a: { X: 1, Y: null }\nb: [\"P=q=r\", \"Z\"]\n", "f").unwrap();
        assert_eq!(environment(&v["a"]), (vec![("X".into(), "1".into())], vec!["Y".into()]));
        assert_eq!(environment(&v["b"]), (vec![("P".into(), "q=r".into())], vec!["Z".into()]));
    }

    #[test]
    fn json_is_read_as_yaml() {
        let v = load("{\"apps\": [{\"name\": \"api\", \"instances\": 2}]}", "f").unwrap();
        assert_eq!(count(&v["apps"][0]["instances"]), Some(2));
    }
}
