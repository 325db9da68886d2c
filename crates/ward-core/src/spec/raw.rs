//! The YAML document as a tree of positioned nodes.
//!
//! We deserialize into this generic tree rather than into derived structs so
//! that every problem (wrong type, unknown key, bad value) carries the exact
//! position of its node, and so that all of them are reported at once instead
//! of serde stopping at the first. [`Reader`] reads typed values out of the
//! tree, recording an error for each value it must reject; the readers of
//! single scalar values live in `units`.

use super::error::SpecError;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};
use std::fmt;

/// A 1-based line and column in the source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    fn of(loc: &Location) -> Pos {
        let clamp = |n: u64| u32::try_from(n).unwrap_or(u32::MAX).max(1);
        Pos { line: clamp(loc.line()), column: clamp(loc.column()) }
    }
}

/// One YAML node with its position.
#[derive(Debug)]
pub(super) struct Node {
    /// Where the value starts.
    pub at: Pos,
    /// Where the key that holds this value starts, for mapping values.
    pub key_at: Option<Pos>,
    pub kind: Kind,
    /// A plain (unquoted) scalar in the source, typed by its text.
    pub plain: bool,
    /// The value as written, when interpolation replaced it (messages show
    /// this, never the value of a variable).
    pub written: Option<String>,
}

/// A number or a boolean read out of a node (see [`Node::scalar`]).
#[derive(Clone, Copy, Debug)]
pub(super) enum Scalar {
    Int(i128),
    Float(f64),
    Bool(bool),
    Other,
}

/// What a node holds. Non-string scalars keep their literal source text, so
/// `env: { N: 2.0 }` gives `"2.0"`, not a reformatted float.
#[derive(Debug)]
pub(super) enum Kind {
    Null,
    Bool(bool, String),
    Int(i128, String),
    Float(f64, String),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl Node {
    /// The position to blame for the node as a whole: its key when it has one.
    pub fn anchor(&self) -> Pos {
        self.key_at.unwrap_or(self.at)
    }

    /// Replaces a string's value after interpolation, keeping how it was
    /// written; a plain scalar is typed again by its new text (`replicas:
    /// ${N}` with N=3 is the number 3), as YAML would type it.
    pub fn interpolated(&mut self, value: String) {
        let Kind::Str(written) = std::mem::replace(&mut self.kind, Kind::Null) else { return };
        self.written = Some(written);
        self.kind = if self.plain { retype(value) } else { Kind::Str(value) };
    }

    /// The value as a typed reader sees it: an interpolated string, even a
    /// quoted one, is typed by its text (`"${N}"` with N=3 reads as 3), as
    /// compose does; anything else as it is.
    pub fn scalar(&self) -> Scalar {
        let retyped;
        let kind = match (&self.kind, &self.written) {
            (Kind::Str(s), Some(_)) => {
                retyped = retype(s.clone());
                &retyped
            }
            (kind, _) => kind,
        };
        match kind {
            Kind::Int(n, _) => Scalar::Int(*n),
            Kind::Float(x, _) => Scalar::Float(*x),
            Kind::Bool(b, _) => Scalar::Bool(*b),
            _ => Scalar::Other,
        }
    }

    /// A scalar's text (strings as they are, numbers and booleans as written).
    pub fn text(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) | Kind::Bool(_, s) | Kind::Int(_, s) | Kind::Float(_, s) => Some(s),
            Kind::Null | Kind::Seq(_) | Kind::Map(_) => None,
        }
    }

    /// What the node is, for "found ..." in messages.
    pub fn describe(&self) -> String {
        if let Some(written) = &self.written {
            return format!("`{written}` (after interpolation)");
        }
        match &self.kind {
            Kind::Null => "nothing".to_string(),
            Kind::Bool(_, s) => format!("the boolean `{s}`"),
            Kind::Int(_, s) | Kind::Float(_, s) => format!("the number {s}"),
            Kind::Str(s) => format!("the string `{s}`"),
            Kind::Seq(_) => "a list".to_string(),
            Kind::Map(_) => "a mapping".to_string(),
        }
    }

    /// The value under `key`, when this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The position of `path` (`services.api.depends_on[1]`), or of the key of
    /// its deepest existing ancestor when the value itself is absent.
    pub fn locate(&self, path: &str) -> Pos {
        match self.find(path) {
            Ok(node) => node.at,
            Err(ancestor) => ancestor.anchor(),
        }
    }

    /// The node at `path`, or its deepest existing ancestor as the error.
    pub fn find(&self, path: &str) -> Result<&Node, &Node> {
        let mut node = self;
        for segment in path.split('.').filter(|s| !s.is_empty()) {
            let (key, index) = match segment.split_once('[') {
                Some((k, i)) => (k, i.trim_end_matches(']').parse::<usize>().ok()),
                None => (segment, None),
            };
            node = node.get(key).ok_or(node)?;
            if let (Some(i), Kind::Seq(items)) = (index, &node.kind) {
                node = items.get(i).ok_or(node)?;
            }
        }
        Ok(node)
    }
}

/// Parses YAML text into a node tree; fails only on YAML syntax.
pub(super) fn load(source: &str) -> Result<Node, serde_saphyr::Error> {
    let tree: Spanned<Tree> = serde_saphyr::from_str(source)?;
    Ok(convert(tree, None, source))
}

fn convert(tree: Spanned<Tree>, key_at: Option<Pos>, source: &str) -> Node {
    let span = tree.defined.span();
    let literal = || {
        let start = usize::try_from(span.byte_offset()?).ok()?;
        let len = usize::try_from(span.byte_len()?).ok()?;
        source.get(start..start + len).map(str::to_string)
    };
    let kind = match tree.value {
        Tree::Null => Kind::Null,
        Tree::Bool(b) => Kind::Bool(b, literal().unwrap_or_else(|| b.to_string())),
        Tree::Int(n) => Kind::Int(n, literal().unwrap_or_else(|| n.to_string())),
        Tree::Float(x) => Kind::Float(x, literal().unwrap_or_else(|| x.to_string())),
        Tree::Str(s) => Kind::Str(s),
        Tree::Seq(items) => Kind::Seq(items.into_iter().map(|t| convert(t, None, source)).collect()),
        Tree::Map(entries) => Kind::Map(
            entries
                .into_iter()
                .map(|(k, v)| {
                    let key_at = Pos::of(&k.referenced);
                    (k.value, convert(v, Some(key_at), source))
                })
                .collect(),
        ),
    };
    let plain =
        matches!(kind, Kind::Str(_)) && literal().is_some_and(|l| !l.starts_with(['"', '\'', '|', '>']));
    Node { at: Pos::of(&tree.referenced), key_at, kind, plain, written: None }
}

/// A plain scalar's type from its text: a whole number, a number, a boolean, or a string.
fn retype(text: String) -> Kind {
    let numeric = !text.is_empty() && text.chars().all(|c| c.is_ascii_digit() || "+-.eE_".contains(c));
    if let (true, Ok(n)) = (numeric, text.parse::<i128>()) {
        return Kind::Int(n, text);
    }
    if let (true, Ok(x)) = (numeric, text.parse::<f64>()) {
        return Kind::Float(x, text);
    }
    match text.as_str() {
        "true" | "True" | "TRUE" => Kind::Bool(true, text),
        "false" | "False" | "FALSE" => Kind::Bool(false, text),
        _ => Kind::Str(text),
    }
}

/// The serde shape: any YAML value, children with their spans.
enum Tree {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Tree>>),
    Map(Vec<(Spanned<String>, Spanned<Tree>)>),
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
        f.write_str("any yaml value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Tree, E> {
        Ok(Tree::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Tree, E> {
        Ok(Tree::Int(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Tree, E> {
        Ok(Tree::Int(v.into()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Tree, E> {
        Ok(Tree::Int(v))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Tree, E> {
        Ok(Tree::Int(i128::try_from(v).unwrap_or(i128::MAX)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Tree, E> {
        Ok(Tree::Float(v))
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
        Ok(Tree::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            entries.push((key, map.next_value()?));
        }
        Ok(Tree::Map(entries))
    }
}

/// Reads typed values out of nodes; every rejected value becomes a [`SpecError`]
/// and its path is remembered so validation does not judge the default put in its place.
pub(super) struct Reader<'f> {
    file: &'f str,
    /// Everything found wrong so far.
    pub errors: Vec<SpecError>,
    /// Paths whose value was rejected or missing and replaced by a default.
    pub failed: Vec<String>,
}

/// A mapping whose keys were checked against the allowed ones.
pub(super) struct Fields<'n> {
    pub node: &'n Node,
    pub path: String,
}

impl<'n> Fields<'n> {
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.node.get(key)
    }

    pub fn path(&self, key: &str) -> String {
        join(&self.path, key)
    }
}

/// `parent.key`, or `key` at the top level.
pub(super) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() { key.to_string() } else { format!("{parent}.{key}") }
}

/// A reading function: node and its path to a value, or `None` after an error.
pub(super) type Read<'f, T> = fn(&mut Reader<'f>, &Node, &str) -> Option<T>;

impl<'f> Reader<'f> {
    pub fn new(file: &'f str) -> Self {
        Reader { file, errors: Vec::new(), failed: Vec::new() }
    }

    /// Records an error at `at`.
    pub fn error(&mut self, at: Pos, path: &str, message: impl Into<String>, help: Option<&str>) {
        let file = self.file.to_string();
        let (line, column, path, message) = (at.line, at.column, path.to_string(), message.into());
        let help = help.map(str::to_string);
        self.errors.push(SpecError { file, line, column, path, message, help });
    }

    /// Records an error at the node's value and marks its path as failed.
    pub fn fail(&mut self, node: &Node, path: &str, message: impl Into<String>, help: Option<&str>) {
        self.error(node.at, path, message, help);
        self.failed.push(path.to_string());
    }

    /// [`Reader::fail`], as the `None` of a reading function.
    pub fn reject<T>(
        &mut self,
        node: &Node,
        path: &str,
        message: impl Into<String>,
        help: Option<&str>,
    ) -> Option<T> {
        self.fail(node, path, message, help);
        None
    }

    /// Rejects the node with "expected {what}, found ...".
    pub fn expected<T>(&mut self, node: &Node, path: &str, what: &str) -> Option<T> {
        self.reject(node, path, format!("expected {what}, found {}", node.describe()), None)
    }

    /// The entries of a mapping; anything else is an error that says what was
    /// expected (`what`, like "a mapping of services").
    pub fn entries<'n>(&mut self, node: &'n Node, path: &str, what: &str) -> Option<&'n [(String, Node)]> {
        match &node.kind {
            Kind::Map(entries) => Some(entries),
            _ => self.expected(node, path, what),
        }
    }

    /// Checks the node is a mapping with only the space-separated `keys`;
    /// unknown keys are errors.
    pub fn mapping<'n>(&mut self, node: &'n Node, path: &str, keys: &str) -> Option<Fields<'n>> {
        let entries = self.entries(node, path, "a mapping")?;
        let keys: Vec<&str> = keys.split_whitespace().collect();
        for (key, value) in entries.iter().filter(|(k, _)| !keys.contains(&k.as_str())) {
            let message = format!("unknown key `{key}`, expected one of {}", keys.join(", "));
            let help = keys.iter().find(|k| close(k, key)).map(|k| format!("did you mean `{k}`?"));
            self.error(value.anchor(), path, message, help.as_deref());
        }
        Some(Fields { node, path: path.to_string() })
    }

    /// The value under a required key; its absence is an error at the mapping's key.
    pub fn required<'n>(&mut self, fields: &Fields<'n>, key: &str) -> Option<&'n Node> {
        let found = fields.get(key);
        if found.is_none() {
            let message = format!("missing key `{key}`");
            self.error(fields.node.anchor(), &fields.path, message, None);
            self.failed.push(fields.path(key));
        }
        found
    }

    /// Reads `key` of a mapping with `read`, or gives `default` when it is
    /// absent or rejected.
    pub fn or<T>(&mut self, fields: &Fields<'_>, key: &str, read: Read<'f, T>, default: T) -> T {
        self.field(fields, key, read).unwrap_or(default)
    }

    /// Reads `key` of a mapping with `read`, when present.
    pub fn field<T>(&mut self, fields: &Fields<'_>, key: &str, read: Read<'f, T>) -> Option<T> {
        let node = fields.get(key)?;
        read(self, node, &fields.path(key))
    }
}

/// Whether `typed` is one or two edits away from `known` (for "did you mean").
fn close(known: &str, typed: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (known.chars().collect(), typed.chars().collect());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = if ca == cb { prev } else { prev + 1 };
            prev = row[j + 1];
            row[j + 1] = cost.min(row[j] + 1).min(prev + 1);
        }
    }
    row[b.len()] <= 2 && row[b.len()] < a.len()
}
