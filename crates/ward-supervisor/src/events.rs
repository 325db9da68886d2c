//! Events: stamped with a sequence number and wall time, kept in order, and
//! published to live readers.
//!
//! Publishing never blocks the supervisor: live readers get a bounded
//! broadcast channel, and a reader that falls behind loses the oldest events
//! from its own view and is told how many (the API turns that into a
//! `lagged` notice); the history itself keeps them all.

use super::clock::Clock;
use crate::view::{EventJson, ExitJson};
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::broadcast;
use ward_core::InstanceId;
use ward_core::event::EventKind;

/// How many events a live reader may fall behind before it loses the oldest.
pub const LIVE_BUFFER: usize = 4096;

/// The event history and its live publication.
#[derive(Debug)]
pub struct EventLog {
    history: VecDeque<Arc<EventJson>>,
    cap: usize,
    next_seq: u64,
    live: broadcast::Sender<Arc<EventJson>>,
}

impl EventLog {
    /// An empty log that keeps the newest `cap` events in memory, numbering from `next_seq`.
    pub fn new(cap: usize, next_seq: u64) -> Self {
        let (live, _) = broadcast::channel(LIVE_BUFFER);
        EventLog { history: VecDeque::new(), cap: cap.max(1), next_seq: next_seq.max(1), live }
    }

    /// Stamps, keeps and publishes an event carrying a crash dossier.
    pub fn record_with(
        &mut self,
        clock: &Clock,
        id: &InstanceId,
        kind: &EventKind,
        dossier: Option<crate::view::Dossier>,
    ) -> Arc<EventJson> {
        let ts_ms = clock.wall_ms();
        let mut ev = EventJson {
            seq: self.next_seq,
            ts: format_ts(ts_ms),
            ts_ms,
            kind: kind.name().to_string(),
            service: id.service.to_string(),
            replica: id.replica,
            pid: None,
            exit: None,
            run_ms: None,
            until_ms: None,
            restarts: None,
            error: None,
            dossier: None,
        };
        match kind {
            // `MainPid`: MAINPID (issue #17).
            EventKind::Started { pid } | EventKind::Adopted { pid } | EventKind::MainPid { pid } => {
                ev.pid = Some(*pid)
            }
            EventKind::Exited { status, run_ms } => {
                ev.exit = Some(ExitJson::from(*status));
                ev.run_ms = Some(*run_ms);
            }
            EventKind::Backoff { until } | EventKind::Crashloop { until } => {
                ev.until_ms = Some(clock.wall_of(*until))
            }
            EventKind::Restarted { restarts } => ev.restarts = Some(*restarts),
            EventKind::SpawnFailed { error } => ev.error = Some(error.clone()),
            EventKind::HealthFailed { reason } | EventKind::Lost { reason } => {
                ev.error = Some(reason.clone())
            }
            EventKind::Ready
            | EventKind::Unblocked
            | EventKind::Isolated
            | EventKind::Shutdown
            | EventKind::Completed
            | EventKind::Stopped => {}
            // `EventKind` is non-exhaustive: a newer kind carries only its name.
            _ => {}
        }
        ev.dossier = dossier.map(Box::new);
        self.next_seq += 1;
        let ev = Arc::new(ev);
        if self.history.len() == self.cap {
            self.history.pop_front();
        }
        self.history.push_back(ev.clone());
        // No receiver is not an error: nobody is following right now.
        let _ = self.live.send(ev.clone());
        ev
    }

    /// Fills the history with events of earlier runs (from the store), oldest first.
    pub fn preload(&mut self, history: Vec<EventJson>) {
        for ev in history {
            if self.history.len() == self.cap {
                self.history.pop_front();
            }
            self.next_seq = self.next_seq.max(ev.seq + 1);
            self.history.push_back(Arc::new(ev));
        }
    }

    /// The kept events with `seq >= from`, oldest first.
    pub fn since(&self, from: u64) -> Vec<Arc<EventJson>> {
        let start = self.history.partition_point(|e| e.seq < from);
        self.history.range(start..).cloned().collect()
    }

    /// A live feed of the events recorded from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<EventJson>> {
        self.live.subscribe()
    }
}

/// RFC 3339 with milliseconds, UTC.
pub fn format_ts(ms: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_millis(t).to_string()
}

/// A one-line human rendering of an event (`ward up`'s output, `ward events`).
pub fn describe(ev: &EventJson) -> String {
    let mut s = format!("{} {:>5} {}/{} {}", ev.ts, ev.seq, ev.service, ev.replica, ev.kind);
    if let Some(pid) = ev.pid {
        s.push_str(&format!(" pid={pid}"));
    }
    if let Some(exit) = &ev.exit {
        s.push_str(&format!(" {exit}"));
    }
    if let Some(run) = ev.run_ms {
        s.push_str(&format!(" after {}", humantime::format_duration(std::time::Duration::from_millis(run))));
    }
    if let Some(until) = ev.until_ms {
        let d = until.saturating_sub(ev.ts_ms);
        s.push_str(&format!(" for {}", humantime::format_duration(std::time::Duration::from_millis(d))));
    }
    if let Some(n) = ev.restarts {
        s.push_str(&format!(" #{n}"));
    }
    if let Some(e) = &ev.error {
        s.push_str(&format!(": {e}"));
    }
    s
}
