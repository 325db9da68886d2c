//! The supervisor's loop: waits for the next input (an exit or spawn answer
//! from the keeper, an adopted process's end, an API request, a probe's
//! report, a timer, a signal to ward) and hands it to the supervisor, until
//! everything is down.

use super::{Inputs, Supervisor};
use crate::runtime::Runtime;

impl<R: Runtime> Supervisor<R> {
    /// Runs until everything is down; returns `ward up`'s exit code.
    pub async fn run(mut self, mut inputs: Inputs) -> i32 {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).ok();
        let mut int = signal(SignalKind::interrupt()).ok();
        let mut hup = signal(SignalKind::hangup()).ok();
        let mut reports = self.health.take_reports();
        self.start();
        let sleep = tokio::time::sleep(std::time::Duration::from_secs(3600));
        tokio::pin!(sleep);
        while self.exit_code.is_none() {
            let deadline = [self.timers.next_deadline(), self.budget_wake, self.spawns.next_deadline()]
                .into_iter()
                .flatten()
                .min();
            if let Some(at) = deadline {
                sleep.as_mut().reset(self.clock.instant(at));
            }
            self.trimmer.settled();
            tokio::select! {
                report = inputs.exits.recv() => match report {
                    Some(report) => {
                        self.on_report_of_runtime(report);
                        while let Ok(report) = inputs.exits.try_recv() {
                            self.on_report_of_runtime(report);
                        }
                    }
                    None => {
                        // The keeper is gone (killed with its tree's top): the
                        // services live on, and the next `ward up` adopts them.
                        tracing::error!("the keeper is gone; exiting and leaving the services running");
                        self.flush();
                        return 1;
                    }
                },
                Some(exit) = inputs.adopted.recv() => self.on_exit(exit),
                Some(req) = inputs.requests.recv() => self.on_request(req),
                Some(report) = reports.recv() => self.on_report(report),
                () = &mut sleep, if deadline.is_some() => self.fire_timers(),
                Some(()) = recv(&mut term) => self.begin_down("SIGTERM"),
                Some(()) = recv(&mut int) => self.begin_down("SIGINT"),
                Some(()) = recv(&mut hup) => {
                    let reply = self.reload();
                    match reply {
                        Ok(msg) => tracing::info!("SIGHUP: {msg}"),
                        Err(e) => tracing::error!("SIGHUP: reload refused:\n{e}"),
                    }
                }
            }
        }
        // Everything is down: the next `ward up` starts afresh.
        if let Err(e) = self.store.set_meta("clean", "yes") {
            tracing::error!("store: {e}");
        }
        self.flush();
        let code = self.exit_code.unwrap_or(0);
        self.runtime.finish(code);
        code
    }
}

async fn recv(sig: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match sig {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}
