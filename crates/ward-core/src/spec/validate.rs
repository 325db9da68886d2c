//! The rules reading cannot check one value at a time: ranges, references
//! between services, dependency cycles and port ranges that overlap.
//!
//! Validation runs on the typed [`Spec`] and finds positions by key path in
//! the node tree. Paths whose value was already rejected (and replaced by a
//! default) are skipped, so one mistake is not reported twice.

use super::raw::{Kind, Node, join};
use super::{
    BackoffSpec, Condition, ProbeCheck, ProbeSpec, ReadySpec, ResourcesSpec, RestartPolicy, ServiceSpec,
    Spec, SpecError,
};
use crate::name::ServiceName;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Every rule violation of `spec`, in no particular order.
pub(super) fn check(spec: &Spec, root: &Node, failed: &[String], file: &str) -> Vec<SpecError> {
    let mut c = Checker { root, failed, file, errors: Vec::new() };
    if spec.version != 1 {
        c.report("version", format!("unsupported version {}, expected 1", spec.version), None);
    }
    if spec.logs.keep == 0 {
        c.report("logs.keep", "keep 0 is out of range, expected at least 1", None);
    }
    if spec.logs.max_size == 0 {
        c.report("logs.max_size", "max_size 0 is out of range, expected more than 0 bytes", None);
    }
    for service in spec.services.values() {
        check_service(&mut c, service);
        check_dependencies(&mut c, spec, service);
    }
    check_cycles(&mut c, spec);
    check_port_overlaps(&mut c, spec);
    c.errors
}

struct Checker<'a> {
    root: &'a Node,
    failed: &'a [String],
    file: &'a str,
    errors: Vec<SpecError>,
}

impl Checker<'_> {
    /// Whether the value at `path` (or an ancestor) was read without error.
    fn trusted(&self, path: &str) -> bool {
        !self.failed.iter().any(|f| {
            path == f || path.strip_prefix(f.as_str()).is_some_and(|rest| rest.starts_with(['.', '[']))
        })
    }

    fn report(&mut self, path: &str, message: impl Into<String>, help: Option<&str>) {
        if !self.trusted(path) {
            return;
        }
        let at = self.root.locate(path);
        self.errors.push(SpecError {
            file: self.file.to_string(),
            line: at.line,
            column: at.column,
            path: path.to_string(),
            message: message.into(),
            help: help.map(str::to_string),
        });
    }
}

fn check_service(c: &mut Checker<'_>, s: &ServiceSpec) {
    let p = join("services", s.name.as_str());
    check_argv(c, &join(&p, "command"), &s.command);
    check_backoff(c, &p, "backoff", &s.backoff);
    if let Some(b) = &s.success_backoff {
        check_backoff(c, &p, "success_backoff", b);
    }
    for code in s.exit_codes.success.iter().filter(|c| s.exit_codes.no_restart.contains(c)) {
        let message =
            format!("exit code {code} is in both success and no_restart, expected it in one of them");
        c.report(&join(&p, "exit_codes.no_restart"), message, None);
    }
    if s.crash_loop.threshold == 0 {
        let message = "threshold 0 is out of range, expected at least 1";
        c.report(&join(&p, "crash_loop.threshold"), message, None);
    }
    if let Some(probe) = &s.health {
        check_probe(c, &join(&p, "health"), probe);
    }
    if let Some(ReadySpec::Probe(probe)) = &s.ready {
        check_probe(c, &join(&p, "ready"), probe);
    }
    let hooks = [
        ("on_isolate", &s.hooks.on_isolate),
        ("on_crashloop", &s.hooks.on_crashloop),
        ("on_shutdown", &s.hooks.on_shutdown),
    ];
    for (key, argv) in hooks {
        if let Some(argv) = argv {
            check_argv(c, &join(&p, &format!("hooks.{key}")), argv);
        }
    }
    check_ports(c, &p, s);
    check_resources(c, &p, &s.resources);
    if s.cgroup == Some(false) && s.image.is_none() && s.resources != ResourcesSpec::default() {
        let message = "cgroup: false cannot go with resources:, which a native instance's cgroup applies";
        c.report(&join(&p, "cgroup"), message, Some("remove cgroup: false, or the resources: limits"));
    }
}

/// Limits that no cgroup can apply: zero memory or pids, a CPU share of zero or less.
fn check_resources(c: &mut Checker<'_>, p: &str, r: &ResourcesSpec) {
    if r.memory == Some(0) {
        let message = "memory 0 is out of range, expected more than 0 bytes";
        c.report(&join(p, "resources.memory"), message, None);
    }
    if r.memory_high == Some(0) {
        let message = "memory_high 0 is out of range, expected more than 0 bytes";
        c.report(&join(p, "resources.memory_high"), message, None);
    }
    if r.pids == Some(0) {
        c.report(&join(p, "resources.pids"), "pids 0 is out of range, expected at least 1", None);
    }
    if let Some(cpu) = r.cpu.filter(|cpu| !(cpu.is_finite() && *cpu > 0.0)) {
        let message = format!("cpu {cpu:?} is out of range, expected a number of CPUs more than 0");
        c.report(&join(p, "resources.cpu"), message, Some("write 0.5 for half of one CPU, 2 for two CPUs"));
    }
}

fn check_backoff(c: &mut Checker<'_>, p: &str, key: &str, b: &BackoffSpec) {
    let p = &join(p, key);
    if !(0.0..1.0).contains(&b.jitter) {
        let message = format!("jitter {:?} is out of range, expected at least 0 and less than 1", b.jitter);
        c.report(&join(p, "jitter"), message, None);
    }
    if b.factor.is_nan() || b.factor < 1.0 {
        let message = format!("factor {:?} is out of range, expected a number of at least 1", b.factor);
        c.report(&join(p, "factor"), message, None);
    }
    let (initial, max) = (join(p, "initial"), join(p, "max"));
    if b.max < b.initial && c.trusted(&initial) && c.trusted(&max) {
        let (max_s, initial_s) = (show(b.max), show(b.initial));
        if c.root.find(&max).is_ok() {
            let message = format!("max {max_s} is less than initial {initial_s}, expected max >= initial");
            c.report(&max, message, None);
        } else {
            let message = format!(
                "initial {initial_s} is more than max {max_s} (the default), expected initial <= max"
            );
            c.report(&initial, message, None);
        }
    }
}

/// Base ports: not 0, and the last replica's port still fits.
fn check_ports(c: &mut Checker<'_>, p: &str, s: &ServiceSpec) {
    for (name, &base) in &s.ports {
        let path = join(p, &format!("ports.{name}"));
        let last = u64::from(base) + u64::from(s.replicas.max(1)) - 1;
        if base == 0 {
            c.report(&path, "port 0 is out of range, expected 1 to 65535", None);
        } else if last > 65535 {
            let message = format!("port range {base}-{last} of {} replicas goes past 65535", s.replicas);
            let help = Some("lower the base port or the number of replicas");
            c.report(&path, message, help);
        }
    }
}

fn check_argv(c: &mut Checker<'_>, path: &str, argv: &[String]) {
    match argv.first() {
        None => {
            let help = Some(r#"name the program first, like ["./api", "--port", "${PORT}"]"#);
            c.report(path, "empty command, expected a list with the program first", help);
        }
        Some(program) if program.is_empty() => {
            c.report(&format!("{path}[0]"), "empty program name, expected the program to run", None);
        }
        Some(_) => {}
    }
}

fn check_probe(c: &mut Checker<'_>, path: &str, probe: &ProbeSpec) {
    match &probe.check {
        ProbeCheck::Exec(argv) => check_argv(c, &join(path, "exec"), argv),
        ProbeCheck::Tcp(address) if !is_host_port(address) => {
            let message = format!("invalid tcp address `{address}`, expected host:port like 127.0.0.1:8080");
            c.report(
                &join(path, "tcp"),
                message,
                Some("the port may be a port name, like 127.0.0.1:${PORT}"),
            );
        }
        ProbeCheck::Http(url) if url.strip_prefix("http://").is_none_or(str::is_empty) => {
            let message = format!("invalid http url `{url}`, expected a url starting with http://");
            c.report(&join(path, "http"), message, None);
        }
        ProbeCheck::Tcp(_) | ProbeCheck::Http(_) => {}
    }
    if probe.interval == Duration::ZERO {
        c.report(&join(path, "interval"), "interval 0s is out of range, expected more than 0s", None);
    }
    if probe.failures == 0 {
        c.report(&join(path, "failures"), "failures 0 is out of range, expected at least 1", None);
    }
}

/// `host:port` with a non-empty host and a port that is a number or `${NAME}`.
fn is_host_port(address: &str) -> bool {
    let Some((host, port)) = address.rsplit_once(':') else {
        return false;
    };
    let variable = port.strip_prefix("${").and_then(|p| p.strip_suffix('}')).is_some_and(|n| !n.is_empty());
    !host.is_empty() && (variable || port.parse::<u16>().is_ok_and(|n| n > 0))
}

fn check_dependencies(c: &mut Checker<'_>, spec: &Spec, s: &ServiceSpec) {
    let known: Vec<&str> = spec.services.keys().map(ServiceName::as_str).collect();
    for dep in &s.depends_on {
        let path = dep_path(c, &s.name, &dep.service);
        let name = &dep.service;
        match spec.services.get(name) {
            _ if *name == s.name => c.report(&path, format!("`{name}` depends on itself"), None),
            None => {
                let help = Some(format!("known services: {}", known.join(", ")));
                c.report(&path, format!("unknown service `{name}`"), help.as_deref());
            }
            Some(d) if dep.condition == Condition::Completed && d.restart == RestartPolicy::Always => {
                let message = format!("`{name}` has `restart: always`, so it never completes");
                let help = format!("give {name} `restart: never` (a one-shot), or wait for it to be `ready`");
                c.report(&path, message, Some(&help));
            }
            Some(_) => {}
        }
    }
}

/// The path of `dep` in the `depends_on` of `service`: `depends_on.db` in
/// the mapping form, else by its index in the file's list (rejected names
/// are not in the typed list, so indices may differ).
fn dep_path(c: &Checker<'_>, service: &ServiceName, dep: &ServiceName) -> String {
    let list = format!("services.{service}.depends_on");
    let index = match c.root.find(&list).map(|n| &n.kind) {
        Ok(Kind::Seq(items)) => items.iter().position(|n| n.text() == Some(dep.as_str())),
        Ok(Kind::Map(_)) => return format!("{list}.{dep}"),
        _ => None,
    };
    format!("{list}[{}]", index.unwrap_or(0))
}

/// Reports each dependency cycle once, starting from its smallest name, at the
/// `depends_on` entry of that first member.
fn check_cycles(c: &mut Checker<'_>, spec: &Spec) {
    let mut state: BTreeMap<&ServiceName, bool> = BTreeMap::new(); // false: on the stack, true: done
    let mut found = BTreeSet::new();
    for name in spec.services.keys() {
        visit(spec, name, &mut Vec::new(), &mut state, &mut found);
    }
    for cycle in found {
        let (first, second) = (cycle[0], cycle[1]);
        let mut names: Vec<&str> = cycle.iter().map(|n| n.as_str()).collect();
        names.push(first.as_str());
        let message = format!("dependency cycle: {}", names.join(" -> "));
        let help = Some("remove one of these dependencies");
        c.report(&dep_path(c, first, second), message, help);
    }
}

fn visit<'s>(
    spec: &'s Spec,
    name: &'s ServiceName,
    stack: &mut Vec<&'s ServiceName>,
    state: &mut BTreeMap<&'s ServiceName, bool>,
    found: &mut BTreeSet<Vec<&'s ServiceName>>,
) {
    if state.contains_key(name) {
        return;
    }
    state.insert(name, false);
    stack.push(name);
    for dep in &spec.services[name].depends_on {
        let Some((dep, _)) = spec.services.get_key_value(&dep.service) else {
            continue;
        };
        match state.get(dep) {
            Some(false) if dep != name => {
                let start = stack.iter().position(|n| *n == dep).unwrap_or(0);
                let mut cycle = stack[start..].to_vec();
                let smallest = cycle.iter().enumerate().min_by_key(|(_, n)| **n).map_or(0, |(i, _)| i);
                cycle.rotate_left(smallest);
                found.insert(cycle);
            }
            Some(_) => {}
            None => visit(spec, dep, stack, state, found),
        }
    }
    stack.pop();
    state.insert(name, true);
}

/// Every two port ranges `[base, base + replicas)` that share a port, reported
/// at the later one in the file.
fn check_port_overlaps(c: &mut Checker<'_>, spec: &Spec) {
    let mut ranges = Vec::new();
    for s in spec.services.values() {
        for (name, &base) in &s.ports {
            let path = format!("services.{}.ports.{name}", s.name);
            if base > 0 && s.replicas > 0 {
                let (start, end) = (u64::from(base), u64::from(base) + u64::from(s.replicas) - 1);
                ranges.push((c.root.locate(&path), path, start, end));
            }
        }
    }
    ranges.sort();
    for (j, (_, path, start, end)) in ranges.iter().enumerate() {
        for (_, other, other_start, other_end) in &ranges[..j] {
            if start <= other_end && other_start <= end {
                let message = format!(
                    "{} overlaps {other} ({})",
                    span(*start, *end, true),
                    span(*other_start, *other_end, false)
                );
                c.report(path, message, Some("give each port range its own ports"));
            }
        }
    }
}

/// `port range 8080-8081` / `port 8080` (or without the words).
fn span(start: u64, end: u64, words: bool) -> String {
    match (start == end, words) {
        (true, true) => format!("port {start}"),
        (true, false) => start.to_string(),
        (false, true) => format!("port range {start}-{end}"),
        (false, false) => format!("{start}-{end}"),
    }
}

fn show(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}
