//! The restart gate alone, for a program that watches daemons of its own.
//!
//! A made-up agent watches three daemons. It feeds the gates their exits, asks
//! whether each may restart and when, sees one trip crash-loop, releases it
//! the way an operator would, and sees another run long enough to count as
//! stable. The clock is simulated (a `Duration` since the agent's start), as
//! it would be in the agent's tests; a real agent passes its own monotonic
//! time the same way and arms one timer for `next_deadline` instead of polling.
//!
//! Run it with `cargo run -p ward-core --example gate_named_daemons --no-default-features`.

use std::time::Duration;
use ward_core::ExitStatus;
use ward_core::gate::{Admission, CrashLoopConfig, GateConfig, Gates};
use ward_core::policy::{self, Decision, ExitCodesSpec, OnPanic, RestartPolicy};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn main() {
    // ward's defaults, but crash-loop after 3 crashes in a minute.
    let config = GateConfig {
        crash_loop: CrashLoopConfig { threshold: 3, ..CrashLoopConfig::default() },
        ..GateConfig::default()
    };
    let mut gates: Gates = Gates::new(config);
    let codes = ExitCodesSpec::default();

    // (time since start, daemon, how it ended, how long it had run)
    let exits = [
        (secs(10), "metrics-shipper", ExitStatus::Code(0), secs(10)),
        (secs(12), "dns-cache", ExitStatus::Code(1), secs(2)),
        (secs(14), "dns-cache", ExitStatus::Signal(11), secs(1)),
        (secs(17), "dns-cache", ExitStatus::Code(1), secs(1)),
        (secs(30), "mesh-proxy", ExitStatus::Code(1), secs(1)),
        (secs(200), "mesh-proxy", ExitStatus::Code(1), secs(169)),
    ];
    for (at, name, status, ran_for) in exits {
        // What the exit means under `restart: on-failure` (ward's default).
        match policy::decide(status, RestartPolicy::OnFailure, OnPanic::default(), &codes) {
            Decision::RestartCrash => {
                let state = gates.record_crash(name, at, ran_for, 1.0);
                println!("{at:>5?} {name}: {status} after {ran_for:?} -> {}", state.word());
            }
            decision => println!("{at:>5?} {name}: {status} -> {decision:?}, nothing to gate"),
        }
        report(&gates, name, at);
    }

    // dns-cache crashed 3 times in 5s: it is in cooldown for 5 minutes.
    let now = secs(200);
    assert!(gates.in_cooldown("dns-cache", now));
    if let Some(wake) = gates.next_deadline(now) {
        println!("next wake-up: {wake} (the agent arms one timer for it)");
    }

    // An operator releases it; the agent writes who did it in its own audit log.
    if let Some(was) = gates.unblock("dns-cache") {
        println!("{now:>5?} dns-cache: released by operator 'ana' from {}", was.word());
    }
    report(&gates, "dns-cache", now);

    // mesh-proxy's second crash came after a run longer than `stable_after`
    // (60s), so its history was reset first: it waits the initial delay again.
    assert_eq!(gates.admission("mesh-proxy", secs(200)), Admission::Wait(Duration::from_millis(500)));

    // A daemon seen running for `stable_after` gets a fresh start at once.
    let next_delay = |g: &Gates| g.get("mesh-proxy").map(|gate| gate.next_delay());
    let before = next_delay(&gates);
    gates.record_stable_run("mesh-proxy");
    println!("  261s mesh-proxy: stable; next crash waits {:?}, was {before:?}", next_delay(&gates));
}

/// Prints whether `name` may restart at `now`.
fn report(gates: &Gates, name: &str, now: Duration) {
    match gates.admission(name, now) {
        Admission::Now => println!("        {name}: may restart now"),
        Admission::Wait(d) if gates.in_cooldown(name, now) => {
            println!("        {name}: crash-loop, cooldown ends in {d:?}")
        }
        Admission::Wait(d) => println!("        {name}: backing off, may restart in {d:?}"),
        // `Admission` may grow: treat an unknown answer as "not now".
        _ => println!("        {name}: not now"),
    }
}
