use super::*;

#[test]
fn routes_need_what_their_method_and_path_say() {
    assert_eq!(need_of("GET", "/"), Need::Public);
    assert_eq!(need_of("GET", "/dashboard.js"), Need::Public);
    assert_eq!(need_of("GET", "/v1/openapi.json"), Need::Public);
    assert_eq!(need_of("GET", "/metrics"), Need::Metrics);
    assert_eq!(need_of("GET", "/v1/status"), Need::Read);
    assert_eq!(need_of("HEAD", "/v1/events"), Need::Read);
    assert_eq!(need_of("POST", "/v1/restart"), Need::Operate);
    assert_eq!(need_of("POST", "/"), Need::Operate);
    assert_eq!(need_of("DELETE", "/v1/status"), Need::Operate);
}

#[test]
fn tokens_are_checked_by_role() {
    let read = Presented::Token(Role::Read);
    let op = Presented::Token(Role::Operate);
    let table = [
        (Need::Public, Presented::Nothing, false, "allow"),
        (Need::Read, Presented::Nothing, false, "401"),
        (Need::Read, Presented::Unknown, false, "401"),
        (Need::Read, read, false, "allow"),
        (Need::Read, op, false, "allow"),
        (Need::Operate, read, false, "403"),
        (Need::Operate, op, false, "allow"),
        (Need::Operate, Presented::Unknown, true, "401"),
        (Need::Metrics, Presented::Nothing, false, "401"),
        (Need::Metrics, Presented::Nothing, true, "allow"),
        (Need::Metrics, Presented::Unknown, true, "401"),
        (Need::Metrics, read, false, "allow"),
    ];
    for (need, presented, open_metrics, want) in table {
        let got = match decide(need, presented, open_metrics) {
            Verdict::Allow => "allow",
            Verdict::Unauthorized(_) => "401",
            Verdict::Forbidden(_) => "403",
        };
        assert_eq!(got, want, "{need:?} {presented:?} metrics_without_token={open_metrics}");
    }
}

#[test]
fn bearer_tokens_are_read_from_the_header() {
    assert_eq!(bearer("Bearer abc"), Some("abc"));
    assert_eq!(bearer("bearer  abc "), Some("abc"));
    assert_eq!(bearer("Basic abc"), None);
    assert_eq!(bearer("Bearer "), None);
    assert_eq!(bearer("abc"), None);
}

#[test]
fn only_the_listeners_own_origin_passes() {
    let host = Some("127.0.0.1:7070");
    assert!(origin_allowed(None, "http", host));
    assert!(origin_allowed(Some("http://127.0.0.1:7070"), "http", host));
    assert!(!origin_allowed(Some("https://127.0.0.1:7070"), "http", host));
    assert!(!origin_allowed(Some("http://evil.example"), "http", host));
    assert!(!origin_allowed(Some("http://127.0.0.1:70701"), "http", host));
    assert!(!origin_allowed(Some("null"), "http", host));
    assert!(!origin_allowed(Some("http://127.0.0.1:7070"), "http", None));
}

#[test]
fn only_loopback_goes_without_a_token() {
    let addr = |s: &str| s.parse::<SocketAddr>().unwrap();
    assert!(check_listen(addr("127.0.0.1:7070"), false).is_ok());
    assert!(check_listen(addr("[::1]:7070"), false).is_ok());
    assert!(check_listen(addr("0.0.0.0:7070"), true).is_ok());
    let err = check_listen(addr("0.0.0.0:7070"), false).unwrap_err();
    assert_eq!(
        err.to_string(),
        "refusing to listen on 0.0.0.0:7070 without a token: only a loopback address may go without one"
    );
}
