//! Prometheus metrics of the supervisor, served as text on `GET /metrics`.
//!
//! Counters and histograms are updated where things happen: the supervisor
//! hands every emitted event to [`Metrics::on_event`] and times each spawn
//! call with [`Metrics::observe_spawn`]; the store times its writes with
//! [`Metrics::observe_store_write`]. Instances by state are not kept as live
//! gauges (that would mean a decrement and an increment on every transition
//! of every instance); the API computes them at scrape time from the
//! supervisor's status and passes them to [`Metrics::render`].
//!
//! Everything is lock-free atomics or a short read lock, so recording costs
//! the supervisor a few nanoseconds and never waits for a scrape.

use prometheus_client::encoding::{EncodeLabelSet, text};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Duration;
use ward_core::ExitStatus;
use ward_core::event::EventKind;

/// The content type of [`Metrics::render`]'s output: the Prometheus text
/// format 0.0.4, which every scraper and `promtool check metrics` read.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Every state word an instance can be in, so that a state with no instance
/// is exported as 0 rather than missing.
pub const STATES: [&str; 12] = ward_core::instance::InstanceState::WORDS;

/// Label of the per-state gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: String,
}

/// Label of the per-event-kind counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

/// Labels of the exit counter: `how` is `code` or `signal` (or `unknown`,
/// for an adopted process), `value` the number.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ExitLabel {
    how: &'static str,
    value: i32,
}

/// The supervisor's metrics. Cheap to clone: every clone shares the same values.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    instances: Family<StateLabel, Gauge>,
    events: Family<KindLabel, Counter>,
    restarts: Counter,
    crashes: Counter,
    crash_loops: Counter,
    isolations: Counter,
    probe_failures: Counter,
    exits: Family<ExitLabel, Counter>,
    spawn_seconds: Histogram,
    store_write_seconds: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Fresh metrics, every counter at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("ward");
        let instances = Family::<StateLabel, Gauge>::default();
        registry.register("instances", "Instances by state, at the time of the scrape", instances.clone());
        for state in STATES {
            let _ = instances.get_or_create(&StateLabel { state: state.to_string() });
        }
        let events = Family::<KindLabel, Counter>::default();
        registry.register("events", "Lifecycle events emitted, by kind", events.clone());
        let counter = |registry: &mut Registry, name: &str, help: &str| {
            let c = Counter::default();
            registry.register(name, help, c.clone());
            c
        };
        let restarts = counter(&mut registry, "restarts", "Restarts admitted by the gate");
        let crashes = counter(&mut registry, "crashes", "Exits that were crashes (not exit code 0)");
        let crash_loops = counter(&mut registry, "crash_loops", "Times a gate tripped into crash-loop");
        let isolations = counter(&mut registry, "isolations", "Instances isolated by their panic policy");
        let probe_failures =
            counter(&mut registry, "probe_failures", "Failed liveness probes (health_failed)");
        let exits = Family::<ExitLabel, Counter>::default();
        registry.register("exits", "Process exits, by exit code or signal", exits.clone());
        // 25 µs … ~0.8 s: a fork+exec takes about 0.5 ms here.
        let spawn_seconds = Histogram::new(exponential_buckets(25e-6, 2.0, 16));
        registry.register("spawn_seconds", "Time of the runtime's spawn call", spawn_seconds.clone());
        // 10 µs … ~0.3 s: an fsync'd SQLite write takes milliseconds.
        let store_write_seconds = Histogram::new(exponential_buckets(10e-6, 2.0, 16));
        registry.register(
            "store_write_seconds",
            "Time of one durable store write",
            store_write_seconds.clone(),
        );
        let inner = Inner {
            registry,
            instances,
            events,
            restarts,
            crashes,
            crash_loops,
            isolations,
            probe_failures,
            exits,
            spawn_seconds,
            store_write_seconds,
        };
        Metrics { inner: Arc::new(inner) }
    }

    /// Counts one emitted event.
    pub fn on_event(&self, kind: &EventKind) {
        let m = &*self.inner;
        m.events.get_or_create(&KindLabel { kind: kind.name() }).inc();
        match kind {
            EventKind::Restarted { .. } => {
                m.restarts.inc();
            }
            EventKind::Crashloop { .. } => {
                m.crash_loops.inc();
            }
            EventKind::Isolated => {
                m.isolations.inc();
            }
            EventKind::HealthFailed { .. } => {
                m.probe_failures.inc();
            }
            EventKind::Exited { status, .. } => {
                let label = match *status {
                    ExitStatus::Code(c) => ExitLabel { how: "code", value: c },
                    ExitStatus::Signal(s) => ExitLabel { how: "signal", value: s },
                    ExitStatus::Unknown => ExitLabel { how: "unknown", value: 0 },
                };
                m.exits.get_or_create(&label).inc();
                if *status != ExitStatus::Code(0) {
                    m.crashes.inc();
                }
            }
            EventKind::Started { .. }
            | EventKind::Lost { .. }
            | EventKind::Ready
            | EventKind::Backoff { .. }
            | EventKind::Unblocked
            | EventKind::Shutdown
            | EventKind::Completed
            | EventKind::Stopped
            | EventKind::Adopted { .. }
            | EventKind::SpawnFailed { .. } => {}
            // `EventKind` is non-exhaustive: a newer kind counts only in `events`.
            _ => {}
        }
    }

    /// Records how long one spawn took (a call of the runtime's spawn, or a
    /// restart by the keeper under a standing order).
    pub fn observe_spawn(&self, d: Duration) {
        self.inner.spawn_seconds.observe(d.as_secs_f64());
    }

    /// Records how long one durable store write took.
    pub fn observe_store_write(&self, d: Duration) {
        self.inner.store_write_seconds.observe(d.as_secs_f64());
    }

    /// The text exposition, with the instance gauges set from `states` (the
    /// state word of every instance, as `status` reports it).
    pub fn render<'a>(&self, states: impl IntoIterator<Item = &'a str>) -> String {
        let m = &*self.inner;
        let mut counts: Vec<(String, i64)> = STATES.iter().map(|s| (s.to_string(), 0)).collect();
        for state in states {
            match counts.iter_mut().find(|(s, _)| s == state) {
                Some((_, n)) => *n += 1,
                None => counts.push((state.to_string(), 1)),
            }
        }
        for (state, n) in counts {
            m.instances.get_or_create(&StateLabel { state }).set(n);
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = text::encode(&mut out, &m.registry);
        to_prometheus_text(&out)
    }
}

/// Per-instance use from each instance's cgroup, in the Prometheus text
/// format: CPU seconds (a counter), memory bytes and OOM kills.
pub fn usage_text(instances: &[ward_supervisor::view::InstanceStatus]) -> String {
    let families = [
        ("ward_instance_cgroup_cpu_seconds_total", "counter", "CPU time of the instance's cgroup"),
        ("ward_instance_cgroup_memory_bytes", "gauge", "Memory charged to the instance's cgroup"),
        ("ward_instance_cgroup_oom_kills_total", "counter", "OOM kills in the instance's cgroup"),
    ];
    let mut out = String::new();
    for (n, (name, kind, help)) in families.iter().enumerate() {
        let rows: Vec<String> = instances
            .iter()
            .filter_map(|i| {
                let u = i.usage?;
                let value = match n {
                    0 => u.cpu_usec? as f64 / 1e6,
                    1 => u.memory_bytes? as f64,
                    _ => u.oom_kills? as f64,
                };
                Some(format!("{name}{{service=\"{}\",replica=\"{}\"}} {value}\n", i.service, i.replica))
            })
            .collect();
        if !rows.is_empty() {
            out.push_str(&format!("# HELP {name} {help}.\n# TYPE {name} {kind}\n"));
            rows.iter().for_each(|r| out.push_str(r));
        }
    }
    out
}

/// prometheus-client writes OpenMetrics, where a counter family `x` has the
/// sample `x_total`; the Prometheus text format names the family `x_total`
/// too and has no `# EOF`. Rewrites the one into the other.
fn to_prometheus_text(open_metrics: &str) -> String {
    let counters: Vec<&str> =
        open_metrics.lines().filter_map(|l| l.strip_prefix("# TYPE ")?.strip_suffix(" counter")).collect();
    let mut out = String::with_capacity(open_metrics.len() + 16 * counters.len());
    for line in open_metrics.lines() {
        if line == "# EOF" {
            continue;
        }
        let meta = ["# HELP ", "# TYPE "].into_iter().find(|p| line.starts_with(p));
        match meta.map(|p| (p, &line[p.len()..])) {
            Some((prefix, rest)) => {
                let name = rest.split(' ').next().unwrap_or("");
                out.push_str(prefix);
                out.push_str(name);
                if counters.contains(&name) {
                    out.push_str("_total");
                }
                out.push_str(&rest[name.len()..]);
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// What the supervisor tells its observer port: events and latencies go to
/// the metrics; bursts of work end with memory given back ([`Trimmer`]).
///
/// [`Trimmer`]: crate::memory::Trimmer
pub struct Observed {
    /// The metrics, shared with the API's `/metrics`.
    pub metrics: Metrics,
    /// Gives memory back after a burst.
    pub trimmer: crate::memory::Trimmer,
}

impl ward_supervisor::ports::observer::Observer for Observed {
    fn event(&mut self, kind: &EventKind) {
        self.metrics.on_event(kind);
    }
    fn spawn_took(&mut self, d: Duration) {
        self.metrics.observe_spawn(d);
    }
    fn commit_took(&mut self, d: Duration) {
        self.metrics.observe_store_write(d);
    }
    fn busy(&mut self, n: usize) {
        self.trimmer.note(n);
    }
    fn idle(&mut self) {
        self.trimmer.settled();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_core::time::MonoTime;

    #[test]
    fn events_feed_the_counters() {
        let m = Metrics::new();
        m.on_event(&EventKind::Exited { status: ExitStatus::Code(7), run_ms: 1 });
        m.on_event(&EventKind::Exited { status: ExitStatus::Code(0), run_ms: 1 });
        m.on_event(&EventKind::Exited { status: ExitStatus::Signal(9), run_ms: 1 });
        m.on_event(&EventKind::Restarted { restarts: 1 });
        m.on_event(&EventKind::Crashloop { until: MonoTime::ZERO });
        m.on_event(&EventKind::HealthFailed { reason: "timeout".into() });
        m.observe_spawn(Duration::from_micros(400));
        m.observe_store_write(Duration::from_micros(40));
        let out = m.render(["running", "running", "backoff"]);
        for line in [
            "ward_crashes_total 2",
            "ward_restarts_total 1",
            "ward_crash_loops_total 1",
            "ward_probe_failures_total 1",
            "ward_isolations_total 0",
            "ward_exits_total{how=\"code\",value=\"7\"} 1",
            "ward_exits_total{how=\"signal\",value=\"9\"} 1",
            "ward_instances{state=\"running\"} 2",
            "ward_instances{state=\"crashloop\"} 0",
            "ward_events_total{kind=\"exited\"} 3",
            "ward_spawn_seconds_count 1",
            "ward_store_write_seconds_count 1",
        ] {
            assert!(out.lines().any(|l| l == line), "missing {line:?} in:\n{out}");
        }
        assert!(out.contains("# TYPE ward_restarts_total counter\n"), "{out}");
        assert!(!out.contains("# EOF"));
    }
}
