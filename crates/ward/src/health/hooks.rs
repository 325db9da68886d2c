//! Lifecycle hooks: `hooks.on_isolate`, `on_crashloop` and `on_shutdown` run
//! as commands in the spec file's folder, with `WARD_SERVICE`, `WARD_REPLICA`,
//! `WARD_PID`, `WARD_EXIT_CODE` and `WARD_EVENT` in their environment, killed
//! at `hooks.timeout`. Each runs in its own task: the supervisor never waits
//! for a hook, and a hook that fails is logged, nothing more.

use super::exec::{self, Cmd};
use std::path::PathBuf;
use ward_core::spec::HooksSpec;
use ward_core::{ExitStatus, InstanceId};

/// Which hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hook {
    /// `on_isolate`, on the `isolated` event.
    Isolate,
    /// `on_crashloop`, on the `crashloop` event.
    Crashloop,
    /// `on_shutdown`, when a panic shuts the service (or everything) down.
    Shutdown,
}

impl Hook {
    /// The value of `WARD_EVENT`.
    pub fn event(self) -> &'static str {
        match self {
            Hook::Isolate => "isolated",
            Hook::Crashloop => "crashloop",
            Hook::Shutdown => "shutdown",
        }
    }

    fn argv(self, hooks: &HooksSpec) -> Option<&Vec<String>> {
        match self {
            Hook::Isolate => hooks.on_isolate.as_ref(),
            Hook::Crashloop => hooks.on_crashloop.as_ref(),
            Hook::Shutdown => hooks.on_shutdown.as_ref(),
        }
    }
}

/// The instance a hook is about.
#[derive(Clone, Debug)]
pub struct Subject {
    /// Which instance.
    pub id: InstanceId,
    /// Its live process, or its last one.
    pub pid: Option<u32>,
    /// How its last process ended, if it did.
    pub exit: Option<ExitStatus>,
}

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
    let Some(argv) = hook.argv(hooks).cloned() else { return };
    let env = env(hook, subject);
    let (id, timeout) = (subject.id.clone(), hooks.timeout);
    tokio::spawn(async move {
        let cmd = Cmd { argv: &argv, env: &env, dir: &dir, timeout, show_output: true };
        match exec::run(&cmd).await {
            Ok(()) => tracing::info!("{id}: hook on_{} done", hook.event_key()),
            Err(e) => tracing::warn!("{id}: hook on_{} failed: {e}", hook.event_key()),
        }
    });
}

impl Hook {
    fn event_key(self) -> &'static str {
        match self {
            Hook::Isolate => "isolate",
            Hook::Crashloop => "crashloop",
            Hook::Shutdown => "shutdown",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_environment() {
        let id = InstanceId::new("web".parse().unwrap(), 2);
        let s = Subject { id: id.clone(), pid: Some(77), exit: Some(ExitStatus::Signal(9)) };
        let e = env(Hook::Isolate, &s);
        let get = |k: &str| e.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("WARD_SERVICE"), Some("web"));
        assert_eq!(get("WARD_REPLICA"), Some("2"));
        assert_eq!(get("WARD_PID"), Some("77"));
        assert_eq!(get("WARD_EXIT_CODE"), Some("137"));
        assert_eq!(get("WARD_EVENT"), Some("isolated"));
        let alive = Subject { id, pid: None, exit: None };
        assert_eq!(env(Hook::Crashloop, &alive)[3].1, "");
    }
}
