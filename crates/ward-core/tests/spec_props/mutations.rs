//! Mutations of a valid spec: deletions, insertions of tokens, repeated,
//! swapped and re-indented lines, and values replaced.

use crate::texts::TOKENS;
use proptest::prelude::*;

/// One change to a text.
#[derive(Clone, Debug)]
pub enum Mutation {
    /// Deletes `len` characters at a place.
    Delete(usize, usize),
    /// Inserts a token at a place.
    Insert(usize, &'static str),
    /// Repeats a line.
    Duplicate(usize),
    /// Swaps two lines.
    Swap(usize, usize),
    /// Indents a line by a number of spaces (negative: dedents).
    Indent(usize, i8),
    /// Replaces a line's value (after its first `:`) by a token.
    Revalue(usize, &'static str),
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    let token = proptest::sample::select(TOKENS);
    prop_oneof![
        (any::<usize>(), 1..20usize).prop_map(|(at, n)| Mutation::Delete(at, n)),
        (any::<usize>(), token.clone()).prop_map(|(at, t)| Mutation::Insert(at, t)),
        any::<usize>().prop_map(Mutation::Duplicate),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        (any::<usize>(), -4i8..5).prop_map(|(l, n)| Mutation::Indent(l, n)),
        (any::<usize>(), token).prop_map(|(l, t)| Mutation::Revalue(l, t)),
    ]
}

pub fn apply(text: &str, m: &Mutation) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let n = lines.len();
    match *m {
        Mutation::Delete(at, len) => {
            let at = at % (chars.len() + 1);
            chars[..at].iter().chain(chars[(at + len).min(chars.len())..].iter()).collect()
        }
        Mutation::Insert(at, token) => {
            let at = at % (chars.len() + 1);
            let mut out: String = chars[..at].iter().collect();
            out.push_str(token);
            out.extend(&chars[at..]);
            out
        }
        Mutation::Duplicate(l) => {
            let line = lines[l % n].clone();
            lines.insert(l % n, line);
            lines.join("\n")
        }
        Mutation::Swap(a, b) => {
            lines.swap(a % n, b % n);
            lines.join("\n")
        }
        Mutation::Indent(l, by) => {
            let line = &mut lines[l % n];
            if by >= 0 {
                line.insert_str(0, &" ".repeat(by as usize));
            } else {
                let drop = line.len() - line.trim_start_matches(' ').len();
                line.replace_range(..drop.min(by.unsigned_abs() as usize), "");
            }
            lines.join("\n")
        }
        Mutation::Revalue(l, token) => {
            let line = &mut lines[l % n];
            if let Some(colon) = line.find(':') {
                line.replace_range(colon + 1.., &format!(" {}", token.trim_end()));
            }
            lines.join("\n")
        }
    }
}
