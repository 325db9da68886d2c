//! The supervisor's loop: waits for the next input (an exit or spawn answer
//! from the runtime, an adopted process's end, a request, a health report, a
//! timer) and hands it to the supervisor, until everything is down.
//!
//! The same steps are public ([`Supervisor::start`], [`Supervisor::on_request`],
//! [`Supervisor::on_runtime_report`], [`Supervisor::fire_timers`]…), so that
//! a simulation can drive them one by one under a clock of its own.

use super::{Inputs, Supervisor};
use crate::ports::runtime::Runtime;

/// At most this many reports of the runtime are decided as one batch (a
/// bigger storm takes several, with requests and timers between them).
const BATCH: usize = 1024;

impl<R: Runtime> Supervisor<R> {
    /// Runs until everything is down; returns the exit code `ward up` should
    /// end with (1 when the runtime's report stream ended: the services live
    /// on, for a next supervisor to adopt).
    ///
    /// Run it as a task of its own, and talk to it through a
    /// [`Handle`](crate::Handle) on the same [`Inputs`]:
    ///
    /// ```
    /// use ward_core::deployment::Deployment;
    /// use ward_core::spec::{ServiceSpec, Spec};
    /// use ward_supervisor::ports::runtime::fake::FakeRuntime;
    /// use ward_supervisor::{EventItem, Inputs, MemoryStore, Ports, Settings, Supervisor};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (inputs, feeds) = Inputs::channels();
    /// let (runtime, _world) = FakeRuntime::new(feeds.exits.clone());
    /// let supervisor =
    ///     Supervisor::new(Deployment::new(Spec::new([])), runtime, Ports::new(MemoryStore::new()), Settings::new(".", "."));
    /// let running = tokio::spawn(supervisor.run(inputs));
    ///
    /// let handle = feeds.handle();
    /// let mut events = handle.events().await?;
    /// handle.supervise(ServiceSpec::new("db".parse()?, vec!["./db".into()])).await?;
    /// let Some(EventItem::Event(started)) = events.next().await else { panic!() };
    /// assert_eq!((started.kind.as_str(), started.service.as_str()), ("started", "db"));
    ///
    /// handle.down().await?;
    /// assert_eq!(running.await?, 0); // everything stopped
    /// # Ok(())
    /// # }
    /// ```
    pub async fn run(mut self, mut inputs: Inputs) -> i32 {
        self.start();
        // The timer exists only while there is a deadline, and one that moves
        // later is made anew: tokio keeps a timer whose deadline was pushed
        // back in its wheel at the old one (it wakes then and finds it early),
        // so resetting it would wake an idle ward for nothing.
        let mut sleep: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
        let mut armed: Option<ward_core::MonoTime> = None;
        while self.exit_code.is_none() {
            let deadline = self.next_deadline();
            if deadline != armed {
                match (deadline, sleep.as_mut()) {
                    (Some(at), Some(s)) if armed.is_some_and(|old| at < old) => {
                        s.as_mut().reset(self.clock.instant(at));
                    }
                    (Some(at), _) => sleep = Some(Box::pin(tokio::time::sleep_until(self.clock.instant(at)))),
                    (None, _) => sleep = None,
                }
                armed = deadline;
            }
            self.observer.idle();
            tokio::select! {
                report = inputs.exits.recv() => match report {
                    Some(report) => {
                        // What came together is decided as one batch.
                        let mut batch = vec![report];
                        while batch.len() < BATCH {
                            let Ok(report) = inputs.exits.try_recv() else { break };
                            batch.push(report);
                        }
                        self.on_runtime_reports(batch);
                    }
                    None => {
                        // The keeper is gone (killed with its tree's top): the
                        // services live on, and the next `ward up` adopts them.
                        tracing::error!("the runtime is gone; exiting and leaving the services running");
                        self.flush();
                        return 1;
                    }
                },
                Some(exit) = inputs.adopted.recv() => self.on_adopted_exit(exit),
                Some(req) = inputs.requests.recv() => self.on_request(req),
                Some(report) = inputs.health.recv() => self.on_health(report),
                () = until(&mut sleep), if sleep.is_some() => {
                    armed = None; // fired: set again whatever the next deadline is
                    sleep = None;
                    self.fire_timers();
                }
            }
        }
        self.finish()
    }

    /// When the supervisor must next call [`Supervisor::fire_timers`].
    pub fn next_deadline(&self) -> Option<ward_core::MonoTime> {
        [self.timers.next_deadline(), self.budget_wake, self.spawns.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// The exit code, once everything is down.
    pub fn exit_code(&self) -> Option<i32> {
        self.exit_code
    }

    /// The deployment as the supervisor holds it (read only).
    pub fn deployment(&self) -> &ward_core::deployment::Deployment {
        &self.deployment
    }

    /// The clock the supervisor reads.
    pub fn clock(&self) -> &crate::clock::Clock {
        &self.clock
    }

    /// Everything is down: marks the store clean (the next start begins
    /// afresh), tells the runtime, and returns the exit code.
    pub fn finish(&mut self) -> i32 {
        if let Err(e) = self.store.set_meta("clean", "yes") {
            tracing::error!("store: {e}");
        }
        self.flush();
        let code = self.exit_code.unwrap_or(0);
        self.runtime.finish(code);
        code
    }
}

/// Waits for `sleep`, or forever when there is none.
async fn until(sleep: &mut Option<std::pin::Pin<Box<tokio::time::Sleep>>>) {
    match sleep {
        Some(s) => s.as_mut().await,
        None => std::future::pending().await,
    }
}
