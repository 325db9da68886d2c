//! The restart gate of one instance: may it restart now, and if not, when?
//!
//! States: `idle` → on a crash → `backing-off{until}`; the `threshold`-th crash
//! inside the rolling `window` → `crash-loop{until = now + cooldown}`.
//!
//! - Each crash below the threshold waits the next delay of the [`Backoff`]
//!   curve (`initial`, then ×`factor` per crash, capped at `max`), multiplied by
//!   a jitter factor in `[1 - jitter, 1 + jitter]` that the caller draws.
//! - A run that lasted at least `stable_after` resets the delay and the crash
//!   history before its own exit is counted.
//! - Tripping crash-loop clears the crash window and the delay: once the
//!   cooldown has passed, the instance gets a fresh start.
//! - [`Gate::unblock`] releases the gate at once and resets its history.
//!
//! - [`Gate::reset_history`] does what a stable run does, for a caller that
//!   sees the run reach `stable_after` while it still runs.
//!
//! - `config`: the settings ([`GateConfig`]) as plain data with ward's defaults.
//! - `backoff`: the delay curve.
//! - `crash_loop`: the rolling window of crash times.
//! - `named`: [`Gates`], one gate per name under one configuration.
//!
//! ```
//! use std::time::Duration;
//! use ward_core::MonoTime;
//! use ward_core::gate::{Gate, GateConfig, GateState};
//!
//! let mut gate = Gate::new(GateConfig::default());
//! let now = MonoTime::from_millis(10_000);
//! // A crash after a 3s run (jitter factor 1.0: none).
//! let state = gate.on_crash(now, Duration::from_secs(3), 1.0);
//! assert_eq!(state, GateState::BackingOff { until: now + Duration::from_millis(500) });
//! assert!(!gate.admits(now));
//! ```

mod backoff;
mod config;
mod crash_loop;
mod named;

pub use backoff::Backoff;
pub use config::{BackoffConfig, CrashLoopConfig, GateConfig};
pub use crash_loop::CrashWindow;
pub use named::{Admission, Gates};

use crate::time::MonoTime;
use std::time::Duration;

/// Where a gate stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GateState {
    /// Restarts are admitted.
    Idle,
    /// Waiting out a backoff delay.
    BackingOff {
        /// When the restart is admitted.
        until: MonoTime,
    },
    /// Tripped: too many crashes inside the window.
    CrashLoop {
        /// When the cooldown ends.
        until: MonoTime,
    },
}

impl GateState {
    /// The word users see: `idle`, `backing-off`, `crash-loop`.
    pub fn word(self) -> &'static str {
        match self {
            GateState::Idle => "idle",
            GateState::BackingOff { .. } => "backing-off",
            GateState::CrashLoop { .. } => "crash-loop",
        }
    }

    /// The end of the wait, if any.
    pub fn until(self) -> Option<MonoTime> {
        match self {
            GateState::Idle => None,
            GateState::BackingOff { until } | GateState::CrashLoop { until } => Some(until),
        }
    }
}

/// The restart gate of one instance.
#[derive(Clone, Debug, PartialEq)]
pub struct Gate {
    state: GateState,
    backoff: Backoff,
    /// The curve of clean exits restarted under `restart: always`, if set.
    success: Option<Backoff>,
    window: CrashWindow,
    stable_after: Duration,
    cooldown: Duration,
}

impl Gate {
    /// An idle gate with empty history.
    pub fn new(config: GateConfig) -> Self {
        Gate {
            state: GateState::Idle,
            backoff: Backoff::new(config.backoff),
            success: config.success_backoff.map(Backoff::new),
            window: CrashWindow::new(config.crash_loop),
            stable_after: config.stable_after,
            cooldown: config.crash_loop.cooldown,
        }
    }

    /// The settings this gate follows.
    pub fn config(&self) -> GateConfig {
        GateConfig {
            backoff: *self.backoff.config(),
            crash_loop: *self.window.config(),
            stable_after: self.stable_after,
            success_backoff: self.success.as_ref().map(|b| *b.config()),
        }
    }

    /// Sets the curve of clean exits, keeping its position when it is unchanged.
    fn set_success(&mut self, success: Option<BackoffConfig>) {
        if self.success.as_ref().map(|b| *b.config()) != success {
            self.success = success.map(Backoff::new);
        }
    }

    /// Where the gate stands.
    pub fn state(&self) -> GateState {
        self.state
    }

    /// Records a crash at `now` after a run of `run`, with the caller's `jitter`
    /// factor; returns the new state (`BackingOff` or `CrashLoop`).
    pub fn on_crash(&mut self, now: MonoTime, run: Duration, jitter: f64) -> GateState {
        self.note_run(run);
        self.state = if self.window.record(now) {
            self.window.clear();
            self.backoff.reset();
            GateState::CrashLoop { until: now + self.cooldown }
        } else {
            GateState::BackingOff { until: now + self.backoff.take(jitter) }
        };
        self.state
    }

    /// Records a clean exit that will be restarted (exit 0 under `restart: always`):
    /// not a crash, so it counts nothing and waits the next delay of the
    /// `success_backoff` curve, or the flat `initial` delay without one.
    pub fn on_completion(&mut self, now: MonoTime, run: Duration, jitter: f64) -> GateState {
        self.note_run(run);
        let delay = match &mut self.success {
            Some(curve) => curve.take(jitter),
            None => self.backoff.config().initial,
        };
        self.state = GateState::BackingOff { until: now + delay };
        self.state
    }

    /// Resets history when `run` reached `stable_after`.
    fn note_run(&mut self, run: Duration) {
        if run >= self.stable_after {
            self.reset_history();
        }
    }

    /// What a stable run does: forgets the crash history and puts the delay
    /// curves back at their start, leaving the state as it is.
    ///
    /// [`Gate::on_crash`] does this by itself when the run it is given reached
    /// `stable_after`; call this when you see a run become stable before it ends.
    pub fn reset_history(&mut self) {
        self.window.clear();
        self.backoff.reset();
        if let Some(s) = &mut self.success {
            s.reset();
        }
    }

    /// How long until a restart is admitted at `now` (zero when it is admitted).
    pub fn wait(&self, now: MonoTime) -> Duration {
        self.state.until().map_or(Duration::ZERO, |until| until.saturating_since(now))
    }

    /// True while the gate is tripped (crash-loop) and its cooldown runs at `now`.
    pub fn in_cooldown(&self, now: MonoTime) -> bool {
        matches!(self.state, GateState::CrashLoop { until } if now < until)
    }

    /// True when a restart may happen at `now`.
    pub fn admits(&self, now: MonoTime) -> bool {
        self.state.until().is_none_or(|until| now >= until)
    }

    /// Moves a gate whose wait is over back to `Idle`; true if it changed.
    pub fn expire(&mut self, now: MonoTime) -> bool {
        let over = self.state != GateState::Idle && self.admits(now);
        if over {
            self.state = GateState::Idle;
        }
        over
    }

    /// Releases the gate at once and resets its history (`ward unblock`).
    pub fn unblock(&mut self) {
        self.state = GateState::Idle;
        self.reset_history();
    }

    /// Crashes inside the window at `now`.
    pub fn crashes_in_window(&self, now: MonoTime) -> u32 {
        self.window.count(now)
    }

    /// The crash-loop threshold.
    pub fn threshold(&self) -> u32 {
        self.window.config().threshold
    }

    /// The delay (before jitter) the next crash will wait.
    pub fn next_delay(&self) -> Duration {
        self.backoff.next_delay()
    }

    /// The delay (before jitter) the crash after the next one would wait.
    pub fn delay_after_next(&self) -> Duration {
        self.backoff.delay_after_next()
    }

    /// The crash times kept in the window, oldest first.
    pub fn crash_times(&self) -> impl Iterator<Item = MonoTime> + '_ {
        self.window.times()
    }

    /// Takes new settings (a reload), keeping the state, the crash history and
    /// the position on the curves (the crash curve clamped into the new
    /// `[initial, max]`; the clean-exit curve kept only when it is unchanged).
    pub fn reconfigure(&mut self, config: GateConfig) {
        let backoff = config.backoff;
        let next = self.next_delay().clamp(backoff.initial, backoff.max.max(backoff.initial));
        let crashes: Vec<MonoTime> = self.crash_times().collect();
        let state = self.state;
        let success = self.success.take();
        *self = Gate::new(GateConfig { success_backoff: None, ..config });
        self.success = success;
        self.set_success(config.success_backoff);
        self.restore(state, next, &crashes);
    }

    /// Restores a gate's state and history (e.g. from the store after a restart of ward).
    pub fn restore(&mut self, state: GateState, next_delay: Duration, crashes: &[MonoTime]) {
        self.state = state;
        self.window.restore(crashes.iter().copied());
        self.backoff.reset();
        while self.backoff.next_delay() < next_delay {
            let before = self.backoff.next_delay();
            self.backoff.take(1.0);
            if self.backoff.next_delay() == before {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests;
