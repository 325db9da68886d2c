//! Where each run's output starts and ends, told to the output port (which
//! keeps the previous run's output, for `ward logs --previous`).

use super::Supervisor;
use crate::ports::runtime::Runtime;
use ward_core::InstanceId;

impl<R: Runtime> Supervisor<R> {
    /// The length of the output of `id` now: where a run started next will
    /// start its output.
    pub(super) fn log_len(&self, id: &InstanceId) -> u64 {
        self.output.len(id)
    }

    /// The run that just ended: `end` is where its output stops, when a
    /// replacement already writes to the same file (the file's end otherwise).
    pub(super) fn save_previous_run(&mut self, id: &InstanceId, end: Option<u64>) {
        let Some(start) = self.run_starts.remove(id) else { return };
        self.output.run_ended(id, start, end);
    }
}
