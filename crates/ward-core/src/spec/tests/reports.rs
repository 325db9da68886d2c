//! How errors are reported: all of them in file order, a cycle once, the
//! position of each rejected name, and the rendered text.

use super::*;

#[test]
fn several_errors_are_all_reported_in_file_order() {
    let errors = parse(include_str!("../../../tests/specs/many_errors.yaml"), "ward.yaml").unwrap_err();
    assert_eq!(errors.len(), 12);
    let positions: Vec<(u32, u32)> = errors.iter().map(|e| (e.line, e.column)).collect();
    let mut sorted = positions.clone();
    sorted.sort();
    assert_eq!(positions, sorted);
}

#[test]
fn a_cycle_of_two_is_reported_once() {
    let source = "version: 1\nservices:\n  b: { command: [b], depends_on: [a] }\n  a: { command: [a], depends_on: [b] }\n";
    assert_eq!(
        err(source),
        concat!(
            "ward.yaml:4:35: services.a.depends_on[0]: dependency cycle: a -> b -> a\n",
            "  help: remove one of these dependencies",
        )
    );
}

#[test]
fn error_display_without_path_or_help() {
    let error = SpecError {
        file: "w.yaml".into(),
        line: 1,
        column: 2,
        path: String::new(),
        message: "boom".into(),
        help: None,
    };
    assert_eq!(error.to_string(), "w.yaml:1:2: boom");
    let with_help = SpecError { path: "a.b".into(), help: Some("do this".into()), ..error };
    assert_eq!(with_help.to_string(), "w.yaml:1:2: a.b: boom\n  help: do this");
}

#[test]
fn positions_in_depends_on_count_rejected_names() {
    assert_eq!(
        err(&api("    depends_on: [Db, zz]\n")),
        concat!(
            "ward.yaml:5:18: services.api.depends_on[0]: invalid service name `Db`, expected to start with a lowercase letter or a digit\n",
            "ward.yaml:5:22: services.api.depends_on[1]: unknown service `zz`\n",
            "  help: known services: api",
        )
    );
}

#[test]
fn huge_replica_counts_do_not_overflow_port_ranges() {
    assert_eq!(
        err(&api("    replicas: 4294967295\n    ports: { PORT: 80 }\n")),
        concat!(
            "ward.yaml:6:20: services.api.ports.PORT: port range 80-4294967374 of 4294967295 replicas goes past 65535\n",
            "  help: lower the base port or the number of replicas",
        )
    );
}

#[test]
fn syntax_errors_name_the_enclosing_keys() {
    let source = "version: 1\nservices:\n  api:\n    command: [\"./api\"]\n    backoff:\n      initial: 1s\n     max: 2s\n";
    assert_eq!(
        err(source),
        "ward.yaml:7:6: services.api.backoff: invalid yaml: while parsing a block mapping, did not find expected key"
    );
}
