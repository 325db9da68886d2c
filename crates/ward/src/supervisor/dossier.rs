//! Crash dossiers: everything ward knows of an exit, attached to its `exited`
//! event — the status, run time, CPU time and peak memory, the last lines of
//! output, the restart count, and what the gate and policies decided.

use super::Supervisor;
use crate::api::types::{DecisionJson, Dossier};
use crate::runtime::Runtime;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use ward_core::instance::InstanceState;
use ward_core::{ExitStatus, InstanceId};

/// How many lines of output a dossier carries.
pub const OUTPUT_LINES: usize = 50;

impl<R: Runtime> Supervisor<R> {
    /// The dossier of the exit of `id` that was just decided.
    pub(super) fn dossier(&mut self, id: &InstanceId, status: ExitStatus) -> Dossier {
        let rusage = self.exit_rusage.remove(id);
        let cgroup = self.exit_cgroup.remove(id);
        let oom_killed = match cgroup.and_then(|c| c.oom_kills) {
            Some(kills) => kills > 0,
            None => status == ExitStatus::Signal(libc::SIGKILL) && self.oom_kill_rose(),
        };
        let Some(inst) = self.deployment.instance(id) else {
            return Dossier { rusage, oom_killed, cgroup, ..Dossier::default() };
        };
        let wall = |t| self.clock.wall_of(t);
        let (state, until_ms, reason) = match inst.state() {
            InstanceState::Backoff { until } => (
                "backoff",
                Some(wall(until)),
                format!("the gate holds the restart ({}s delay)", delay_s(until, self)),
            ),
            InstanceState::CrashLoop { until } => (
                "crashloop",
                Some(wall(until)),
                format!("{} crashes inside the crash-loop window tripped the gate", inst.gate().threshold()),
            ),
            InstanceState::Starting => ("starting", None, "restarted at once".into()),
            InstanceState::Waiting => ("waiting", None, "its dependencies are not ready".into()),
            InstanceState::Isolated => ("isolated", None, "on_panic: isolate".into()),
            InstanceState::Shutdown => ("shutdown", None, "on_panic: shutdown".into()),
            InstanceState::Completed => ("completed", None, "a clean exit that is not restarted".into()),
            InstanceState::Failed => ("failed", None, failed_reason(self, id, status)),
            other => (other.word(), None, "stopped by request".into()),
        };
        Dossier {
            rusage,
            oom_killed,
            cgroup,
            restarts: inst.restarts(),
            output: tail_lines(&self.logs.path(id), OUTPUT_LINES, self.run_end(id)),
            decision: DecisionJson { state: state.into(), until_ms, reason },
        }
    }

    /// True when the kernel's OOM-kill count rose since the last look.
    fn oom_kill_rose(&mut self) -> bool {
        let now = oom_kills();
        let rose = now > self.oom_kills;
        self.oom_kills = now;
        rose
    }
}

fn delay_s<R: Runtime>(until: ward_core::MonoTime, s: &Supervisor<R>) -> String {
    let ms = until.saturating_since(s.clock.now()).as_millis();
    format!("{:.1}", ms as f64 / 1000.0)
}

fn failed_reason<R: Runtime>(s: &Supervisor<R>, id: &InstanceId, status: ExitStatus) -> String {
    let Some(spec) = s.deployment.service(&id.service) else { return "its service left the spec".into() };
    if let ExitStatus::Code(c) = status {
        if spec.exit_codes.no_restart.contains(&c) {
            return format!("exit code {c} is in exit_codes.no_restart");
        }
    }
    "restart: never".into()
}

/// The kernel's count of OOM kills (`oom_kill` in /proc/vmstat).
pub fn oom_kills() -> u64 {
    std::fs::read_to_string("/proc/vmstat")
        .ok()
        .and_then(|v| v.lines().find_map(|l| l.strip_prefix("oom_kill ").and_then(|n| n.trim().parse().ok())))
        .unwrap_or(0)
}

/// The last `n` lines of a file that end before `end` (its end by default),
/// reading at most the last 64 KiB.
pub fn tail_lines(path: &Path, n: usize, end: Option<u64>) -> Vec<String> {
    let Ok(mut file) = std::fs::File::open(path) else { return Vec::new() };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let len = end.map_or(len, |end| end.min(len));
    let start = len.saturating_sub(64 * 1024);
    if file.seek(SeekFrom::Start(start)).is_err() {
        return Vec::new();
    }
    let mut bytes = Vec::new();
    if file.take(len - start).read_to_end(&mut bytes).is_err() {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut lines: Vec<&str> = text.lines().collect();
    if start > 0 && !lines.is_empty() {
        lines.remove(0); // a partial first line
    }
    lines[lines.len().saturating_sub(n)..].iter().map(|l| l.to_string()).collect()
}
