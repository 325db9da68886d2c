//! Lifecycle hooks: `hooks.on_isolate`, `on_crashloop` and `on_shutdown` run
//! as commands in the spec file's folder, with `WARD_SERVICE`, `WARD_REPLICA`,
//! `WARD_PID`, `WARD_EXIT_CODE` and `WARD_EVENT` in their environment, killed
//! at `hooks.timeout`. Each runs in its own task: the supervisor never waits
//! for a hook, and a hook that fails is logged, nothing more.

use super::exec::{self, Cmd};
use std::path::PathBuf;
use ward_core::ExitStatus;
#[cfg(test)]
use ward_core::InstanceId;
use ward_core::spec::HooksSpec;

pub use ward_supervisor::ports::health::{Hook, Subject};

/// The environment a hook gets.
pub fn env(hook: Hook, s: &Subject) -> Vec<(String, String)> {
    let code = match s.exit {
        Some(ExitStatus::Code(c)) => c.to_string(),
        Some(ExitStatus::Signal(n)) => (128 + n).to_string(),
        Some(ExitStatus::Unknown) | None => String::new(),
    };
    vec![
        ("WARD_SERVICE".into(), s.id.service.to_string()),
        ("WARD_REPLICA".into(), s.id.replica.to_string()),
        ("WARD_PID".into(), s.pid.map(|p| p.to_string()).unwrap_or_default()),
        ("WARD_EXIT_CODE".into(), code),
        ("WARD_EVENT".into(), hook.event().into()),
    ]
}

/// Starts `hook` of `hooks` for `subject` in its own task, if it is set.
pub fn run(hook: Hook, hooks: &HooksSpec, subject: &Subject, dir: PathBuf) {
    let Some(argv) = argv(hook, hooks).cloned() else { return };
    let env = env(hook, subject);
    let (id, timeout) = (subject.id.clone(), hooks.timeout);
    tokio::spawn(async move {
        let cmd = Cmd { argv: &argv, env: &env, dir: &dir, timeout, show_output: true };
        match exec::run(&cmd).await {
            Ok(()) => tracing::info!("{id}: hook on_{} done", event_key(hook)),
            Err(e) => tracing::warn!("{id}: hook on_{} failed: {e}", event_key(hook)),
        }
    });
}

/// The hook's key after `on_` in the spec.
fn event_key(hook: Hook) -> &'static str {
    match hook {
        Hook::Isolate => "isolate",
        Hook::Crashloop => "crashloop",
        Hook::Shutdown => "shutdown",
        // `Hook` is non-exhaustive: a newer hook has no key in the spec yet.
        _ => "other",
    }
}

/// The command of `hook` in `hooks`, when set.
fn argv(hook: Hook, hooks: &HooksSpec) -> Option<&Vec<String>> {
    match hook {
        Hook::Isolate => hooks.on_isolate.as_ref(),
        Hook::Crashloop => hooks.on_crashloop.as_ref(),
        Hook::Shutdown => hooks.on_shutdown.as_ref(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_environment() {
        let id = InstanceId::new("web".parse().unwrap(), 2);
        let s = Subject { id: id.clone(), pid: Some(77), exit: Some(ExitStatus::Signal(9)), reason: None };
        let e = env(Hook::Isolate, &s);
        let get = |k: &str| e.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("WARD_SERVICE"), Some("web"));
        assert_eq!(get("WARD_REPLICA"), Some("2"));
        assert_eq!(get("WARD_PID"), Some("77"));
        assert_eq!(get("WARD_EXIT_CODE"), Some("137"));
        assert_eq!(get("WARD_EVENT"), Some("isolated"));
        let alive = Subject { id, pid: None, exit: None, reason: None };
        assert_eq!(env(Hook::Crashloop, &alive)[3].1, "");
    }
}
