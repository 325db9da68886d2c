//! YAML text → node tree → validated [`Spec`].
//!
//! Each section is read by one function that knows its keys and defaults. A
//! value that cannot be read is reported and replaced by its default so that
//! reading goes on; `validate` then checks the rules that span values, and
//! all errors come back together, sorted by position.

use super::env_file::SpecInputs;
use super::inputs::{read_env_files, redact, variables};
use super::process;
use super::raw::{self, Fields, Kind, Node, Reader, join};
use super::{
    BackoffSpec, CrashLoopSpec, ExitCodesSpec, HooksSpec, ImageSpec, LogSpec, OnPanic, PanicAction,
    PanicScope, ProbeCheck, ProbeSpec, ReadySpec, ResourcesSpec, RestartBudgetSpec, RestartPolicy,
    ServiceSpec, Spec, SpecErrors, StopSpec, depends, error, interpolate, validate,
};
use crate::exit::signal_number;
use crate::name::ServiceName;
use std::collections::BTreeMap;
use std::time::Duration;

// The keys each mapping allows, in the order error messages list them.
const TOP: &str = "version services logs restart_budget api";
const BUDGET: &str = "rate burst";
const EXIT_CODES: &str = "success no_restart";
const LOGS: &str = "max_size keep";
const SERVICE: &str = "command image replicas env env_file workdir user group umask cgroup resources limits ports restart on_panic backoff success_backoff exit_codes crash_loop stable_after stop health ready depends_on binds_to hooks";
const IMAGE: &str = "rootfs writable runtime runtime_path";
const RESOURCES: &str = "memory memory_high pids cpu";
const ON_PANIC: &str = "action scope replace";
const BACKOFF: &str = "initial factor max jitter";
const CRASH_LOOP: &str = "threshold window cooldown";
const STOP: &str = "signal timeout";
const PROBE: &str = "exec tcp http interval timeout failures grace";
const NOTIFY: &str = "notify watchdog";
const HOOKS: &str = "on_isolate on_crashloop on_shutdown timeout";

const RESTARTS: &[(&str, RestartPolicy)] = &[
    ("always", RestartPolicy::Always),
    ("on-failure", RestartPolicy::OnFailure),
    ("never", RestartPolicy::Never),
];
const ACTIONS: &[(&str, PanicAction)] = &[
    ("restart", PanicAction::Restart),
    ("shutdown", PanicAction::Shutdown),
    ("isolate", PanicAction::Isolate),
];
const SCOPES: &[(&str, PanicScope)] = &[("service", PanicScope::Service), ("all", PanicScope::All)];
const RUNTIMES: &[(&str, &str)] = &[("runc", "runc"), ("crun", "crun"), ("youki", "youki")];
const DEFAULT_ON_PANIC: OnPanic =
    OnPanic { action: PanicAction::Restart, scope: PanicScope::Service, replace: false };

/// Parses and validates a spec with no variables and no env files (a
/// `${VAR}` without a default is an error); `file` is only used in messages.
pub fn parse(source: &str, file: &str) -> Result<Spec, SpecErrors> {
    parse_with(source, file, &SpecInputs::default())
}

/// Parses and validates a spec with what the shell read for it: variables
/// for `${VAR}` (the environment over `.env`) and the env files it names
/// (see [`env_file_paths`](super::env_file_paths)). On failure every error found is returned,
/// sorted by line and column; no message shows a variable's value.
pub fn parse_with(source: &str, file: &str, inputs: &SpecInputs) -> Result<Spec, SpecErrors> {
    let mut root = raw::load(source).map_err(|e| SpecErrors(vec![error::from_yaml(&e, source, file)]))?;
    let mut reader = Reader::new(file);
    let vars = variables(&mut reader, inputs);
    interpolate::tree(&mut reader, &mut root, &vars);
    let spec = read_spec(&mut reader, &root, inputs);
    let mut errors = reader.errors;
    errors.extend(validate::check(&spec, &root, &reader.failed, file));
    if errors.is_empty() {
        return Ok(spec);
    }
    for e in &mut errors {
        redact(e, &root);
    }
    errors.sort_by_key(|e| (e.line, e.column));
    Err(SpecErrors(errors))
}

fn read_spec(r: &mut Reader<'_>, root: &Node, inputs: &SpecInputs) -> Spec {
    let mut spec = Spec {
        version: 1,
        logs: LogSpec::default(),
        restart_budget: None,
        api: None,
        services: BTreeMap::new(),
    };
    if matches!(root.kind, Kind::Null) {
        let message = "empty spec, expected a mapping with `version` and `services`";
        r.error(root.at, "", message, None);
        return spec;
    }
    let Some(top) = r.mapping(root, "", TOP) else {
        return spec;
    };
    if let Some(node) = r.required(&top, "version") {
        spec.version = r.u32(node, "version").unwrap_or(1);
    }
    spec.logs = r.or(&top, "logs", read_logs, spec.logs);
    spec.restart_budget = r.field(&top, "restart_budget", read_budget);
    spec.api = r.field(&top, "api", super::api::read_api);
    if let Some(node) = r.required(&top, "services") {
        spec.services = read_services(r, node, inputs).unwrap_or_default();
    }
    spec
}

fn read_logs(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<LogSpec> {
    let d = LogSpec::default();
    let f = r.mapping(node, path, LOGS)?;
    Some(LogSpec {
        max_size: r.or(&f, "max_size", Reader::size, d.max_size),
        keep: r.or(&f, "keep", Reader::u32, d.keep),
    })
}

fn read_services(
    r: &mut Reader<'_>,
    node: &Node,
    inputs: &SpecInputs,
) -> Option<BTreeMap<ServiceName, ServiceSpec>> {
    let entries = r.entries(node, "services", "a mapping of services")?;
    if entries.is_empty() {
        let help = Some("add a service, like `api: { command: [\"./api\"] }`");
        r.error(node.anchor(), "services", "no services, expected at least one", help);
    }
    let mut services = BTreeMap::new();
    for (key, value) in entries {
        match ServiceName::new(key) {
            Ok(name) => {
                let service = read_service(r, name.clone(), value, inputs);
                services.insert(name, service);
            }
            Err(e) => {
                let message = format!("invalid service name `{key}`, {}", e.why);
                r.error(value.anchor(), "services", message, None);
            }
        }
    }
    Some(services)
}

fn read_service(r: &mut Reader<'_>, name: ServiceName, node: &Node, inputs: &SpecInputs) -> ServiceSpec {
    let path = join("services", name.as_str());
    let mut s = default_service(name);
    let Some(f) = r.mapping(node, &path, SERVICE) else {
        return s;
    };
    if let Some(n) = r.required(&f, "command") {
        s.command = r.argv(n, &f.path("command")).unwrap_or_default();
    }
    s.image = r.field(&f, "image", read_image);
    s.replicas = r.or(&f, "replicas", Reader::u32, 1);
    s.env = f.get("env_file").map(|n| read_env_files(r, n, &f.path("env_file"), inputs)).unwrap_or_default();
    s.env.extend(r.or(&f, "env", read_env, BTreeMap::new()));
    s.workdir = r.field(&f, "workdir", Reader::string);
    s.user = r.field(&f, "user", read_user);
    s.group = r.field(&f, "group", process::read_group);
    s.umask = r.field(&f, "umask", process::read_umask);
    s.cgroup = r.field(&f, "cgroup", Reader::bool);
    s.resources = r.or(&f, "resources", read_resources, s.resources);
    s.limits = r.or(&f, "limits", process::read_limits, Vec::new());
    s.ports = r.or(&f, "ports", read_ports, BTreeMap::new());
    s.restart = r.or(&f, "restart", |r, n, p| r.choice(n, p, RESTARTS), s.restart);
    s.on_panic = r.or(&f, "on_panic", read_on_panic, s.on_panic);
    s.backoff = r.or(&f, "backoff", read_backoff, s.backoff);
    s.success_backoff = r.field(&f, "success_backoff", read_backoff);
    s.exit_codes = r.or(&f, "exit_codes", read_exit_codes, s.exit_codes);
    s.crash_loop = r.or(&f, "crash_loop", read_crash_loop, s.crash_loop);
    s.stable_after = r.or(&f, "stable_after", Reader::duration, s.stable_after);
    s.stop = r.or(&f, "stop", read_stop, s.stop);
    s.health = r.field(&f, "health", read_probe);
    s.ready = r.field(&f, "ready", read_ready);
    s.depends_on = r.or(&f, "depends_on", depends::read, Vec::new());
    s.binds_to = r.or(&f, "binds_to", Reader::bool, false);
    s.hooks = r.or(&f, "hooks", read_hooks, s.hooks);
    s
}

fn default_service(name: ServiceName) -> ServiceSpec {
    ServiceSpec::new(name, Vec::new())
}

fn read_image(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<ImageSpec> {
    let f = r.mapping(node, path, IMAGE)?;
    let rootfs = r.required(&f, "rootfs").and_then(|n| r.string(n, &f.path("rootfs")));
    let writable = r.or(&f, "writable", Reader::bool, false);
    let runtime = r.or(&f, "runtime", |r, n, p| r.choice(n, p, RUNTIMES), "runc");
    let runtime_path = r.field(&f, "runtime_path", Reader::string);
    Some(ImageSpec { rootfs: rootfs?, writable, runtime: runtime.to_string(), runtime_path })
}

fn read_resources(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<ResourcesSpec> {
    let f = r.mapping(node, path, RESOURCES)?;
    Some(ResourcesSpec {
        memory: r.field(&f, "memory", Reader::size),
        memory_high: r.field(&f, "memory_high", Reader::size),
        pids: r.field(&f, "pids", Reader::u32),
        cpu: r.field(&f, "cpu", Reader::number),
    })
}

fn read_env(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<BTreeMap<String, String>> {
    let mut env = BTreeMap::new();
    for (key, value) in r.entries(node, path, "a mapping of variables")? {
        if key.is_empty() || key.contains(['=', '\0']) {
            let message = format!("invalid variable name `{key}`, expected no `=` and no NUL");
            r.error(value.anchor(), path, message, None);
        } else if let Some(text) = r.text(value, &join(path, key)) {
            env.insert(key.clone(), text);
        }
    }
    Some(env)
}

fn read_user(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<String> {
    match &node.kind {
        Kind::Str(s) => Some(s.clone()),
        Kind::Int(..) => r.u32(node, path).map(|uid| uid.to_string()),
        _ => r.expected(node, path, "a user name or uid"),
    }
}

fn read_ports(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<BTreeMap<String, u16>> {
    let mut ports = BTreeMap::new();
    for (key, value) in r.entries(node, path, "a mapping of port names to ports")? {
        let port_path = join(path, key);
        if !is_port_name(key) {
            let message =
                format!("invalid port name `{key}`, expected uppercase letters, digits and `_`, like PORT");
            r.error(value.anchor(), &port_path, message, None);
        } else if let Some(port) = r.port(value, &port_path) {
            ports.insert(key.clone(), port);
        }
    }
    Some(ports)
}

/// `[A-Z_][A-Z0-9_]*`: a name usable as an environment variable and in `${NAME}`.
fn is_port_name(name: &str) -> bool {
    let upper_or_underscore = |c: char| c.is_ascii_uppercase() || c == '_';
    let mut chars = name.chars();
    chars.next().is_some_and(upper_or_underscore)
        && chars.all(|c| upper_or_underscore(c) || c.is_ascii_digit())
}

fn read_on_panic(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<OnPanic> {
    let mut on_panic = DEFAULT_ON_PANIC;
    if let Kind::Str(_) = node.kind {
        on_panic.action = r.choice(node, path, ACTIONS)?;
        return Some(on_panic);
    }
    let f = r.mapping(node, path, ON_PANIC)?;
    let action = r.required(&f, "action")?;
    on_panic.action = r.choice(action, &f.path("action"), ACTIONS)?;
    on_panic.scope = r.or(&f, "scope", |r, n, p| r.choice(n, p, SCOPES), on_panic.scope);
    on_panic.replace = r.or(&f, "replace", Reader::bool, false);
    Some(on_panic)
}

fn read_backoff(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<BackoffSpec> {
    let d = BackoffSpec::default();
    let f = r.mapping(node, path, BACKOFF)?;
    Some(BackoffSpec {
        initial: r.or(&f, "initial", Reader::duration, d.initial),
        factor: r.or(&f, "factor", Reader::number, d.factor),
        max: r.or(&f, "max", Reader::duration, d.max),
        jitter: r.or(&f, "jitter", Reader::number, d.jitter),
    })
}

fn read_budget(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<RestartBudgetSpec> {
    let f = r.mapping(node, path, BUDGET)?;
    let rate = r.required(&f, "rate").and_then(|n| r.rate(n, &f.path("rate")));
    let burst = r.or(&f, "burst", Reader::u32, 0);
    let rate = rate?;
    // Without a burst, allow one second's worth of restarts at once (at least one).
    let burst = if f.get("burst").is_some() { burst } else { (rate.ceil() as u32).max(1) };
    Some(RestartBudgetSpec { rate, burst })
}

fn read_exit_codes(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<ExitCodesSpec> {
    let d = ExitCodesSpec::default();
    let f = r.mapping(node, path, EXIT_CODES)?;
    Some(ExitCodesSpec {
        success: r.or(&f, "success", Reader::codes, d.success),
        no_restart: r.or(&f, "no_restart", Reader::codes, d.no_restart),
    })
}

fn read_crash_loop(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<CrashLoopSpec> {
    let d = CrashLoopSpec::default();
    let f = r.mapping(node, path, CRASH_LOOP)?;
    Some(CrashLoopSpec {
        threshold: r.or(&f, "threshold", Reader::u32, d.threshold),
        window: r.or(&f, "window", Reader::duration, d.window),
        cooldown: r.or(&f, "cooldown", Reader::duration, d.cooldown),
    })
}

fn read_stop(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<StopSpec> {
    let d = StopSpec::default();
    let f = r.mapping(node, path, STOP)?;
    Some(StopSpec {
        signal: r.or(&f, "signal", read_signal, d.signal),
        timeout: r.or(&f, "timeout", Reader::duration, d.timeout),
    })
}

fn read_signal(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<i32> {
    let number = match &node.kind {
        Kind::Str(s) => signal_number(s),
        Kind::Int(n, _) => i32::try_from(*n).ok().filter(|n| (1..=64).contains(n)),
        _ => None,
    };
    if number.is_none() {
        let found = node.text().map_or_else(|| node.describe(), |t| format!("`{t}`"));
        let message =
            format!("unknown signal {found}, expected a name like SIGTERM or TERM, or a number from 1 to 64");
        r.fail(node, path, message, None);
    }
    number
}

fn read_probe(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<ProbeSpec> {
    let f = r.mapping(node, path, PROBE)?;
    let mut present: Vec<(&str, &Node)> =
        ["exec", "tcp", "http"].into_iter().filter_map(|k| Some((k, f.get(k)?))).collect();
    present.sort_by_key(|(_, n)| n.anchor());
    let expected = "expected exactly one of exec, tcp, http";
    match present.as_slice() {
        [] => r.error(node.anchor(), path, format!("no check, {expected}"), None),
        [(kind, n)] => {
            let p = f.path(kind);
            let check = match *kind {
                "exec" => r.argv(n, &p).map(ProbeCheck::Exec),
                "tcp" => r.string(n, &p).map(ProbeCheck::Tcp),
                _ => r.string(n, &p).map(ProbeCheck::Http),
            };
            return probe(r, &f, check);
        }
        [.., (_, last)] => {
            let names: Vec<&str> = present.iter().map(|(k, _)| *k).collect();
            let message = format!("several checks ({}), {expected}", names.join(", "));
            r.error(last.anchor(), path, message, None);
        }
    }
    None
}

/// The probe settings around `check`.
fn probe(r: &mut Reader<'_>, f: &Fields<'_>, check: Option<ProbeCheck>) -> Option<ProbeSpec> {
    Some(ProbeSpec {
        interval: r.or(f, "interval", Reader::duration, Duration::from_secs(5)),
        timeout: r.or(f, "timeout", Reader::duration, Duration::from_secs(1)),
        failures: r.or(f, "failures", Reader::u32, 3),
        grace: r.or(f, "grace", Reader::duration, Duration::ZERO),
        check: check?,
    })
}

fn read_ready(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<ReadySpec> {
    let Some(notify) = node.get("notify") else {
        return read_probe(r, node, path).map(ReadySpec::Probe);
    };
    let f = r.mapping(node, path, NOTIFY)?;
    let watchdog = r.field(&f, "watchdog", Reader::duration);
    if !r.bool(notify, &f.path("notify"))? {
        let help = Some("remove `ready` to treat a started instance as ready");
        return r.reject(notify, &f.path("notify"), "expected `notify: true` or a probe", help);
    }
    Some(ReadySpec::Notify { watchdog })
}

fn read_hooks(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<HooksSpec> {
    let f = r.mapping(node, path, HOOKS)?;
    Some(HooksSpec {
        on_isolate: r.field(&f, "on_isolate", Reader::argv),
        on_crashloop: r.field(&f, "on_crashloop", Reader::argv),
        on_shutdown: r.field(&f, "on_shutdown", Reader::argv),
        timeout: r.or(&f, "timeout", Reader::duration, Duration::from_secs(30)),
    })
}
