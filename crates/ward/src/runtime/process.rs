//! The process runtime: each instance is a native process, forked and exec'd
//! by ward itself, leader of its own process group.
//!
//! `std::process::Command` is not used: it waits for a child whose exec
//! failed, which would race with the
//! [`Reaper`](super::reaper::Reaper), the only waiter in ward.
//! Here everything is prepared before the fork (argv, environment, the
//! program's path, the user's credentials, the log file), then
//! [`spawn::fork_child`] runs the child; exits come from the reaper.

use std::borrow::Cow;
use std::ffi::{CStr, CString, OsStr, OsString};
use std::fs::{self, OpenOptions};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::reaper::ReaperHandle;
use super::spawn::{self, Outcome, Plan};
use super::{Launch, Runtime, SpawnError};
use crate::cgroup::{Cgroups, Instance};
use ward_core::InstanceId;
use ward_core::spec::ResourcesSpec;

/// Where programs are looked up when neither ward nor the launch sets `PATH`.
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Runs instances as native processes.
#[derive(Debug)]
pub struct ProcessRuntime {
    reaper: ReaperHandle,
    /// The deployment's cgroups, or why there are none.
    cgroups: Result<Cgroups, String>,
}

/// A child forked by [`ProcessRuntime::fork`], whose exec is under way.
#[derive(Debug)]
pub struct Forked {
    child: spawn::Forked,
    /// Its start time, when the clock told it (see `birth`).
    start_time: Option<u64>,
    /// The length of its log file just before it was forked.
    log_len: u64,
}

impl Forked {
    /// The child's start time (clock ticks after boot, as `/proc/PID/stat`
    /// shows it), when known without reading it there.
    pub fn start_time(&self) -> Option<u64> {
        self.start_time
    }

    /// The length of the child's log file just before it was forked: where
    /// its output starts.
    pub fn log_len(&self) -> u64 {
        self.log_len
    }
}

/// A failed spawn, with the pid of the child when one was forked (it exits
/// with 127 and is reaped like any other).
#[derive(Debug)]
struct Failed {
    child: Option<u32>,
    error: SpawnError,
}

impl From<SpawnError> for Failed {
    fn from(error: SpawnError) -> Self {
        Failed { child: None, error }
    }
}

impl ProcessRuntime {
    /// A runtime whose children are reaped by `reaper` (woken after each
    /// fork); takes a [`ReaperHandle`], or the `Reaper` itself.
    pub fn new(reaper: impl Into<ReaperHandle>) -> Self {
        ProcessRuntime { reaper: reaper.into(), cgroups: Err("no cgroups set up in this process".into()) }
    }

    /// Puts each instance whose launch asks for it in a cgroup of its own
    /// below `cgroups` (or, with the reason there are none, runs without).
    pub fn set_cgroups(&mut self, cgroups: Result<Cgroups, String>) {
        self.cgroups = cgroups;
    }

    /// The deployment's cgroups, or why there are none.
    pub fn cgroups(&self) -> Result<&Cgroups, &str> {
        self.cgroups.as_ref().map_err(String::as_str)
    }

    /// Spawns `launch`; on failure, also says which child was forked.
    fn start(&self, launch: &Launch) -> Result<u32, Failed> {
        let forked = self.fork(launch).map_err(Failed::from)?;
        Self::finish(launch, forked)
    }

    /// Forks the process of `launch`, which goes on to exec; [`ProcessRuntime::finish`]
    /// waits for the exec. Forking several before finishing any lets them exec in parallel.
    pub fn fork(&self, launch: &Launch) -> Result<Forked, SpawnError> {
        self.fork_in(launch, None).map(|(forked, _)| forked)
    }

    /// [`ProcessRuntime::fork`], in the cgroup of the instance's last
    /// process when `last` gives it (its folders and the limits they were
    /// made for; see [`Cgroups::reuse`]); also returns the cgroup the child
    /// was placed in, if any.
    pub fn fork_in(
        &self,
        launch: &Launch,
        last: Option<(Instance, ResourcesSpec)>,
    ) -> Result<(Forked, Option<Instance>), SpawnError> {
        let mut plan = prepare(launch)?;
        let mut placed = None;
        if launch.process.cgroup {
            match &self.cgroups {
                Ok(cgroups) => {
                    let name = crate::cgroup::instance_name(&launch.id.to_string());
                    let resources = launch.process.resources();
                    let inst = match last {
                        Some((last, was)) => cgroups.reuse(&name, last, &was, &resources)?,
                        None => cgroups.create(&name, &resources)?,
                    };
                    plan.cgroup_v2 = inst.v2_files()?;
                    plan.cgroup_procs = inst.v1_procs_files()?;
                    placed = Some(inst);
                }
                Err(why) if launch.process.limited() => return Err(SpawnError::NoCgroups(why.clone())),
                Err(_) => {}
            }
        }
        // A process that may hand over keeps its group at its exit, when a cgroup holds it.
        plan.spare_group =
            launch.process.handover && (plan.cgroup_v2.is_some() || !plan.cgroup_procs.is_empty());
        let log_len = rustix::fs::fstat(&plan.output).map_or(0, |st| st.st_size.max(0) as u64);
        let birth = super::birth::Birth::begin();
        let child = spawn::fork_child(plan, &self.reaper)?;
        Ok((Forked { child, start_time: birth.start_time(), log_len }, placed))
    }

    /// Waits for the exec of a child from [`ProcessRuntime::fork`]: its pid once it runs the
    /// program. A child whose exec failed exits with 127 and is reaped as usual.
    pub fn finish_fork(launch: &Launch, forked: Forked) -> Result<u32, SpawnError> {
        Self::finish(launch, forked).map_err(|failed| failed.error)
    }

    fn finish(launch: &Launch, forked: Forked) -> Result<u32, Failed> {
        match forked.child.outcome().map_err(SpawnError::Os)? {
            Outcome::Started(pid) => {
                tracing::debug!(instance = %launch.id, pid, "spawned");
                Ok(pid)
            }
            Outcome::Failed { pid, errno } => Err(Failed {
                child: (pid != 0).then_some(pid),
                error: SpawnError::Exec {
                    program: launch.argv[0].clone(),
                    source: io::Error::from_raw_os_error(errno),
                },
            }),
        }
    }
}

impl ProcessRuntime {
    /// Sends `signal` to the process group led by `pid`, only while that
    /// leader is a child of ours not yet reaped (see `reaper::Shared`):
    /// a group already gone, or a number that is no longer ours, is left alone.
    pub fn signal_group(&mut self, pid: u32, signal: i32) -> io::Result<()> {
        if !self.reaper.signal_group(pid, signal)? {
            tracing::debug!(pid, signal, "not signalled: no unreaped child of ours leads that group");
        }
        Ok(())
    }
}

impl ProcessRuntime {
    /// Starts `launch`; returns once its exec succeeded or failed.
    pub fn spawn(&mut self, launch: &Launch) -> Result<u32, SpawnError> {
        self.start(launch).map_err(|failed| {
            if let Some(pid) = failed.child {
                tracing::debug!(instance = %launch.id, pid, error = %failed.error, "exec failed");
            }
            failed.error
        })
    }
}

impl Runtime for ProcessRuntime {
    type Error = SpawnError;

    fn start_time(&self, pid: u32) -> Option<u64> {
        crate::runtime::process::process_start_time(pid)
    }

    fn alive(&self, pid: u32) -> bool {
        crate::runtime::process::process_alive(pid)
    }
    fn request(&mut self, batch: Vec<(u64, Launch)>) -> Vec<(u64, Result<u32, SpawnError>)> {
        batch.into_iter().map(|(req, launch)| (req, self.spawn(&launch))).collect()
    }

    fn signal(&mut self, _id: &InstanceId, pid: u32, signal: i32) -> io::Result<()> {
        self.signal_group(pid, signal)
    }

    fn cleanup(&mut self, _id: &InstanceId, pid: u32) {
        // Whatever the leader left behind in its process group goes with it.
        let _ = self.signal_group(pid, libc::SIGKILL);
    }
}

/// The start time of `pid` (clock ticks after boot, field 22 of
/// `/proc/PID/stat`): with the pid, it tells a process from a later one that
/// reused its pid. `None` when the process is gone.
pub fn process_start_time(pid: u32) -> Option<u64> {
    crate::kfile::read(Path::new(&format!("/proc/{pid}/stat")), parse_start_time)
}

/// True while process `pid` exists and is not a zombie (a zombie has ended:
/// only its exit status waits to be collected).
pub fn process_alive(pid: u32) -> bool {
    let live = |stat: &str| stat.rfind(')').map(|i| !stat[i + 1..].trim_start().starts_with(['Z', 'X']));
    crate::kfile::read(Path::new(&format!("/proc/{pid}/stat")), live).unwrap_or(false)
}

/// Field 22 of a `/proc/PID/stat` line. The command name (field 2) may hold
/// spaces and `)`, so fields are counted from the last `)`, after which
/// field 3 comes.
fn parse_start_time(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(22 - 3)?.parse().ok()
}

/// Resolves everything the child needs, before the fork.
fn prepare(launch: &Launch) -> Result<Plan, SpawnError> {
    let first = launch.argv.first().ok_or_else(|| invalid("empty argv".into()))?;
    let mut creds = match &launch.user {
        None => None,
        Some(user) => Some(credentials(user)?),
    };
    if let Some(group) = &launch.process.group {
        let gid =
            super::users::lookup_group(group)?.ok_or_else(|| SpawnError::UnknownGroup(group.clone()))?;
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

/// The uid and primary gid of `user` (a name or uid), if it exists.
pub fn user_ids(user: &str) -> Option<(u32, u32)> {
    super::users::lookup_user(user).ok().flatten().map(|c| (c.uid, c.gid))
}

/// The uid, gid and groups of `user`; only root may switch users.
fn credentials(user: &str) -> Result<spawn::Creds, SpawnError> {
    let euid = rustix::process::geteuid();
    if !euid.is_root() {
        return Err(SpawnError::NotRoot(user.to_owned(), euid.as_raw()));
    }
    super::users::lookup_user(user)?.ok_or_else(|| SpawnError::UnknownUser(user.to_owned()))
}

/// The `PATH` the child will see: the launch's, else ward's, else a default.
fn path_var(env: &[(String, String)]) -> std::ffi::OsString {
    match env.iter().rev().find(|(k, _)| k == "PATH") {
        Some((_, v)) => v.into(),
        None => std::env::var_os("PATH").unwrap_or_else(|| DEFAULT_PATH.into()),
    }
}

/// `program` itself when it holds a `/` (a relative one is then relative to
/// the workdir, as exec runs after chdir); else the first executable file
/// named `program` in a directory of `path`.
fn resolve_program(program: &str, path: &OsStr) -> Option<PathBuf> {
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
fn environment(overrides: &[(String, String)]) -> io::Result<Vec<Cow<'static, CStr>>> {
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

/// A C string, or an error naming the NUL byte it cannot hold.
fn c_string(bytes: &[u8]) -> io::Result<CString> {
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
fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::reaper::testing::{TestReaper, shared};
    use ward_core::{ExitStatus, InstanceId, ServiceName};

    /// A scratch directory for one test, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("ward-process-{}-{name}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).expect("scratch dir");
            Scratch(dir)
        }
        fn log(&self) -> PathBuf {
            self.0.join("logs/out.log")
        }
        fn read_log(&self) -> String {
            fs::read_to_string(self.log()).expect("read log")
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn launch(argv: &[&str], scratch: &Scratch) -> Launch {
        Launch {
            id: InstanceId { service: ServiceName::new("test").expect("name"), replica: 0 },
            argv: argv.iter().map(|a| (*a).to_owned()).collect(),
            env: Vec::new(),
            workdir: None,
            user: None,
            log: scratch.log(),
            image: None,
            process: Default::default(),
        }
    }

    fn runtime() -> (ProcessRuntime, &'static TestReaper) {
        let shared = shared();
        (ProcessRuntime::new(shared.reaper.clone()), shared)
    }

    #[test]
    fn reports_the_exit_code() {
        let (mut rt, reaper) = runtime();
        let scratch = Scratch::new("code");
        let pid = rt.spawn(&launch(&["sh", "-c", "exit 3"], &scratch)).expect("spawn");
        assert_eq!(reaper.wait_for(pid), Some(ExitStatus::Code(3)));
    }

    #[test]
    fn kills_the_group_and_reports_the_signal() {
        let (mut rt, reaper) = runtime();
        let scratch = Scratch::new("kill");
        let pid = rt.spawn(&launch(&["sleep", "30"], &scratch)).expect("spawn");
        // SAFETY: getpgid takes a plain integer.
        let pgid = unsafe { libc::getpgid(pid as libc::pid_t) };
        rt.signal_group(pid, libc::SIGKILL).expect("kill");
        assert_eq!(pgid, pid as libc::pid_t, "leader of its own group");
        assert_eq!(reaper.wait_for(pid), Some(ExitStatus::Signal(libc::SIGKILL)));
        // The group is gone now: not an error.
        rt.signal_group(pid, libc::SIGKILL).expect("gone is fine");
    }

    #[test]
    fn never_signals_groups_zero_and_one() {
        let (rt, _) = runtime();
        for pid in [0, 1, u32::MAX] {
            assert!(!rt.reaper.signal_group(pid, 0).expect("refused quietly"), "{pid}");
        }
    }

    #[test]
    fn exec_failure_is_reported_and_the_child_reaped() {
        let (rt, reaper) = runtime();
        let scratch = Scratch::new("noexec");
        let failed = rt.start(&launch(&["/nonexistent/ward-test-program"], &scratch)).expect_err("must fail");
        let SpawnError::Exec { program, source } = failed.error else {
            panic!("wrong error: {:?}", failed.error);
        };
        assert_eq!(program, "/nonexistent/ward-test-program");
        assert_eq!(source.raw_os_error(), Some(libc::ENOENT));
        // posix_spawn reaps its failed child itself; a forked one is reaped by the reaper.
        if let Some(pid) = failed.child {
            assert_eq!(reaper.wait_for(pid), Some(ExitStatus::Code(127)));
            assert!(!Path::new(&format!("/proc/{pid}/status")).exists(), "no zombie");
        }
    }

    #[test]
    fn a_program_missing_from_path_fails_before_forking() {
        let (rt, _) = runtime();
        let scratch = Scratch::new("nopath");
        let failed = rt.start(&launch(&["ward-no-such-program"], &scratch)).expect_err("must fail");
        assert!(failed.child.is_none());
        assert!(
            matches!(failed.error, SpawnError::Exec { ref source, .. } if source.raw_os_error() == Some(libc::ENOENT))
        );
    }

    #[test]
    fn a_missing_workdir_is_an_exec_error() {
        let (mut rt, _) = runtime();
        let scratch = Scratch::new("nodir");
        let mut l = launch(&["true"], &scratch);
        l.workdir = Some(scratch.0.join("absent"));
        let err = rt.spawn(&l).expect_err("must fail");
        assert!(
            matches!(err, SpawnError::Exec { ref source, .. } if source.raw_os_error() == Some(libc::ENOENT))
        );
    }

    #[test]
    fn env_and_workdir_reach_the_child() {
        let (mut rt, reaper) = runtime();
        let scratch = Scratch::new("env");
        let mut l = launch(&["sh", "-c", "pwd; echo \"$FOO\"; echo \"$WARD_A\""], &scratch);
        l.workdir = Some(scratch.0.clone());
        l.env = vec![
            ("FOO".into(), "bar baz".into()),
            ("WARD_A".into(), "first".into()),
            ("WARD_A".into(), "second".into()),
        ];
        let pid = rt.spawn(&l).expect("spawn");
        assert_eq!(reaper.wait_for(pid), Some(ExitStatus::Code(0)));
        let dir = fs::canonicalize(&scratch.0).expect("canonical");
        assert_eq!(scratch.read_log(), format!("{}\nbar baz\nsecond\n", dir.display()));
    }

    #[test]
    fn stdout_and_stderr_go_to_the_log_and_stdin_is_empty() {
        let (mut rt, reaper) = runtime();
        let scratch = Scratch::new("output");
        fs::create_dir_all(scratch.log().parent().expect("parent")).expect("mkdir");
        fs::write(scratch.log(), "before\n").expect("seed log");
        let script = "echo out; echo err >&2; cat; echo end";
        let pid = rt.spawn(&launch(&["sh", "-c", script], &scratch)).expect("spawn");
        assert_eq!(reaper.wait_for(pid), Some(ExitStatus::Code(0)));
        assert_eq!(scratch.read_log(), "before\nout\nerr\nend\n");
    }

    #[test]
    fn signals_are_unblocked_and_default_in_the_child() {
        let (mut rt, reaper) = runtime();
        let scratch = Scratch::new("signals");
        let argv = ["grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"];
        let pid = rt.spawn(&launch(&argv, &scratch)).expect("spawn");
        assert_eq!(reaper.wait_for(pid), Some(ExitStatus::Code(0)));
        // posix_spawn leaves glibc's internal signals 32 and 33 ignored (see `vspawn`).
        let log = scratch.read_log();
        assert!(
            ["0000000000000000", "0000000180000000"]
                .iter()
                .any(|ign| log == format!("SigBlk:\t0000000000000000\nSigIgn:\t{ign}\n")),
            "{log}"
        );
    }

    #[test]
    fn a_new_log_is_created_0640() {
        let (mut rt, reaper) = runtime();
        let scratch = Scratch::new("mode");
        let pid = rt.spawn(&launch(&["true"], &scratch)).expect("spawn");
        assert_eq!(reaper.wait_for(pid), Some(ExitStatus::Code(0)));
        let mode = fs::metadata(scratch.log()).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777 & !0o640, 0, "at most 0640, got {mode:o}");
    }

    #[test]
    fn orphaned_grandchildren_are_reaped() {
        let (mut rt, reaper) = runtime();
        let scratch = Scratch::new("orphan");
        // In a session of its own, so that the kill of its parent's group spares it.
        // (The parent waits until it is: field 5 of /proc/PID/stat is the group.)
        let script = r#"setsid sleep 0.2 & p=$!
            while [ "$(cut -d' ' -f5 /proc/$p/stat)" != "$p" ]; do :; done; echo $p; exit 0"#;
        let l = launch(&["sh", "-c", script], &scratch);
        let pid = rt.spawn(&l).expect("spawn");
        assert_eq!(reaper.wait_for(pid), Some(ExitStatus::Code(0)));
        let grandchild: u32 = scratch.read_log().trim().parse().expect("grandchild pid");
        assert_eq!(reaper.wait_for(grandchild), Some(ExitStatus::Code(0)));
    }

    #[test]
    fn runs_as_another_user() {
        let (mut rt, reaper) = runtime();
        let scratch = Scratch::new("user");
        let mut l = launch(&["sh", "-c", "id -u; id -g"], &scratch);
        l.user = Some("nobody".into());
        let Ok(Some(creds)) = crate::runtime::users::lookup_user("nobody") else {
            return; // no such user on this system
        };
        match rt.spawn(&l) {
            Err(SpawnError::NotRoot(..)) => assert!(!rustix::process::geteuid().is_root()),
            Err(e) => panic!("spawn: {e}"),
            Ok(pid) => {
                assert_eq!(reaper.wait_for(pid), Some(ExitStatus::Code(0)));
                assert_eq!(scratch.read_log(), format!("{}\n{}\n", creds.uid, creds.gid));
            }
        }
        l.user = Some("ward-no-such-user".into());
        let err = rt.spawn(&l).expect_err("unknown user");
        assert!(matches!(err, SpawnError::UnknownUser(_) | SpawnError::NotRoot(..)), "{err}");
    }

    #[test]
    fn parses_the_start_time_after_the_last_paren() {
        let mut fields: Vec<String> = (3..=52).map(|n| n.to_string()).collect();
        fields[0] = "S".into();
        let stat = format!("42 (a) b) c) {}", fields.join(" "));
        assert_eq!(parse_start_time(&stat), Some(22));
        assert_eq!(parse_start_time("42 (no close"), None);
        assert!(process_start_time(std::process::id()).is_some());
        assert_eq!(process_start_time(u32::MAX), None);
    }

    /// Waits (bounded, on its pidfd) until `pid` has ended.
    fn gone_soon(pid: u32) -> bool {
        let Some(raw) = rustix::process::Pid::from_raw(pid as i32) else { return true };
        let Ok(fd) = rustix::process::pidfd_open(raw, rustix::process::PidfdFlags::empty()) else {
            return true; // ESRCH: gone already
        };
        let mut fds = [rustix::event::PollFd::new(&fd, rustix::event::PollFlags::IN)];
        let timeout = rustix::event::Timespec { tv_sec: 5, tv_nsec: 0 };
        matches!(rustix::event::poll(&mut fds, Some(&timeout)), Ok(n) if n > 0)
    }

    /// A script that starts `sleep 30` in a session of its own, waits until
    /// it is (field 5 of /proc/PID/stat is the group), prints its pid, exits.
    const STRANGER: &str = r#"setsid sleep 30 & p=$!
        while [ "$(cut -d' ' -f5 /proc/$p/stat)" != "$p" ]; do :; done; echo $p; exit 0"#;

    #[test]
    fn signals_reach_only_groups_whose_leader_is_an_unreaped_child() {
        let (mut rt, reaper) = runtime();
        let scratch = Scratch::new("stranger");
        // A group leader the runtime did not fork (as a stranger that reused a pid would be).
        let pid = rt.spawn(&launch(&["sh", "-c", STRANGER], &scratch)).expect("spawn");
        assert_eq!(reaper.wait_for(pid), Some(ExitStatus::Code(0)));
        let stranger: u32 = scratch.read_log().trim().parse().expect("the stranger's pid");
        rt.signal_group(stranger, libc::SIGKILL).expect("refused quietly");
        assert!(process_alive(stranger), "a group we did not fork is never signalled");
        // Once reaped, the leader's number is no longer ours.
        assert!(!rt.reaper.signal_group(pid, 0).expect("check"));
        // SAFETY: kill takes plain integers; `stranger` is the sleep started above.
        unsafe { libc::kill(stranger as libc::pid_t, libc::SIGKILL) };
        assert!(gone_soon(stranger));
    }

    #[test]
    fn what_a_leader_leaves_in_its_group_is_killed_before_it_is_reaped() {
        let (mut rt, reaper) = runtime();
        let scratch = Scratch::new("leftover");
        let pid = rt.spawn(&launch(&["sh", "-c", "sleep 30 & echo $!; exit 0"], &scratch)).expect("spawn");
        assert_eq!(reaper.wait_for(pid), Some(ExitStatus::Code(0)));
        let left: u32 = scratch.read_log().trim().parse().expect("the background pid");
        assert!(gone_soon(left), "the leftover of the group was killed at the reap");
    }
}
