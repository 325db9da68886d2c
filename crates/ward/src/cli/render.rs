//! Human renderings: the status table, endpoints.

use crate::api::types::{EndpointsReply, InstanceStatus, StatusReply};
use std::time::Duration;

/// The `ward status` table; `now_ms` is Unix time, for "time left";
/// `usage` adds what each instance's cgroup counts (CPU, MEMORY, OOM).
pub fn status_table(reply: &StatusReply, now_ms: u64, usage: bool) -> String {
    let mut header = vec!["INSTANCE", "STATE", "PID", "RESTARTS", "UPTIME"];
    if usage {
        header.extend(["CPU", "MEMORY", "OOM"]);
    }
    header.extend(["LAST EXIT", "GATE"]);
    let rows: Vec<Vec<String>> = reply.instances.iter().map(|i| row(i, now_ms, usage)).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths.iter()).enumerate() {
            if i + 1 == cells.len() {
                l.push_str(cell);
            } else {
                l.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&header.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    for r in &rows {
        line(r);
    }
    if reply.instances.is_empty() {
        out.push_str("(no instances)\n");
    }
    // What services said through sd_notify `STATUS=`, below the table.
    for i in &reply.instances {
        if let Some(text) = i.status_text.as_deref().filter(|t| !t.is_empty()) {
            out.push_str(&format!("{}/{}: {text}\n", i.service, i.replica));
        }
    }
    if let Some(isolation) = &reply.isolation {
        out.push_str(&format!("instances run in: {isolation}\n"));
    }
    out
}

/// The `ward endpoints` lines: one per in-rotation instance.
pub fn endpoints(reply: &EndpointsReply) -> String {
    let mut out = String::new();
    for e in &reply.endpoints {
        let pid = e.pid.map(|p| format!("pid {p}")).unwrap_or_default();
        let addresses = if e.addresses.is_empty() { "-".to_string() } else { e.addresses.join(" ") };
        out.push_str(&format!("{}/{}  {}  {pid}  {addresses}\n", reply.service, e.replica, e.state));
    }
    if reply.endpoints.is_empty() {
        out.push_str(&format!("(no instance of {} in rotation)\n", reply.service));
    }
    out
}

fn row(i: &InstanceStatus, now_ms: u64, usage: bool) -> Vec<String> {
    let dash = || "-".to_string();
    let gate = match (i.gate.state.as_str(), i.gate.until_ms) {
        ("idle", _) if i.gate.crashes == 0 => "idle".to_string(),
        ("idle", _) => format!("idle ({}/{} crashes)", i.gate.crashes, i.gate.threshold),
        (word, Some(until)) => format!(
            "{word} {} left ({}/{} crashes)",
            short(Duration::from_millis(until.saturating_sub(now_ms))),
            i.gate.crashes,
            i.gate.threshold
        ),
        (word, None) => word.to_string(),
    };
    let mut cells = vec![
        format!("{}/{}", i.service, i.replica),
        i.state.clone(),
        i.pid.map(|p| p.to_string()).unwrap_or_else(dash),
        i.restarts.to_string(),
        i.uptime_ms.map(|ms| short(Duration::from_millis(ms))).unwrap_or_else(dash),
    ];
    if usage {
        let u = i.usage.unwrap_or_default();
        cells.push(u.cpu_usec.map(|us| short(Duration::from_micros(us))).unwrap_or_else(dash));
        cells.push(u.memory_bytes.map(mib).unwrap_or_else(dash));
        cells.push(u.oom_kills.map(|n| n.to_string()).unwrap_or_else(dash));
    }
    cells.push(i.last_exit.as_ref().map(|e| e.to_string()).unwrap_or_else(dash));
    cells.push(gate);
    cells
}

/// `12.0 MiB`.
fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

pub use ward_supervisor::why::short;

#[cfg(test)]
mod tests {
    use super::*;

    fn reply() -> StatusReply {
        let gate = serde_json::json!({"state": "idle", "until_ms": null, "crashes": 0, "threshold": 5});
        let row = |replica: u32, usage: serde_json::Value| {
            serde_json::json!({"service": "web", "replica": replica, "state": "running", "pid": 40 + replica,
                "restarts": 0, "uptime_ms": 1000, "last_exit": null, "gate": gate, "usage": usage})
        };
        let usage = serde_json::json!({"cpu_usec": 1_250_000, "memory_bytes": 12_582_912, "memory_peak_bytes": null, "oom_kills": 0});
        let instances = serde_json::json!({"instances": [row(0, usage), row(1, serde_json::Value::Null)]});
        serde_json::from_value(instances).expect("a status reply")
    }

    #[test]
    fn the_table_shows_usage_columns_only_when_asked() {
        let plain = status_table(&reply(), 0, false);
        assert!(plain.starts_with("INSTANCE  STATE    PID  RESTARTS  UPTIME  LAST EXIT  GATE\n"), "{plain}");
        let with = status_table(&reply(), 0, true);
        let lines: Vec<&str> = with.lines().collect();
        let words = |l: &str| l.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        assert_eq!(words(lines[0])[5..8], ["CPU", "MEMORY", "OOM"]);
        assert_eq!(words(lines[1])[5..9], ["1.2s", "12.0", "MiB", "0"], "{with}");
        assert_eq!(words(lines[2])[5..8], ["-", "-", "-"], "no cgroup: {with}");
    }

    #[test]
    fn short_durations() {
        assert_eq!(short(Duration::from_millis(350)), "350ms");
        assert_eq!(short(Duration::from_millis(1234)), "1.2s");
        assert_eq!(short(Duration::from_secs(252)), "4m12s");
        assert_eq!(short(Duration::from_secs(7200)), "2h0m");
    }
}
