//! The gate's settings as plain data, with the defaults ward documents.
//!
//! These types do not depend on the YAML spec: a program that uses the gate
//! alone builds them in code. With the `spec` feature, the spec's
//! `BackoffSpec`, `CrashLoopSpec` and `ServiceSpec` convert into them.

use std::time::Duration;

/// The restart delay curve: `initial × factor^n`, capped at `max`, times a jitter factor.
///
/// The default is ward's: 500ms, ×2 per crash, capped at 60s, 10% jitter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BackoffConfig {
    /// First delay (default 500ms).
    pub initial: Duration,
    /// Growth per crash; values below 1 count as 1 (default 2.0).
    pub factor: f64,
    /// Cap before jitter (default 60s).
    pub max: Duration,
    /// Jitter fraction in `[0, 1)`: the caller's jitter factor is clamped to
    /// `[1 - jitter, 1 + jitter]` (default 0.1).
    pub jitter: f64,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            initial: Duration::from_millis(500),
            factor: 2.0,
            max: Duration::from_secs(60),
            jitter: 0.1,
        }
    }
}

/// The crash-loop rule: `threshold` crashes inside a rolling `window` block
/// restarts for `cooldown`.
///
/// The default is ward's: 5 crashes in 60s block for 5 minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrashLoopConfig {
    /// Crashes that trip the gate; 0 counts as 1 (default 5).
    pub threshold: u32,
    /// The rolling window (default 60s).
    pub window: Duration,
    /// How long a tripped gate blocks (default 5m).
    pub cooldown: Duration,
}

impl Default for CrashLoopConfig {
    fn default() -> Self {
        CrashLoopConfig { threshold: 5, window: Duration::from_secs(60), cooldown: Duration::from_secs(300) }
    }
}

/// Every setting of one gate.
///
/// ```
/// use std::time::Duration;
/// use ward_core::gate::{BackoffConfig, GateConfig};
///
/// let config = GateConfig {
///     backoff: BackoffConfig { initial: Duration::from_secs(1), ..BackoffConfig::default() },
///     stable_after: Duration::from_secs(30),
///     ..GateConfig::default()
/// };
/// assert_eq!(config.crash_loop.threshold, 5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GateConfig {
    /// The delay curve after a crash.
    pub backoff: BackoffConfig,
    /// When crashes come too often.
    pub crash_loop: CrashLoopConfig,
    /// A run at least this long resets the delay and the crash history (default 60s).
    pub stable_after: Duration,
    /// The curve of clean exits that are restarted (ward's `restart: always`);
    /// `None` (the default) waits a flat `backoff.initial`.
    pub success_backoff: Option<BackoffConfig>,
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            backoff: BackoffConfig::default(),
            crash_loop: CrashLoopConfig::default(),
            stable_after: Duration::from_secs(60),
            success_backoff: None,
        }
    }
}

#[cfg(feature = "spec")]
mod from_spec {
    use super::{BackoffConfig, CrashLoopConfig, GateConfig};
    use crate::spec::{BackoffSpec, CrashLoopSpec, ServiceSpec};

    impl From<BackoffSpec> for BackoffConfig {
        fn from(s: BackoffSpec) -> Self {
            BackoffConfig { initial: s.initial, factor: s.factor, max: s.max, jitter: s.jitter }
        }
    }

    impl From<CrashLoopSpec> for CrashLoopConfig {
        fn from(s: CrashLoopSpec) -> Self {
            CrashLoopConfig { threshold: s.threshold, window: s.window, cooldown: s.cooldown }
        }
    }

    impl From<&ServiceSpec> for GateConfig {
        fn from(s: &ServiceSpec) -> Self {
            GateConfig {
                backoff: s.backoff.into(),
                crash_loop: s.crash_loop.into(),
                stable_after: s.stable_after,
                success_backoff: s.success_backoff.map(Into::into),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = GateConfig::default();
        assert_eq!(c.backoff.initial, Duration::from_millis(500));
        assert_eq!(c.backoff.max, Duration::from_secs(60));
        assert_eq!(
            c.crash_loop,
            CrashLoopConfig {
                threshold: 5,
                window: Duration::from_secs(60),
                cooldown: Duration::from_secs(300)
            }
        );
        assert_eq!(c.stable_after, Duration::from_secs(60));
        assert_eq!(c.success_backoff, None);
    }

    /// The plain defaults and the spec's defaults must never drift apart.
    #[cfg(feature = "spec")]
    #[test]
    fn defaults_match_the_spec() {
        use crate::name::ServiceName;
        use crate::spec::ServiceSpec;
        let name = ServiceName::new("svc").expect("valid name");
        let spec = ServiceSpec::new(name, vec!["true".into()]);
        assert_eq!(GateConfig::from(&spec), GateConfig::default());
    }
}
