//! The TCP API: tokens and roles, limits, origins, JSON errors, the remote
//! CLI over http and https, and the refusals at start.

use crate::harness::{TempDir, Ward, ward_bin};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Token files made by `ward token new` in a folder of their own.
pub struct Tokens {
    pub dir: TempDir,
    pub op: PathBuf,
    pub ro: PathBuf,
}

impl Tokens {
    pub fn new() -> Tokens {
        let dir = TempDir::new("tokens");
        let (op, ro) = (dir.0.join("op.token"), dir.0.join("ro.token"));
        for (file, extra) in [(&op, None), (&ro, Some("--read-only"))] {
            let out =
                Command::new(ward_bin()).args(["token", "new", "-o"]).arg(file).args(extra).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        Tokens { dir, op, ro }
    }

    pub fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap().trim().to_string()
    }
}

/// Starts ward on `yaml` (whose `api.listen` is port 0) and returns the
/// address its TCP API bound, from its log line.
pub fn start(tag: &str, yaml: &str) -> (Ward, String) {
    let mut w = Ward::start(tag, yaml);
    let line = w.wait_log("the TCP API's address", 20, |l| l.contains("API and dashboard on"));
    let url = line.split(" on ").nth(1).unwrap().trim().trim_end_matches('/');
    let addr = url.split("://").nth(1).unwrap().to_string();
    (w, addr)
}

/// One HTTP/1.1 request with `Connection: close`; returns (status, body).
pub fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    try_http(addr, method, path, headers, body).unwrap_or_else(|| panic!("nothing answers at {addr}"))
}

/// [`http`], or `None` when nothing listens at `addr`.
pub fn try_http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body); // the server may answer 413 and close before reading it all
    // Read to the end, or to Content-Length (a server may keep the connection open).
    let mut raw = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&chunk[..n]),
        }
        let text = String::from_utf8_lossy(&raw);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse::<usize>().ok())?
            });
            if length.is_some_and(|n| body.len() >= n) {
                break;
            }
        }
    }
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_string()
    };
    Some((status, body))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn error_of(body: &str) -> String {
    let v: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|_| panic!("not a JSON error: {body:?}"));
    v["error"].as_str().unwrap_or_else(|| panic!("no error message in {body}")).to_string()
}

fn remote(addr: &str, token: &Path, args: &[&str]) -> Output {
    Command::new(ward_bin())
        .args(["--host", &format!("http://{addr}"), "--token-file"])
        .arg(token)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn spec(t: &Tokens, extra: &str) -> String {
    format!(
        "version: 1\napi: {{ listen: \"127.0.0.1:0\", token_file: {}, read_token_file: {}{extra} }}\nservices:\n  s:\n    command: [\"sleep\", \"600\"]\n",
        t.op.display(),
        t.ro.display()
    )
}

#[test]
fn tokens_roles_limits_and_origins_are_enforced() {
    let t = Tokens::new();
    let (mut w, addr) = start("tcp", &spec(&t, ""));
    w.wait_event("s", 0, "started", 20);
    let (op, ro) = (bearer(&Tokens::read(&t.op)), bearer(&Tokens::read(&t.ro)));

    let (code, body) = http(&addr, "GET", "/v1/status", &[], b"");
    assert_eq!((code, error_of(&body).contains("Authorization: Bearer")), (401, true), "{body}");
    let (code, body) = http(&addr, "GET", "/v1/status", &[("Authorization", "Bearer nope")], b"");
    assert_eq!((code, error_of(&body)), (401, "the token is not valid".to_string()));
    let (code, _) = http(&addr, "GET", "/metrics", &[], b"");
    assert_eq!(code, 401, "metrics need a token unless the spec says otherwise");
    let (code, body) = http(&addr, "GET", "/v1/status", &[("Authorization", &ro)], b"");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"service\":\"s\""), "{body}");

    let target = br#"{"target":"s"}"#;
    let (code, body) = http(&addr, "POST", "/v1/restart", &[("Authorization", &ro)], target);
    assert_eq!((code, error_of(&body).contains("read-only token cannot act")), (403, true), "{body}");
    let (code, body) = http(&addr, "POST", "/v1/restart", &[("Authorization", &op)], target);
    assert_eq!(code, 200, "{body}");
    w.wait_event("s", 0, "stopped", 20);
    w.wait_event("s", 0, "started", 20);

    let big = vec![b' '; 64 * 1024];
    let (code, body) = http(&addr, "POST", "/v1/restart", &[("Authorization", &op)], &big);
    assert_eq!((code, error_of(&body).contains("over 16384 bytes")), (413, true), "{body}");
    let foreign = [("Authorization", op.as_str()), ("Origin", "http://evil.example")];
    let (code, body) = http(&addr, "POST", "/v1/restart", &foreign, target);
    assert_eq!((code, error_of(&body).contains("another origin")), (403, true), "{body}");
    let own = format!("http://{addr}");
    let (code, _) = http(&addr, "GET", "/v1/status", &[("Authorization", &ro), ("Origin", &own)], b"");
    assert_eq!(code, 200);
    let (code, body) = http(&addr, "GET", "/v1/nope", &[("Authorization", &ro)], b"");
    assert_eq!((code, error_of(&body).contains("no such route")), (404, true), "{body}");
    let (code, body) = http(&addr, "GET", "/v1/endpoints", &[("Authorization", &ro)], b"");
    assert_eq!((code, error_of(&body).contains("service")), (400, true), "{body}");
    let (code, body) = http(&addr, "GET", "/v1/openapi.json", &[], b"");
    assert_eq!(code, 200);
    assert!(body.contains("\"/v1/restart\""), "{body}");

    // The remote CLI, with each token.
    let out = remote(&addr, &t.ro, &["status", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"restarts\": 1"));
    let out = remote(&addr, &t.ro, &["stop", "s"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs an operator token"));
    let out = remote(&addr, &t.ro, &["wait", "s", "--for", "running", "--timeout", "20s"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = remote(&addr, &t.op, &["signal", "s", "CONT"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = remote(&addr, &t.op, &["stop", "s"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    w.wait_event("s", 0, "stopped", 20);
}

#[test]
fn a_public_address_without_a_token_is_refused_at_start() {
    let dir = TempDir::new("tcp-refuse");
    let file = dir.0.join("ward.yaml");
    std::fs::write(&file, "version: 1\nservices:\n  s:\n    command: [\"sleep\", \"600\"]\n").unwrap();
    let out =
        Command::new(ward_bin()).args(["up", "--listen", "0.0.0.0:0", "-f"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refusing to listen on 0.0.0.0:0 without a token"), "{err}");
    assert!(!dir.0.join(".ward/ward.sock").exists(), "nothing started");

    std::fs::write(
        &file,
        "version: 1\napi: { listen: \"0.0.0.0:7070\" }\nservices:\n  s:\n    command: [x]\n",
    )
    .unwrap();
    let out = Command::new(ward_bin()).args(["check", "-f"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ward.yaml:2:16: api.listen: refusing to listen"));

    // A token file others can read is refused too.
    let token = dir.0.join("open.token");
    std::fs::write(&token, "abc\n").unwrap();
    std::fs::set_permissions(&token, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    std::fs::write(&file, "version: 1\napi: { listen: \"127.0.0.1:0\", token_file: open.token }\nservices:\n  s:\n    command: [x]\n").unwrap();
    let out = Command::new(ward_bin()).args(["up", "-f"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("readable by other users"));
}

#[test]
fn the_unix_socket_still_refuses_other_uids() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("NOTICE: not root; skipping the other-uid check of the Unix socket");
        return;
    }
    let w = Ward::start("tcp-uid", "version: 1\nservices:\n  s:\n    command: [\"sleep\", \"600\"]\n");
    let socket = w.state().join("ward.sock");
    let mode =
        std::fs::metadata(&socket).map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777);
    assert_eq!(mode.unwrap(), 0o600);
    // Even with the folder and socket opened up, a peer of another uid is dropped.
    let state = w.state();
    for (p, m) in [(&state, 0o755), (&socket, 0o666)] {
        std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(m)).unwrap();
    }
    // A copy of the binary that uid 65534 may run (the build folder may sit in
    // a 0700 folder, as a fresh clone in `mktemp -d` does).
    let open = std::env::temp_dir().join(format!("ward-e2e-uid-{}", std::process::id()));
    std::fs::create_dir_all(&open).unwrap();
    std::fs::set_permissions(&open, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let bin = open.join("ward");
    std::fs::copy(ward_bin(), &bin).unwrap();
    std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = {
        use std::os::unix::process::CommandExt;
        Command::new(&bin).arg("--socket").arg(&socket).arg("status").uid(65534).gid(65534).output().unwrap()
    };
    let _ = std::fs::remove_dir_all(&open);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("INSTANCE"), "{err}");
    std::fs::set_permissions(&state, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
}

#[test]
fn the_cli_reaches_a_remote_ward_over_https() {
    let t = Tokens::new();
    let (cert, key) = (t.dir.0.join("cert.pem"), t.dir.0.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
        ])
        .args(["-subj", "/CN=ward-test", "-addext", "subjectAltName=IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("NOTICE: no openssl to make a test certificate; skipping the https test");
        return;
    }
    let tls = format!(", tls: {{ cert: {}, key: {} }}", cert.display(), key.display());
    let (mut w, addr) = start("tcp-tls", &spec(&t, &tls));
    w.wait_event("s", 0, "started", 20);
    let run = |ca: Option<&Path>| {
        let mut c = Command::new(ward_bin());
        c.args(["--host", &format!("https://{addr}"), "--token-file"]).arg(&t.ro);
        if let Some(ca) = ca {
            c.arg("--ca-file").arg(ca);
        }
        c.args(["status", "--json"]).stdin(Stdio::null()).output().unwrap()
    };
    let out = run(Some(&cert));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"service\": \"s\""));
    let out = run(None);
    assert_eq!(out.status.code(), Some(1), "an unknown issuer is refused");
    // Plain HTTP on the TLS port gets no answer.
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    assert!(!String::from_utf8_lossy(&buf).contains("instances"));
}
