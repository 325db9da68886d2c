//! The child's environment (ward's own, with the launch's variables over
//! it) and where its program is found on `PATH`.

use std::borrow::Cow;
use std::ffi::{CStr, CString, OsStr, OsString};
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::plan::{c_string, invalid};

/// Where programs are looked up when neither ward nor the launch sets `PATH`.
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// The `PATH` the child will see: the launch's, else ward's, else a default.
pub(super) fn path_var(env: &[(String, String)]) -> std::ffi::OsString {
    match env.iter().rev().find(|(k, _)| k == "PATH") {
        Some((_, v)) => v.into(),
        None => std::env::var_os("PATH").unwrap_or_else(|| DEFAULT_PATH.into()),
    }
}

/// `program` itself when it holds a `/` (a relative one is then relative to
/// the workdir, as exec runs after chdir); else the first executable file
/// named `program` in a directory of `path`.
pub(super) fn resolve_program(program: &str, path: &OsStr) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    if program.is_empty() {
        return None;
    }
    path.as_bytes()
        .split(|&b| b == b':')
        .filter(|dir| !dir.is_empty())
        .map(|dir| Path::new(OsStr::from_bytes(dir)).join(program))
        .find(|candidate| {
            fs::metadata(candidate).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Ward's environment with `overrides` replacing or adding variables, as
/// `NAME=value` strings.
pub(super) fn environment(overrides: &[(String, String)]) -> io::Result<Vec<Cow<'static, CStr>>> {
    if let Some((bad, _)) = overrides.iter().find(|(k, _)| k.is_empty() || k.contains('=')) {
        return Err(invalid(format!("bad environment variable name {bad:?}")));
    }
    let inherited = inherited()
        .iter()
        .filter(|(k, _)| !overrides.iter().any(|(o, _)| k.as_bytes() == o.as_bytes()))
        .map(|(_, pair)| Cow::Borrowed(pair.as_c_str()));
    let mut envp: Vec<Cow<'static, CStr>> = inherited.collect();
    for (i, (key, value)) in overrides.iter().enumerate() {
        // A later duplicate wins, as it would in a shell.
        if overrides[i + 1..].iter().all(|(k, _)| k != key) {
            envp.push(Cow::Owned(pair(key.as_bytes(), value.as_bytes())?));
        }
    }
    Ok(envp)
}

/// Ward's own environment as its children inherit it (name, `NAME=value`),
/// read at the first spawn: ward changes it only before it starts spawning,
/// except for the `up -d` handshake's variable, which no child gets.
fn inherited() -> &'static [(OsString, CString)] {
    static INHERITED: OnceLock<Vec<(OsString, CString)>> = OnceLock::new();
    INHERITED.get_or_init(|| {
        std::env::vars_os()
            .filter(|(k, _)| k != crate::handshake::READY_FD)
            .filter_map(|(k, v)| Some((k.clone(), pair(k.as_bytes(), v.as_bytes()).ok()?)))
            .collect()
    })
}

/// `key=value` as a C string.
fn pair(key: &[u8], value: &[u8]) -> io::Result<CString> {
    let mut bytes = Vec::with_capacity(key.len() + 1 + value.len());
    bytes.extend_from_slice(key);
    bytes.push(b'=');
    bytes.extend_from_slice(value);
    c_string(&bytes)
}
