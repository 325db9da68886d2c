//! The API's requests to the supervisor, each with a oneshot reply, and how
//! the supervisor answers them.

use super::Supervisor;
use crate::ports::runtime::Runtime;
use crate::view::{EventJson, GateJson, InstanceStatus, StatusReply};
use std::sync::Arc;
use tokio::sync::{broadcast, oneshot};
use ward_core::MonoTime;
use ward_core::Target;
use ward_core::deployment::{CommandError, Phase};
use ward_core::instance::{Command, Instance};
use ward_core::spec::ServiceSpec;

/// Why a request failed; the API maps each kind to an HTTP status.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// 404: no such service or instance.
    #[error("{0}")]
    NotFound(String),
    /// 409: the state does not allow it.
    #[error("{0}")]
    Conflict(String),
    /// 422: the input is invalid (a bad target, an invalid spec).
    #[error("{0}")]
    Invalid(String),
}

/// A reply channel.
pub type Reply<T> = oneshot::Sender<T>;

/// The answer to [`Request::Events`]: the kept history, and a live feed when asked.
pub type EventsAnswer = (Vec<Arc<EventJson>>, Option<broadcast::Receiver<Arc<EventJson>>>);

/// What the API (or a [`Handle`](crate::Handle)) asks of the supervisor.
#[non_exhaustive]
pub enum Request {
    /// The in-rotation instances of a service.
    Endpoints {
        /// The service.
        service: String,
        /// Answer.
        reply: Reply<Result<crate::view::EndpointsReply, RequestError>>,
    },
    /// The status table, optionally of one service.
    Status {
        /// Only this service.
        service: Option<String>,
        /// Also each instance's use of resources, read through
        /// [`Runtime::usage`] **on the supervisor's thread**, where every
        /// other input waits meanwhile: one read per instance in a cgroup
        /// (fine for tens; at thousands, ask without and read usage
        /// elsewhere for the rows whose [`InstanceStatus`]`::cgroup` is true,
        /// as ward's API does).
        usage: bool,
        /// Answer.
        reply: Reply<Result<StatusReply, RequestError>>,
    },
    /// start / stop / restart / unblock a target.
    Command {
        /// Which command.
        command: Command,
        /// `SERVICE` or `SERVICE/N`.
        target: String,
        /// Answer: what happened, in words.
        reply: Reply<Result<String, RequestError>>,
    },
    /// Send a signal to the live processes of a target (`ward signal`).
    Signal {
        /// `SERVICE` or `SERVICE/N`.
        target: String,
        /// The signal number.
        signal: i32,
        /// Answer: which processes got it.
        reply: Reply<Result<String, RequestError>>,
    },
    /// Supervise a service: add it to the running deployment, or replace
    /// the service of the same name (a changed launch restarts its instances).
    Supervise {
        /// The service, with its policies.
        service: Box<ServiceSpec>,
        /// Answer: `NAME: supervised`, `updated` or `unchanged`; or every problem of the service.
        reply: Reply<Result<String, RequestError>>,
    },
    /// Stop supervising a service: its instances stop and leave the deployment.
    Unsupervise {
        /// The service's name.
        service: String,
        /// Answer: what happened, in words.
        reply: Reply<Result<String, RequestError>>,
    },
    /// Re-read the spec file and apply it.
    Reload {
        /// Answer: a summary, or every error of the spec.
        reply: Reply<Result<String, RequestError>>,
    },
    /// Explain an instance's state.
    Why {
        /// `SERVICE` or `SERVICE/N`.
        target: String,
        /// Answer.
        reply: Reply<Result<crate::view::WhyReply, RequestError>>,
    },
    /// Whether a target (or everything) reached a condition.
    Wait {
        /// `SERVICE` or `SERVICE/N`; every service when `None`.
        target: Option<String>,
        /// The condition.
        what: ward_core::deployment::WaitFor,
        /// Answer.
        reply: Reply<Result<crate::view::WaitReply, RequestError>>,
    },
    /// Stop everything, then exit; `why` is logged (`SIGTERM`), no answer.
    Stop {
        /// Why.
        why: String,
    },
    /// Stop everything, then exit.
    Down {
        /// Answer once the stop has begun.
        reply: Reply<()>,
    },
    /// The events from `since` on, and a live feed of what follows.
    Events {
        /// The first sequence number wanted.
        since: u64,
        /// Answer: history, and the feed when `follow`.
        reply: Reply<EventsAnswer>,
        /// Also return a live feed.
        follow: bool,
    },
}

impl<R: Runtime> Supervisor<R> {
    /// Answers a request.
    pub fn on_request(&mut self, req: Request) {
        // A caller that went away does not care about its answer.
        match req {
            Request::Endpoints { service, reply } => {
                let _ = reply.send(self.endpoints(&service));
            }
            Request::Status { service, usage, reply } => {
                let _ = reply.send(self.status(service, usage));
            }
            Request::Command { command, target, reply } => {
                let _ = reply.send(self.command(command, &target));
            }
            Request::Signal { target, signal, reply } => {
                let _ = reply.send(self.operator_signal(&target, signal));
            }
            Request::Why { target, reply } => {
                let _ = reply.send(self.why(&target));
            }
            Request::Wait { target, what, reply } => {
                let _ = reply.send(self.wait_verdict(target.as_deref(), what));
            }
            Request::Supervise { service, reply } => {
                let _ = reply.send(self.supervise(*service));
            }
            Request::Unsupervise { service, reply } => {
                let _ = reply.send(self.unsupervise(&service));
            }
            Request::Reload { reply } => {
                let _ = reply.send(self.reload());
            }
            Request::Stop { why } => self.begin_down(&why),
            Request::Down { reply } => {
                self.begin_down("ward down");
                let _ = reply.send(());
            }
            Request::Events { since, reply, follow } => {
                let feed = follow.then(|| self.events.subscribe());
                let _ = reply.send((self.events.since(since), feed));
            }
        }
    }

    fn status(&self, service: Option<String>, usage: bool) -> Result<StatusReply, RequestError> {
        if let Some(s) = &service {
            if !self.deployment.spec().services.keys().any(|k| k.as_str() == s) {
                return Err(RequestError::NotFound(format!("no service named {s}")));
            }
        }
        let now = self.clock.now();
        let instances = self
            .deployment
            .instances()
            .filter(|i| service.as_deref().is_none_or(|s| i.id().service.as_str() == s))
            .map(|i| self.instance_status(i, now, usage))
            .collect();
        Ok(StatusReply { instances, isolation: self.runtime.isolation() })
    }

    fn instance_status(&self, i: &Instance, now: MonoTime, usage: bool) -> InstanceStatus {
        let gate = i.gate();
        let cgroup = i.pid().is_some() && self.in_cgroup(i);
        InstanceStatus {
            service: i.id().service.as_str().to_owned(),
            replica: i.id().replica,
            state: i.state().word().to_owned(),
            pid: i.pid(),
            restarts: i.restarts(),
            uptime_ms: i.pid().and(i.started_at()).map(|t| now.saturating_since(t).as_millis() as u64),
            last_exit: i.last_exit().map(Into::into),
            status_text: self.health.status_text(i.id()),
            usage: (usage && cgroup).then(|| self.runtime.usage(i.id())).flatten(),
            cgroup,
            gate: GateJson {
                state: gate.state().word().to_owned(),
                until_ms: gate.state().until().map(|t| self.clock.wall_of(t)),
                crashes: gate.crashes_in_window(now),
                threshold: gate.threshold(),
            },
        }
    }

    /// Whether `i`'s service is placed in cgroups: only those have folders,
    /// so a status of 10,000 other instances asks for none (each miss is a
    /// path walk in cgroupfs).
    fn in_cgroup(&self, i: &Instance) -> bool {
        self.deployment.service(&i.id().service).is_some_and(crate::launch::in_cgroup)
    }

    fn command(&mut self, command: Command, target: &str) -> Result<String, RequestError> {
        let t: Target = target.parse().map_err(|e| RequestError::Invalid(format!("{e}")))?;
        let actions = self.deployment.command(&t, command, self.clock.now()).map_err(|e| match e {
            CommandError::UnknownService(_) | CommandError::UnknownInstance(_) => {
                RequestError::NotFound(e.to_string())
            }
            CommandError::Rejected(_) | CommandError::GoingDown => RequestError::Conflict(e.to_string()),
            // `CommandError` is non-exhaustive: a newer refusal is a conflict too.
            _ => RequestError::Conflict(e.to_string()),
        })?;
        self.touch_all();
        self.execute(actions);
        if command == Command::Unblock {
            let uid = self.settings.operator_uid;
            let ids: Vec<_> = self
                .deployment
                .instances()
                .filter(|i| i.id().service == t.service && t.replica.is_none_or(|r| r == i.id().replica))
                .map(|i| i.id().clone())
                .collect();
            for id in ids {
                self.unblocks.insert(id, (self.clock.wall_ms(), uid));
            }
        }
        let verb = match command {
            Command::Start | Command::StartWhenReady { .. } => "started",
            Command::Stop => "stopping",
            Command::Restart => "restarting",
            Command::Unblock => "unblocked",
            Command::Isolate => "isolated",
            Command::Shutdown => "shutting down",
            Command::Remove => "removing",
        };
        Ok(format!("{t}: {verb}"))
    }

    /// Re-reads the spec file; an invalid spec changes nothing. A valid one
    /// becomes the last good spec in the store, committed with what it changes.
    pub(super) fn reload(&mut self) -> Result<String, RequestError> {
        let path = self.settings.spec_label.clone();
        let Some(reader) = self.settings.reader.as_mut() else {
            return Err(RequestError::Conflict("this supervisor cannot reload its spec".into()));
        };
        let (text, spec) = reader().map_err(RequestError::Invalid)?;
        // While going down the deployment keeps its spec (see `Deployment::reload`).
        if matches!(self.deployment.phase(), Phase::Up) {
            if let Err(e) = self.store.set_last_good_spec(&path, &text) {
                tracing::error!("store: cannot keep the reloaded spec as the last good one: {e}");
            }
        }
        let n = spec.services.len();
        self.output.set_spec(spec.logs.clone());
        let actions = self.deployment.reload(spec, self.clock.now());
        self.touch_all();
        self.execute(actions);
        Ok(format!("reloaded {path}: {n} services"))
    }
}

#[cfg(test)]
mod tests;
