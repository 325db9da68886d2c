//! Specs of the right overall shape whose keys and values are random, and
//! random variables for `${VAR}`.

use proptest::prelude::*;
use std::collections::BTreeMap;

/// A YAML value of any shape, valid for some keys and wrong for most.
pub fn value() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        proptest::sample::select(
            &[
                "0",
                "1",
                "-1",
                "2",
                "65535",
                "65536",
                "4294967295",
                "4294967296",
                "1.5",
                "-0.5",
                "1e308",
                ".inf",
                "true",
                "false",
                "null",
                "~",
                "\"\"",
                "''",
                "0s",
                "1s",
                "500ms",
                "-1s",
                "2m",
                "1h",
                "18446744073709551615s",
                "99999999999h",
                "1.5s",
                "10MiB",
                "0B",
                "1GiB",
                "16EiB",
                "20/s",
                "0/s",
                "300/m",
                "SIGTERM",
                "SIGNOPE",
                "KILL",
                "64",
                "65",
                "always",
                "never",
                "on-failure",
                "restart",
                "isolate",
                "shutdown",
                "all",
                "service",
                "runc",
                "api",
                "db",
                "missing",
                "api/0",
                "\"${PORT}\"",
                "\"${X:-1s}\"",
                "\"${X:?required}\"",
                "\"$${PORT}\"",
                "./a.env",
                "127.0.0.1:0",
                "127.0.0.1:8080",
                "[::1]:7070",
                "localhost",
                "http://127.0.0.1:1/",
                "ftp://x",
                "nobody",
                "0:0",
                "a.env",
            ][..]
        )
        .prop_map(str::to_string),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        "[a-zA-Z0-9_./:-]{0,12}".prop_map(|s| format!("{s:?}")),
    ];
    scalar.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            proptest::collection::vec((key(), inner), 0..4).prop_map(|kv| {
                let pairs: Vec<String> = kv.into_iter().map(|(k, v)| format!("{k}: {v}")).collect();
                format!("{{ {} }}", pairs.join(", "))
            }),
        ]
    })
}

/// Every key a spec knows, and a few it does not.
pub fn key() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(
        &[
            "version",
            "services",
            "logs",
            "restart_budget",
            "api",
            "rate",
            "burst",
            "success",
            "no_restart",
            "max_size",
            "keep",
            "command",
            "image",
            "replicas",
            "env",
            "env_file",
            "workdir",
            "user",
            "resources",
            "ports",
            "restart",
            "on_panic",
            "backoff",
            "success_backoff",
            "exit_codes",
            "crash_loop",
            "stable_after",
            "stop",
            "health",
            "ready",
            "depends_on",
            "binds_to",
            "hooks",
            "rootfs",
            "writable",
            "runtime",
            "runtime_path",
            "memory",
            "pids",
            "cpu",
            "action",
            "scope",
            "replace",
            "initial",
            "factor",
            "max",
            "jitter",
            "threshold",
            "window",
            "cooldown",
            "signal",
            "timeout",
            "exec",
            "tcp",
            "http",
            "interval",
            "failures",
            "grace",
            "notify",
            "watchdog",
            "on_isolate",
            "on_crashloop",
            "on_shutdown",
            "listen",
            "token_file",
            "read_token_file",
            "tls",
            "cert",
            "key",
            "metrics_without_token",
            "condition",
            "PORT",
            "unknown",
            "",
        ][..],
    )
}

/// A service name longer than allowed.
pub const LONG_NAME: &str = "a-name-longer-than-any-service-name-may-be-because-it-goes-on-and-on-and-on";

/// A spec of the right overall shape (`version`, `services` with commands)
/// whose other keys and values are random.
pub fn shaped_spec() -> impl Strategy<Value = String> {
    let service = (
        proptest::sample::select(&["api", "db", "web-1", "a_b", "-bad", "UPPER", LONG_NAME][..]),
        proptest::option::of(value()),
        proptest::collection::vec((key(), value()), 0..6),
    );
    let top = proptest::collection::vec((key(), value()), 0..3);
    (top, proptest::collection::vec(service, 1..4)).prop_map(|(top, services)| {
        let mut y = String::from("version: 1\n");
        for (k, v) in top {
            y.push_str(&format!("{k}: {v}\n"));
        }
        y.push_str("services:\n");
        for (name, command, fields) in services {
            y.push_str(&format!("  {name}:\n"));
            let command = command.unwrap_or_else(|| "[\"./run\"]".into());
            y.push_str(&format!("    command: {command}\n"));
            for (k, v) in fields {
                y.push_str(&format!("    {k}: {v}\n"));
            }
        }
        y
    })
}

pub fn small_map() -> impl Strategy<Value = BTreeMap<String, String>> {
    proptest::collection::btree_map("[A-Z_]{1,4}|X|PORT", "[ -~]{0,10}", 0..4)
}
