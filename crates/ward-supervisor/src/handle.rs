//! The handle a program keeps to a running supervisor: supervise a service,
//! stop supervising it, start/stop/restart/unblock/isolate a target, read
//! its status and why it is in its state, and follow its events.
//!
//! A [`Handle`] is a clone of the supervisor's request sender; each method
//! sends one [`Request`] and awaits its oneshot reply, so the caller waits
//! and the supervisor never does. Clone it freely (tasks, callbacks).

use crate::requests::{Reply, Request, RequestError};
use crate::view::{EndpointsReply, EventJson, StatusReply, WhyReply};
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, oneshot};
use ward_core::instance::Command;
use ward_core::spec::ServiceSpec;

/// Why a handle's call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandleError {
    /// The supervisor is not running (it ended, or was never started).
    #[error("the supervisor is not running")]
    Stopped,
    /// The supervisor refused (no such target, a state that does not allow
    /// it, an invalid service).
    #[error(transparent)]
    Refused(#[from] RequestError),
}

/// A program's handle to a running supervisor (see the module docs).
///
/// ```
/// use ward_core::deployment::Deployment;
/// use ward_core::spec::{ServiceSpec, Spec};
/// use ward_supervisor::ports::runtime::fake::FakeRuntime;
/// use ward_supervisor::{Inputs, MemoryStore, Ports, Settings, Supervisor};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (inputs, feeds) = Inputs::channels();
/// let (runtime, _control) = FakeRuntime::new(feeds.exits.clone());
/// let deployment = Deployment::new(Spec::new([]));
/// let supervisor = Supervisor::new(deployment, runtime, Ports::new(MemoryStore::new()), Settings::new(".", "."));
/// let running = tokio::spawn(supervisor.run(inputs));
///
/// let handle = feeds.handle();
/// let web = ServiceSpec::new("web".parse()?, vec!["./web".into()]);
/// assert_eq!(handle.supervise(web).await?, "web: supervised");
/// assert_eq!(handle.status().await?.instances[0].state, "running");
/// handle.stop("web/0").await?;
/// assert!(handle.why("nope").await.is_err()); // no such service
///
/// handle.down().await?;
/// assert_eq!(running.await?, 0);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Handle {
    requests: mpsc::Sender<Request>,
}

impl Handle {
    /// A handle that sends to the supervisor reading `requests` (the
    /// sender of [`Inputs::channels`](crate::Inputs::channels); see also
    /// [`Feeds::handle`](crate::Feeds::handle)).
    pub fn new(requests: mpsc::Sender<Request>) -> Self {
        Handle { requests }
    }

    /// Sends the request `make` builds around a reply channel; awaits the answer.
    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Request) -> Result<T, HandleError> {
        let (reply, answer) = oneshot::channel();
        self.requests.send(make(reply)).await.map_err(|_| HandleError::Stopped)?;
        answer.await.map_err(|_| HandleError::Stopped)
    }

    async fn command(&self, command: Command, target: &str) -> Result<String, HandleError> {
        let target = target.to_string();
        Ok(self.ask(|reply| Request::Command { command, target, reply }).await??)
    }

    /// Supervises `service` with its policies: adds it to the running
    /// deployment (its instances start after their dependencies), or
    /// replaces the service of the same name (a changed launch restarts
    /// them). Answers `NAME: supervised`, `updated` or `unchanged`; an
    /// invalid service is refused with every problem it has.
    pub async fn supervise(&self, service: ServiceSpec) -> Result<String, HandleError> {
        let service = Box::new(service);
        Ok(self.ask(|reply| Request::Supervise { service, reply }).await??)
    }

    /// Stops supervising service `name`: its instances stop (by its stop
    /// signal, then SIGKILL after its timeout) and leave the deployment.
    /// Refused while another service depends on it.
    pub async fn unsupervise(&self, name: &str) -> Result<String, HandleError> {
        let service = name.to_string();
        Ok(self.ask(|reply| Request::Unsupervise { service, reply }).await??)
    }

    /// Starts `target` (`SERVICE` or `SERVICE/N`) if it is down; releases its gate.
    pub async fn start(&self, target: &str) -> Result<String, HandleError> {
        self.command(Command::Start, target).await
    }

    /// Stops `target` and keeps it down.
    pub async fn stop(&self, target: &str) -> Result<String, HandleError> {
        self.command(Command::Stop, target).await
    }

    /// Stops `target`, then starts it again at once.
    pub async fn restart(&self, target: &str) -> Result<String, HandleError> {
        self.command(Command::Restart, target).await
    }

    /// Releases the gate of `target` (out of backoff or crash-loop) and starts it.
    pub async fn unblock(&self, target: &str) -> Result<String, HandleError> {
        self.command(Command::Unblock, target).await
    }

    /// Takes `target` out of rotation and keeps it as it is, for debugging
    /// (the isolate hook fires).
    pub async fn isolate(&self, target: &str) -> Result<String, HandleError> {
        self.command(Command::Isolate, target).await
    }

    /// Sends `signal` to the live processes of `target`; says which got it.
    pub async fn signal(&self, target: &str, signal: i32) -> Result<String, HandleError> {
        let target = target.to_string();
        Ok(self.ask(|reply| Request::Signal { target, signal, reply }).await??)
    }

    /// Every instance: state, pid, restarts, last exit, gate (no usage).
    pub async fn status(&self) -> Result<StatusReply, HandleError> {
        Ok(self.ask(|reply| Request::Status { service: None, usage: false, reply }).await??)
    }

    /// The instances of one service (no usage).
    pub async fn status_of(&self, service: &str) -> Result<StatusReply, HandleError> {
        let service = Some(service.to_string());
        Ok(self.ask(|reply| Request::Status { service, usage: false, reply }).await??)
    }

    /// The instances of `service` (every service when `None`) with what
    /// each one's cgroup counts (CPU time, memory, OOM kills), as the
    /// runtime's [`usage`](crate::Runtime::usage) reads it. The supervisor
    /// reads it **on its own thread**, one read per instance, and every
    /// exit waits meanwhile: fine for tens of instances; at thousands, take
    /// [`status`](Self::status) and read the usage of the rows marked
    /// `cgroup` elsewhere (ward's API does so on a blocking thread).
    pub async fn status_with_usage(&self, service: Option<&str>) -> Result<StatusReply, HandleError> {
        let service = service.map(str::to_string);
        Ok(self.ask(|reply| Request::Status { service, usage: true, reply }).await??)
    }

    /// Why each instance of `target` is in its state: the rule (the last
    /// decision and its reason, as ward-core recorded it), the crashes in
    /// the window, the delays, the time left.
    pub async fn why(&self, target: &str) -> Result<WhyReply, HandleError> {
        let target = target.to_string();
        Ok(self.ask(|reply| Request::Why { target, reply }).await??)
    }

    /// The in-rotation instances of `service` and their ports.
    pub async fn endpoints(&self, service: &str) -> Result<EndpointsReply, HandleError> {
        let service = service.to_string();
        Ok(self.ask(|reply| Request::Endpoints { service, reply }).await??)
    }

    /// The events recorded from now on (see [`EventStream`]).
    pub async fn events(&self) -> Result<EventStream, HandleError> {
        self.events_since(u64::MAX).await
    }

    /// The kept events numbered `seq` and later, then those recorded from
    /// now on, with no gap between them (1: the whole kept history).
    pub async fn events_since(&self, seq: u64) -> Result<EventStream, HandleError> {
        let (history, live) = self.ask(|reply| Request::Events { since: seq, reply, follow: true }).await?;
        let live = live.ok_or(HandleError::Stopped)?;
        Ok(EventStream { backlog: history.into(), live })
    }

    /// Begins stopping everything; [`Supervisor::run`](crate::Supervisor::run)
    /// returns once all is down.
    pub async fn down(&self) -> Result<(), HandleError> {
        self.ask(|reply| Request::Down { reply }).await
    }
}

/// What an [`EventStream`] yields.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum EventItem {
    /// An event, in order.
    Event(Arc<EventJson>),
    /// This reader fell behind and lost that many events (the oldest it had
    /// not read); the stream goes on with the oldest still kept. The
    /// supervisor never waits for a reader.
    Lagged(u64),
}

/// The supervisor's events as they are recorded. Publishing never blocks
/// the supervisor: each reader has a bounded buffer
/// ([`LIVE_BUFFER`](crate::events::LIVE_BUFFER) events), and one that falls
/// further behind is told how many it missed ([`EventItem::Lagged`]).
#[derive(Debug)]
pub struct EventStream {
    backlog: VecDeque<Arc<EventJson>>,
    live: broadcast::Receiver<Arc<EventJson>>,
}

impl EventStream {
    /// The next item; `None` once the supervisor is gone and every event was read.
    pub async fn next(&mut self) -> Option<EventItem> {
        if let Some(ev) = self.backlog.pop_front() {
            return Some(EventItem::Event(ev));
        }
        match self.live.recv().await {
            Ok(ev) => Some(EventItem::Event(ev)),
            Err(broadcast::error::RecvError::Lagged(n)) => Some(EventItem::Lagged(n)),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

impl crate::Feeds {
    /// A [`Handle`] on the supervisor these feeds feed.
    pub fn handle(&self) -> Handle {
        Handle::new(self.requests.clone())
    }
}

#[cfg(test)]
mod tests;
