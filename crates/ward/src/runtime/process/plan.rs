//! Everything a child needs, resolved from its launch before the fork: its
//! program and argv, user and group, environment, limits and log file.

use std::ffi::CString;
use std::fs::{self, OpenOptions};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::environment::{environment, path_var, resolve_program};
use super::identity::credentials;
use crate::runtime::spawn::{self, Plan};
use crate::runtime::users;
use crate::runtime::{Launch, SpawnError};

/// Resolves everything the child needs, before the fork.
pub(super) fn prepare(launch: &Launch) -> Result<Plan, SpawnError> {
    let first = launch.argv.first().ok_or_else(|| invalid("empty argv".into()))?;
    let mut creds = match &launch.user {
        None => None,
        Some(user) => Some(credentials(user)?),
    };
    if let Some(group) = &launch.process.group {
        let gid = users::lookup_group(group)?.ok_or_else(|| SpawnError::UnknownGroup(group.clone()))?;
        let euid = rustix::process::geteuid();
        if !euid.is_root() {
            return Err(SpawnError::NotRoot(format!("group {group}"), euid.as_raw()));
        }
        let creds = creds.get_or_insert_with(|| spawn::Creds {
            uid: euid.as_raw(),
            gid,
            groups: Vec::new(),
            name: String::new(),
            home: String::new(),
        });
        creds.gid = gid;
        if !creds.groups.contains(&gid) {
            creds.groups.push(gid);
        }
    }
    // As login does: the user's identity in the environment, unless the spec sets it.
    let mut env = Vec::new();
    if let (Some(c), Some(_)) = (&creds, &launch.user) {
        env.push(("HOME".to_string(), c.home.clone()));
        env.push(("USER".to_string(), c.name.clone()));
        env.push(("LOGNAME".to_string(), c.name.clone()));
    }
    env.extend(launch.env.iter().cloned());
    let rlimits = launch
        .process
        .limits
        .iter()
        .map(|(key, value)| {
            let resource = rlimit_resource(key).ok_or_else(|| invalid(format!("unknown limit {key:?}")))?;
            Ok((resource, value.unwrap_or(libc::RLIM_INFINITY)))
        })
        .collect::<io::Result<Vec<_>>>()?;
    let program = resolve_program(first, path_var(&launch.env).as_os_str()).ok_or_else(|| {
        SpawnError::Exec { program: first.clone(), source: io::Error::from_raw_os_error(libc::ENOENT) }
    })?;
    let argv = launch.argv.iter().map(|arg| c_string(arg.as_bytes())).collect::<io::Result<Vec<_>>>()?;
    let workdir = match &launch.workdir {
        Some(dir) => Some(c_string(dir.as_os_str().as_bytes())?),
        None => None,
    };
    let output = open_log(&launch.log)?;
    let stdin = spawn::dev_null()?;
    Ok(Plan {
        program: c_string(program.as_os_str().as_bytes())?,
        argv,
        envp: environment(&env)?,
        workdir,
        creds,
        stdin,
        output,
        cgroup_v2: None,
        cgroup_procs: Vec::new(),
        rlimits,
        umask: launch.process.umask,
        spare_group: false,
        exec_deadline: crate::runtime::reaper::exec_deadline(),
    })
}

/// The `RLIMIT_*` of a `limits:` key.
fn rlimit_resource(key: &str) -> Option<libc::__rlimit_resource_t> {
    use ward_core::spec::Rlimit as R;
    Some(match R::from_key(key)? {
        R::As => libc::RLIMIT_AS,
        R::Core => libc::RLIMIT_CORE,
        R::Cpu => libc::RLIMIT_CPU,
        R::Data => libc::RLIMIT_DATA,
        R::Fsize => libc::RLIMIT_FSIZE,
        R::Locks => libc::RLIMIT_LOCKS,
        R::Memlock => libc::RLIMIT_MEMLOCK,
        R::Msgqueue => libc::RLIMIT_MSGQUEUE,
        R::Nice => libc::RLIMIT_NICE,
        R::Nofile => libc::RLIMIT_NOFILE,
        R::Nproc => libc::RLIMIT_NPROC,
        R::Rss => libc::RLIMIT_RSS,
        R::Rtprio => libc::RLIMIT_RTPRIO,
        R::Sigpending => libc::RLIMIT_SIGPENDING,
        R::Stack => libc::RLIMIT_STACK,
    })
}

/// A C string, or an error naming the NUL byte it cannot hold.
pub(super) fn c_string(bytes: &[u8]) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| invalid(format!("NUL byte in {:?}", String::from_utf8_lossy(bytes))))
}

/// Opens (creating it and its directories if missing) the log file, for
/// appending.
fn open_log(path: &Path) -> Result<OwnedFd, SpawnError> {
    let open = || -> io::Result<OwnedFd> {
        let open = || {
            OpenOptions::new().append(true).create(true).mode(0o640).custom_flags(libc::O_CLOEXEC).open(path)
        };
        let file = match open() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // Its folder is made only when missing (not at every start).
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    fs::create_dir_all(dir)?;
                }
                open()?
            }
            other => other?,
        };
        Ok(file.into())
    };
    open().map_err(|source| SpawnError::Log { path: path.to_owned(), source })
}

/// An `InvalidInput` error.
pub(super) fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}
