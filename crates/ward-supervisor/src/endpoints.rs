//! Endpoints: the instances of a service that are in rotation, and where
//! they listen. In rotation means running or ready, never isolated; when the
//! service declares `ready:`, only ready; and not after the process said
//! `STOPPING=1`. Addresses are `127.0.0.1:PORT` for each of the service's ports.

use super::Supervisor;
use super::requests::RequestError;
use crate::ports::runtime::Runtime;
use crate::view::{Endpoint, EndpointsReply};
use ward_core::instance::InstanceState;

/// True when an instance in `state` serves traffic; `needs_ready` when its
/// service declares readiness.
pub fn in_rotation(state: InstanceState, needs_ready: bool) -> bool {
    match state {
        InstanceState::Ready => true,
        InstanceState::Running => !needs_ready,
        InstanceState::Waiting
        | InstanceState::Starting
        | InstanceState::Stopping { .. }
        | InstanceState::Stopped
        | InstanceState::Backoff { .. }
        | InstanceState::CrashLoop { .. }
        | InstanceState::Isolated
        | InstanceState::Shutdown
        | InstanceState::Completed
        | InstanceState::Failed => false,
    }
}

impl<R: Runtime> Supervisor<R> {
    /// The in-rotation instances of `service`.
    pub(super) fn endpoints(&self, service: &str) -> Result<EndpointsReply, RequestError> {
        let Some((name, spec)) = self.deployment.spec().services.iter().find(|(k, _)| k.as_str() == service)
        else {
            return Err(RequestError::NotFound(format!("no service named {service}")));
        };
        let needs_ready = spec.ready.is_some();
        let endpoints = self
            .deployment
            .instances()
            .filter(|i| &i.id().service == name)
            .filter(|i| in_rotation(i.state(), needs_ready) && !self.health.stopping(i.id()))
            .map(|i| {
                let ports: std::collections::BTreeMap<String, u32> = spec
                    .ports
                    .iter()
                    .map(|(var, base)| (var.clone(), u32::from(*base) + i.id().replica))
                    .collect();
                Endpoint {
                    replica: i.id().replica,
                    state: i.state().word().to_string(),
                    pid: i.pid(),
                    addresses: ports.values().map(|p| format!("127.0.0.1:{p}")).collect(),
                    ports,
                }
            })
            .collect();
        Ok(EndpointsReply { service: service.to_string(), endpoints })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_core::MonoTime;

    #[test]
    fn rotation() {
        assert!(in_rotation(InstanceState::Ready, true));
        assert!(in_rotation(InstanceState::Ready, false));
        assert!(in_rotation(InstanceState::Running, false));
        assert!(!in_rotation(InstanceState::Running, true), "not ready yet");
        assert!(!in_rotation(InstanceState::Isolated, false));
        assert!(!in_rotation(InstanceState::Backoff { until: MonoTime::from_millis(1) }, false));
    }
}
