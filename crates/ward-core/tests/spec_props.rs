//! Bad input for the spec parser, as property tests: arbitrary text, YAML
//! token soup, mutations of valid specs, and well-formed specs whose values
//! are random must never panic, and every refusal must be a non-empty
//! [`SpecErrors`] whose errors each name the file, a position inside the text,
//! and what is wrong.
//!
//! The case counts are modest so that the whole file runs in a few seconds;
//! `PROPTEST_CASES=100000 cargo test -p ward-core --test spec_props` runs a
//! longer search (the `fuzz/` folder holds coverage-guided targets too).

use proptest::prelude::*;
use std::collections::BTreeMap;
use ward_core::spec::{EnvFileText, SpecErrors, SpecInputs, parse, parse_env_file, parse_with};

const FILE: &str = "fuzz.yaml";

/// Valid specs to start mutations from.
const VALID: &[&str] = &[
    include_str!("../../../examples/demo.yaml"),
    include_str!("../../../examples/container.yaml"),
    include_str!("specs/full.yaml"),
];

/// Pieces of YAML and of ward's own syntax, glued together at random.
const TOKENS: &[&str] = &[
    "version: 1\n",
    "services:\n",
    "  api:\n",
    "    command: [\"./api\"]\n",
    "command: ",
    "replicas: ",
    "  ",
    "    ",
    "\t",
    "- ",
    ": ",
    ":",
    ",",
    "{",
    "}",
    "[",
    "]",
    "\"",
    "'",
    "\\",
    "&a ",
    "*a",
    "&b [*a, *a]\n",
    "!!str ",
    "!!int ",
    "!!binary ",
    "!<x> ",
    "? ",
    "|\n",
    ">-\n",
    "---\n",
    "...\n",
    "~",
    "null",
    "true",
    "1e999",
    ".nan",
    "-1",
    "0x10",
    "0o7",
    "99999999999999999999",
    "4294967296",
    "1.5",
    "0",
    "1s",
    "500ms",
    "-3s",
    "10MiB",
    "20/s",
    "${X}",
    "${X:-d}",
    "${X:?need x}",
    "$${",
    "${",
    "}",
    "<<: *a\n",
    "%YAML 1.2\n",
    "#",
    "\n",
    "\r\n",
    "\r",
    "\u{feff}",
    "é",
    "日本",
    "\u{0}",
    "\u{7f}",
    "api",
    "db",
    "depends_on: ",
    "restart: ",
    "always",
    "on_panic: ",
    "health: ",
    "ready: ",
    "http://127.0.0.1:80/",
    "127.0.0.1:7070",
    "api:\n",
    "  listen: ",
    "SIGTERM",
    "backoff: ",
    "ports: ",
    "PORT: ",
    "env_file: ",
    "a.env",
    "image: ",
    "rootfs: ",
    "exec: ",
    "tcp: ",
    "notify: ",
    "api/0",
];

/// Runs `f` on a thread with the 8 MiB stack of a main thread, where ward
/// parses specs: the YAML reader recurses up to its depth limit (64 levels),
/// which in a debug build needs more than a test thread's 2 MiB.
fn on_main_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new().stack_size(8 << 20).spawn_scoped(scope, f);
        thread.expect("a thread").join().expect("no panic")
    })
}

/// [`parse`] of `text` as [`FILE`], on a main thread's stack.
fn parse_text(text: &str) -> Result<ward_core::spec::Spec, SpecErrors> {
    on_main_stack(|| parse(text, FILE))
}

/// Checks a result of parsing `text`: a refusal is a non-empty, sorted list
/// of errors, each with the file name, a position inside the text, and a
/// message; rendering it never panics.
/// The seed of the searches: `WARD_PROPTEST_SEED`, or a fixed one.
fn seed() -> u64 {
    std::env::var("WARD_PROPTEST_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5EED_CAFE)
}

fn check(text: &str, result: Result<ward_core::spec::Spec, SpecErrors>) -> Result<(), TestCaseError> {
    let Err(errors) = result else { return Ok(()) };
    prop_assert!(!errors.is_empty(), "an empty list of errors for {text:?}");
    // YAML breaks lines at \n, \r\n and a bare \r.
    let lines = text.replace("\r\n", "\n").split(['\n', '\r']).count() as u32;
    for e in &errors {
        prop_assert_eq!(&e.file, FILE);
        prop_assert!(e.line >= 1 && e.column >= 1, "no position: {e:?} for {text:?}");
        prop_assert!(e.line <= lines + 1, "line {} beyond the {lines} lines of {text:?}: {e:?}", e.line);
        prop_assert!(!e.message.trim().is_empty(), "no message: {e:?}");
        let shown = e.to_string();
        let expected = format!("{FILE}:{}:{}: ", e.line, e.column);
        prop_assert!(shown.starts_with(&expected), "{shown:?}");
    }
    let positions: Vec<(u32, u32)> = errors.iter().map(|e| (e.line, e.column)).collect();
    prop_assert!(positions.windows(2).all(|p| p[0] <= p[1]), "not in file order: {positions:?}");
    let _ = errors.to_string();
    Ok(())
}

/// A text made of random [`TOKENS`] and characters.
fn soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => proptest::sample::select(TOKENS).prop_map(str::to_string),
        1 => "[ -~]{1,6}",
        1 => any::<char>().prop_map(String::from),
    ];
    proptest::collection::vec(piece, 0..60).prop_map(|p| p.concat())
}

/// One change to a text.
#[derive(Clone, Debug)]
enum Mutation {
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

fn mutation() -> impl Strategy<Value = Mutation> {
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

fn apply(text: &str, m: &Mutation) -> String {
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

/// A YAML value of any shape, valid for some keys and wrong for most.
fn value() -> impl Strategy<Value = String> {
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
fn key() -> impl Strategy<Value = &'static str> {
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
const LONG_NAME: &str = "a-name-longer-than-any-service-name-may-be-because-it-goes-on-and-on-and-on";

/// A spec of the right overall shape (`version`, `services` with commands)
/// whose other keys and values are random.
fn shaped_spec() -> impl Strategy<Value = String> {
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

/// 256 cases each, or `PROPTEST_CASES` for a longer search.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256)
}

fn small_map() -> impl Strategy<Value = BTreeMap<String, String>> {
    proptest::collection::btree_map("[A-Z_]{1,4}|X|PORT", "[ -~]{0,10}", 0..4)
}

proptest! {
    // A fixed seed: the same cases on every run of the test command (a
    // longer, random search: PROPTEST_CASES=100000 with another seed below).
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(seed()),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        check(&text, parse_text(&text))?;
    }

    #[test]
    fn yaml_token_soup_never_panics(text in soup()) {
        check(&text, parse_text(&text))?;
    }

    #[test]
    fn mutated_valid_specs_never_panic(
        which in 0..VALID.len(),
        mutations in proptest::collection::vec(mutation(), 1..5),
    ) {
        let text = mutations.iter().fold(VALID[which].to_string(), |t, m| apply(&t, m));
        check(&text, parse_text(&text))?;
    }

    #[test]
    fn shaped_specs_with_random_values_never_panic(text in shaped_spec()) {
        check(&text, parse_text(&text))?;
    }

    /// Variables, `.env` and env files, all random, through `${VAR}` and `env_file`.
    #[test]
    fn random_variables_and_env_files_never_panic(
        text in shaped_spec(),
        environment in small_map(),
        dotenv in proptest::option::of("[ -~\n]{0,80}"),
        env_file in proptest::result::maybe_ok("[ -~\n\"'#=$]{0,80}", "[a-z ]{0,20}"),
    ) {
        let text = format!("{text}    env_file: [a.env]\n    env: {{ A: \"${{X:-${{PORT}}}}\" }}\n");
        let dotenv = dotenv.map(|t| EnvFileText { name: ".env".into(), text: Ok(t) });
        let env_files = BTreeMap::from([("a.env".to_string(), EnvFileText { name: "a.env".into(), text: env_file })]);
        let inputs = SpecInputs { environment, dotenv, env_files };
        let result = on_main_stack(|| parse_with(&text, FILE, &inputs));
        if let Err(errors) = &result {
            // An env file's errors name that file; the spec's errors name the spec.
            for e in errors {
                prop_assert!(e.line >= 1 && e.column >= 1 && !e.message.is_empty(), "{e:?}");
                prop_assert!([FILE, ".env", "a.env"].contains(&e.file.as_str()), "{e:?}");
            }
        }
    }

    #[test]
    fn env_file_text_never_panics(text in "[ -~\n\t\"'#=$\\\\]{0,120}|\\PC{0,60}") {
        if let Err(e) = parse_env_file(&text) {
            prop_assert!(e.line >= 1 && e.column >= 1 && !e.message.is_empty(), "{e:?}");
            prop_assert!(e.line as usize <= text.split('\n').count() + 1, "{e:?}");
        }
    }
}

/// Aliases that expand exponentially ("a billion laughs") are refused, at
/// the alias, with a message that says why.
#[test]
fn alias_bombs_are_refused() {
    let mut y = String::from(
        "version: 1\nservices:\n  api:\n    command: [\"./api\"]\n    env: { A: &a0 [x, x, x, x, x, x, x, x] }\n",
    );
    for i in 1..6 {
        let p = i - 1;
        y.push_str(&format!("    x{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
    }
    y.push_str("    hooks: { on_shutdown: *a5 }\n");
    let errors = parse_text(&y).expect_err("refused");
    check(&y, Err(errors.clone())).unwrap();
    assert!(errors.to_string().contains("once its aliases (`*name`) are expanded"), "{errors}");
}

/// Nesting deeper than any spec needs is refused with a clear error, and
/// nesting up to the limit is read without overflowing a main thread's stack.
#[test]
fn deep_nesting_is_refused() {
    for depth in [30, 58, 60, 62, 63, 64, 65, 5000] {
        for (open, close) in [("[", "]"), ("{a: ", "}"), ("[{a: ", "}]")] {
            let y = format!(
                "version: 1\nservices:\n  a:\n    command: [\"./a\"]\n    env: {{ X: {}x{} }}\n",
                open.repeat(depth),
                close.repeat(depth)
            );
            let errors = parse_text(&y).expect_err("refused");
            check(&y, Err(errors)).unwrap();
        }
    }
}
