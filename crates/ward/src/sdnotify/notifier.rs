//! The brain's task that keeps systemd informed: it follows the event feed,
//! reads the status table after changes (at most every [`THROTTLE`], so a
//! start of thousands of instances costs a few reads, not thousands), and
//! sends what changed. Each watchdog tick asks the supervisor for its status
//! first, so `WATCHDOG=1` means the supervisor's loop answers.

use super::client::Notify;
use super::summary::{Summary, summarize};
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot};
use ward_supervisor::requests::Request;

/// The shortest time between two reads of the status table.
pub const THROTTLE: Duration = Duration::from_millis(100);

/// What the task needs.
pub struct Notifier {
    /// The sender to systemd's socket.
    pub notify: Notify,
    /// systemd's watchdog period, if it set one.
    pub watchdog: Option<Duration>,
    /// Services that declare `ready:`.
    pub declares_ready: BTreeSet<String>,
    /// The supervisor's request queue.
    pub requests: mpsc::Sender<Request>,
}

impl Notifier {
    /// Runs until the supervisor is gone; `down` fires when it begins to stop everything.
    pub async fn run(self, down: oneshot::Receiver<()>) {
        let Some(mut feed) = self.follow().await else { return };
        let mut down = std::pin::pin!(down);
        let mut watchdog =
            self.watchdog.map(|w| tokio::time::interval((w / 2).max(Duration::from_millis(10))));
        let throttle = tokio::time::sleep(Duration::ZERO);
        let mut throttle = std::pin::pin!(throttle);
        let (mut pending, mut cooling) = (true, false);
        let (mut sent_ready, mut stopping, mut last) = (false, false, String::new());
        loop {
            if pending && !cooling {
                let Some(summary) = self.summary().await else { break };
                self.publish(&summary, &mut sent_ready, stopping, &mut last);
                (pending, cooling) = (false, true);
                throttle.set(tokio::time::sleep(THROTTLE));
            }
            tokio::select! {
                event = feed.recv() => match event {
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => pending = true,
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                () = &mut throttle, if cooling => cooling = false,
                _ = tick(&mut watchdog) => {
                    if self.summary().await.is_none() {
                        break;
                    }
                    self.send(&[("WATCHDOG", "1")]);
                }
                Ok(()) = &mut down, if !stopping => {
                    stopping = true;
                    self.send(&[("STOPPING", "1"), ("STATUS", "stopping every service")]);
                }
            }
        }
        if !stopping {
            self.send(&[("STOPPING", "1"), ("STATUS", "stopped")]);
        }
    }

    fn publish(&self, summary: &Summary, sent_ready: &mut bool, stopping: bool, last: &mut String) {
        let line = if stopping { format!("stopping: {}", summary.line) } else { summary.line.clone() };
        if summary.ready && !*sent_ready && !stopping {
            *sent_ready = true;
            self.send(&[("READY", "1"), ("STATUS", &line)]);
        } else if line != *last {
            self.send(&[("STATUS", &line)]);
        }
        *last = line;
    }

    fn send(&self, lines: &[(&str, &str)]) {
        if let Err(e) = self.notify.send(lines) {
            tracing::warn!("sd_notify: cannot send to systemd's socket: {e}");
        }
    }

    /// The live event feed, or `None` when the supervisor is gone.
    async fn follow(&self) -> Option<broadcast::Receiver<std::sync::Arc<crate::api::types::EventJson>>> {
        let (reply, answer) = oneshot::channel();
        self.requests.send(Request::Events { since: u64::MAX, reply, follow: true }).await.ok()?;
        answer.await.ok()?.1
    }

    /// The summary of the status table, or `None` when the supervisor is gone.
    async fn summary(&self) -> Option<Summary> {
        let (reply, answer) = oneshot::channel();
        self.requests.send(Request::Status { service: None, usage: false, reply }).await.ok()?;
        let status = answer.await.ok()?.ok()?;
        let rows = status.instances.iter().map(|i| (i.service.as_str(), i.state.as_str()));
        Some(summarize(rows, &self.declares_ready))
    }
}

/// The next watchdog tick, or never when there is no watchdog.
async fn tick(watchdog: &mut Option<tokio::time::Interval>) {
    match watchdog {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}
