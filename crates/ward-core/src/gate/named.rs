//! [`Gates`]: one restart gate per name, for a program that tracks crashes of
//! its own daemons, workers or connections without the rest of ward.
//!
//! Every call takes the time as an argument (a [`MonoTime`], or a
//! [`Duration`] since an origin the caller picks), so the caller owns the
//! clock and tests need none. The rules are [`Gate`]'s; this is only the
//! bookkeeping by name.

use super::{Gate, GateConfig, GateState};
use crate::time::MonoTime;
use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::time::Duration;

/// What the gate of a name answers to "may it restart now?".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Admission {
    /// A restart is allowed now.
    Now,
    /// A restart is allowed after this long (a backoff delay or a crash-loop cooldown).
    Wait(Duration),
}

/// The restart gates of many named things, one [`Gate`] each.
///
/// A name the gates have never seen is admitted at once; its gate is made
/// on its first crash, with the default configuration or the one set for it.
///
/// ```
/// use std::time::Duration;
/// use ward_core::MonoTime;
/// use ward_core::gate::{Admission, CrashLoopConfig, GateConfig, Gates};
///
/// let config = GateConfig {
///     crash_loop: CrashLoopConfig { threshold: 2, ..CrashLoopConfig::default() },
///     ..GateConfig::default()
/// };
/// let mut gates: Gates = Gates::new(config);
/// let t = |secs| MonoTime::from(Duration::from_secs(secs));
///
/// gates.record_crash("worker", t(10), Duration::from_secs(1), 1.0);
/// assert_eq!(gates.admission("worker", t(10)), Admission::Wait(Duration::from_millis(500)));
/// assert!(!gates.in_cooldown("worker", t(10)));
///
/// // The second crash inside a minute trips crash-loop: 5 minutes of cooldown.
/// gates.record_crash("worker", t(20), Duration::from_secs(1), 1.0);
/// assert!(gates.in_cooldown("worker", t(20)));
/// assert_eq!(gates.admission("worker", t(20)), Admission::Wait(Duration::from_secs(300)));
///
/// // An operator releases it; the caller writes that down in its own audit log.
/// let released = gates.unblock("worker");
/// assert!(matches!(released, Some(ward_core::gate::GateState::CrashLoop { .. })));
/// assert_eq!(gates.admission("worker", t(21)), Admission::Now);
/// ```
#[derive(Clone, Debug)]
pub struct Gates<K = String> {
    config: GateConfig,
    gates: BTreeMap<K, Gate>,
}

impl<K: Ord> Gates<K> {
    /// No gates yet; each name gets `config` unless [`Gates::configure`] says otherwise.
    pub fn new(config: GateConfig) -> Self {
        Gates { config, gates: BTreeMap::new() }
    }

    /// Gives `name` its own settings, keeping its history (see [`Gate::reconfigure`]).
    pub fn configure(&mut self, name: K, config: GateConfig) {
        match self.gates.get_mut(&name) {
            Some(gate) => gate.reconfigure(config),
            None => {
                self.gates.insert(name, Gate::new(config));
            }
        }
    }

    /// Records a crash of `name` at `at` after a run of `ran_for`; returns the
    /// new state (`BackingOff` or `CrashLoop`).
    ///
    /// `jitter` is a factor the caller draws in `[1 - j, 1 + j]` (`j` is
    /// `backoff.jitter`) to spread restarts; pass `1.0` for none. A run of at
    /// least `stable_after` first resets the history, as a stable run does.
    pub fn record_crash<Q>(
        &mut self,
        name: &Q,
        at: impl Into<MonoTime>,
        ran_for: Duration,
        jitter: f64,
    ) -> GateState
    where
        K: Borrow<Q>,
        Q: Ord + ToOwned<Owned = K> + ?Sized,
    {
        self.gate_mut(name).on_crash(at.into(), ran_for, jitter)
    }

    /// Records a clean exit of `name` that the caller will restart anyway: it
    /// counts no crash and waits the clean-exit curve (`success_backoff`, or a
    /// flat `backoff.initial`).
    pub fn record_clean_exit<Q>(
        &mut self,
        name: &Q,
        at: impl Into<MonoTime>,
        ran_for: Duration,
        jitter: f64,
    ) -> GateState
    where
        K: Borrow<Q>,
        Q: Ord + ToOwned<Owned = K> + ?Sized,
    {
        self.gate_mut(name).on_completion(at.into(), ran_for, jitter)
    }

    /// Records that `name` has run for `stable_after` (it still runs): its
    /// crash history and delays start over. Returns false for an unknown name.
    pub fn record_stable_run<Q>(&mut self, name: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.gates.get_mut(name).map(Gate::reset_history).is_some()
    }

    /// May `name` restart at `now`, and if not, how long until it may.
    pub fn admission<Q>(&self, name: &Q, now: impl Into<MonoTime>) -> Admission
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let now = now.into();
        match self.gates.get(name) {
            Some(gate) if !gate.admits(now) => Admission::Wait(gate.wait(now)),
            _ => Admission::Now,
        }
    }

    /// True while `name` is in crash-loop cooldown at `now`.
    pub fn in_cooldown<Q>(&self, name: &Q, now: impl Into<MonoTime>) -> bool
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let now = now.into();
        self.gates.get(name).is_some_and(|gate| gate.in_cooldown(now))
    }

    /// Releases `name` at once and forgets its history, whatever it waited
    /// for. Returns the state it was released from (`None`: an unknown name),
    /// for the caller's audit log: who released what, and when, is the
    /// caller's to record.
    pub fn unblock<Q>(&mut self, name: &Q) -> Option<GateState>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let gate = self.gates.get_mut(name)?;
        let was = gate.state();
        gate.unblock();
        Some(was)
    }

    /// Stops tracking `name`; true if it was tracked.
    pub fn forget<Q>(&mut self, name: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.gates.remove(name).is_some()
    }

    /// The gate of `name`, for its details (crash times, next delay).
    pub fn get<Q>(&self, name: &Q) -> Option<&Gate>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.gates.get(name)
    }

    /// The earliest end of a wait after `now`, if any: when to wake up next
    /// (arm one timer for it rather than polling).
    pub fn next_deadline(&self, now: impl Into<MonoTime>) -> Option<MonoTime> {
        let now = now.into();
        self.gates.values().filter_map(|g| g.state().until()).filter(|&until| until > now).min()
    }

    /// Every tracked name with its gate, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &Gate)> + '_ {
        self.gates.iter()
    }

    fn gate_mut<Q>(&mut self, name: &Q) -> &mut Gate
    where
        K: Borrow<Q>,
        Q: Ord + ToOwned<Owned = K> + ?Sized,
    {
        let config = self.config;
        self.gates.entry(name.to_owned()).or_insert_with(|| Gate::new(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::CrashLoopConfig;

    fn t(ms: u64) -> MonoTime {
        MonoTime::from_millis(ms)
    }

    fn gates() -> Gates {
        let crash_loop = CrashLoopConfig { threshold: 3, ..CrashLoopConfig::default() };
        Gates::new(GateConfig { crash_loop, ..GateConfig::default() })
    }

    #[test]
    fn unknown_names_are_admitted_and_not_blocked() {
        let mut g = gates();
        assert_eq!(g.admission("x", t(0)), Admission::Now);
        assert!(!g.in_cooldown("x", t(0)));
        assert_eq!(g.unblock("x"), None);
        assert!(!g.record_stable_run("x"));
        assert!(!g.forget("x"));
    }

    #[test]
    fn names_are_independent_and_waits_count_down() {
        let mut g = gates();
        g.record_crash("a", t(1000), Duration::from_secs(1), 1.0);
        assert_eq!(g.admission("a", t(1200)), Admission::Wait(Duration::from_millis(300)));
        assert_eq!(g.admission("b", t(1200)), Admission::Now);
        assert_eq!(g.admission("a", t(1500)), Admission::Now);
        assert_eq!(g.next_deadline(t(1200)), Some(t(1500)));
        assert_eq!(g.next_deadline(t(1500)), None);
    }

    #[test]
    fn stable_run_resets_the_curve() {
        let mut g = gates();
        g.record_crash("a", t(0), Duration::ZERO, 1.0);
        g.record_crash("a", t(500), Duration::ZERO, 1.0);
        assert_eq!(g.get("a").map(Gate::next_delay), Some(Duration::from_secs(2)));
        assert!(g.record_stable_run("a"));
        assert_eq!(g.get("a").map(Gate::next_delay), Some(Duration::from_millis(500)));
        assert_eq!(g.get("a").map(|gate| gate.crashes_in_window(t(600))), Some(0));
    }

    #[test]
    fn cooldown_ends_and_unblock_reports_what_it_released() {
        let mut g = gates();
        for at in [0, 600, 1700] {
            g.record_crash("a", t(at), Duration::ZERO, 1.0);
        }
        assert!(g.in_cooldown("a", t(1700)));
        assert!(!g.in_cooldown("a", t(301_700)), "cooldown over");
        assert!(matches!(g.unblock("a"), Some(GateState::CrashLoop { .. })));
        assert!(!g.in_cooldown("a", t(1800)));
    }

    #[test]
    fn times_may_be_durations_since_an_origin() {
        let mut g = gates();
        g.record_crash("a", Duration::from_secs(1), Duration::ZERO, 1.0);
        assert_eq!(
            g.admission("a", Duration::from_millis(1100)),
            Admission::Wait(Duration::from_millis(400))
        );
    }

    #[test]
    fn configure_gives_a_name_its_own_settings() {
        let mut g = gates();
        let slow = GateConfig {
            backoff: crate::gate::BackoffConfig { initial: Duration::from_secs(5), ..Default::default() },
            ..GateConfig::default()
        };
        g.configure("slow".to_string(), slow);
        g.record_crash("slow", t(0), Duration::ZERO, 1.0);
        assert_eq!(g.admission("slow", t(0)), Admission::Wait(Duration::from_secs(5)));
    }
}
