//! The machine's description and the table of figures (Markdown, ready for
//! the README).

use crate::scenarios::{Restart, Scale, Sizes};
use crate::stats::{Summary, fmt_dur, ratio, summarize};
use crate::sup::Kind;
use std::fmt::Write;
use std::time::Duration;

/// CPU model, cores, memory, kernel.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpu
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']));
    let cores = cpu.lines().filter(|l| l.starts_with("processor")).count();
    let mem = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kb: u64 = mem
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "machine: {} × {cores} cores, {:.1} GiB RAM, Linux {}",
        model.unwrap_or("unknown CPU"),
        mem_kb as f64 / 1048576.0,
        kernel.trim()
    )
}

/// The filesystem the supervisors' folders are on (`TMPDIR` moves them):
/// creating ward's log files is part of "CPU per start", and its cost
/// depends on it (see the README).
pub fn filesystem(root: &std::path::Path) -> String {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    // The mount whose point is the longest prefix of `root` holds it.
    let found = mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (_, point, kind, options) = (f.next()?, f.next()?, f.next()?, f.next()?);
            root.starts_with(point).then_some((point, kind, options))
        })
        .max_by_key(|(point, _, _)| point.len());
    match found {
        Some((point, kind, options)) => {
            format!("folders: {} on {kind} mounted at {point} ({options})", root.display())
        }
        None => format!("folders: {} (filesystem unknown)", root.display()),
    }
}

/// The figures of both supervisors.
#[derive(Default)]
pub struct Results {
    ward: Option<(Restart, Scale)>,
    base: Option<(Restart, Scale)>,
}

impl Results {
    /// Stores the figures of `kind`.
    pub fn set(&mut self, kind: Kind, r: Restart, s: Scale) {
        match kind {
            Kind::Ward => self.ward = Some((r, s)),
            Kind::Baseline => self.base = Some((r, s)),
        }
    }

    /// The Markdown table.
    pub fn table(&self, sizes: &Sizes) -> String {
        let (Some((wr, ws)), Some((br, bs))) = (&self.ward, &self.base) else { return String::new() };
        let mut t = String::from(
            "| figure | ward | baseline | ward/baseline | target | met |\n|---|---|---|---|---|---|\n",
        );
        let mut row = |name: &str, w: String, b: String, r: String, target: &str, met: Option<bool>| {
            let met = match met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "",
            };
            let _ = writeln!(t, "| {name} | {w} | {b} | {r} | {target} | {met} |");
        };
        for (label, w, b) in
            [("long-running", &wr.stable, &br.stable), ("killed < 1 s after start", &wr.fast, &br.fast)]
        {
            let (Some(w), Some(b)) = (summarize(w), summarize(b)) else { continue };
            let pick = |s: &Summary| [("p50", s.p50), ("p90", s.p90), ("p99", s.p99), ("max", s.max)];
            for ((p, wd), (_, bd)) in pick(&w).into_iter().zip(pick(&b)) {
                let r = ratio(wd.as_secs_f64(), bd.as_secs_f64());
                let (target, met) = match p {
                    "p50" => ("≤ 1.1× baseline", Some(wd.as_secs_f64() <= 1.1 * bd.as_secs_f64())),
                    "p99" => ("≤ 1.3× baseline", Some(wd.as_secs_f64() <= 1.3 * bd.as_secs_f64())),
                    _ => ("", None),
                };
                row(
                    &format!("restart {p}, {label} ({} kills)", w.n),
                    fmt_dur(wd),
                    fmt_dur(bd),
                    r,
                    target,
                    met,
                );
            }
        }
        if let (Some(w), Some(b)) = (wr.cpu_per_restart(), br.cpu_per_restart()) {
            let (wc, bc) = (w.as_secs_f64(), b.as_secs_f64());
            let n = wr.stable.len() + wr.fast.len();
            row(
                &format!("CPU per restart (user + system, over the {n} restarts)"),
                fmt_dur(w),
                fmt_dur(b),
                ratio(wc, bc),
                "≤ 2× baseline",
                Some(wc <= 2.0 * bc),
            );
            if let Some(k) = wr.keeper_alone {
                row(
                    &format!(
                        "CPU per restart of the keeper alone, the brain stopped ({} more kills)",
                        sizes.kills.saturating_sub(1)
                    ),
                    fmt_dur(k),
                    fmt_dur(b),
                    ratio(k.as_secs_f64(), bc),
                    "",
                    None,
                );
            }
        }
        let n = sizes.scale;
        if n > 0 {
            let (w, b) = (ws.start_cpu / n as u32, bs.start_cpu / n as u32);
            let (wc, bc) = (w.as_secs_f64(), b.as_secs_f64());
            row(
                &format!("CPU per start at {n} (user + system)"),
                fmt_dur(w),
                fmt_dur(b),
                ratio(wc, bc),
                "≤ 2× baseline",
                Some(wc <= 2.0 * bc),
            );
        }
        let (wa, ba) = (ws.all_running.as_secs_f64(), bs.all_running.as_secs_f64());
        row(
            &format!("{n} instances all running"),
            fmt_dur(ws.all_running),
            fmt_dur(bs.all_running),
            ratio(wa, ba),
            "≤ 2.5× baseline",
            Some(wa <= 2.5 * ba),
        );
        let mb = |b: u64| format!("{:.1} MB", b as f64 / 1e6);
        let rss_name = format!(
            "RSS at {n} ({} ward process{})",
            ws.processes,
            if ws.processes == 1 { "" } else { "es" }
        );
        row(
            &rss_name,
            mb(ws.rss),
            mb(bs.rss),
            ratio(ws.rss as f64, bs.rss as f64),
            "≤ 60 MB",
            Some(ws.rss <= 60_000_000),
        );
        let wk = |w: f64| format!("{w:.2}/s");
        let idle = format!("wakeups idle at {n} ({} s)", sizes.idle.as_secs());
        row(
            &idle,
            wk(ws.wakeups_per_s),
            wk(bs.wakeups_per_s),
            String::new(),
            "0",
            Some(ws.wakeups_per_s == 0.0),
        );
        let (wst, bst) = (ws.storm.as_secs_f64(), bs.storm.as_secs_f64());
        let storm = format!("storm: {} killed at once, all back", sizes.storm.min(n));
        row(
            &storm,
            fmt_dur(ws.storm),
            fmt_dur(bs.storm),
            ratio(wst, bst),
            "≤ 1.15× baseline",
            Some(wst <= 1.15 * bst),
        );
        let (wsp, bsp) = (ws.storm_spread.as_secs_f64(), bs.storm_spread.as_secs_f64());
        if wsp > 0.0 {
            let name = format!(
                "storm: {} spread over {n} (every {}th) killed at once, all back",
                sizes.storm.min(n),
                n / sizes.storm.min(n).max(1)
            );
            row(
                &name,
                fmt_dur(ws.storm_spread),
                fmt_dur(bs.storm_spread),
                ratio(wsp, bsp),
                "≤ 1.15× baseline",
                Some(wsp <= 1.15 * bsp),
            );
        }
        if let Some((d, size)) = ws.status {
            let name = format!("`ward status --json` at {n} (median of 5; {:.1} MB)", size as f64 / 1e6);
            row(
                &name,
                fmt_dur(d),
                "–".into(),
                String::new(),
                "≤ 200 ms",
                Some(d <= Duration::from_millis(200)),
            );
        }
        if let Some(st) = ws.storm_status {
            let name = format!(
                "`ward status --json` at {n} during a storm of {} ({:.1} MB; all back after {})",
                sizes.storm.min(n),
                st.size as f64 / 1e6,
                fmt_dur(st.storm)
            );
            let met = st.took <= Duration::from_millis(200);
            row(&name, fmt_dur(st.took), "–".into(), String::new(), "≤ 200 ms", Some(met));
        }
        if let Some(ev) = ws.storm_events {
            let name = format!(
                "event stream during a storm of {}: its {} events all read by `ward events -f` (all back after {})",
                sizes.storm.min(n),
                ev.events,
                fmt_dur(ev.back)
            );
            // Delivered as recorded: the last within 200 ms of the last instance's start.
            let met = ev.delivered <= ev.back + Duration::from_millis(200);
            row(&name, fmt_dur(ev.delivered), "–".into(), String::new(), "≤ all back + 200 ms", Some(met));
        }
        t
    }
}
