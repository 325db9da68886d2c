//! Probes: liveness (`health:`) and readiness (`ready:` with a check). Each
//! runs as a task per live process: after `grace`, one check every
//! `interval`, each bounded by `timeout`. Liveness reports a failure once
//! `failures` checks in a row failed, then ends; readiness reports the first
//! pass, then ends. The tasks only report; the supervisor decides.

use super::exec::{self, Cmd};
use super::http;
use std::path::PathBuf;
use std::time::Duration;
use tokio::time::MissedTickBehavior;
use ward_core::spec::{ProbeCheck, ProbeSpec};
use ward_supervisor::launch::template;

/// A probe with its `${NAME}` templates filled for one instance.
#[derive(Clone, Debug)]
pub struct Probe {
    /// What it checks, templated.
    pub spec: ProbeSpec,
    /// The instance's variables (exec probes get them in their environment).
    pub env: Vec<(String, String)>,
    /// Where exec probes run: the spec file's folder.
    pub dir: PathBuf,
}

impl Probe {
    /// `spec` for an instance whose variables are `vars`.
    pub fn new(spec: &ProbeSpec, vars: &[(String, String)], dir: PathBuf) -> Self {
        let check = match &spec.check {
            ProbeCheck::Exec(argv) => ProbeCheck::Exec(argv.iter().map(|a| template(a, vars)).collect()),
            ProbeCheck::Tcp(addr) => ProbeCheck::Tcp(template(addr, vars)),
            ProbeCheck::Http(url) => ProbeCheck::Http(template(url, vars)),
        };
        Probe { spec: ProbeSpec { check, ..spec.clone() }, env: vars.to_vec(), dir }
    }

    /// One check; `Ok` when it passed, else what it saw.
    pub async fn check(&self) -> Result<(), String> {
        let timeout = self.spec.timeout;
        match &self.spec.check {
            ProbeCheck::Exec(argv) => {
                let cmd = Cmd { argv, env: &self.env, dir: &self.dir, timeout, show_output: false };
                exec::run(&cmd).await.map_err(|e| format!("exec probe: {e}"))
            }
            ProbeCheck::Tcp(addr) => {
                match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err(format!("tcp {addr}: {e}")),
                    Err(_) => Err(format!(
                        "tcp {addr}: no connection within {}",
                        humantime::format_duration(timeout)
                    )),
                }
            }
            ProbeCheck::Http(url) => http::get(url, timeout).await,
        }
    }

    fn ticker(&self) -> tokio::time::Interval {
        let start = tokio::time::Instant::now() + self.spec.grace;
        let mut tick = tokio::time::interval_at(start, self.spec.interval.max(Duration::from_millis(10)));
        // A slow check delays the next one instead of bunching them up.
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        tick
    }

    /// Liveness: returns the reason once `failures` checks in a row failed.
    pub async fn until_failed(&self) -> String {
        let mut tick = self.ticker();
        let mut streak = Streak::new(self.spec.failures);
        loop {
            tick.tick().await;
            let result = self.check().await;
            if let Some(reason) = streak.record(result) {
                return reason;
            }
        }
    }

    /// Readiness: returns at the first pass.
    pub async fn until_passed(&self) {
        let mut tick = self.ticker();
        loop {
            tick.tick().await;
            match self.check().await {
                Ok(()) => return,
                Err(e) => tracing::debug!("readiness check: {e}"),
            }
        }
    }
}

/// Failures in a row against a threshold: the pure heart of liveness.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Streak {
    threshold: u32,
    failures: u32,
}

impl Streak {
    /// No failure yet; `threshold` (at least 1) failures in a row fail.
    pub fn new(threshold: u32) -> Self {
        Streak { threshold: threshold.max(1), failures: 0 }
    }

    /// Counts one check; returns the reason when the threshold is reached.
    /// A pass resets the count.
    pub fn record(&mut self, result: Result<(), String>) -> Option<String> {
        match result {
            Ok(()) => {
                self.failures = 0;
                None
            }
            Err(e) => {
                self.failures += 1;
                if self.failures < self.threshold {
                    tracing::debug!("health check failed ({}/{}): {e}", self.failures, self.threshold);
                    return None;
                }
                Some(format!("{e} ({} failures in a row)", self.failures))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streak_counts_failures_in_a_row() {
        let mut s = Streak::new(3);
        let bad = || Err("refused".to_string());
        assert_eq!(s.record(bad()), None);
        assert_eq!(s.record(bad()), None);
        assert_eq!(s.record(Ok(())), None, "a pass resets the count");
        assert_eq!(s.record(bad()), None);
        assert_eq!(s.record(bad()), None);
        assert_eq!(s.record(bad()), Some("refused (3 failures in a row)".into()));
        let mut one = Streak::new(0);
        assert!(one.record(bad()).is_some(), "a threshold of 0 acts as 1");
    }

    fn probe(check: ProbeCheck, failures: u32) -> Probe {
        let spec = ProbeSpec {
            check,
            interval: Duration::from_millis(20),
            timeout: Duration::from_millis(500),
            failures,
            grace: Duration::ZERO,
        };
        let vars = vec![("PORT".to_string(), "1".to_string())];
        Probe::new(&spec, &vars, PathBuf::from("/"))
    }

    #[test]
    fn templates_fill_the_probe() {
        let p = probe(ProbeCheck::Http("http://127.0.0.1:${PORT}/h".into()), 1);
        assert_eq!(p.spec.check, ProbeCheck::Http("http://127.0.0.1:1/h".into()));
        let p = probe(ProbeCheck::Exec(vec!["check".into(), "${PORT}".into()]), 1);
        assert_eq!(p.spec.check, ProbeCheck::Exec(vec!["check".into(), "1".into()]));
    }

    #[tokio::test]
    async fn tcp_and_exec_checks() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        assert_eq!(probe(ProbeCheck::Tcp(addr.clone()), 1).check().await, Ok(()));
        drop(listener);
        assert!(probe(ProbeCheck::Tcp(addr), 1).check().await.is_err());
        let env_seen = ProbeCheck::Exec(vec!["sh".into(), "-c".into(), "test $PORT = 1".into()]);
        assert_eq!(probe(env_seen, 1).check().await, Ok(()));
    }

    #[tokio::test]
    async fn liveness_fails_after_the_threshold_and_readiness_passes_once() {
        let failing = probe(ProbeCheck::Exec(vec!["false".into()]), 2);
        let reason = failing.until_failed().await;
        assert!(reason.contains("2 failures in a row"), "{reason}");
        let passing = probe(ProbeCheck::Exec(vec!["true".into()]), 2);
        tokio::time::timeout(Duration::from_secs(5), passing.until_passed()).await.unwrap();
    }
}
