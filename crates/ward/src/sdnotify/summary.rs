//! What ward tells systemd about the deployment, decided from the status
//! table alone: whether it is ready, and a one-line status.

use std::collections::BTreeSet;

/// States in the order the status line lists them.
const ORDER: &[&str] = &[
    "ready",
    "running",
    "completed",
    "starting",
    "waiting",
    "backoff",
    "crashloop",
    "stopping",
    "stopped",
    "isolated",
    "shutdown",
    "failed",
];

/// Readiness and the status line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// No instance is still on its way up.
    pub ready: bool,
    /// `4 instances: 3 running, 1 backoff`.
    pub line: String,
}

/// Sums up `(service, state)` of every instance; `declares_ready` names the
/// services with a `ready:` check (their `running` is still on the way up).
///
/// Ready means nothing is on its way up: no instance is `waiting`,
/// `starting`, in `backoff`, or `running` while it declares a readiness check
/// it has not passed. An instance that gave up (`crashloop`, `failed`, …)
/// does not hold readiness back: the status line says so.
pub fn summarize<'a>(
    instances: impl IntoIterator<Item = (&'a str, &'a str)>,
    declares_ready: &BTreeSet<String>,
) -> Summary {
    let mut counts: Vec<(String, usize)> = Vec::new();
    let mut total = 0;
    let mut ready = true;
    for (service, state) in instances {
        total += 1;
        let on_the_way = matches!(state, "waiting" | "starting" | "backoff")
            || (state == "running" && declares_ready.contains(service));
        ready &= !on_the_way;
        match counts.iter_mut().find(|(s, _)| s == state) {
            Some((_, n)) => *n += 1,
            None => counts.push((state.to_string(), 1)),
        }
    }
    counts.sort_by_key(|(s, _)| ORDER.iter().position(|o| o == s).unwrap_or(ORDER.len()));
    let parts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
    let noun = if total == 1 { "instance" } else { "instances" };
    let line = if parts.is_empty() {
        format!("{total} {noun}")
    } else {
        format!("{total} {noun}: {}", parts.join(", "))
    };
    Summary { ready, line }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ready_once_nothing_is_on_its_way_up() {
        let s = summarize([("api", "running"), ("api", "running"), ("db", "ready")], &set(&["db"]));
        assert_eq!(s, Summary { ready: true, line: "3 instances: 1 ready, 2 running".into() });
        let s = summarize([("api", "waiting"), ("db", "running")], &set(&["db"]));
        assert!(!s.ready);
        assert_eq!(s.line, "2 instances: 1 running, 1 waiting");
        assert!(!summarize([("a", "backoff")], &set(&[])).ready);
        assert!(summarize([("a", "crashloop"), ("b", "completed")], &set(&[])).ready);
        assert_eq!(summarize([], &set(&[])).line, "0 instances");
    }
}
