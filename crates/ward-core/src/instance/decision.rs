//! The reasons of decisions, in words, made where the decision is taken:
//! what an exit meant under the instance's policies, and what the gate did.
//! The shell shows them (`why`, crash dossiers) and never derives them again.

use super::InstancePolicy;
use crate::exit::ExitStatus;
use crate::gate::GateState;
use crate::policy::{Decision, PanicScope, RestartPolicy};
use crate::time::MonoTime;

/// Why an exit with `status` led to `decision` under `policy`.
pub(super) fn of_exit(status: ExitStatus, decision: Decision, policy: &InstancePolicy) -> String {
    let what = match status {
        ExitStatus::Code(c) => format!("exit code {c}"),
        ExitStatus::Signal(s) => format!("signal {} ({})", crate::exit::signal_name(s), status.shell_code()),
        ExitStatus::Unknown => "an exit of unknown status".to_string(),
    };
    let restart = restart_word(policy.restart);
    match decision {
        Decision::Complete => format!("{what} is a clean exit, and `restart: {restart}` does not restart it"),
        Decision::RestartClean => format!("{what} is a clean exit, and `restart: always` restarts it"),
        Decision::RestartCrash => format!("{what} is a crash, and `on_panic: restart` restarts it"),
        Decision::GiveUp => format!("{what} is a crash, and `restart: never` does not restart it"),
        Decision::NoRestart => format!("{what} is listed in exit_codes.no_restart: no restart"),
        Decision::Shutdown(PanicScope::All) => {
            format!("{what} is a crash, and `on_panic: shutdown` (scope: all) stops everything")
        }
        Decision::Shutdown(_) => format!("{what} is a crash, and `on_panic: shutdown` stops its service"),
        Decision::Isolate { replace } => format!(
            "{what} is a crash, and `on_panic: isolate` keeps it out of rotation{}",
            if replace { ", with a replacement" } else { "" }
        ),
    }
}

/// What the gate did with a restart at `now`: appended to the reason.
pub(super) fn of_gate(gate: GateState, now: MonoTime, threshold: u32) -> String {
    match gate {
        GateState::Idle => "; restarted at once".to_string(),
        GateState::BackingOff { until } if until <= now => "; restarted at once".to_string(),
        GateState::BackingOff { until } => {
            format!("; the gate holds the restart for {} (backoff)", seconds(until, now))
        }
        GateState::CrashLoop { until } => format!(
            "; {threshold} crashes inside the crash-loop window tripped the gate: no restart for {}",
            seconds(until, now)
        ),
    }
}

fn seconds(until: MonoTime, now: MonoTime) -> String {
    format!("{:.1}s", until.saturating_since(now).as_millis() as f64 / 1000.0)
}

fn restart_word(r: RestartPolicy) -> &'static str {
    match r {
        RestartPolicy::Always => "always",
        RestartPolicy::OnFailure => "on-failure",
        RestartPolicy::Never => "never",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_in_no_restart_is_named_as_such() {
        let spec = crate::spec::parse(
            "version: 1\nservices:\n  a:\n    command: [x]\n    exit_codes: { no_restart: [143] }\n",
            "t.yaml",
        )
        .unwrap();
        let policy = InstancePolicy::of(spec.services.values().next().unwrap());
        let why = of_exit(ExitStatus::Signal(15), Decision::NoRestart, &policy);
        assert_eq!(why, "signal SIGTERM (143) is listed in exit_codes.no_restart: no restart");
    }

    #[test]
    fn the_gate_says_how_long() {
        let now = MonoTime::from_millis(1000);
        let until = MonoTime::from_millis(3500);
        assert_eq!(
            of_gate(GateState::BackingOff { until }, now, 5),
            "; the gate holds the restart for 2.5s (backoff)"
        );
        assert!(of_gate(GateState::CrashLoop { until }, now, 5).starts_with("; 5 crashes inside"));
    }
}
