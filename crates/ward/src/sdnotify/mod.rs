//! ward under systemd (`Type=notify`): ward itself speaks the sd_notify
//! protocol to the service manager that started `ward up`.
//!
//! `ward up` (the keeper, the unit's main process) takes `NOTIFY_SOCKET` and
//! `WATCHDOG_USEC` out of its environment, so that no service inherits them,
//! and hands them to the brain, which decides readiness. The brain sends
//! `READY=1` once no instance is still on its way up, `STATUS=` with a
//! one-line summary as states change, `WATCHDOG=1` each half period while its
//! supervisor answers, and `STOPPING=1` on the way down. The unit needs
//! `NotifyAccess=all`, since the brain is not the main process
//! (`ward export systemd` writes it so).
//!
//! - `client`: the datagram socket and the message format.
//! - `summary`: readiness and the status line, from the status table (pure).
//! - `notifier`: the brain's task that sends them.

pub mod client;
pub mod notifier;
pub mod summary;

/// The variable that carries systemd's notify socket from the keeper to the brain.
pub const BRAIN_SOCKET: &str = "WARD_SYSTEMD_NOTIFY_SOCKET";
/// The variable that carries systemd's watchdog period (µs) from the keeper to the brain.
pub const BRAIN_WATCHDOG: &str = "WARD_SYSTEMD_WATCHDOG_USEC";

/// Takes systemd's variables out of this process's environment and returns
/// them under the names the brain reads (empty when not under systemd).
///
/// Must run while the process has a single thread (it changes the environment).
pub fn take_from_environment() -> Vec<(String, String)> {
    let socket = std::env::var("NOTIFY_SOCKET").ok().filter(|s| !s.is_empty());
    let watchdog = std::env::var("WATCHDOG_USEC").ok();
    let watchdog_pid = std::env::var("WATCHDOG_PID").ok();
    for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
        // SAFETY: called before `ward up` starts any thread (see the doc above).
        unsafe { std::env::remove_var(name) };
    }
    let Some(socket) = socket else { return Vec::new() };
    let mut vars = vec![(BRAIN_SOCKET.to_string(), socket)];
    // The watchdog is ours when systemd names our pid, or names none.
    let ours = watchdog_pid.is_none_or(|p| p.trim() == std::process::id().to_string());
    if let Some(usec) = watchdog.filter(|w| ours && w.trim().parse::<u64>().is_ok_and(|n| n > 0)) {
        vars.push((BRAIN_WATCHDOG.to_string(), usec.trim().to_string()));
    }
    vars
}

/// The brain's settings: the socket and the watchdog period, when `ward up`
/// passed them; removes the variables so that hooks and probes do not see them.
///
/// Must run while the process has a single thread.
pub fn brain_settings() -> Option<(String, Option<std::time::Duration>)> {
    let socket = std::env::var(BRAIN_SOCKET).ok();
    let watchdog = std::env::var(BRAIN_WATCHDOG).ok().and_then(|w| w.parse::<u64>().ok());
    for name in [BRAIN_SOCKET, BRAIN_WATCHDOG] {
        // SAFETY: called at the brain's start, before its runtime starts threads.
        unsafe { std::env::remove_var(name) };
    }
    Some((socket?, watchdog.map(std::time::Duration::from_micros)))
}
