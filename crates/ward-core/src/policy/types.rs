//! The policy types: which exits restart, what a failure does, which codes mean what.
//!
//! Plain data with the spec's defaults; the YAML spec (feature `spec`) fills
//! them from `restart:`, `on_panic:` and `exit_codes:`.

/// Which exit codes mean what, beyond "0 is success".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExitCodesSpec {
    /// Codes that count as a clean exit (default `[0]`); 128+N matches signal N.
    pub success: Vec<i32>,
    /// Codes that stop the instance at once, never restarted (e.g. 78, EX_CONFIG).
    pub no_restart: Vec<i32>,
}

impl Default for ExitCodesSpec {
    fn default() -> Self {
        ExitCodesSpec { success: vec![0], no_restart: Vec::new() }
    }
}

/// Which exits are restarted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RestartPolicy {
    /// Every exit restarts; exit 0 restarts without counting as a crash.
    Always,
    /// Only crashes (non-zero code, signal, unknown) restart; exit 0 completes (the default).
    #[default]
    OnFailure,
    /// Nothing restarts; exit 0 completes, a crash stops the instance.
    Never,
}

/// What the panic policy does with a failed instance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum PanicAction {
    /// Restart when the gate admits it (the default).
    #[default]
    Restart,
    /// Stop the service (or everything) and leave it down.
    Shutdown,
    /// Keep the instance out of rotation for debugging.
    Isolate,
}

/// How far a `shutdown` reaches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum PanicScope {
    /// Every replica of the failed service (the default).
    #[default]
    Service,
    /// The whole deployment; `ward up` exits with the failed instance's code.
    All,
}

/// The panic policy of a service; the default restarts through the gate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OnPanic {
    /// What to do.
    pub action: PanicAction,
    /// How far `shutdown` reaches (default `service`).
    pub scope: PanicScope,
    /// With `isolate`, start a replacement so capacity holds (default false).
    pub replace: bool,
}
