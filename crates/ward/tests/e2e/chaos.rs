//! Chaos against the real binary: dozens of long-running instances, and in
//! rounds several of them are SIGKILLed together with the keeper (`ward up`)
//! or the brain. After each round the deployment must settle with exactly one
//! live process per instance (none duplicated, none missing, none untracked)
//! and a `status` that tells the truth; at the end `down` leaves no process.
//!
//! The processes of this deployment are found through `/proc/PID/environ`:
//! every service carries a marker variable unique to the run, beside the
//! `WARD_SERVICE`/`WARD_REPLICA` that ward sets.
//!
//! `WARD_CHAOS_SEED=N` replays a run (the seed is printed); `WARD_CHAOS_ROUNDS=N`
//! runs a longer soak (default 6 rounds).

use crate::harness::{Ward, alive, children, eventually, kill, wait_a_little};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// One instance: `(service, replica)`.
type Id = (String, u64);

/// Services with `restart: always` and no backoff: standing orders apply.
const FAST: usize = 16;
/// Services with a small backoff: the brain restarts them after a delay.
const SLOW: usize = 6;
/// Services with several replicas: `(name, replicas, initial backoff)`.
const REPLICATED: &[(&str, u32, &str)] = &[("rep-fast", 3, "0s"), ("rep-slow", 4, "150ms")];

/// The spec: 32 instances, each a `sleep` that carries `marker`.
fn spec(marker: &str) -> String {
    let mut y = String::from("version: 1\nservices:\n");
    let mut service = |name: &str, replicas: u32, initial: &str| {
        y.push_str(&format!(
            "  {name}:\n    command: [\"sleep\", \"600\"]\n    replicas: {replicas}\n    restart: always\n    \
             backoff: {{ initial: {initial}, jitter: 0 }}\n    \
             crash_loop: {{ threshold: 1000, window: 60s, cooldown: 1s }}\n    \
             stop: {{ timeout: 2s }}\n    env: {{ WARD_CHAOS: \"{marker}\" }}\n"
        ));
    };
    for i in 0..FAST {
        service(&format!("fast-{i:02}"), 1, "0s");
    }
    for i in 0..SLOW {
        service(&format!("slow-{i:02}"), 1, "100ms");
    }
    for &(name, replicas, initial) in REPLICATED {
        service(name, replicas, initial);
    }
    y
}

fn instance_count() -> usize {
    FAST + SLOW + REPLICATED.iter().map(|r| r.1 as usize).sum::<usize>()
}

/// A small seeded generator (splitmix64): the rounds are replayable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.parse().ok()
}

/// The live processes of this deployment, by instance, from
/// `/proc/PID/environ` (zombies have none and are left out).
fn live_processes(marker: &str) -> BTreeMap<Id, Vec<u32>> {
    let mark = format!("WARD_CHAOS={marker}");
    let mut found: BTreeMap<Id, Vec<u32>> = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else { return found };
    for entry in dir.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else { continue };
        let vars: Vec<&[u8]> = environ.split(|&b| b == 0).collect();
        if !vars.contains(&mark.as_bytes()) || !alive(pid) {
            continue;
        }
        let var = |name: &str| {
            let prefix = format!("{name}=");
            vars.iter()
                .find_map(|v| v.strip_prefix(prefix.as_bytes()))
                .map(|v| String::from_utf8_lossy(v).into_owned())
        };
        let service = var("WARD_SERVICE").unwrap_or_default();
        let replica = var("WARD_REPLICA").and_then(|r| r.parse().ok()).unwrap_or(u64::MAX);
        found.entry((service, replica)).or_default().push(pid);
    }
    found
}

/// What `status` says: each instance's state and pid.
fn shown(w: &mut Ward) -> BTreeMap<Id, (String, Option<u32>)> {
    w.status()
        .iter()
        .map(|i| {
            let id = (i["service"].as_str().unwrap_or("").to_string(), i["replica"].as_u64().unwrap_or(0));
            let state = i["state"].as_str().unwrap_or("").to_string();
            (id, (state, i["pid"].as_u64().map(|p| p as u32)))
        })
        .collect()
}

/// Every way the deployment differs from "one live, tracked process per
/// running instance", in words; empty when it holds.
fn faults(status: &BTreeMap<Id, (String, Option<u32>)>, live: &BTreeMap<Id, Vec<u32>>) -> Vec<String> {
    let mut out = vec![];
    if status.len() != instance_count() {
        out.push(format!("status shows {} instances, expected {}", status.len(), instance_count()));
    }
    for ((service, replica), (state, pid)) in status {
        let procs = live.get(&(service.clone(), *replica)).cloned().unwrap_or_default();
        let at = format!("{service}/{replica}");
        match (state.as_str(), pid) {
            ("running", Some(pid)) if procs == [*pid] => {}
            ("running", Some(pid)) if !alive(*pid) => out.push(format!("{at}: status shows dead pid {pid}")),
            ("running", Some(pid)) => {
                out.push(format!("{at}: status shows pid {pid}, live processes {procs:?}"))
            }
            _ => out.push(format!("{at}: {state} (pid {pid:?}), live processes {procs:?}")),
        }
    }
    for (id, procs) in live {
        if !status.contains_key(id) {
            out.push(format!("untracked processes {procs:?} claim to be {}/{}", id.0, id.1));
        }
    }
    out
}

/// Waits (generously: the machine may be loaded) until every instance runs
/// as exactly one live process that `status` names; panics with the faults.
fn settle(w: &mut Ward, marker: &str, what: &str) -> BTreeMap<Id, u32> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = shown(w);
        let live = live_processes(marker);
        for pids in live.values() {
            for &pid in pids {
                w.track(pid);
            }
        }
        let found = faults(&status, &live);
        if found.is_empty() {
            return status.into_iter().filter_map(|(id, (_, pid))| Some((id, pid?))).collect();
        }
        assert!(Instant::now() < deadline, "{what}: never settled:\n{}", found.join("\n"));
        // Status is asked again after a short step, bounded by the deadline.
        for _ in 0..5 {
            wait_a_little();
        }
    }
}

/// Waits for a `started` or `adopted` event of `id` naming a process that
/// the instance never had before; returns its pid and the event's kind.
fn wait_replacement(w: &mut Ward, id: &Id, before: &BTreeSet<u32>) -> (u32, String) {
    let ev = w.wait_for(&format!("a new process of {}/{}", id.0, id.1), 30, |e| {
        (e["kind"] == "started" || e["kind"] == "adopted")
            && e["service"] == id.0.as_str()
            && e["replica"] == id.1
            && e["pid"].as_u64().is_some_and(|p| !before.contains(&(p as u32)))
    });
    (ev["pid"].as_u64().unwrap_or(0) as u32, ev["kind"].as_str().unwrap_or("").to_string())
}

/// The check sees a process of the deployment that ward does not track: a
/// second `fast-00/0` started behind ward's back.
fn check_the_checker(w: &mut Ward, marker: &str, current: &BTreeMap<Id, u32>) {
    let mut intruder = std::process::Command::new("sleep")
        .arg("600")
        .env("WARD_CHAOS", marker)
        .env("WARD_SERVICE", "fast-00")
        .env("WARD_REPLICA", "0")
        .spawn()
        .unwrap();
    let found = faults(&shown(w), &live_processes(marker));
    let _ = intruder.kill();
    let _ = intruder.wait();
    let pid = intruder.id();
    let expected = format!("fast-00/0: status shows pid {}, live processes", current[&("fast-00".into(), 0)]);
    assert!(found.iter().any(|f| f.starts_with(&expected) && f.contains(&pid.to_string())), "{found:?}");
}

/// What is killed with the services in a round.
#[derive(Clone, Copy, Debug)]
enum Victim {
    /// `ward up`, the keeper: the next `ward up` adopts what lives.
    Keeper,
    /// The brain: the keeper starts a new one, which re-attaches.
    Brain,
    /// The brain frozen first, so that the keeper's own restarts of the
    /// services go unrecorded, then keeper and brain: the next `ward up`
    /// finds those restarts through the keeper's journal.
    Both,
}

/// A round's blow: the service processes to SIGKILL, with the victim before
/// or after them.
struct Strike<'a> {
    victim: Victim,
    victim_first: bool,
    brain: u32,
    killed: &'a [u32],
    /// Every instance's process before the blow.
    before: &'a BTreeSet<u32>,
    /// The killed ones whose service has no backoff: standing orders cover
    /// them when they are the keeper's children (not adopted after its crash).
    fast: &'a [u32],
}

fn strike(w: &mut Ward, s: &Strike<'_>) {
    let Strike { victim, victim_first, brain, killed, before, fast } = *s;
    let kill_keeper = |w: &mut Ward| {
        let mut up = w.up.take().expect("ward up runs");
        kill(up.id() as i32, libc::SIGKILL);
        let _ = up.wait();
    };
    let kill_services = || {
        for &pid in killed {
            kill(pid as i32, libc::SIGKILL);
        }
    };
    match victim {
        Victim::Keeper if victim_first => {
            kill_keeper(w);
            kill_services();
        }
        Victim::Keeper => {
            kill_services();
            kill_keeper(w);
        }
        Victim::Brain if victim_first => {
            kill(brain as i32, libc::SIGKILL);
            kill_services();
        }
        Victim::Brain => {
            kill_services();
            kill(brain as i32, libc::SIGKILL);
        }
        Victim::Both => {
            let keeper = w.up_pid();
            let standing_order = children(keeper).iter().any(|p| fast.contains(p));
            kill(brain as i32, libc::SIGSTOP);
            kill_services();
            // Until the keeper restarted one on its own (a standing order),
            // which the frozen brain cannot record.
            if standing_order {
                eventually("a restart by the keeper", 20, || {
                    children(keeper).iter().any(|&p| p != brain && !before.contains(&p))
                });
            }
            kill(brain as i32, libc::SIGKILL);
            kill_keeper(w);
        }
    }
}

#[test]
fn chaos_never_loses_or_duplicates_a_service() {
    let seed = env_number("WARD_CHAOS_SEED").unwrap_or_else(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        now.as_nanos() as u64 ^ u64::from(std::process::id())
    });
    let rounds = env_number("WARD_CHAOS_ROUNDS").unwrap_or(6);
    eprintln!("chaos: seed {seed}, {rounds} rounds (replay: WARD_CHAOS_SEED={seed})");
    let mut rng = Rng(seed);
    let marker = format!("chaos-{}-{seed}", std::process::id());
    let mut w = Ward::start("chaos", &spec(&marker));

    let mut history: BTreeMap<Id, BTreeSet<u32>> = BTreeMap::new();
    let mut current = settle(&mut w, &marker, "the first start");
    check_the_checker(&mut w, &marker, &current);
    for (id, pid) in &current {
        history.entry(id.clone()).or_default().insert(*pid);
    }

    for round in 0..rounds {
        let victim = [Victim::Keeper, Victim::Brain, Victim::Both][round as usize % 3];
        let ids: Vec<Id> = current.keys().cloned().collect();
        let mut chosen = BTreeSet::new();
        let fast_service = |id: &Id| id.0.starts_with("fast") || id.0 == "rep-fast";
        if let Victim::Both = victim {
            // One the keeper restarts on its own, when it has such a child.
            let ours = children(w.up_pid());
            let covered: Vec<&Id> =
                ids.iter().filter(|id| fast_service(id) && ours.contains(&current[*id])).collect();
            if !covered.is_empty() {
                chosen.insert(covered[rng.below(covered.len())].clone());
            }
        }
        let how_many = 3 + rng.below(5);
        while chosen.len() < how_many {
            chosen.insert(ids[rng.below(ids.len())].clone());
        }
        let victim_first = rng.below(2) == 0;
        eprintln!("chaos: round {round}: {victim:?} (first: {victim_first}) with {chosen:?}");

        let old_brain = w.brain_pid().expect("a brain");
        let killed: Vec<u32> = chosen.iter().map(|id| current[id]).collect();
        let before: BTreeSet<u32> = current.values().copied().collect();
        let fast: Vec<u32> = chosen.iter().filter(|id| fast_service(id)).map(|id| current[id]).collect();
        let blow =
            Strike { victim, victim_first, brain: old_brain, killed: &killed, before: &before, fast: &fast };
        strike(&mut w, &blow);
        match victim {
            // The services live on; the old brain sees its keeper go and exits.
            Victim::Keeper | Victim::Both => w.rerun(),
            Victim::Brain => {
                w.wait_new_brain(old_brain);
            }
        }
        let mut adopted = 0;
        for id in &chosen {
            let before = history.entry(id.clone()).or_default();
            let (pid, kind) = wait_replacement(&mut w, id, before);
            before.insert(pid);
            adopted += usize::from(kind == "adopted");
        }
        eprintln!("chaos: round {round}: {adopted} replacement(s) made before the crash were adopted");
        current = settle(&mut w, &marker, &format!("round {round}"));
        for (id, pid) in &current {
            let known = history.entry(id.clone()).or_default();
            if !chosen.contains(id) {
                assert!(
                    known.contains(pid),
                    "round {round}: {}/{} was not killed but runs a new pid {pid}",
                    id.0,
                    id.1
                );
            }
            known.insert(*pid);
        }
    }

    // Through every crash, the history kept each event once, with no gap.
    let out = w.cli(&["events", "--json"]);
    let seqs: Vec<u64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()?["seq"].as_u64())
        .collect();
    assert!(!seqs.is_empty() && seqs[0] == 1, "the history starts at 1: {:?}", seqs.first());
    assert!(seqs.windows(2).all(|p| p[1] == p[0] + 1), "no gap or repeat in seq: {seqs:?}");

    assert!(w.cli(&["down"]).status.success());
    assert_eq!(w.wait_exit(60), 0);
    let left = live_processes(&marker);
    assert!(left.is_empty(), "down left processes: {left:?}");
}
