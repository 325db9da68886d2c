//! The scenarios, each run the same way on ward and on the baseline.

use crate::feed::mono_ns;
use crate::procfs;
use crate::sup::{Kind, Programs, Sup, kill};
use std::io;
use std::path::Path;
use std::time::Duration;

/// Sizes of a run.
#[derive(Clone, Debug)]
pub struct Sizes {
    /// Kills per restart measurement.
    pub kills: usize,
    /// Instances of the scale scenario.
    pub scale: usize,
    /// Instances killed at once in the storm.
    pub storm: usize,
    /// Length of the idle window.
    pub idle: Duration,
    /// Pause between two kills of the restart scenario.
    pub gap: Duration,
}

/// Restart latencies: of instances that ran a long time, and of ones killed
/// well within a second of their start.
#[derive(Clone, Debug, Default)]
pub struct Restart {
    /// Each kill of a long-running instance → its replacement's start.
    pub stable: Vec<Duration>,
    /// Each kill of a just-started instance → its replacement's start.
    pub fast: Vec<Duration>,
    /// CPU time of the supervisor's own processes over all these restarts
    /// (from just before the first kill until a second after the last).
    pub cpu: Duration,
    /// Ward only: the keeper's CPU time per restart with the brain stopped
    /// (`SIGSTOP`) while each long-running instance is killed once more: what
    /// a restart costs before anything is recorded, the floor of ward's
    /// split into a keeper and a brain.
    pub keeper_alone: Option<Duration>,
}

impl Restart {
    /// CPU time per restart.
    pub fn cpu_per_restart(&self) -> Option<Duration> {
        let n = self.stable.len() + self.fast.len();
        (n > 0).then(|| self.cpu / n as u32)
    }
}

/// The figures of the scale, idle, storm and status scenarios.
#[derive(Clone, Debug, Default)]
pub struct Scale {
    /// From starting the supervisor until every instance recorded its start.
    pub all_running: Duration,
    /// Resident memory of the supervisor's own processes.
    pub rss: u64,
    /// How many processes that is.
    pub processes: usize,
    /// Context switches per second of all its threads while idle.
    pub wakeups_per_s: f64,
    /// From the first kill until every killed instance started again.
    pub storm: Duration,
    /// The same for a storm of as many spread over the deployment (every
    /// `scale / storm`-th instance), after the first.
    pub storm_spread: Duration,
    /// `ward status --json`: median time (of 5) and output size.
    pub status: Option<(Duration, usize)>,
    /// CPU time of the supervisor's own processes from its start until every
    /// instance ran and two seconds passed.
    pub start_cpu: Duration,
    /// One `ward status --json` called right after a second storm was fired.
    pub storm_status: Option<StormStatus>,
    /// A follower of the event stream during one more storm.
    pub storm_events: Option<crate::stream::StormEvents>,
}

/// `ward status --json` answered while a storm is under way.
#[derive(Clone, Copy, Debug, Default)]
pub struct StormStatus {
    /// How long the call took.
    pub took: Duration,
    /// Its output's size.
    pub size: usize,
    /// From the kills until the last killed instance started again (after
    /// the answer: the keeper was still restarting, and the brain recording).
    pub storm: Duration,
}

/// How long after a scenario the supervisor is given to finish its
/// bookkeeping before its CPU time is read (an idle ward does not wake).
const SETTLE: Duration = Duration::from_secs(1);

fn timeout(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, format!("timed out waiting for {what}"))
}

fn ns(d: u64) -> Duration {
    Duration::from_nanos(d)
}

/// Kills replica `i` and waits for its replacement; returns the latency.
fn kill_and_wait(sup: &mut Sup, i: usize) -> io::Result<Duration> {
    let pid = sup.feed.pids.get(i).copied().flatten().ok_or_else(|| timeout("a pid"))?;
    let t = mono_ns();
    kill(pid, libc::SIGKILL);
    let s = sup.feed.next_of(i, pid, Duration::from_secs(10)).ok_or_else(|| timeout("a restart"))?;
    Ok(ns(s.ns.saturating_sub(t)))
}

/// Scenario 1 on `kind`.
pub fn restart(kind: Kind, p: &Programs, sizes: &Sizes, root: &Path) -> io::Result<Restart> {
    let mut sup = Sup::start(kind, p, sizes.kills, root, &format!("{kind:?}-restart"))?;
    let result = (|| {
        sup.feed
            .all_started(sizes.kills, 0, Duration::from_secs(60))
            .ok_or_else(|| timeout("all started"))?;
        std::thread::sleep(Duration::from_millis(1500)); // every instance has now run > 1 s
        let mut r = Restart::default();
        let cpu = procfs::cpu(&sup.own());
        for i in 0..sizes.kills {
            r.stable.push(kill_and_wait(&mut sup, i)?);
            std::thread::sleep(sizes.gap);
        }
        for _ in 0..sizes.kills {
            r.fast.push(kill_and_wait(&mut sup, 0)?);
            std::thread::sleep(sizes.gap);
        }
        std::thread::sleep(SETTLE);
        r.cpu = ns(procfs::cpu_between(&cpu, &procfs::cpu(&sup.own())));
        if kind == Kind::Ward {
            r.keeper_alone = keeper_alone(&mut sup, sizes)?;
        }
        Ok(r)
    })();
    sup.stop()?;
    result
}

/// Kills every long-running instance but the first once more, each after the
/// last one's replacement started, with ward's brain stopped; returns the
/// keeper's CPU time per restart (`None` without a brain to stop). The brain
/// is let go on again, and given time to record it all, whatever happens.
fn keeper_alone(sup: &mut Sup, sizes: &Sizes) -> io::Result<Option<Duration>> {
    let keeper = sup.pid();
    let Some(brain) = sup.own().into_iter().find(|&p| p != keeper) else { return Ok(None) };
    let n = sizes.kills.saturating_sub(1);
    if n == 0 {
        return Ok(None);
    }
    kill(brain, libc::SIGSTOP);
    let measured = (|| {
        let cpu = procfs::cpu(&[keeper]);
        for i in 1..=n {
            kill_and_wait(sup, i)?;
            std::thread::sleep(sizes.gap);
        }
        Ok(ns(procfs::cpu_between(&cpu, &procfs::cpu(&[keeper]))) / n as u32)
    })();
    kill(brain, libc::SIGCONT);
    std::thread::sleep(SETTLE);
    measured.map(Some)
}

/// Scenarios 2, 3 and 4 on `kind` (with, on ward, a second storm during
/// which `ward status --json` is timed), on one deployment of `sizes.scale` instances.
pub fn scale(kind: Kind, p: &Programs, sizes: &Sizes, root: &Path) -> io::Result<Scale> {
    let mut sup = Sup::start(kind, p, sizes.scale, root, &format!("{kind:?}-scale"))?;
    let result = (|| {
        let last = sup
            .feed
            .all_started(sizes.scale, 0, Duration::from_secs(600))
            .ok_or_else(|| timeout("every instance to start"))?;
        let mut s = Scale { all_running: ns(last.saturating_sub(sup.t0)), ..Scale::default() };
        std::thread::sleep(Duration::from_secs(2)); // let start-up work drain
        let own = sup.own();
        s.start_cpu = ns(procfs::cpu_between(&procfs::Cpu::default(), &procfs::cpu(&own)));
        s.processes = own.len();
        s.rss = procfs::rss_bytes(&own);
        let before = procfs::switches(&own);
        std::thread::sleep(sizes.idle);
        let after = procfs::switches(&sup.own());
        s.wakeups_per_s = procfs::switches_between(&before, &after) as f64 / sizes.idle.as_secs_f64();
        if kind == Kind::Ward {
            s.status = Some(status(&sup)?);
        }
        let storm = sizes.storm.min(sizes.scale);
        s.storm = fire_storm(&mut sup, storm, |_| Ok(()))?;
        if let Some(stride) = sizes.scale.checked_div(storm) {
            std::thread::sleep(SETTLE);
            let spread: Vec<usize> = (0..storm).map(|i| i * stride + stride / 2).collect();
            s.storm_spread = fire_storm_among(&mut sup, &spread)?;
        }
        if kind == Kind::Ward && storm > 0 {
            std::thread::sleep(SETTLE);
            let mut answer = None;
            let storm = fire_storm(&mut sup, storm, |sup| {
                let t = mono_ns();
                let out = sup.cli(&["status", "--json"])?;
                let took = ns(mono_ns() - t);
                if !out.status.success() {
                    let err = String::from_utf8_lossy(&out.stderr);
                    return Err(io::Error::other(format!("status in a storm failed: {err}")));
                }
                answer = Some((took, out.stdout.len()));
                Ok(())
            })?;
            s.storm_status = answer.map(|(took, size)| StormStatus { took, size, storm });
            std::thread::sleep(SETTLE);
            let n = sizes.storm.min(sizes.scale);
            let last = last_seq(&sup)?;
            s.storm_events = Some(crate::stream::storm_events(&mut sup, n, last)?);
        }
        Ok(s)
    })();
    sup.stop()?;
    result
}

/// SIGKILLs replicas `0..n` at once, runs `during` (while they come back),
/// and waits until all started again; returns how long that took from the kills.
fn fire_storm(sup: &mut Sup, n: usize, during: impl FnOnce(&Sup) -> io::Result<()>) -> io::Result<Duration> {
    let t = kill_oldest(sup, n);
    during(sup)?;
    let last = sup.feed.all_started(n, t, Duration::from_secs(120)).ok_or_else(|| timeout("the storm"))?;
    Ok(ns(last.saturating_sub(t)))
}

/// SIGKILLs the instances of replicas `0..n` at once; when (CLOCK_MONOTONIC ns).
pub fn kill_oldest(sup: &Sup, n: usize) -> u64 {
    let pids: Vec<u32> = (0..n).filter_map(|i| sup.feed.pids.get(i).copied().flatten()).collect();
    let t = mono_ns();
    for pid in pids {
        kill(pid, libc::SIGKILL);
    }
    t
}

/// Kills the instances of replicas `among` at once; how long until all started again.
fn fire_storm_among(sup: &mut Sup, among: &[usize]) -> io::Result<Duration> {
    let pids: Vec<u32> = among.iter().filter_map(|&i| sup.feed.pids.get(i).copied().flatten()).collect();
    let t = mono_ns();
    for pid in pids {
        kill(pid, libc::SIGKILL);
    }
    let last = sup
        .feed
        .all_started_among(among, t, Duration::from_secs(120))
        .ok_or_else(|| timeout("the spread storm"))?;
    Ok(ns(last.saturating_sub(t)))
}

/// The newest event's number (`ward events --json`, the history).
fn last_seq(sup: &Sup) -> io::Result<u64> {
    let out = sup.cli(&["events", "--json"])?;
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok());
    last.and_then(|v| v["seq"].as_u64()).ok_or_else(|| io::Error::other("no event history"))
}

/// Scenario 4: `ward status --json`, five times; the median time and the size.
fn status(sup: &Sup) -> io::Result<(Duration, usize)> {
    let mut runs = vec![];
    let mut size = 0;
    for _ in 0..5 {
        let t = mono_ns();
        let out = sup.cli(&["status", "--json"])?;
        runs.push(ns(mono_ns() - t));
        if !out.status.success() {
            return Err(io::Error::other(format!("status failed: {}", String::from_utf8_lossy(&out.stderr))));
        }
        size = out.stdout.len();
    }
    runs.sort();
    Ok((runs[runs.len() / 2], size))
}
