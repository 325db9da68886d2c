//! YAML and JSON input (process-compose, pm2, compose) as a value tree in
//! the file's order, and the readers of its leaves: strings, numbers and
//! lists as their tools accept them.

use super::ConvertError;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A YAML or JSON value; mappings keep the file's order, so services and
/// notes come out in the order the file has them.
#[derive(Clone, Debug, PartialEq)]
pub enum Tree {
    /// `null`, `~` or nothing.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, and its text.
    Num(f64, String),
    /// A string.
    Str(String),
    /// A sequence.
    List(Vec<Tree>),
    /// A mapping, in order.
    Map(Vec<(String, Tree)>),
}

impl Tree {
    /// The value under `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Tree> {
        self.as_map()?.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// A mapping's entries, in order.
    pub fn as_map(&self) -> Option<&[(String, Tree)]> {
        match self {
            Tree::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// A sequence's items.
    pub fn as_list(&self) -> Option<&[Tree]> {
        match self {
            Tree::List(items) => Some(items),
            _ => None,
        }
    }

    /// A string's text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Tree::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A whole number.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Tree::Num(n, _) if n.fract() == 0.0 && n.abs() < 9.0e15 => Some(*n as i64),
            _ => None,
        }
    }

    /// Flow-style text of the value, for comments.
    fn flow(&self) -> String {
        match self {
            Tree::Null => "null".to_string(),
            Tree::Bool(b) => b.to_string(),
            Tree::Num(_, text) => text.clone(),
            Tree::Str(s) => serde_json::to_string(s).unwrap_or_default(),
            Tree::List(items) => format!("[{}]", items.iter().map(Tree::flow).collect::<Vec<_>>().join(", ")),
            Tree::Map(entries) => {
                let parts: Vec<String> = entries.iter().map(|(k, v)| format!("{k}: {}", v.flow())).collect();
                format!("{{{}}}", parts.join(", "))
            }
        }
    }
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Tree, D::Error> {
        deserializer.deserialize_any(TreeVisitor)
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Tree;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML or JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Tree, E> {
        Ok(Tree::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Tree, E> {
        Ok(Tree::Num(v as f64, v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Tree, E> {
        Ok(Tree::Num(v as f64, v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Tree, E> {
        Ok(Tree::Num(v, v.to_string()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Tree, E> {
        Ok(Tree::Str(v.to_string()))
    }
    fn visit_unit<E>(self) -> Result<Tree, E> {
        Ok(Tree::Null)
    }
    fn visit_none<E>(self) -> Result<Tree, E> {
        Ok(Tree::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Tree, D::Error> {
        Tree::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Tree::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            entries.push((key, map.next_value()?));
        }
        Ok(Tree::Map(entries))
    }
}

/// Parses YAML (JSON is YAML too) into a value tree.
pub fn load(text: &str, file: &str) -> Result<Tree, ConvertError> {
    serde_saphyr::from_str::<Tree>(text)
        .map_err(|e| ConvertError::Document { file: file.to_string(), message: e.to_string() })
}

/// A scalar as text: strings as they are, numbers and booleans printed.
pub fn text(v: &Tree) -> Option<String> {
    match v {
        Tree::Str(s) => Some(s.clone()),
        Tree::Num(_, text) => Some(text.clone()),
        Tree::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A number, also when written as a string (`"3"`).
pub fn number(v: &Tree) -> Option<f64> {
    match v {
        Tree::Num(n, _) => Some(*n),
        Tree::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A whole non-negative number that fits in u32.
pub fn count(v: &Tree) -> Option<u32> {
    number(v).filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= f64::from(u32::MAX)).map(|n| n as u32)
}

/// A boolean, also `"true"`/`"yes"`.
pub fn boolean(v: &Tree) -> Option<bool> {
    match v {
        Tree::Bool(b) => Some(*b),
        Tree::Str(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" => Some(true),
            "false" | "no" | "off" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A list of strings (each scalar printed); `None` when it is not a list of scalars.
pub fn strings(v: &Tree) -> Option<Vec<String>> {
    v.as_list()?.iter().map(text).collect()
}

/// Environment as a mapping `{K: v}` or a list `["K=v"]`. Entries without a
/// value (a list item `K`, or `K: null`) come back in the second list: their
/// tool takes them from its own environment.
pub fn environment(v: &Tree) -> (Vec<(String, String)>, Vec<String>) {
    let (mut set, mut inherited) = (Vec::new(), Vec::new());
    match v {
        Tree::Map(m) => {
            for (k, val) in m {
                match text(val) {
                    Some(t) => set.push((k.clone(), t)),
                    None => inherited.push(k.clone()),
                }
            }
        }
        Tree::List(items) => {
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

/// A short rendering of a value for comments (flow style, cut at 120 characters).
pub fn show(v: &Tree) -> String {
    let s = match v {
        Tree::Str(s) => s.clone(),
        other => other.flow(),
    };
    if s.chars().count() > 120 { format!("{}…", s.chars().take(120).collect::<String>()) } else { s }
}

/// `key: value` for a comment.
pub fn entry(key: &str, v: &Tree) -> String {
    format!("{key}: {}", show(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_as_map_or_list() {
        let v = load("a: { X: 1, Y: null }\nb: [\"P=q=r\", \"Z\"]\n", "f").unwrap();
        let (a, b) = (v.get("a").unwrap(), v.get("b").unwrap());
        assert_eq!(environment(a), (vec![("X".into(), "1".into())], vec!["Y".into()]));
        assert_eq!(environment(b), (vec![("P".into(), "q=r".into())], vec!["Z".into()]));
    }

    #[test]
    fn json_is_read_as_yaml() {
        let v = load("{\"apps\": [{\"name\": \"api\", \"instances\": 2}]}", "f").unwrap();
        let app = &v.get("apps").and_then(Tree::as_list).unwrap()[0];
        assert_eq!(count(app.get("instances").unwrap()), Some(2));
        assert_eq!(show(app), "{name: \"api\", instances: 2}");
    }
}
