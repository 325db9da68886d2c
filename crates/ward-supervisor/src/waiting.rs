//! `GET /v1/wait`: whether a target (or every service) reached what `ward
//! wait` or `ward up --wait` waits for. ward-core's deployment decides
//! (`Deployment::wait_verdict`); this only names the instances.

use super::Supervisor;
use super::requests::RequestError;
use crate::ports::runtime::Runtime;
use crate::view::WaitReply;
use ward_core::Target;
use ward_core::deployment::{Verdict, WaitFor};
use ward_core::name::ServiceName;

impl<R: Runtime> Supervisor<R> {
    /// The verdict on `target` (every service when `None`) for `what`.
    pub(super) fn wait_verdict(
        &self,
        target: Option<&str>,
        what: WaitFor,
    ) -> Result<WaitReply, RequestError> {
        let targets: Vec<(ServiceName, Option<u32>)> = match target {
            Some(text) => {
                let t: Target = text.parse().map_err(|e| RequestError::Invalid(format!("{e}")))?;
                if self.deployment.service(&t.service).is_none() {
                    return Err(RequestError::NotFound(format!("no service named {}", t.service)));
                }
                vec![(t.service, t.replica)]
            }
            None => self.deployment.spec().services.keys().map(|s| (s.clone(), None)).collect(),
        };
        let mut reply =
            WaitReply { verdict: "holds".into(), instance: None, reason: None, pending: Vec::new() };
        for (service, replica) in &targets {
            let instances =
                self.deployment.of_service(service).filter(|i| replica.is_none_or(|r| r == i.id().replica));
            for i in instances {
                let id = i.id();
                match self.deployment.wait_verdict(service, Some(id.replica), what) {
                    Verdict::Holds => {}
                    Verdict::Pending => reply.pending.push(id.to_string()),
                    Verdict::Failed { instance, reason } => {
                        reply.verdict = "failed".into();
                        reply.instance = Some(instance.to_string());
                        reply.reason = Some(reason);
                        return Ok(reply);
                    }
                }
            }
        }
        if !reply.pending.is_empty() {
            reply.verdict = "pending".into();
        }
        Ok(reply)
    }
}
