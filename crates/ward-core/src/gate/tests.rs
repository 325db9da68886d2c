//! Rules of the gate, one test per rule and boundary, plus property tests.

use super::*;
use proptest::prelude::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn t(n: u64) -> MonoTime {
    MonoTime::from_millis(n)
}

fn gate(threshold: u32) -> Gate {
    Gate::new(GateConfig {
        backoff: BackoffConfig { initial: ms(100), factor: 2.0, max: ms(1000), jitter: 0.2 },
        crash_loop: CrashLoopConfig { threshold, window: ms(10_000), cooldown: ms(60_000) },
        stable_after: ms(5_000),
        success_backoff: None,
    })
}

#[test]
fn first_crash_backs_off_initial() {
    let mut g = gate(5);
    assert_eq!(g.on_crash(t(1000), ms(10), 1.0), GateState::BackingOff { until: t(1100) });
    assert!(!g.admits(t(1099)));
    assert!(g.admits(t(1100)));
}

#[test]
fn each_crash_doubles_until_the_cap() {
    let mut g = gate(100);
    let mut now = 0;
    let mut waits = vec![];
    for _ in 0..6 {
        let until = g.on_crash(t(now), ms(1), 1.0).until().unwrap();
        waits.push(until.as_millis() - now);
        now = until.as_millis();
        assert!(g.expire(t(now)));
    }
    assert_eq!(waits, vec![100, 200, 400, 800, 1000, 1000]);
}

#[test]
fn jitter_scales_the_delay_within_bounds() {
    let mut g = gate(5);
    assert_eq!(g.on_crash(t(0), ms(1), 0.8).until(), Some(t(80)));
    let mut g = gate(5);
    assert_eq!(g.on_crash(t(0), ms(1), 1.2).until(), Some(t(120)));
    let mut g = gate(5);
    assert_eq!(g.on_crash(t(0), ms(1), 9.0).until(), Some(t(120)), "clamped");
}

#[test]
fn threshold_trips_at_n_not_n_minus_1() {
    let mut g = gate(3);
    assert!(matches!(g.on_crash(t(0), ms(1), 1.0), GateState::BackingOff { .. }));
    assert!(matches!(g.on_crash(t(200), ms(1), 1.0), GateState::BackingOff { .. }));
    assert_eq!(g.crashes_in_window(t(200)), 2);
    assert_eq!(g.on_crash(t(600), ms(1), 1.0), GateState::CrashLoop { until: t(60_600) });
    assert!(!g.admits(t(60_599)));
    assert!(g.admits(t(60_600)));
}

#[test]
fn crash_loop_gives_a_fresh_start_after_cooldown() {
    let mut g = gate(2);
    g.on_crash(t(0), ms(1), 1.0);
    assert!(matches!(g.on_crash(t(100), ms(1), 1.0), GateState::CrashLoop { .. }));
    assert_eq!(g.crashes_in_window(t(100)), 0);
    assert_eq!(g.next_delay(), ms(100));
    assert!(g.expire(t(60_100)));
    assert_eq!(g.state(), GateState::Idle);
    assert_eq!(g.on_crash(t(60_200), ms(1), 1.0), GateState::BackingOff { until: t(60_300) });
}

#[test]
fn crashes_outside_the_window_do_not_count() {
    let mut g = gate(2);
    g.on_crash(t(0), ms(1), 1.0);
    assert!(matches!(g.on_crash(t(10_000), ms(1), 1.0), GateState::BackingOff { .. }));
    assert!(matches!(g.on_crash(t(10_001), ms(1), 1.0), GateState::CrashLoop { .. }));
}

#[test]
fn stable_run_resets_at_exactly_stable_after() {
    let mut g = gate(3);
    g.on_crash(t(0), ms(1), 1.0);
    g.on_crash(t(100), ms(1), 1.0);
    assert_eq!(g.next_delay(), ms(400));
    // One millisecond short of stable: history kept, third crash trips.
    let mut short = g.clone();
    assert!(matches!(short.on_crash(t(5_099), ms(4_999), 1.0), GateState::CrashLoop { .. }));
    // Exactly stable_after: history reset, first delay again.
    assert_eq!(g.on_crash(t(5_100), ms(5_000), 1.0), GateState::BackingOff { until: t(5_200) });
    assert_eq!(g.crashes_in_window(t(5_100)), 1);
}

#[test]
fn completion_waits_initial_and_counts_nothing() {
    let mut g = gate(2);
    for i in 0..5 {
        let now = i * 1000;
        assert_eq!(g.on_completion(t(now), ms(1), 1.0), GateState::BackingOff { until: t(now + 100) });
    }
    assert_eq!(g.crashes_in_window(t(5000)), 0);
    assert_eq!(g.next_delay(), ms(100));
}

#[test]
fn completions_follow_their_own_curve_when_given() {
    let success = BackoffConfig { initial: ms(10), factor: 3.0, max: ms(100), jitter: 0.0 };
    let mut g = gate(2);
    let config = GateConfig { success_backoff: Some(success), ..g.config() };
    g.reconfigure(config);
    let waits: Vec<u64> = (0..4)
        .map(|i| g.on_completion(t(i * 1000), ms(1), 1.0).until().unwrap().as_millis() - i * 1000)
        .collect();
    assert_eq!(waits, vec![10, 30, 90, 100]);
    assert_eq!(g.crashes_in_window(t(4000)), 0, "clean exits are not crashes");
    assert_eq!(g.next_delay(), ms(100), "the crash curve is untouched");
    // A stable run resets it too.
    assert_eq!(g.on_completion(t(9000), ms(5_000), 1.0).until(), Some(t(9010)));
}

#[test]
fn unblock_releases_backoff_and_resets() {
    let mut g = gate(5);
    g.on_crash(t(0), ms(1), 1.0);
    g.on_crash(t(10), ms(1), 1.0);
    g.unblock();
    assert_eq!(g.state(), GateState::Idle);
    assert!(g.admits(t(11)));
    assert_eq!(g.next_delay(), ms(100));
    assert_eq!(g.crashes_in_window(t(11)), 0);
}

#[test]
fn unblock_releases_crash_loop() {
    let mut g = gate(1);
    assert!(matches!(g.on_crash(t(0), ms(1), 1.0), GateState::CrashLoop { .. }));
    g.unblock();
    assert!(g.admits(t(1)));
    assert!(!g.expire(t(1)), "nothing left to expire");
}

#[test]
fn restore_rebuilds_delay_and_window() {
    let mut g = gate(3);
    g.restore(GateState::BackingOff { until: t(500) }, ms(400), &[t(0), t(100)]);
    assert_eq!(g.next_delay(), ms(400));
    assert_eq!(g.crashes_in_window(t(200)), 2);
    assert!(matches!(g.on_crash(t(600), ms(1), 1.0), GateState::CrashLoop { .. }));
}

fn arb_spec() -> impl Strategy<Value = (BackoffConfig, CrashLoopConfig)> {
    (0u64..2000, 1.0f64..4.0, 0u64..20_000, 0.0f64..0.99, 1u32..8, 1u64..20_000).prop_map(
        |(initial, factor, extra, jitter, threshold, window)| {
            (
                BackoffConfig { initial: ms(initial), factor, max: ms(initial + extra), jitter },
                CrashLoopConfig { threshold, window: ms(window), cooldown: ms(30_000) },
            )
        },
    )
}

proptest! {
    /// No restart is admitted before its gate's `until`, and the delay never
    /// exceeds `max × (1 + jitter)`.
    #[test]
    fn never_admits_early_and_delay_is_bounded(
        (b, c) in arb_spec(),
        crashes in proptest::collection::vec((0u64..5_000, 0.0f64..2.0), 1..40),
    ) {
        let mut g = Gate::new(GateConfig { backoff: b, crash_loop: c, stable_after: ms(1_000_000), success_backoff: None });
        let mut now = 0u64;
        for (gap, jitter) in crashes {
            now += gap;
            let state = g.on_crash(t(now), ms(1), jitter);
            let until = state.until().unwrap();
            if let GateState::BackingOff { until } = state {
                let delay = until.as_millis() - now;
                let bound = (b.max.as_millis() as f64 * (1.0 + b.jitter)).ceil() as u64;
                prop_assert!(delay <= bound, "delay {delay} > bound {bound}");
            }
            if until > t(now) {
                prop_assert!(!g.admits(t(until.as_millis() - 1)));
            }
            prop_assert!(g.admits(until));
            now = until.as_millis();
            g.expire(t(now));
        }
    }

    /// Crash-loop trips if and only if `threshold` crashes (counted since the
    /// last trip) fall inside one window.
    #[test]
    fn trips_iff_threshold_crashes_in_one_window(
        (b, c) in arb_spec(),
        gaps in proptest::collection::vec(0u64..3_000, 1..40),
    ) {
        let mut g = Gate::new(GateConfig { backoff: b, crash_loop: c, stable_after: ms(1_000_000), success_backoff: None });
        let mut since_trip: Vec<u64> = vec![];
        let mut now = 0u64;
        for gap in gaps {
            now += gap;
            since_trip.push(now);
            let inside = since_trip.iter().filter(|&&x| now - x < c.window.as_millis() as u64).count();
            let tripped = matches!(g.on_crash(t(now), ms(1), 1.0), GateState::CrashLoop { .. });
            prop_assert_eq!(tripped, inside >= c.threshold as usize);
            if tripped {
                since_trip.clear();
            }
        }
    }
}
