//! The output of an instance's previous run, kept after it restarts
//! (`ward logs --previous`): when a process exits, what it wrote since it
//! started (at most the last MiB) is copied to `<service>.<replica>.previous`
//! beside its log, off the supervisor's thread.

use super::Supervisor;
use crate::runtime::Runtime;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use ward_core::InstanceId;

/// The most of a run's output that is kept.
const KEEP: u64 = 1024 * 1024;

/// Where the previous run's output of `log` is kept.
pub fn previous_path(log: &Path) -> PathBuf {
    log.with_extension("previous")
}

impl<R: Runtime> Supervisor<R> {
    /// The length of the log of `id` now: where a run started next will
    /// start its output.
    pub(super) fn log_len(&self, id: &InstanceId) -> u64 {
        std::fs::metadata(self.logs.path(id)).map(|m| m.len()).unwrap_or(0)
    }

    /// Copies the run that just ended to the `.previous` file, in the background.
    /// `end`: where the run's output stops, when a replacement already writes
    /// to the file (the file's end otherwise).
    pub(super) fn save_previous_run(&mut self, id: &InstanceId, end: Option<u64>) {
        let Some(start) = self.run_starts.remove(id) else { return };
        let log = self.logs.path(id);
        let len = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        let len = end.map_or(len, |end| end.min(len));
        if len == start {
            // The run wrote nothing: its previous output is empty.
            let _ = std::fs::remove_file(previous_path(&log));
            return;
        }
        tokio::task::spawn_blocking(move || {
            if let Err(e) = copy_run(&log, start, len) {
                tracing::debug!("cannot keep the previous run of {}: {e}", log.display());
            }
        });
    }
}

fn copy_run(log: &Path, start: u64, end: u64) -> std::io::Result<()> {
    let mut file = std::fs::File::open(log)?;
    let len = file.metadata()?.len().min(end);
    // A rotation since the start shrank the file: keep what is there.
    let from = if start > len { 0 } else { start }.max(len.saturating_sub(KEEP));
    file.seek(SeekFrom::Start(from))?;
    let mut bytes = Vec::new();
    file.take(len.saturating_sub(from)).read_to_end(&mut bytes)?;
    let tmp = log.with_extension("previous.tmp");
    std::fs::File::create(&tmp)?.write_all(&bytes)?;
    std::fs::rename(tmp, previous_path(log))
}
