//! A real Prometheus scrapes ward's TCP `/metrics` with a read-only token;
//! a killed service's restart shows up through Prometheus' own query API.

use crate::harness::{TempDir, eventually, kill};
use crate::tcp::{Tokens, bearer, http, start, try_http};
use std::process::{Child, Command, Stdio};

/// A Prometheus process, killed by pid when dropped.
struct Prometheus(Child);

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The value of the first sample of an instant query, when there is one.
fn query(prom: &str, q: &str) -> Option<f64> {
    let path =
        format!("/api/v1/query?query={}", q.replace('{', "%7B").replace('}', "%7D").replace('"', "%22"));
    let (code, body) = try_http(prom, "GET", &path, &[], b"")?;
    if code != 200 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    v["data"]["result"][0]["value"][1].as_str()?.parse().ok()
}

#[test]
fn prometheus_sees_a_restart() {
    if Command::new("prometheus")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        eprintln!("NOTICE: prometheus is not installed; skipping (scripts/test.sh installs it)");
        return;
    }
    let t = Tokens::new();
    let yaml = format!(
        "version: 1\napi: {{ listen: \"127.0.0.1:0\", token_file: {}, read_token_file: {} }}\nservices:\n  s:\n    command: [\"sleep\", \"600\"]\n    backoff: {{ initial: 0s }}\n",
        t.op.display(),
        t.ro.display()
    );
    let (mut w, addr) = start("prometheus", &yaml);
    let started = w.wait_event("s", 0, "started", 20);
    let (code, text) =
        http(&addr, "GET", "/metrics", &[("Authorization", &bearer(&Tokens::read(&t.ro)))], b"");
    assert_eq!(code, 200);
    assert!(text.contains("ward_instance_state{service=\"s\",replica=\"0\",state=\"running\"} 1"), "{text}");
    assert!(text.contains("ward_instance_resident_memory_bytes{service=\"s\",replica=\"0\"}"), "{text}");
    assert!(text.contains("process_resident_memory_bytes "), "{text}");

    let dir = TempDir::new("prometheus-data");
    let config = dir.0.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global: {{ scrape_interval: 1s, evaluation_interval: 1s }}\nscrape_configs:\n  - job_name: ward\n    authorization: {{ credentials_file: {} }}\n    static_configs: [{{ targets: [\"{addr}\"] }}]\n",
            t.ro.display()
        ),
    )
    .unwrap();
    let prom = format!("127.0.0.1:{}", free_port());
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", dir.0.join("data").display()))
        .arg(format!("--web.listen-address={prom}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _prometheus = Prometheus(child);
    eventually("prometheus to scrape ward", 60, || query(&prom, "up{job=\"ward\"}") == Some(1.0));
    assert_eq!(query(&prom, "ward_restarts_total"), Some(0.0));

    kill(started["pid"].as_u64().unwrap() as i32, libc::SIGKILL);
    w.wait_event("s", 0, "restarted", 20);
    eventually("the restart in prometheus", 60, || query(&prom, "ward_restarts_total") == Some(1.0));
    let restarts = "ward_instance_restarts{service=\"s\",replica=\"0\"}";
    eventually("the instance's restarts in prometheus", 60, || query(&prom, restarts) == Some(1.0));
    assert_eq!(query(&prom, "ward_instance_last_exit_signal"), Some(9.0));
}
