//! Restart and panic policies, combined: what an exit means and what comes next.
//!
//! | exit            | `always`                 | `on-failure`        | `never`             |
//! |-----------------|--------------------------|---------------------|---------------------|
//! | code 0          | restart, not a crash     | completed           | completed           |
//! | crash (≠0, signal, unknown) | panic policy | panic policy        | panic policy, but `restart` gives up (failed) |
//!
//! The panic policy of a crash: `restart` goes through the gate, `shutdown`
//! stops the service (or everything, with `scope: all`), `isolate` keeps the
//! instance out of rotation for debugging.

use crate::exit::ExitStatus;
use crate::spec::{OnPanic, PanicAction, PanicScope, RestartPolicy};

/// What an exit leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The work is done: the instance is `completed` and stays down.
    Complete,
    /// A clean exit restarted under `always`: flat delay, not a crash.
    RestartClean,
    /// A crash restarted through the gate (backoff or crash-loop).
    RestartCrash,
    /// A crash that no policy restarts (`restart: never`): the instance is `failed`.
    GiveUp,
    /// The panic policy shuts down the service or everything.
    Shutdown(PanicScope),
    /// The panic policy isolates the instance; `replace` starts a replacement.
    Isolate {
        /// Start a replacement instance.
        replace: bool,
    },
}

/// True when `status` counts as a crash: anything but exit code 0.
pub fn is_crash(status: ExitStatus) -> bool {
    !status.is_success()
}

/// What an exit with `status` leads to under these policies.
pub fn decide(status: ExitStatus, restart: RestartPolicy, on_panic: OnPanic) -> Decision {
    if !is_crash(status) {
        return match restart {
            RestartPolicy::Always => Decision::RestartClean,
            RestartPolicy::OnFailure | RestartPolicy::Never => Decision::Complete,
        };
    }
    panic_decision(restart, on_panic)
}

/// What a failure (a crash, or a failed health check) leads to under these policies.
pub fn panic_decision(restart: RestartPolicy, on_panic: OnPanic) -> Decision {
    match on_panic.action {
        PanicAction::Restart if restart == RestartPolicy::Never => Decision::GiveUp,
        PanicAction::Restart => Decision::RestartCrash,
        PanicAction::Shutdown => Decision::Shutdown(on_panic.scope),
        PanicAction::Isolate => Decision::Isolate { replace: on_panic.replace },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESTART: OnPanic =
        OnPanic { action: PanicAction::Restart, scope: PanicScope::Service, replace: false };

    fn with(action: PanicAction, scope: PanicScope, replace: bool) -> OnPanic {
        OnPanic { action, scope, replace }
    }

    #[test]
    fn exit_zero_under_each_restart_policy() {
        let ok = ExitStatus::Code(0);
        assert_eq!(decide(ok, RestartPolicy::Always, RESTART), Decision::RestartClean);
        assert_eq!(decide(ok, RestartPolicy::OnFailure, RESTART), Decision::Complete);
        assert_eq!(decide(ok, RestartPolicy::Never, RESTART), Decision::Complete);
        let iso = with(PanicAction::Isolate, PanicScope::Service, false);
        assert_eq!(decide(ok, RestartPolicy::OnFailure, iso), Decision::Complete, "not a panic");
    }

    #[test]
    fn crashes_under_each_restart_policy() {
        for status in [ExitStatus::Code(1), ExitStatus::Signal(9), ExitStatus::Unknown] {
            assert_eq!(decide(status, RestartPolicy::Always, RESTART), Decision::RestartCrash);
            assert_eq!(decide(status, RestartPolicy::OnFailure, RESTART), Decision::RestartCrash);
            assert_eq!(decide(status, RestartPolicy::Never, RESTART), Decision::GiveUp);
        }
    }

    #[test]
    fn shutdown_and_isolate_apply_whatever_the_restart_policy() {
        let all = with(PanicAction::Shutdown, PanicScope::All, false);
        let iso = with(PanicAction::Isolate, PanicScope::Service, true);
        for restart in [RestartPolicy::Always, RestartPolicy::OnFailure, RestartPolicy::Never] {
            assert_eq!(decide(ExitStatus::Code(3), restart, all), Decision::Shutdown(PanicScope::All));
            assert_eq!(decide(ExitStatus::Signal(11), restart, iso), Decision::Isolate { replace: true });
        }
    }
}
