//! `depends_on`: a list of service names (each waited for until `ready`), or
//! a mapping of service names to a condition, `{ db: ready, migrate:
//! completed, cache: started }` (a condition may also be written compose's
//! way, `{ condition: service_healthy }`).

use super::raw::{Kind, Node, Pos, Reader, join};
use super::{Condition, Dependency};
use crate::name::ServiceName;

const CONDITIONS: &[(&str, Condition)] = &[
    ("started", Condition::Started),
    ("ready", Condition::Ready),
    ("completed", Condition::Completed),
    ("service_started", Condition::Started),
    ("service_healthy", Condition::Ready),
    ("service_completed_successfully", Condition::Completed),
];

/// Reads `depends_on` in either form.
pub(super) fn read(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<Vec<Dependency>> {
    match &node.kind {
        Kind::Seq(items) => Some(read_list(r, items, path)),
        Kind::Map(entries) => Some(read_map(r, entries, path)),
        _ => r.expected(node, path, "a list of service names, or a mapping of service names to conditions"),
    }
}

fn read_list(r: &mut Reader<'_>, items: &[Node], path: &str) -> Vec<Dependency> {
    let mut deps = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_path = format!("{path}[{i}]");
        let Some(text) = r.string(item, &item_path) else { continue };
        if let Some(name) = name(r, item.at, &item_path, &text) {
            deps.push(Dependency::ready(name));
        }
    }
    deps
}

fn read_map(r: &mut Reader<'_>, entries: &[(String, Node)], path: &str) -> Vec<Dependency> {
    let mut deps = Vec::new();
    for (key, value) in entries {
        let dep_path = join(path, key);
        let condition = match &value.kind {
            Kind::Map(_) => {
                let Some(f) = r.mapping(value, &dep_path, "condition") else { continue };
                let Some(n) = r.required(&f, "condition") else { continue };
                r.choice(n, &f.path("condition"), CONDITIONS)
            }
            _ => r.choice(value, &dep_path, CONDITIONS),
        };
        let (Some(name), Some(condition)) = (name(r, value.anchor(), &dep_path, key), condition) else {
            continue;
        };
        deps.push(Dependency { service: name, condition });
    }
    deps
}

fn name(r: &mut Reader<'_>, at: Pos, path: &str, text: &str) -> Option<ServiceName> {
    match ServiceName::new(text) {
        Ok(name) => Some(name),
        Err(e) => {
            r.error(at, path, format!("invalid service name `{text}`, {}", e.why), None);
            r.failed.push(path.to_string());
            None
        }
    }
}
