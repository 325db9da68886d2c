//! The ports: everything the supervisor needs from the world, as traits.
//!
//! - `runtime`: spawn, signal, exits (required).
//! - `store`: what survives a crash of the supervisor (required; in memory or durable).
//! - `health`: probes, readiness and hooks of live instances.
//! - `output`: where instances write, and the tail of a run for dossiers.
//! - `adopt`: processes that outlived a crash of the supervisor.
//! - `observer`: metrics.
//! - `usage`: what a runtime counts of an instance (its cgroup).
//!
//! Each optional port has a do-nothing implementation, gathered by
//! [`Ports::new`].

pub mod adopt;
pub mod health;
pub mod observer;
pub mod output;
pub mod runtime;
pub mod store;
pub mod usage;

/// The ports besides the runtime, as the supervisor holds them.
pub struct Ports {
    /// The store.
    pub store: Box<dyn store::Store>,
    /// Probes, readiness and hooks.
    pub health: Box<dyn health::Health>,
    /// Where instances write.
    pub output: Box<dyn output::Output>,
    /// Processes that outlived a crash.
    pub adopter: Box<dyn adopt::Adopt>,
    /// Metrics.
    pub observer: Box<dyn observer::Observer>,
}

impl Ports {
    /// `store`, and no health checks, no output, no adoption, no metrics.
    pub fn new(store: impl store::Store + 'static) -> Self {
        Ports {
            store: Box::new(store),
            health: Box::new(health::NoHealth::default()),
            output: Box::new(output::NoOutput),
            adopter: Box::new(adopt::NoAdoption),
            observer: Box::new(observer::NoObserver),
        }
    }

    /// These ports with `observer` instead (metrics, hook callbacks: see
    /// [`observer::OnHook`]).
    pub fn with_observer(mut self, observer: impl observer::Observer + 'static) -> Self {
        self.observer = Box::new(observer);
        self
    }

    /// These ports with `health` instead (probes, readiness, hook commands).
    pub fn with_health(mut self, health: impl health::Health + 'static) -> Self {
        self.health = Box::new(health);
        self
    }

    /// These ports with `output` instead (where instances write).
    pub fn with_output(mut self, output: impl output::Output + 'static) -> Self {
        self.output = Box::new(output);
        self
    }
}
