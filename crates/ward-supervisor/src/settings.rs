//! Where the supervisor's spec and state are, and who operates it.

use std::path::PathBuf;
use ward_core::spec::Spec;

/// Reads the spec again for a reload: its source text and the parsed spec,
/// or every error in words.
pub type SpecReader = Box<dyn FnMut() -> Result<(String, Spec), String> + Send>;

/// Where the supervisor's spec and state are, and who operates it.
pub struct Settings {
    /// The spec file's folder: relative paths of services start there.
    pub spec_dir: PathBuf,
    /// The state folder (containers' bundles go under `oci/` in it).
    pub state_dir: PathBuf,
    /// The spec's name in messages and in the store (its path).
    pub spec_label: String,
    /// Reads the spec again for a reload; `None`: reloads are refused.
    pub reader: Option<SpecReader>,
    /// The uid recorded as the author of an `unblock`.
    pub operator_uid: u32,
}

impl Settings {
    /// Settings for a spec whose relative paths start at `spec_dir`, with
    /// state under `state_dir`, no reload, operated by uid 0.
    pub fn new(spec_dir: impl Into<PathBuf>, state_dir: impl Into<PathBuf>) -> Self {
        Settings {
            spec_dir: spec_dir.into(),
            state_dir: state_dir.into(),
            spec_label: "the spec".into(),
            reader: None,
            operator_uid: 0,
        }
    }
}
