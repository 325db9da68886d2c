//! Armed timers, earliest first. The supervisor sleeps until the earliest one;
//! a timer for an earlier generation of its instance is stale and ignored by
//! ward-core, so nothing is ever cancelled here.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use ward_core::instance::TimerKind;
use ward_core::{InstanceId, MonoTime};

/// One armed timer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timer {
    /// When it fires.
    pub at: MonoTime,
    /// Which instance.
    pub id: InstanceId,
    /// Which timer.
    pub kind: TimerKind,
    /// The generation it was armed with.
    pub generation: u64,
}

/// A min-heap of timers.
#[derive(Debug, Default)]
pub struct Timers {
    heap: BinaryHeap<Reverse<Timer>>,
}

impl Timers {
    /// Arms a timer.
    pub fn arm(&mut self, timer: Timer) {
        self.heap.push(Reverse(timer));
    }

    /// When the earliest timer fires.
    pub fn next_deadline(&self) -> Option<MonoTime> {
        self.heap.peek().map(|Reverse(t)| t.at)
    }

    /// Removes and returns every timer due at `now`.
    pub fn take_due(&mut self, now: MonoTime) -> Vec<Timer> {
        let mut due = Vec::new();
        while self.heap.peek().is_some_and(|Reverse(t)| t.at <= now) {
            if let Some(Reverse(t)) = self.heap.pop() {
                due.push(t);
            }
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first() {
        let id = InstanceId::new("a".parse().unwrap(), 0);
        let mut t = Timers::default();
        for at in [30, 10, 20] {
            t.arm(Timer {
                at: MonoTime::from_millis(at),
                id: id.clone(),
                kind: TimerKind::Restart,
                generation: 1,
            });
        }
        assert_eq!(t.next_deadline(), Some(MonoTime::from_millis(10)));
        let due = t.take_due(MonoTime::from_millis(20));
        assert_eq!(due.iter().map(|t| t.at.as_millis()).collect::<Vec<_>>(), vec![10, 20]);
        assert_eq!(t.next_deadline(), Some(MonoTime::from_millis(30)));
    }
}
