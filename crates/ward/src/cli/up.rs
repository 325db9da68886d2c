//! `ward check` and `ward up`.
//!
//! `up` validates the spec, takes the state folder's lock (one supervisor per
//! folder), makes itself child subreaper and becomes the keeper, which starts
//! the brain (`crate::brain`: the supervisor actor and the API) and keeps
//! every instance until everything is down. `up -d` starts the same command in the
//! background and returns once it listens (it reports readiness through an
//! inherited pipe), or prints why it failed.

use crate::paths::Paths;
use crate::runtime::reaper;
use crate::store::Store;
use anyhow::{Context, Result};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use ward_core::spec::Spec;

/// The environment variable that carries the readiness pipe of `up -d`.
use crate::handshake::READY_FD;

/// Reads and validates the spec; on error prints every message and returns exit code 2.
pub fn load(paths: &Paths) -> Result<Spec, i32> {
    crate::specfile::read_for_people(&paths.spec).map(|(_, spec)| spec).map_err(|message| {
        eprintln!("{message}");
        2
    })
}

/// `ward check`.
pub fn check(paths: &Paths) -> i32 {
    match load(paths) {
        Ok(spec) => {
            let instances: u32 = spec.services.values().map(|s| s.replicas).sum();
            println!(
                "{}: ok: {} service{}, {} instance{}",
                paths.spec.display(),
                spec.services.len(),
                if spec.services.len() == 1 { "" } else { "s" },
                instances,
                if instances == 1 { "" } else { "s" },
            );
            0
        }
        Err(code) => code,
    }
}

/// `ward up [-d] [--listen ADDR]`.
pub fn up(paths: &Paths, detach: bool, listen: Option<&str>) -> i32 {
    let spec = match load(paths) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if let Some(listen) = listen {
        // SAFETY: no other thread runs yet; the keeper and brain inherit it.
        unsafe { std::env::set_var(crate::api::tcp::LISTEN_ENV, listen) };
    }
    // The TCP API's settings are checked here, so that a refused address or an
    // unreadable token file stops `ward up` with its reason.
    if let Err(e) = crate::api::tcp::settings_from_env(&spec, &paths.spec) {
        eprintln!("ward: {e:#}");
        return 2;
    }
    let result = if detach { detached(paths) } else { foreground(paths, spec) };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ward: {e:#}");
            1
        }
    }
}

fn state_dir(paths: &Paths) -> Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&paths.state)
        .with_context(|| format!("cannot create state folder {}", paths.state.display()))
}

/// Takes the state folder's lock, or says who holds it.
fn lock(paths: &Paths) -> Result<std::fs::File> {
    let path = paths.lock();
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    if rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_err() {
        let mut pid = String::new();
        let _ = file.read_to_string(&mut pid);
        anyhow::bail!(
            "another ward (pid {}) already runs on the state folder {}",
            pid.trim(),
            paths.state.display()
        );
    }
    file.set_len(0)?;
    writeln!(file, "{}", std::process::id())?;
    Ok(file)
}

fn foreground(paths: &Paths, spec: Spec) -> Result<i32> {
    // Before any thread starts: no service may inherit systemd's socket.
    let systemd = crate::sdnotify::take_from_environment();
    state_dir(paths)?;
    // Held until ward exits: the main thread, whose descriptor table the
    // reaper makes its own, must own no descriptor (see `runtime::reaper`).
    let _ = std::os::fd::IntoRawFd::into_raw_fd(lock(paths)?);
    crate::init_tracing();
    // Open (and migrate) the store once here, so that a store that cannot be
    // used stops `ward up` with its message instead of failing every brain.
    // It also gives this keeper its epoch: exit numbers never come from a clock.
    let epoch = Store::open(&paths.store())?.take_keeper_epoch().map_err(|e| anyhow::anyhow!("{e}"))?;
    drop(spec);
    reaper::become_subreaper().context("cannot become child subreaper")?;
    let code = crate::keeper::run(paths, epoch, systemd)?;
    let _ = std::fs::remove_file(&paths.socket);
    Ok(code)
}

/// `up -d`: runs `ward up` in the background and waits until it listens.
fn detached(paths: &Paths) -> Result<i32> {
    state_dir(paths)?;
    drop(lock(paths)?); // fail fast with the holder's pid; the child takes it for good
    let log_path = paths.daemon_log();
    let log = std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(&log_path)?;
    let (read_end, write_end) = rustix::pipe::pipe()?;
    rustix::io::fcntl_setfd(&read_end, rustix::io::FdFlags::CLOEXEC)?;
    let exe = std::env::current_exe().context("cannot find ward's own executable")?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("--file").arg(&paths.spec).arg("--state-dir").arg(&paths.state);
    cmd.arg("--socket").arg(&paths.socket).arg("up");
    cmd.env(READY_FD, write_end.as_raw_fd().to_string());
    cmd.stdin(std::process::Stdio::null()).stdout(log.try_clone()?).stderr(log);
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: setsid is async-signal-safe; it detaches the daemon from our terminal.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            })
        };
    }
    let child = cmd.spawn().context("cannot start the background ward")?;
    drop(write_end);
    let mut answer = String::new();
    let _ = std::fs::File::from(read_end).read_to_string(&mut answer);
    if answer.starts_with("ok") {
        println!("ward is up (pid {}); its log: {}", child.id(), log_path.display());
        return Ok(0);
    }
    let tail = std::fs::read_to_string(&log_path).unwrap_or_default();
    let tail: Vec<&str> = tail.lines().rev().take(10).collect();
    for line in tail.into_iter().rev() {
        eprintln!("{line}");
    }
    anyhow::bail!("the background ward did not start; see {}", log_path.display())
}
