//! One reaper shared by every test of this binary: it reaps every child of
//! the test process, so two reapers would steal each other's exits. A
//! dispatcher thread files each exit by pid until a test takes it.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

use ward_core::ExitStatus;

use super::{Reaper, ReaperHandle, become_subreaper};

/// The shared test reaper.
pub(crate) struct TestReaper {
    /// The handle to pass to runtimes.
    pub(crate) reaper: ReaperHandle,
    exits: Mutex<HashMap<u32, ExitStatus>>,
    arrived: Condvar,
}

/// How long a test waits for an exit before failing.
pub(crate) const DEADLINE: Duration = Duration::from_secs(10);

/// The shared reaper, started (as subreaper) on first use.
pub(crate) fn shared() -> &'static TestReaper {
    static SHARED: OnceLock<TestReaper> = OnceLock::new();
    SHARED.get_or_init(|| {
        become_subreaper().expect("become subreaper");
        let reaper = Reaper::start_with(|exit| {
            let me = shared();
            me.exits.lock().expect("lock").insert(exit.pid, exit.status);
            me.arrived.notify_all();
        })
        .expect("start reaper");
        TestReaper { reaper: reaper.handle(), exits: Mutex::new(HashMap::new()), arrived: Condvar::new() }
    })
}

impl TestReaper {
    /// Waits (up to [`DEADLINE`]) for the exit of `pid` and takes it.
    pub(crate) fn wait_for(&self, pid: u32) -> Option<ExitStatus> {
        let exits = self.exits.lock().expect("lock");
        let (mut exits, _) =
            self.arrived.wait_timeout_while(exits, DEADLINE, |e| !e.contains_key(&pid)).expect("lock");
        exits.remove(&pid)
    }
}
