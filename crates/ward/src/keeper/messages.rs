//! The keeper's side of its conversation with the brain: what each of the
//! brain's messages makes it do, and how it answers (never waiting for the
//! brain to read, see `outgoing`).

use super::{Keeper, brain};
use crate::protocol::{ToBrain, ToKeeper, encode};

impl Keeper {
    /// Acts on a message of the attached brain (from its connection or
    /// its mailbox).
    pub(super) fn on_message(&mut self, msg: ToKeeper) {
        if self.stop == brain::Stop::Forced {
            return; // from a brain killed since: nothing more starts
        }
        match msg {
            ToKeeper::Spawn { req, launch } => self.fork_requested(req, *launch),
            ToKeeper::Signal { pid, sig } => self.signal_child(pid, sig),
            ToKeeper::Cleanup { pid, instance } => {
                let _ = self.runtime.signal_group(pid, libc::SIGKILL);
                self.cgroup_cleanup(pid, instance.as_deref());
            }
            ToKeeper::Arm { order, launch } => {
                if let Some(child) = self.children.get_mut(&order.pid) {
                    child.order = Some((order, launch.into()));
                }
            }
            ToKeeper::Disarm { pid } => {
                if let Some(child) = self.children.get_mut(&pid) {
                    child.order = None;
                }
            }
            ToKeeper::Handover { from, to } => self.cgroup_handover(from, to),
            ToKeeper::Ack { seq } => {
                while self.pending.front().is_some_and(|p| p.seq <= seq) {
                    self.pending.pop_front();
                }
            }
            ToKeeper::Ready => crate::handshake::signal_ready(),
            ToKeeper::Done { code } => self.done = Some(code),
        }
    }

    /// Sends `sig` to the process group led by `pid` (also one it did not
    /// start: adopted by the brain after a crash); a SIGKILL reaches its
    /// whole cgroup too.
    pub(super) fn signal_child(&mut self, pid: u32, sig: i32) {
        let _ = self.runtime.signal_group(pid, sig);
        if sig == libc::SIGKILL {
            self.cgroup_kill(pid);
        }
    }

    /// Says one message to the brain.
    pub(super) fn send(&mut self, msg: &ToBrain) {
        self.send_all(&encode(msg));
    }

    /// Writes encoded messages (whole lines) to the brain, in one write.
    pub(super) fn send_all(&mut self, bytes: &[u8]) {
        if let Some((_, out)) = &self.conn {
            // A failed write (the brain is gone) keeps the connection: what
            // the brain said last (its `Done`) may still be unread, and its
            // reader says `Disconnected` once everything was read. A next
            // brain gets everything again on attach.
            out.send(bytes);
        }
    }
}
