//! The output port: where each instance's output goes, and what the
//! supervisor reads back (the last lines of a run, for its crash dossier).
//!
//! ward writes each instance's output to a log file that the process opens
//! itself (the supervisor is never in the data path), indexes it by time, and
//! keeps the previous run's output beside it; [`NoOutput`] sends it nowhere.

use std::path::PathBuf;
use ward_core::InstanceId;
use ward_core::spec::LogSpec;

/// Where instances write, and what the supervisor learns of it.
pub trait Output: Send {
    /// The file that receives the output of `id` (the launch's log).
    fn path(&self, id: &InstanceId) -> PathBuf;

    /// The length of the output of `id` now: where a run started next starts.
    fn len(&self, id: &InstanceId) -> u64;

    /// A run of `id` starts at `offset` of its output.
    fn run_started(&mut self, _id: &InstanceId, _offset: u64) {}

    /// The run of `id` that started at `start` ended; its output stops at
    /// `end` (its current end when `None`): keep it as the previous run's.
    fn run_ended(&mut self, _id: &InstanceId, _start: u64, _end: Option<u64>) {}

    /// The last `n` lines of the output of `id` that end before `end`.
    fn tail(&self, _id: &InstanceId, _n: usize, _end: Option<u64>) -> Vec<String> {
        Vec::new()
    }

    /// The spec's `logs:` changed (a reload).
    fn set_spec(&mut self, _spec: LogSpec) {}
}

/// Output goes to `/dev/null`; dossiers carry no lines.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoOutput;

impl Output for NoOutput {
    fn path(&self, _id: &InstanceId) -> PathBuf {
        PathBuf::from("/dev/null")
    }
    fn len(&self, _id: &InstanceId) -> u64 {
        0
    }
}
