//! The output of runs: what the supervisor's output port reads back and
//! keeps. When a process exits, what it wrote since it started (at most the
//! last MiB) is copied to `<service>.<replica>.previous` beside its log, off
//! the supervisor's thread (`ward logs --previous`); a crash dossier carries
//! the last lines a run wrote.

use super::Logs;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use ward_core::InstanceId;
use ward_core::spec::LogSpec;
use ward_supervisor::ports::output::Output;

/// The most of a run's output that is kept.
const KEEP: u64 = 1024 * 1024;

/// Where the previous run's output of `log` is kept.
pub fn previous_path(log: &Path) -> PathBuf {
    log.with_extension("previous")
}

impl Output for Logs {
    fn path(&self, id: &InstanceId) -> PathBuf {
        Logs::path(self, id)
    }

    fn len(&self, id: &InstanceId) -> u64 {
        std::fs::metadata(Logs::path(self, id)).map(|m| m.len()).unwrap_or(0)
    }

    fn run_started(&mut self, id: &InstanceId, offset: u64) {
        Logs::run_started(self, id, offset)
    }

    fn run_ended(&mut self, id: &InstanceId, start: u64, end: Option<u64>) {
        let log = Logs::path(self, id);
        // Where a replacement's output begins is where this run's ended: a
        // run that wrote nothing needs no look at the file.
        let len = match end {
            Some(end) if end == start => start,
            _ => std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0).min(end.unwrap_or(u64::MAX)),
        };
        let name = super::file_name(id);
        let mut without = super::lock(&self.inner.shared.without_previous);
        if len == start {
            // The run wrote nothing: its previous output is empty. Once
            // removed here, the file is not looked for again (a path walk
            // at each exit of a service that never writes) until a run
            // leaves output.
            if !without.contains(name.as_str()) {
                let _ = std::fs::remove_file(previous_path(&log));
                without.insert(name.into_boxed_str());
            }
            return;
        }
        without.remove(name.as_str());
        drop(without);
        let shared = self.inner.shared.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = copy_run(&log, start, len) {
                tracing::debug!("cannot keep the previous run of {}: {e}", log.display());
            }
            // An empty run that ended meanwhile marked it absent too soon.
            super::lock(&shared.without_previous).remove(name.as_str());
        });
    }

    fn tail(&self, id: &InstanceId, n: usize, end: Option<u64>) -> Vec<String> {
        tail_lines(&Logs::path(self, id), n, end)
    }

    fn set_spec(&mut self, spec: LogSpec) {
        Logs::set_spec(self, spec)
    }
}

fn copy_run(log: &Path, start: u64, end: u64) -> std::io::Result<()> {
    let mut file = std::fs::File::open(log)?;
    let len = file.metadata()?.len().min(end);
    // A rotation since the start shrank the file: keep what is there.
    let from = if start > len { 0 } else { start }.max(len.saturating_sub(KEEP));
    file.seek(SeekFrom::Start(from))?;
    let tmp = log.with_extension("previous.tmp");
    let mut out = super::rotate::private_file(&tmp)?;
    // File to file: std copies in the kernel (`copy_file_range`), with no
    // buffer of the run's size in ward.
    std::io::copy(&mut file.take(len.saturating_sub(from)), &mut out)?;
    std::fs::rename(tmp, previous_path(log))
}

/// The last `n` lines of a file that end before `end` (its end by default),
/// reading at most the last 64 KiB: first the last 8 KiB, which nearly
/// always hold them (a crash dossier takes 50 lines at every exit). A log
/// known to be empty at `end` (a service that never writes) is not opened.
pub fn tail_lines(path: &Path, n: usize, end: Option<u64>) -> Vec<String> {
    if end == Some(0) {
        return Vec::new();
    }
    let Ok(mut file) = std::fs::File::open(path) else { return Vec::new() };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let len = end.map_or(len, |end| end.min(len));
    for window in TAIL_WINDOWS {
        let start = len.saturating_sub(window);
        let mut bytes = Vec::new();
        if file.seek(SeekFrom::Start(start)).is_err()
            || (&mut file).take(len - start).read_to_end(&mut bytes).is_err()
        {
            return Vec::new();
        }
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.lines().collect();
        // A window that does not start the file starts with a partial line.
        let lines = &lines[usize::from(start > 0).min(lines.len())..];
        if lines.len() >= n || start == 0 || window == TAIL_MAX {
            return lines[lines.len().saturating_sub(n)..].iter().map(|l| l.to_string()).collect();
        }
    }
    Vec::new()
}

/// The most [`tail_lines`] reads.
const TAIL_MAX: u64 = 64 * 1024;

/// The windows [`tail_lines`] reads, until one holds enough lines.
const TAIL_WINDOWS: [u64; 2] = [8 * 1024, TAIL_MAX];
