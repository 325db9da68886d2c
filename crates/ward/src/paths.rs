//! Where things live: the spec file, the state folder (`.ward/` beside the
//! spec unless `--state-dir`/`WARD_STATE_DIR`), and in it the control socket
//! `ward.sock`, the keeper's socket `keeper.sock`, the store `ward.db`, the lock `ward.lock`, the log of a detached ward `ward.log`,
//! and service output under `logs/`.

use std::path::{Path, PathBuf};

/// The resolved locations of one deployment.
#[derive(Clone, Debug)]
pub struct Paths {
    /// The spec file, absolute.
    pub spec: PathBuf,
    /// The state folder, absolute.
    pub state: PathBuf,
    /// The control socket.
    pub socket: PathBuf,
}

impl Paths {
    /// Resolves the rule: `state_dir` or `<spec dir>/.ward`; `socket` or `<state>/ward.sock`.
    pub fn resolve(spec: &Path, state_dir: Option<&Path>, socket: Option<&Path>) -> Paths {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        let spec = absolute(&cwd, spec);
        let state = match state_dir {
            Some(s) => absolute(&cwd, s),
            None => spec.parent().unwrap_or(Path::new("/")).join(".ward"),
        };
        let socket = socket.map(|s| absolute(&cwd, s)).unwrap_or_else(|| state.join("ward.sock"));
        Paths { spec, state, socket }
    }

    /// The lock file held by the running supervisor.
    pub fn lock(&self) -> PathBuf {
        self.state.join("ward.lock")
    }

    /// The keeper's socket, where the brain attaches.
    pub fn keeper_socket(&self) -> PathBuf {
        self.state.join("keeper.sock")
    }

    /// The store (SQLite).
    pub fn store(&self) -> PathBuf {
        self.state.join("ward.db")
    }

    /// Service output files.
    pub fn logs(&self) -> PathBuf {
        self.state.join("logs")
    }

    /// The log of a detached supervisor.
    pub fn daemon_log(&self) -> PathBuf {
        self.state.join("ward.log")
    }
}

fn absolute(cwd: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() { p.to_path_buf() } else { cwd.join(p) }
}
