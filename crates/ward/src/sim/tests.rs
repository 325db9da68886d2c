//! Runs the simulation over many seeds. `WARD_SIM_SEED=N` replays one seed
//! (printing its trace); `WARD_SIM_SEEDS=N` runs N seeds (a longer soak);
//! `WARD_SIM_STEPS=N` sets the steps per seed.

fn env(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[test]
fn every_seed_keeps_every_invariant() {
    let steps = env("WARD_SIM_STEPS").unwrap_or(200) as usize;
    let seeds: Vec<u64> = match env("WARD_SIM_SEED") {
        Some(seed) => vec![seed],
        None => (1..=env("WARD_SIM_SEEDS").unwrap_or(2000)).collect(),
    };
    let replay = seeds.len() == 1;
    // Seeds are independent: two threads share them (each seed stays one
    // thread, so it replays exactly).
    let failures: Vec<String> = std::thread::scope(|scope| {
        let (odd, even): (Vec<u64>, Vec<u64>) = seeds.iter().partition(|s| *s % 2 == 1);
        let runs: Vec<_> = [odd, even]
            .into_iter()
            .map(|part| {
                scope.spawn(move || part.into_iter().filter_map(|seed| one(seed, steps, replay)).next())
            })
            .collect();
        runs.into_iter().filter_map(|r| r.join().ok().flatten()).collect()
    });
    if let Some(first) = failures.first() {
        panic!("{first}");
    }
}

/// Runs one seed; the failure's report, if it fails.
fn one(seed: u64, steps: usize, replay: bool) -> Option<String> {
    {
        match super::run(seed, steps) {
            Ok(outcome) => {
                if replay {
                    eprintln!("{}", outcome.trace.join("\n"));
                }
                (outcome.steps != steps).then(|| format!("seed {seed} stopped after {} steps", outcome.steps))
            }
            Err((error, trace)) => {
                let tail = trace.len().saturating_sub(80);
                Some(format!(
                    "simulation seed {seed} failed: {error}\nlast steps:\n{}\nreplay: WARD_SIM_SEED={seed} \
                     cargo test -p ward --bin ward sim:: -- --nocapture \
                     (WARD_SIM_STORE=sqlite to run it over the SQLite store)",
                    trace[tail..].join("\n")
                ))
            }
        }
    }
}

/// A shape that did not parse would make every reload to it a refused one
/// (the world does not read the reply), and the simulation would never run it.
#[test]
fn both_shapes_of_the_simulated_spec_parse() {
    for variant in 0..2 {
        let text = super::spec::spec_text(variant);
        let parsed = super::spec::parsed(&text);
        assert!(parsed.is_ok(), "shape {variant}: {:?}\n{text}", parsed.err());
    }
}
