//! What the world may do in one step: the keeper delivers what it has to
//! say, a process dies, time moves, an operator commands, a health watcher
//! reports, the brain, the keeper or the wall clock does something abrupt.

use super::os::lock;
use super::spec::spec_text;
use super::{World, take_epoch};
use crate::runtime::Report;
use std::sync::PoisonError;
use std::sync::atomic::Ordering;
use ward_core::instance::Command;
use ward_core::{ExitStatus, InstanceId};
use ward_supervisor::Request;
use ward_supervisor::ports::health::{HealthReport, Seen};

/// A report of the keeper, in the trace's words.
fn describe(report: &Report) -> String {
    match report {
        Report::Exit(e) => format!("exit of {} ({})", e.pid, e.status),
        Report::Answer { req, result, .. } => format!("answer to {req}: {result:?}"),
        // `Report` is non-exhaustive: a newer kind shows as it is.
        other => format!("{other:?}"),
    }
}

impl World {
    pub(super) fn step(&mut self, step: usize) {
        match self.rng.below(100) {
            0..=34 => {
                let n = 1 + self.rng.below(3) as usize;
                self.deliver(n)
            }
            35..=52 => self.kill_one(),
            53..=69 => self.advance(),
            70..=81 => self.command(),
            82..=84 => {
                self.variant += 1;
                let _ = std::fs::write(&self.paths.spec, spec_text(self.variant));
                self.note(format!("{step}: reload (variant {})", self.variant % 2));
                let (reply, _rx) = tokio::sync::oneshot::channel();
                self.sup().on_request(Request::Reload { reply });
            }
            85..=86 => {
                self.note(format!("{step}: the brain crashes"));
                self.sup = None;
                self.new_brain();
            }
            87..=88 => self.crash_mid_input(step),
            89..=91 => {
                self.note(format!("{step}: the keeper crashes (and its brain)"));
                self.sup = None;
                let epoch = take_epoch(&self.paths, self.memory.as_ref()).unwrap_or(0);
                lock(&self.os).keeper_crash(epoch);
                self.new_brain();
            }
            92..=94 => {
                let back = self.rng.chance(0.5);
                self.wall += if back { -3_600_000 } else { 3_600_000 };
                self.set_wall();
                self.note(format!(
                    "{step}: the wall clock steps {}",
                    if back { "back 1h" } else { "forward 1h" }
                ));
            }
            95..=97 => self.probe(),
            _ => self.deliver(usize::MAX),
        }
    }

    /// The brain crashes right after its `k`-th effect of the next input;
    /// what it committed before stays, the rest is lost.
    fn crash_mid_input(&mut self, step: usize) {
        let k = 1 + self.rng.below(3) as u32;
        self.crash.plan(k);
        match self.rng.below(3) {
            0 => {
                let n = 1 + self.rng.below(3) as usize;
                self.deliver(n)
            }
            1 => self.command(),
            _ => self.advance(),
        }
        let how = if self.crash.dead() { format!("after its effect {k}") } else { "at the end".into() };
        self.note(format!("{step}: the brain crashes in the middle of that input, {how}"));
        self.sup = None;
        self.new_brain();
    }

    /// A health watcher reports about a live instance (now and then about
    /// a pid that is gone: a stale report).
    fn probe(&mut self) {
        let live: Vec<(InstanceId, u32)> =
            self.sup().deployment().instances().filter_map(|i| Some((i.id().clone(), i.pid()?))).collect();
        if live.is_empty() {
            return;
        }
        let (id, pid) = live[self.rng.below(live.len() as u64) as usize].clone();
        let pid = if self.rng.chance(0.2) { pid + 1 } else { pid };
        let seen =
            if self.rng.chance(0.5) { Seen::Ready } else { Seen::Failed("simulated probe failure".into()) };
        self.note(format!("probe: {id} pid {pid} {seen:?}"));
        self.sup().on_health(HealthReport { id, pid, seen });
    }

    /// The keeper says up to `n` things it has to say, in order: one at a
    /// time, or (half of the time) as one batch, as the brain reads what
    /// came together.
    pub(super) fn deliver(&mut self, n: usize) {
        if n > 1 && self.rng.chance(0.5) {
            let batch: Vec<Report> = {
                let mut os = lock(&self.os);
                std::iter::from_fn(|| os.keeper.outbox.pop_front()).take(n).collect()
            };
            if batch.is_empty() {
                return;
            }
            for report in &batch {
                let what = describe(report);
                self.note(format!("deliver {what} (in a batch of {})", batch.len()));
            }
            self.sup().on_runtime_reports(batch);
            self.settle_adoptions();
            return;
        }
        for _ in 0..n {
            let Some(report) = lock(&self.os).keeper.outbox.pop_front() else { return };
            let what = describe(&report);
            self.note(format!("deliver {what}"));
            self.sup().on_runtime_report(report);
            self.settle_adoptions();
        }
    }

    /// A live process dies, of a status drawn at random.
    fn kill_one(&mut self) {
        let status = match self.rng.below(6) {
            0 => ExitStatus::Code(0),
            1 => ExitStatus::Code(1),
            2 => ExitStatus::Code(78),
            3 => ExitStatus::Signal(libc::SIGKILL),
            4 => ExitStatus::Signal(libc::SIGSEGV),
            _ => ExitStatus::Code(3),
        };
        let live: Vec<u32> =
            lock(&self.os).procs.iter().filter(|(_, p)| p.alive).map(|(pid, _)| *pid).collect();
        let Some(&pid) = self.rng.pick(&live) else { return };
        self.note(format!("pid {pid} dies ({status})"));
        let adopted = lock(&self.os).die(pid, status);
        if adopted {
            self.adopted_exit(pid);
        }
    }

    /// Time moves: to the next deadline when the keeper has nothing to say
    /// (a keeper answers within a moment; the supervisor gives up on an
    /// answer after 10 s, which the world never lets happen by itself).
    pub(super) fn advance(&mut self) {
        let quiet = lock(&self.os).keeper.outbox.is_empty();
        let now = self.sup().clock().now();
        let next = self.sup().next_deadline();
        let by = match (quiet, next) {
            (false, _) => 0,
            (true, Some(at)) => at.saturating_since(now).as_millis() as u64,
            (true, None) => 1000 * (1 + self.rng.below(30)),
        };
        self.time.mono_ms.fetch_add(by, Ordering::Relaxed);
        self.set_wall();
        self.note(format!("time +{by}ms"));
        self.sup().fire_timers();
    }

    /// An operator's command on a random target.
    fn command(&mut self) {
        let services = ["fast", "slow", "once", "iso", "dep", "job", "use"];
        let service = services[self.rng.below(services.len() as u64) as usize];
        let target = if self.rng.chance(0.5) { service.to_owned() } else { format!("{service}/0") };
        let command = match self.rng.below(4) {
            0 => Command::Start,
            1 => Command::Stop,
            2 => Command::Restart,
            _ => Command::Unblock,
        };
        self.note(format!("operator: {command:?} {target}"));
        let (reply, _rx) = tokio::sync::oneshot::channel();
        self.sup().on_request(Request::Command { command, target, reply });
    }

    /// An adopted process (not the keeper's child) ended: its pidfd says so.
    fn adopted_exit(&mut self, pid: u32) {
        if self.watched.contains(&pid) {
            self.note(format!("adopted pid {pid} ended (pidfd)"));
            let exit = crate::runtime::Exit::unknown(pid);
            self.sup().on_adopted_exit(exit);
        }
    }

    /// Signals the brain sent to adopted processes take effect.
    pub(super) fn settle_adoptions(&mut self) {
        loop {
            let (watched, signals) = {
                let mut a = self.adoptions.lock().unwrap_or_else(PoisonError::into_inner);
                (a.watched.clone(), std::mem::take(&mut a.signals))
            };
            self.watched = watched;
            if signals.is_empty() {
                return;
            }
            for (pid, sig) in signals {
                let adopted = lock(&self.os).deliver(pid, sig);
                if adopted {
                    self.adopted_exit(pid);
                }
            }
        }
    }
}
