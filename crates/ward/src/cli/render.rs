//! Human renderings: the status table, endpoints.

use crate::api::types::{EndpointsReply, InstanceStatus, StatusReply};
use std::time::Duration;

/// The `ward status` table; `now_ms` is Unix time, for "time left".
pub fn status_table(reply: &StatusReply, now_ms: u64) -> String {
    let header = ["INSTANCE", "STATE", "PID", "RESTARTS", "UPTIME", "LAST EXIT", "GATE"];
    let rows: Vec<[String; 7]> = reply.instances.iter().map(|i| row(i, now_ms)).collect();
    let mut widths = header.map(str::len);
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
    line(&header.map(String::from));
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

fn row(i: &InstanceStatus, now_ms: u64) -> [String; 7] {
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
    [
        format!("{}/{}", i.service, i.replica),
        i.state.clone(),
        i.pid.map(|p| p.to_string()).unwrap_or_else(dash),
        i.restarts.to_string(),
        i.uptime_ms.map(|ms| short(Duration::from_millis(ms))).unwrap_or_else(dash),
        i.last_exit.as_ref().map(|e| e.to_string()).unwrap_or_else(dash),
        gate,
    ]
}

pub use ward_supervisor::why::short;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_durations() {
        assert_eq!(short(Duration::from_millis(350)), "350ms");
        assert_eq!(short(Duration::from_millis(1234)), "1.2s");
        assert_eq!(short(Duration::from_secs(252)), "4m12s");
        assert_eq!(short(Duration::from_secs(7200)), "2h0m");
    }
}
