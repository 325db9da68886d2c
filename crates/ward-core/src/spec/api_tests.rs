//! Tests of the `api:` section: its keys, defaults, and each mistake's exact message.

use super::*;

fn parsed(api: &str) -> Result<Spec, String> {
    let source = format!("version: 1\napi: {api}\nservices:\n  a:\n    command: [\"./a\"]\n");
    parse(&source, "ward.yaml").map_err(|e| e.to_string())
}

#[test]
fn a_full_api_section_reads() {
    let spec = parsed(
        "{ listen: \"0.0.0.0:7070\", token_file: op.token, read_token_file: ro.token, \
         tls: { cert: c.pem, key: k.pem }, metrics_without_token: true }",
    )
    .unwrap();
    let api = spec.api.unwrap();
    assert_eq!(api.listen, Some("0.0.0.0:7070".parse().unwrap()));
    assert_eq!(api.token_file.as_deref(), Some("op.token"));
    assert_eq!(api.read_token_file.as_deref(), Some("ro.token"));
    assert_eq!(api.tls, Some(TlsSpec { cert: "c.pem".into(), key: "k.pem".into() }));
    assert!(api.metrics_without_token);
}

#[test]
fn the_api_is_off_by_default_and_loopback_needs_no_token() {
    let source = "version: 1\nservices:\n  a:\n    command: [\"./a\"]\n";
    assert_eq!(parse(source, "ward.yaml").unwrap().api, None);
    let api = parsed("{ listen: \"127.0.0.1:7070\" }").unwrap().api.unwrap();
    assert_eq!(api.listen, Some("127.0.0.1:7070".parse().unwrap()));
    assert!(!api.has_token() && !api.metrics_without_token && api.tls.is_none());
}

#[test]
fn a_public_address_without_a_token_is_refused_where_it_is_written() {
    assert_eq!(
        parsed("{ listen: \"0.0.0.0:7070\" }").unwrap_err(),
        "ward.yaml:2:16: api.listen: refusing to listen on 0.0.0.0:7070 without a token: only a \
         loopback address may go without one\n  help: add `token_file: FILE` (make one with `ward \
         token new -o FILE`), or listen on 127.0.0.1"
    );
}

#[test]
fn a_listen_address_must_be_ip_and_port() {
    assert_eq!(
        parsed("{ listen: \"localhost:7070\" }").unwrap_err(),
        "ward.yaml:2:16: api.listen: invalid listen address `localhost:7070`, expected an IP address \
         and port such as 127.0.0.1:7070 or [::1]:7070\n  help: a host name is not accepted: give its IP address"
    );
}

#[test]
fn unknown_keys_and_missing_tls_parts_are_named() {
    let e = parsed("{ listen: \"127.0.0.1:1\", token: abc, tls: { cert: c.pem } }").unwrap_err();
    assert!(e.contains("api: unknown key `token`, expected one of listen, token_file"), "{e}");
    assert!(e.contains("api.tls: missing key `key`"), "{e}");
    let e = parsed("{ metrics_without_token: yes please }").unwrap_err();
    assert!(e.contains("api.metrics_without_token: expected true or false"), "{e}");
}
