//! `ward why SERVICE[/N]`: one screen that explains an instance's state in
//! words and numbers — the rule that put it there, the crashes counted in the
//! window, the current and next delay, the time left, the last `unblock`,
//! and what the operator can do.

use super::Supervisor;
use super::requests::RequestError;
use crate::ports::runtime::Runtime;
use crate::view::{WhyInstance, WhyReply};
use std::fmt::Write;
use std::time::Duration;
use ward_core::Target;
use ward_core::instance::{Instance, InstanceState};
use ward_core::spec::ServiceSpec;

impl<R: Runtime> Supervisor<R> {
    /// Explains every instance of `target`.
    pub(super) fn why(&self, target: &str) -> Result<WhyReply, RequestError> {
        let t: Target = target.parse().map_err(|e| RequestError::Invalid(format!("{e}")))?;
        if self.deployment.service(&t.service).is_none() {
            return Err(RequestError::NotFound(format!("no service named {}", t.service)));
        }
        let instances: Vec<WhyInstance> = self
            .deployment
            .instances()
            .filter(|i| i.id().service == t.service && t.replica.is_none_or(|r| r == i.id().replica))
            .map(|i| self.explain(i))
            .collect();
        if instances.is_empty() {
            return Err(RequestError::NotFound(format!("no instance {t}")));
        }
        Ok(WhyReply { instances })
    }

    fn explain(&self, i: &Instance) -> WhyInstance {
        let now = self.clock.now();
        let id = i.id();
        let gate = i.gate();
        let spec = self.deployment.service(&id.service);
        let window = spec.map(|s| s.crash_loop.window).unwrap_or_default();
        let crashes = gate.crashes_in_window(now);
        let threshold = gate.threshold();
        let until = gate.state().until();
        let left = until.map(|u| u.saturating_since(now));
        let budget_position = self.deployment.budget().and_then(|b| b.position(id));
        let last_exit = i.last_exit().map(|e| e.to_string()).unwrap_or_else(|| "none yet".into());
        let unready = self.deployment.unmet_dependencies(&id.service);
        let (mut rule, can_do) = rule(i, budget_position, &last_exit, spec, &unready);
        if let Some(decided) = i.decision().filter(|_| decided_state(i.state())) {
            // What ward-core recorded when it decided, not derived again here.
            rule = decided.to_string();
        }
        let mut text = String::new();
        let _ = writeln!(text, "{id} is {}: {rule}", i.state().word());
        let _ = writeln!(text, "  last exit:     {last_exit}; restarts so far: {}", i.restarts());
        if let Some(u) = i.pid().and_then(|_| self.runtime.usage(id)) {
            let _ = writeln!(text, "  cgroup:        {}", crate::ports::usage::describe(&u));
        }
        let _ = writeln!(
            text,
            "  crash window:  {crashes} of {threshold} crashes in the last {} (the {} trips crash-loop)",
            short(window),
            ordinal(threshold)
        );
        let _ = writeln!(
            text,
            "  backoff:       next crash waits {}, the one after {}",
            short(gate.next_delay()),
            short(gate.delay_after_next())
        );
        if let Some(left) = left {
            let _ = writeln!(text, "  time left:     {} until the gate opens", short(left));
        }
        match self.unblocks.get(id) {
            Some((ms, uid)) => {
                let ago = Duration::from_millis(self.clock.wall_ms().saturating_sub(*ms));
                let _ = writeln!(text, "  last unblock:  {} ago, by uid {uid}", short(ago));
            }
            None => {
                let _ = writeln!(text, "  last unblock:  never");
            }
        }
        if let Some(pos) = budget_position {
            let _ = writeln!(text, "  restart budget: waiting, {} ahead in the queue", pos);
        }
        if let Some(reason) = self.lost.get(id) {
            let _ = writeln!(text, "  lost:          {reason} (its exit is unknown)");
        }
        let _ = writeln!(text, "  you can:       {can_do}");
        WhyInstance {
            service: id.service.to_string(),
            replica: id.replica,
            state: i.state().word().into(),
            rule,
            crashes,
            threshold,
            window_ms: window.as_millis() as u64,
            next_delay_ms: gate.next_delay().as_millis() as u64,
            delay_after_next_ms: gate.delay_after_next().as_millis() as u64,
            until_ms: until.map(|u| self.clock.wall_of(u)),
            left_ms: left.map(|d| d.as_millis() as u64),
            last_unblock_ms: self.unblocks.get(id).map(|(ms, _)| *ms),
            last_unblock_uid: self.unblocks.get(id).map(|(_, uid)| *uid),
            budget_position,
            text,
        }
    }
}

/// The rule that put the instance in its state, and what the operator can do;
/// `unready` says what its service waits for ("waits for db to be ready").
fn rule(
    i: &Instance,
    budget: Option<usize>,
    last_exit: &str,
    spec: Option<&ServiceSpec>,
    unready: &[String],
) -> (String, String) {
    let id = i.id();
    let no_restart = spec.map(|s| s.exit_codes.no_restart.clone());
    match i.state() {
        InstanceState::Backoff { .. } => (
            format!("it exited ({last_exit}) and the restart gate holds it for its backoff delay"),
            format!("wait, or `ward unblock {id}` to restart it now and reset its history"),
        ),
        InstanceState::CrashLoop { .. } => (
            format!(
                "its crashes reached the crash-loop threshold ({}) inside the window",
                i.gate().threshold()
            ),
            format!("fix the cause (`ward logs --previous {id}`), then `ward unblock {id}`"),
        ),
        InstanceState::Starting if budget.is_some() => (
            "its restart waits for a token of the node's restart budget".into(),
            "wait: waiting restarts are served first come, first served".into(),
        ),
        InstanceState::Waiting => waiting(id, spec.is_some_and(|s| s.binds_to), unready),
        InstanceState::Failed => {
            let code = i.last_exit().and_then(|e| match e {
                ward_core::ExitStatus::Code(c) => Some(c),
                _ => None,
            });
            let why = match (code, no_restart) {
                (Some(c), Some(list)) if list.contains(&c) => {
                    format!("exit code {c} is in exit_codes.no_restart")
                }
                _ if i.restarts() == 0 && i.last_exit().is_none() => "it could not be spawned".into(),
                _ => "it crashed and `restart: never` does not restart it".into(),
            };
            (why, format!("fix the cause, then `ward start {id}`"))
        }
        InstanceState::Isolated => (
            "on_panic: isolate (or `ward isolate`) took it out of rotation and keeps it for debugging".into(),
            format!("inspect it, then `ward stop {id}` or `ward start {id}`"),
        ),
        InstanceState::Shutdown => {
            ("on_panic: shutdown stopped it after a failure".into(), format!("`ward start {}`", id.service))
        }
        InstanceState::Completed => (
            "it exited cleanly and its restart policy does not restart it".into(),
            format!("`ward start {id}`"),
        ),
        InstanceState::Stopped => ("an operator or `down` stopped it".into(), format!("`ward start {id}`")),
        InstanceState::Stopping { .. } => (
            "it was asked to stop and has not exited yet (SIGKILL follows at the stop timeout)".into(),
            "wait".into(),
        ),
        InstanceState::Starting | InstanceState::Running | InstanceState::Ready => {
            ("it runs".into(), format!("`ward logs -f {id}`, `ward restart {id}`"))
        }
    }
}

/// States that a recorded decision explains (the others are explained by
/// what the instance waits for now).
fn decided_state(state: InstanceState) -> bool {
    matches!(
        state,
        InstanceState::Backoff { .. }
            | InstanceState::CrashLoop { .. }
            | InstanceState::Failed
            | InstanceState::Isolated
            | InstanceState::Shutdown
            | InstanceState::Completed
            | InstanceState::Stopped
    )
}

/// Why a waiting instance waits, and what can be done: with `binds_to` a
/// start does not hold while a dependency is down (it stops again at once).
/// `unready` holds a reason per unmet dependency, "waits for db to be ready".
fn waiting(id: &ward_core::InstanceId, binds_to: bool, unready: &[String]) -> (String, String) {
    let names: Vec<&str> =
        unready.iter().filter_map(|r| r.strip_prefix("waits for ")?.split(' ').next()).collect();
    let why_deps = match names.as_slice() {
        [one] => format!("`ward why {one}`"),
        _ => "`ward why` on its dependencies".into(),
    };
    let can_do = if binds_to {
        format!("{why_deps}; with `binds_to: true`, `ward start {id}` would stop it again at once")
    } else {
        format!("{why_deps}; `ward start {id}` starts it anyway")
    };
    let rule = if unready.is_empty() {
        "it waits for its dependencies; it starts when they are met".to_string()
    } else {
        format!("it {}; it starts when that holds", unready.join(", and "))
    };
    (rule, can_do)
}

/// A duration in at most two units: `4m12s`, `1.2s`, `350ms`.
pub fn short(d: Duration) -> String {
    let ms = d.as_millis() as u64;
    match ms {
        0..1_000 => format!("{ms}ms"),
        1_000..10_000 => format!("{:.1}s", ms as f64 / 1000.0),
        10_000..60_000 => format!("{}s", ms / 1000),
        60_000..3_600_000 => format!("{}m{}s", ms / 60_000, (ms / 1000) % 60),
        3_600_000..86_400_000 => format!("{}h{}m", ms / 3_600_000, (ms / 60_000) % 60),
        _ => format!("{}d{}h", ms / 86_400_000, (ms / 3_600_000) % 24),
    }
}

/// `1st`, `2nd`, `3rd`, `4th`, `11th`, `21st`…
fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn ordinals() {
        let got: Vec<String> =
            [1, 2, 3, 4, 11, 12, 13, 21, 22, 101].into_iter().map(super::ordinal).collect();
        assert_eq!(got, ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"]);
    }

    #[test]
    fn a_bound_waiting_instance_is_not_told_that_a_start_gets_it_going() {
        let id = ward_core::InstanceId::new(ward_core::ServiceName::new("api").unwrap(), 0);
        let (rule, can_do) = super::waiting(&id, false, &["waits for db to be ready".into()]);
        assert_eq!(rule, "it waits for db to be ready; it starts when that holds");
        assert_eq!(can_do, "`ward why db`; `ward start api/0` starts it anyway");
        let reasons = [
            "waits for db to be ready".into(),
            "waits for migrate to complete; migrate failed with code 3".into(),
        ];
        let (rule, can_do) = super::waiting(&id, true, &reasons);
        assert_eq!(
            rule,
            "it waits for db to be ready, and waits for migrate to complete; migrate failed with code 3; it starts when that holds"
        );
        assert_eq!(
            can_do,
            "`ward why` on its dependencies; with `binds_to: true`, `ward start api/0` would stop it again at once"
        );
    }
}
