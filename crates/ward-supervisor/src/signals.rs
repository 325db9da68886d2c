//! `ward signal`: an operator's signal to the live processes of a target,
//! through the runtime's signal path (the keeper; the process group, or the
//! container). Only live processes get it; the state machine learns what
//! follows (an exit, say) as it learns any other.

use super::Supervisor;
use super::requests::RequestError;
use crate::ports::runtime::Runtime;
use ward_core::Target;

/// The highest signal number on Linux (`SIGRTMAX`).
pub const MAX_SIGNAL: i32 = 64;

impl<R: Runtime> Supervisor<R> {
    /// Sends `signal` to every live process of `target`; says which got it.
    pub(super) fn operator_signal(&mut self, target: &str, signal: i32) -> Result<String, RequestError> {
        if !(1..=MAX_SIGNAL).contains(&signal) {
            return Err(RequestError::Invalid(format!(
                "signal {signal} is out of range, expected 1 to {MAX_SIGNAL}"
            )));
        }
        let t: Target = target.parse().map_err(|e| RequestError::Invalid(format!("{e}")))?;
        if !self.deployment.spec().services.contains_key(&t.service) {
            return Err(RequestError::NotFound(format!("no service named {}", t.service)));
        }
        let matching: Vec<_> = self
            .deployment
            .instances()
            .filter(|i| i.id().service == t.service && t.replica.is_none_or(|r| r == i.id().replica))
            .map(|i| (i.id().clone(), i.pid()))
            .collect();
        if matching.is_empty() {
            return Err(RequestError::NotFound(format!("no instance {t}")));
        }
        let name = ward_core::exit::signal_name(signal);
        let mut sent = vec![];
        for (id, pid) in matching {
            let Some(pid) = pid else { continue };
            match self.runtime.signal(&id, pid, signal) {
                Ok(()) => sent.push(format!("{id} (pid {pid})")),
                Err(e) => tracing::warn!("{id}: cannot send {name} to process group {pid}: {e}"),
            }
        }
        if sent.is_empty() {
            return Err(RequestError::Conflict(format!("{t} has no live process to signal")));
        }
        tracing::info!("operator sent {name} to {}", sent.join(", "));
        Ok(format!("sent {name} to {}", sent.join(", ")))
    }
}
