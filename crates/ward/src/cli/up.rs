//! `ward check` and `ward up`.
//!
//! `up` validates the spec, takes the state folder's lock (one supervisor per
//! folder), makes itself child subreaper, and runs the supervisor actor and
//! the API until everything is down. `up -d` starts the same command in the
//! background and returns once it listens (it reports readiness through an
//! inherited pipe), or prints why it failed.

use crate::api::listener::OwnerListener;
use crate::api::server::{AppState, unix_router};
use crate::api::types::InfoReply;
use crate::logs::Logs;
use crate::paths::Paths;
use crate::runtime::Runtime;
use crate::runtime::adopt::Adopter;
use crate::runtime::reaper;
use crate::runtime::remote::KeeperRuntime;
use crate::store::Store;
use anyhow::{Context, Result};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;
use std::sync::Arc;
use ward_core::deployment::Deployment;
use ward_core::spec::Spec;
use ward_supervisor::{Inputs, Ports, REQUEST_QUEUE, Request, Settings, Supervisor};

/// The environment variable that carries the readiness pipe of `up -d`.
use crate::handshake::READY_FD;

/// Reads and validates the spec; on error prints every message and returns exit code 2.
pub fn load(paths: &Paths) -> Result<Spec, i32> {
    read_spec(paths).map(|(_, spec)| spec).map_err(|message| {
        eprintln!("{message}");
        2
    })
}

/// Reads and parses the spec file: its text and the spec, or every message
/// that says why it cannot be used (each error with file:line:col, then a count).
fn read_spec(paths: &Paths) -> Result<(String, Spec), String> {
    let name = paths.spec.display().to_string();
    match crate::specfile::read(&paths.spec) {
        Ok(read) => Ok(read),
        Err(crate::specfile::SpecFileError::Invalid(errors)) => {
            let n = errors.0.len();
            Err(format!("{errors}\nward: {name}: {n} error{}", if n == 1 { "" } else { "s" }))
        }
        Err(e) => Err(format!("ward: {e}")),
    }
}

/// The spec a brain runs on: the file's, kept in the store as the last good
/// one; or, when the file cannot be used and this brain resumes after a crash
/// (the store is not clean), the last good spec the store kept. A brain that
/// starts afresh on a broken file fails as `ward up` does, with exit code 2.
fn brain_spec(paths: &Paths, store: &mut Store) -> Result<Spec, i32> {
    let file = paths.spec.display().to_string();
    match read_spec(paths) {
        Ok((text, spec)) => {
            if let Err(e) = store.set_last_good_spec(&file, &text).and_then(|()| store.commit()) {
                tracing::warn!("store: cannot keep the spec as the last good one: {e}");
            }
            Ok(spec)
        }
        Err(message) => {
            eprintln!("{message}");
            if store.ended_uncleanly().unwrap_or(false) { last_good(store, &file) } else { Err(2) }
        }
    }
}

/// The last good spec of `file` that the store kept, parsed under the file's
/// name (so that paths relative to it, and messages, are the same).
fn last_good(store: &Store, file: &str) -> Result<Spec, i32> {
    let kept = match store.last_good_spec() {
        Ok(Some(kept)) if kept.file == file => kept,
        Ok(_) => {
            tracing::error!("the store keeps no last good spec of {file} to fall back on");
            return Err(2);
        }
        Err(e) => {
            tracing::error!("cannot read the last good spec from the store: {e}");
            return Err(2);
        }
    };
    match crate::specfile::parse(&kept.source, std::path::Path::new(file)) {
        Ok(spec) => {
            tracing::error!(
                "{file} is invalid (see above): ward runs on the last good spec kept in the store; \
                 fix the file and `ward reload` will pick it up"
            );
            Ok(spec)
        }
        Err(errors) => {
            eprintln!("{errors}");
            tracing::error!("the last good spec of {file} kept in the store does not parse either");
            Err(2)
        }
    }
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
    let _lock = lock(paths)?;
    init_tracing();
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

/// `ward __brain`: the supervisor, started (and restarted) by the keeper.
pub fn brain(paths: &Paths) -> i32 {
    let systemd = crate::sdnotify::brain_settings();
    init_tracing();
    let mut store = match Store::open(&paths.store()) {
        Ok(store) => store,
        Err(e) => {
            eprintln!("ward: {e}");
            return 1;
        }
    };
    let spec = match brain_spec(paths, &mut store) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let run = || -> Result<i32> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        rt.block_on(serve(paths, spec, store, systemd))
    };
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ward: {e:#}");
            1
        }
    }
}

async fn serve(paths: &Paths, spec: Spec, store: Store, systemd: Option<SystemdSettings>) -> Result<i32> {
    let (adopter, adopted) = Adopter::new();
    let keeper_socket =
        std::env::var_os("WARD_KEEPER_SOCKET").map(PathBuf::from).unwrap_or_else(|| paths.keeper_socket());
    let (keeper, exits) = KeeperRuntime::connect(&keeper_socket)
        .with_context(|| format!("cannot attach to the keeper at {}", keeper_socket.display()))?;
    let keeper = keeper.with_cgroups(crate::cgroup::Cgroups::find(&paths.state));
    let mut runtime = crate::runtime::oci::OciRuntime::new(keeper);
    let wall = ward_supervisor::clock::Clock::new();
    let logs = Logs::start(paths.logs(), spec.logs.clone(), std::sync::Arc::new(move || wall.wall_ms()))
        .with_context(|| format!("cannot prepare {}", paths.logs().display()))?;
    let listener = OwnerListener::bind(&paths.socket)
        .with_context(|| format!("cannot listen on {}", paths.socket.display()))?;
    let (requests, requests_rx) = tokio::sync::mpsc::channel(REQUEST_QUEUE);
    let info = Arc::new(InfoReply {
        version: env!("CARGO_PKG_VERSION").to_string(),
        pid: std::process::id(),
        spec: paths.spec.display().to_string(),
        state_dir: paths.state.display().to_string(),
    });
    let metrics = crate::metrics::Metrics::new();
    let tcp = crate::api::tcp::settings_from_env(&spec, &paths.spec).unwrap_or_else(|e| {
        tracing::error!("the TCP API is off: {e:#}");
        None
    });
    let requests_for_systemd = requests.clone();
    let requests_for_signals = requests.clone();
    let state = AppState { requests, logs: logs.clone(), info, metrics: metrics.clone() };
    let app = unix_router(state.clone());
    let (stop_api, api_stopped) = tokio::sync::oneshot::channel::<()>();
    let api = tokio::spawn(async move {
        let shutdown = async move {
            let _ = api_stopped.await;
        };
        if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
            tracing::error!("the API stopped: {e}");
        }
    });
    tracing::info!(
        "ward {} supervising {} (pid {})",
        env!("CARGO_PKG_VERSION"),
        paths.spec.display(),
        std::process::id()
    );
    let _stop_tcp = crate::api::tcp::start(tcp, state).await;
    runtime.ready();
    let (down_notice, down) = tokio::sync::oneshot::channel();
    let notifier = systemd.and_then(|s| notifier(s, &spec, requests_for_systemd));
    let notifier = notifier.map(|n| tokio::spawn(n.run(down)));
    let (health_tx, health) = tokio::sync::mpsc::channel(ward_supervisor::ports::health::REPORT_QUEUE);
    let spec_dir = paths.spec.parent().map(PathBuf::from).unwrap_or_default();
    let ports = Ports {
        store: Box::new(store),
        health: Box::new(crate::health::Health::new(paths.state.clone(), spec_dir.clone(), health_tx)),
        output: Box::new(logs),
        adopter: Box::new(adopter),
        observer: Box::new(crate::metrics::Observed { metrics, trimmer: Default::default() }),
    };
    let spec_path = paths.spec.clone();
    let settings = Settings {
        spec_dir,
        state_dir: paths.state.clone(),
        spec_label: paths.spec.display().to_string(),
        reader: Some(Box::new(move || crate::specfile::read(&spec_path).map_err(|e| e.to_string()))),
        operator_uid: rustix::process::getuid().as_raw(),
    };
    let supervisor =
        Supervisor::new(Deployment::new(spec), runtime, ports, settings).with_down_notice(down_notice);
    let signals = tokio::spawn(signals_to_requests(requests_for_signals));
    let code = supervisor.run(Inputs { requests: requests_rx, exits, adopted, health }).await;
    signals.abort();
    if let Some(task) = notifier {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), task).await;
    }
    tracing::info!("everything is down; exiting with {code}");
    // The supervisor is gone, so event streams end once they have written
    // every event; let them finish, but never wait long for a slow reader.
    let _ = stop_api.send(());
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), api).await;
    Ok(code)
}

/// Turns SIGTERM and SIGINT into a stop of everything, and SIGHUP into a
/// reload, as requests to the supervisor.
async fn signals_to_requests(requests: tokio::sync::mpsc::Sender<Request>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) =
        (signal(SignalKind::terminate()), signal(SignalKind::interrupt()), signal(SignalKind::hangup()))
    else {
        tracing::error!("cannot watch SIGTERM, SIGINT and SIGHUP");
        return;
    };
    loop {
        let request = tokio::select! {
            Some(()) = term.recv() => Request::Stop { why: "SIGTERM".into() },
            Some(()) = int.recv() => Request::Stop { why: "SIGINT".into() },
            Some(()) = hup.recv() => {
                let (reply, answer) = tokio::sync::oneshot::channel();
                tokio::spawn(async move {
                    match answer.await {
                        Ok(Ok(msg)) => tracing::info!("SIGHUP: {msg}"),
                        Ok(Err(e)) => tracing::error!("SIGHUP: reload refused:\n{e}"),
                        Err(_) => {}
                    }
                });
                Request::Reload { reply }
            }
            else => return,
        };
        if requests.send(request).await.is_err() {
            return; // the supervisor is gone
        }
    }
}

/// systemd's notify socket and watchdog period, as the keeper passed them.
type SystemdSettings = (String, Option<std::time::Duration>);

/// The task that speaks sd_notify to systemd, when `ward up` runs under it.
fn notifier(
    (socket, watchdog): SystemdSettings,
    spec: &Spec,
    requests: tokio::sync::mpsc::Sender<Request>,
) -> Option<crate::sdnotify::notifier::Notifier> {
    let notify = match crate::sdnotify::client::Notify::new(&socket) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!("sd_notify: cannot use NOTIFY_SOCKET {socket}: {e}");
            return None;
        }
    };
    let declares_ready =
        spec.services.iter().filter(|(_, s)| s.ready.is_some()).map(|(n, _)| n.to_string()).collect();
    Some(crate::sdnotify::notifier::Notifier { notify, watchdog, declares_ready, requests })
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(ansi)
        .without_time()
        .try_init();
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
