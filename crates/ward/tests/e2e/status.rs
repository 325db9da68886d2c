//! `ward status`: what a cgroup counts is shown only when asked for
//! (`--usage`, `?usage=true`), read by the API off the supervisor's thread;
//! `/metrics` keeps its usage series. Needs root and writable cgroups for
//! the usage part (else skipped).

use crate::harness::Ward;
use crate::metrics::get;
use serde_json::Value;

const SPEC: &str = r#"version: 1
services:
  plain:
    command: ["sleep", "600"]
  bare:
    command: ["sleep", "600"]
    cgroup: false
"#;

/// Whether ward runs its instances in cgroups here (`isolation` in status).
fn in_cgroups(w: &Ward) -> bool {
    let out = w.cli(&["status", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("status json");
    let cgroups = v["isolation"].as_str().is_some_and(|i| i.starts_with("cgroup "));
    if !cgroups {
        eprintln!("skipped: no cgroups here ({})", v["isolation"]);
    }
    cgroups
}

fn row<'a>(rows: &'a [Value], service: &str) -> &'a Value {
    rows.iter().find(|i| i["service"] == service).unwrap_or_else(|| panic!("no {service} in {rows:?}"))
}

#[test]
fn usage_is_shown_only_when_asked_and_metrics_keep_it() {
    let mut w = Ward::start("status-usage", SPEC);
    w.wait_event("plain", 0, "started", 30);
    w.wait_event("bare", 0, "started", 30);

    let plain = w.status();
    assert!(plain.iter().all(|i| i.get("usage").is_none() && i.get("cgroup").is_none()), "{plain:?}");
    let table = String::from_utf8(w.cli(&["status"]).stdout).expect("utf-8");
    assert!(!table.contains("MEMORY"), "{table}");
    if !in_cgroups(&w) {
        return;
    }

    let rows = w.status_with(&["--usage"]);
    let usage = &row(&rows, "plain")["usage"];
    assert!(usage["cpu_usec"].is_u64(), "usage from the cgroup: {rows:?}");
    assert!(row(&rows, "bare").get("usage").is_none(), "cgroup: false has none: {rows:?}");
    let one = w.status_with(&["plain", "--usage"]);
    assert!(one.len() == 1 && one[0]["usage"]["cpu_usec"].is_u64(), "{one:?}");

    let table = String::from_utf8(w.cli(&["status", "--usage"]).stdout).expect("utf-8");
    let header = table.lines().next().unwrap_or_default();
    assert!(header.contains("CPU") && header.contains("MEMORY") && header.contains("OOM"), "{table}");
    // The CPU column (aligned under its header): a time for plain, `-` for bare.
    let at = header.find("CPU").unwrap_or_default();
    let cpu = |svc: &str| {
        let line = table.lines().find(|l| l.starts_with(svc)).unwrap_or_default();
        line.get(at..).unwrap_or_default().split_whitespace().next().unwrap_or_default().to_string()
    };
    assert!(cpu("plain/0").ends_with('s'), "{table}");
    assert_eq!(cpu("bare/0"), "-", "{table}");

    let (head, metrics) = get(&w.state().join("ward.sock"), "/metrics");
    assert!(head.contains("200"), "{head}");
    let cpu = "ward_instance_cgroup_cpu_seconds_total";
    assert!(metrics.contains(&format!("{cpu}{{service=\"plain\",replica=\"0\"}} ")), "{metrics}");
    assert!(!metrics.contains(&format!("{cpu}{{service=\"bare\"")), "{metrics}");
}
