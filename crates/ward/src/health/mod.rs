//! Health and readiness of live instances, and lifecycle hooks.
//!
//! For each live process of an instance, [`Health`] runs tokio tasks: a
//! liveness probe (`health:`), a readiness probe (`ready:` with a check) and
//! an sd_notify reader (`ready: { notify: true }`). They only report, through
//! one bounded channel, as [`Report`]s that carry the pid they watch; the
//! supervisor turns a report about its instance's current pid into an
//! observation and ignores a stale one. The tasks end with the process:
//! dropping their [`Watch`] aborts them (an exec probe's child is killed on drop).
//!
//! - `probe`: the probe loops and the failures-in-a-row rule.
//! - `http`: the http check (raw HTTP/1.1 GET).
//! - `notify`: the per-instance `NOTIFY_SOCKET` and its messages.
//! - `mailbox`: reading it, by its reader task and, at an exit, by the supervisor.
//! - `exec`: running a command (exec probes, hooks) with a timeout.
//! - `hooks`: `hooks.on_isolate` / `on_crashloop` / `on_shutdown`.

pub mod exec;
pub mod hooks;
pub mod http;
pub mod mailbox;
pub mod notify;
mod port;
pub mod probe;

use mailbox::{Heard, Mailbox};
use notify::{Notice, Place};
use probe::Probe;
use std::collections::HashMap;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use ward_core::InstanceId;
use ward_core::instance::Observation;
use ward_core::spec::{ReadySpec, ServiceSpec};

pub use ward_supervisor::ports::health::{HealthReport as Report, Seen, Verdict};

/// The tasks watching one live process, and what it told us.
#[derive(Debug)]
struct Watch {
    /// The process the watchers were started for (their reports carry it).
    pid: u32,
    /// The instance's main process now: `pid`, or the one it handed over to.
    main: u32,
    probes: Vec<AbortHandle>,
    notify: Option<AbortHandle>,
    mailbox: Option<Arc<Mailbox>>,
    status: Option<String>,
    stopping: bool,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.probes.iter().chain(self.notify.iter()).for_each(AbortHandle::abort);
    }
}

/// The watchers of every live instance.
#[derive(Debug)]
pub struct Health {
    tx: mpsc::Sender<Report>,
    state_dir: PathBuf,
    spec_dir: PathBuf,
    /// Notify sockets bound for a spawn under way.
    pending: HashMap<InstanceId, UnixDatagram>,
    watched: HashMap<InstanceId, Watch>,
    /// The last pid each instance had (for hooks after it is gone).
    last_pids: HashMap<InstanceId, u32>,
    /// Some process sent a `STATUS=` text (until then, `status_text` of
    /// 10,000 instances looks nothing up).
    texts: bool,
}

impl Health {
    /// No watcher yet; notify sockets go under `state_dir`, probes and hooks
    /// run in `spec_dir`; reports go to `tx` (the supervisor's health input).
    pub fn new(state_dir: PathBuf, spec_dir: PathBuf, tx: mpsc::Sender<Report>) -> Self {
        Health {
            tx,
            state_dir,
            spec_dir,
            pending: HashMap::new(),
            watched: HashMap::new(),
            last_pids: HashMap::new(),
            texts: false,
        }
    }

    /// The spec file's folder (where hooks and exec probes run).
    pub fn spec_dir(&self) -> &std::path::Path {
        &self.spec_dir
    }

    /// Variables to add to the launch of `id`: `NOTIFY_SOCKET` (and
    /// `WATCHDOG_USEC`) when its service uses sd_notify. Binds its socket now,
    /// so that a service that notifies at once is heard.
    pub fn launch_env(&mut self, id: &InstanceId, spec: &ServiceSpec) -> Vec<(String, String)> {
        let Some(ReadySpec::Notify { watchdog }) = &spec.ready else { return Vec::new() };
        match notify::bind(&self.state_dir, id, place(spec)) {
            Ok((sock, name)) => {
                self.pending.insert(id.clone(), sock);
                let mut env = vec![("NOTIFY_SOCKET".to_string(), name)];
                if let Some(w) = watchdog {
                    env.push(("WATCHDOG_USEC".to_string(), w.as_micros().to_string()));
                }
                env
            }
            Err(e) => {
                tracing::error!("{id}: cannot create its notify socket: {e}; it will never be ready");
                Vec::new()
            }
        }
    }

    /// Process `pid` of `id` runs: start its probes and its notify reader.
    pub fn started(&mut self, id: &InstanceId, pid: u32, spec: &ServiceSpec) {
        let mut watch = Watch {
            pid,
            main: pid,
            probes: Vec::new(),
            notify: None,
            mailbox: None,
            status: None,
            stopping: false,
        };
        let vars = ward_supervisor::launch::variables(spec, id);
        if let Some(h) = &spec.health {
            let probe = Probe::new(h, &vars, self.spec_dir.clone());
            let report = self.reporter(id, pid);
            watch
                .probes
                .push(spawn(async move { report.report(Seen::Failed(probe.until_failed().await)).await }));
        }
        match &spec.ready {
            Some(ReadySpec::Probe(r)) => {
                let probe = Probe::new(r, &vars, self.spec_dir.clone());
                let report = self.reporter(id, pid);
                watch.probes.push(spawn(async move {
                    probe.until_passed().await;
                    report.report(Seen::Ready).await
                }));
            }
            Some(ReadySpec::Notify { watchdog }) => {
                if let Some((task, mailbox)) = self.read_notify(id, pid, *watchdog, place(spec)) {
                    watch.notify = Some(task);
                    watch.mailbox = Some(mailbox);
                }
            }
            None => {}
        }
        self.watched.insert(id.clone(), watch);
        self.last_pids.insert(id.clone(), pid);
    }

    /// True while a process of `id` is watched.
    pub fn is_watched(&self, id: &InstanceId) -> bool {
        self.watched.contains_key(id)
    }

    /// The last pid `id` had, alive or not.
    pub fn last_pid(&self, id: &InstanceId) -> Option<u32> {
        self.last_pids.get(id).copied()
    }

    fn read_notify(
        &mut self,
        id: &InstanceId,
        pid: u32,
        watchdog: Option<std::time::Duration>,
        place: Place,
    ) -> Option<(AbortHandle, Arc<Mailbox>)> {
        // An adopted process (after a restart of ward) still names the same path.
        let sock = match self.pending.remove(id) {
            Some(s) => s,
            None => notify::bind(&self.state_dir, id, place).map(|(s, _)| s).ok()?,
        };
        let mailbox = match tokio::net::UnixDatagram::from_std(sock) {
            Ok(s) => Arc::new(Mailbox::new(s)),
            Err(e) => {
                tracing::error!("{id}: cannot read its notify socket: {e}");
                return None;
            }
        };
        let report = self.reporter(id, pid);
        let task = spawn(mailbox.clone().serve(watchdog, async move |heard| {
            let seen = match heard {
                Heard::Mail => Seen::Mail,
                Heard::WatchdogTimeout(w) => Seen::Failed(format!(
                    "watchdog timeout: no WATCHDOG=1 for {}",
                    humantime::format_duration(w)
                )),
            };
            report.report(seen).await
        }));
        Some((task, mailbox))
    }

    fn reporter(&self, id: &InstanceId, pid: u32) -> Reporter {
        Reporter { tx: self.tx.clone(), id: id.clone(), pid }
    }

    /// The instance is out of rotation (isolated): its probes stop; its
    /// notify reader goes on while the process lives (to release barriers).
    pub fn quiet(&mut self, id: &InstanceId) {
        if let Some(w) = self.watched.get_mut(id) {
            w.probes.drain(..).for_each(|p| p.abort());
        }
    }

    /// The instance's process is gone (or the instance is): stop watching it.
    pub fn gone(&mut self, id: &InstanceId) {
        self.watched.remove(id);
        self.pending.remove(id);
    }

    /// The instance is removed from the deployment: forget it.
    pub fn removed(&mut self, id: &InstanceId) {
        self.gone(id);
        self.last_pids.remove(id);
    }

    /// What a report leads to, if it is about `current` (the instance's
    /// main process now); keeps what is only for display.
    pub fn accept(&mut self, report: Report, current: Option<u32>) -> Vec<Verdict> {
        let Some(watch) = self.watched.get_mut(&report.id).filter(|w| w.pid == report.pid) else {
            return Vec::new();
        };
        if current != Some(watch.main) {
            return Vec::new(); // stale: about a process that is gone
        }
        match report.seen {
            Seen::Ready => vec![Verdict::Observe(Observation::Ready)],
            Seen::Failed(reason) => vec![Verdict::Observe(Observation::HealthFailed { reason })],
            Seen::Mail => {
                let notices = watch.mailbox.as_ref().map(|m| m.take()).unwrap_or_default();
                let verdicts = watch.read(notices);
                self.texts |= watch.status.is_some();
                verdicts
            }
            // `Seen` is non-exhaustive: a newer kind is only for display.
            _ => Vec::new(),
        }
    }

    /// Before the exit of `pid`, the main process of `id`, is taken as the
    /// instance's: everything it said until then (it may have handed over).
    pub fn drain(&mut self, id: &InstanceId, pid: u32) -> Vec<Verdict> {
        let Some(watch) = self.watched.get_mut(id).filter(|w| w.main == pid) else { return Vec::new() };
        let notices = watch.mailbox.as_ref().map(|m| m.drain()).unwrap_or_default();
        let verdicts = watch.read(notices);
        self.texts |= watch.status.is_some();
        verdicts
    }

    /// True while the process of `id` has a notify socket that is read.
    pub fn listens(&self, id: &InstanceId) -> bool {
        self.watched.get(id).is_some_and(|w| w.mailbox.is_some())
    }

    /// The main process of `id` is now `pid` (it handed over): its watchers go on.
    pub fn moved(&mut self, id: &InstanceId, pid: u32) {
        if let Some(w) = self.watched.get_mut(id) {
            w.main = pid;
        }
        self.last_pids.insert(id.clone(), pid);
    }

    /// The last `STATUS=` text of the instance's live process.
    pub fn status_text(&self, id: &InstanceId) -> Option<String> {
        if !self.texts {
            return None;
        }
        self.watched.get(id).and_then(|w| w.status.clone())
    }

    /// True when the instance's live process said `STOPPING=1`.
    pub fn stopping(&self, id: &InstanceId) -> bool {
        self.watched.get(id).is_some_and(|w| w.stopping)
    }
}

impl Watch {
    /// What the notices of its process lead to, in order.
    fn read(&mut self, notices: Vec<Notice>) -> Vec<Verdict> {
        let mut out = Vec::new();
        for notice in notices {
            match notice {
                Notice::Ready => out.push(Verdict::Observe(Observation::Ready)),
                Notice::WatchdogTrigger => out.push(Verdict::Observe(Observation::HealthFailed {
                    reason: "watchdog triggered by the service".into(),
                })),
                Notice::MainPid(pid) => out.push(Verdict::MainPid(pid)),
                Notice::Status(text) => self.status = Some(text),
                Notice::Stopping => self.stopping = true,
                Notice::Watchdog | Notice::Other => {}
                // `Notice` is non-exhaustive: a newer notice is ignored, as `Other` is.
                _ => {}
            }
        }
        out
    }
}

/// Sends reports about one process of one instance.
struct Reporter {
    tx: mpsc::Sender<Report>,
    id: InstanceId,
    pid: u32,
}

impl Reporter {
    async fn report(&self, seen: Seen) {
        // The supervisor is gone only when ward is exiting.
        let _ = self.tx.send(Report { id: self.id.clone(), pid: self.pid, seen }).await;
    }
}

fn spawn(fut: impl Future<Output = ()> + Send + 'static) -> AbortHandle {
    tokio::spawn(fut).abort_handle()
}

#[cfg(test)]
mod tests;

/// Where the notify sockets of the instances of `spec` are made: in a
/// container, for the user it names, or ward's.
fn place(spec: &ServiceSpec) -> Place {
    if spec.image.is_some() {
        return Place::Container;
    }
    match spec.user.as_deref().and_then(crate::runtime::process::user_ids) {
        Some((uid, gid)) => Place::User(uid, gid),
        None => Place::Ward,
    }
}
