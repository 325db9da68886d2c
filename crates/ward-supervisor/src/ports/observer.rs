//! The observer port: what the supervisor measures as it works (metrics),
//! and when it is busy or idle (ward gives memory back after a burst).

use std::time::Duration;
use ward_core::event::EventKind;

/// Told what the supervisor does; every method returns at once.
pub trait Observer: Send {
    /// An event was recorded.
    fn event(&mut self, _kind: &EventKind) {}
    /// A spawn took `d`, from the request to its answer.
    fn spawn_took(&mut self, _d: Duration) {}
    /// A commit of the store took `d`.
    fn commit_took(&mut self, _d: Duration) {}
    /// `n` more actions were run.
    fn busy(&mut self, _n: usize) {}
    /// Every input so far is handled; the supervisor waits for the next.
    fn idle(&mut self) {}
}

/// Observes nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;

impl Observer for NoObserver {}
