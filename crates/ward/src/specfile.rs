//! Reading a spec file the way ward-core parses it: the shell reads the
//! file, ward's environment, `.env` beside the spec and every `env_file` it
//! names, and hands them to the pure parser (which opens nothing itself).
//!
//! The variables of `${VAR}` come from ward's environment over `.env`;
//! `ward reload` and a restarted brain read the files again, with the
//! environment that `ward up` was started with.

use std::collections::BTreeMap;
use std::path::Path;
use ward_core::spec::{EnvFileText, Spec, SpecErrors, SpecInputs};

/// Why a spec file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SpecFileError {
    /// The file itself cannot be read.
    #[error("cannot read spec {file}: {source}")]
    Unreadable {
        /// The spec file.
        file: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// It does not parse or validate: every error, positioned.
    #[error("{0}")]
    Invalid(SpecErrors),
}

/// Reads and parses the spec file at `spec`: its text and the spec.
pub fn read(spec: &Path) -> Result<(String, Spec), SpecFileError> {
    let file = spec.display().to_string();
    let text = std::fs::read_to_string(spec).map_err(|source| SpecFileError::Unreadable { file, source })?;
    let parsed = parse(&text, spec).map_err(SpecFileError::Invalid)?;
    Ok((text, parsed))
}

/// Parses `text` as the spec file at `spec` (whose folder holds `.env` and
/// the env files), with ward's environment.
pub fn parse(text: &str, spec: &Path) -> Result<Spec, SpecErrors> {
    let dir = spec.parent().unwrap_or(Path::new("/"));
    let mut inputs = SpecInputs {
        environment: environment(),
        dotenv: read_if_present(&dir.join(".env")),
        env_files: BTreeMap::new(),
    };
    for name in ward_core::spec::env_file_paths(text, &inputs) {
        let path = dir.join(&name);
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string());
        inputs.env_files.insert(name, EnvFileText { name: path.display().to_string(), text });
    }
    ward_core::spec::parse_with(text, &spec.display().to_string(), &inputs)
}

/// ward's environment: the variables whose name and value are UTF-8.
fn environment() -> BTreeMap<String, String> {
    std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect()
}

/// `.env`, when it exists (a `.env` that exists but cannot be read is an error).
fn read_if_present(path: &Path) -> Option<EnvFileText> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => Err(e.to_string()),
    };
    Some(EnvFileText { name: path.display().to_string(), text })
}

/// Reads and parses the spec file: its text and the spec, or every message
/// that says why it cannot be used (each error with file:line:col, then a count).
pub fn read_for_people(path: &std::path::Path) -> Result<(String, ward_core::spec::Spec), String> {
    let name = path.display().to_string();
    match read(path) {
        Ok(read) => Ok(read),
        Err(SpecFileError::Invalid(errors)) => {
            let n = errors.0.len();
            Err(format!("{errors}\nward: {name}: {n} error{}", if n == 1 { "" } else { "s" }))
        }
        Err(e) => Err(format!("ward: {e}")),
    }
}
