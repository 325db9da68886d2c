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
//!
//! - `types`: [`RestartPolicy`], [`OnPanic`] ([`PanicAction`], [`PanicScope`]), [`ExitCodesSpec`].

mod types;

pub use types::{ExitCodesSpec, OnPanic, PanicAction, PanicScope, RestartPolicy};

use crate::exit::ExitStatus;

/// What an exit leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// The work is done: the instance is `completed` and stays down.
    Complete,
    /// A clean exit restarted under `always`: flat delay, not a crash.
    RestartClean,
    /// A crash restarted through the gate (backoff or crash-loop).
    RestartCrash,
    /// A crash that no policy restarts (`restart: never`): the instance is `failed`.
    GiveUp,
    /// An exit code listed in `exit_codes.no_restart`: `failed` at once, whatever the policies.
    NoRestart,
    /// The panic policy shuts down the service or everything.
    Shutdown(PanicScope),
    /// The panic policy isolates the instance; `replace` starts a replacement.
    Isolate {
        /// Start a replacement instance.
        replace: bool,
    },
}

/// True when `status` counts as a crash: anything but a success code
/// (`exit_codes.success`, default 0; 128+N there matches signal N).
pub fn is_crash(status: ExitStatus, codes: &ExitCodesSpec) -> bool {
    !matches_code(status, &codes.success)
}

fn matches_code(status: ExitStatus, codes: &[i32]) -> bool {
    match status {
        ExitStatus::Code(_) | ExitStatus::Signal(_) => codes.contains(&status.shell_code()),
        ExitStatus::Unknown => false,
    }
}

/// What an exit with `status` leads to under these policies.
pub fn decide(
    status: ExitStatus,
    restart: RestartPolicy,
    on_panic: OnPanic,
    codes: &ExitCodesSpec,
) -> Decision {
    if matches_code(status, &codes.no_restart) {
        return Decision::NoRestart;
    }
    if !is_crash(status, codes) {
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

    fn codes() -> ExitCodesSpec {
        ExitCodesSpec::default()
    }

    fn with(action: PanicAction, scope: PanicScope, replace: bool) -> OnPanic {
        OnPanic { action, scope, replace }
    }

    #[test]
    fn exit_zero_under_each_restart_policy() {
        let ok = ExitStatus::Code(0);
        assert_eq!(decide(ok, RestartPolicy::Always, RESTART, &codes()), Decision::RestartClean);
        assert_eq!(decide(ok, RestartPolicy::OnFailure, RESTART, &codes()), Decision::Complete);
        assert_eq!(decide(ok, RestartPolicy::Never, RESTART, &codes()), Decision::Complete);
        let iso = with(PanicAction::Isolate, PanicScope::Service, false);
        assert_eq!(decide(ok, RestartPolicy::OnFailure, iso, &codes()), Decision::Complete, "not a panic");
    }

    #[test]
    fn crashes_under_each_restart_policy() {
        for status in [ExitStatus::Code(1), ExitStatus::Signal(9), ExitStatus::Unknown] {
            assert_eq!(decide(status, RestartPolicy::Always, RESTART, &codes()), Decision::RestartCrash);
            assert_eq!(decide(status, RestartPolicy::OnFailure, RESTART, &codes()), Decision::RestartCrash);
            assert_eq!(decide(status, RestartPolicy::Never, RESTART, &codes()), Decision::GiveUp);
        }
    }

    #[test]
    fn shutdown_and_isolate_apply_whatever_the_restart_policy() {
        let all = with(PanicAction::Shutdown, PanicScope::All, false);
        let iso = with(PanicAction::Isolate, PanicScope::Service, true);
        for restart in [RestartPolicy::Always, RestartPolicy::OnFailure, RestartPolicy::Never] {
            assert_eq!(
                decide(ExitStatus::Code(3), restart, all, &codes()),
                Decision::Shutdown(PanicScope::All)
            );
            assert_eq!(
                decide(ExitStatus::Signal(11), restart, iso, &codes()),
                Decision::Isolate { replace: true }
            );
        }
    }

    #[test]
    fn exit_classes() {
        let codes = ExitCodesSpec { success: vec![0, 143], no_restart: vec![78] };
        let d = |st| decide(st, RestartPolicy::Always, RESTART, &codes);
        assert_eq!(d(ExitStatus::Code(143)), Decision::RestartClean);
        assert_eq!(d(ExitStatus::Signal(15)), Decision::RestartClean, "SIGTERM is 143");
        assert_eq!(d(ExitStatus::Code(78)), Decision::NoRestart);
        assert_eq!(d(ExitStatus::Code(1)), Decision::RestartCrash);
        assert_eq!(d(ExitStatus::Unknown), Decision::RestartCrash);
        let iso = with(PanicAction::Isolate, PanicScope::Service, false);
        assert_eq!(decide(ExitStatus::Code(78), RestartPolicy::Always, iso, &codes), Decision::NoRestart);
        assert_eq!(
            decide(ExitStatus::Code(143), RestartPolicy::OnFailure, RESTART, &codes),
            Decision::Complete
        );
    }
}
