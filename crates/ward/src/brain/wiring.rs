//! The brain's ports and its API, wired together; signals to ward become
//! requests to the supervisor.

use crate::api::listener::OwnerListener;
use crate::api::server::{AppState, unix_router};
use crate::api::types::InfoReply;
use crate::logs::Logs;
use crate::paths::Paths;
use crate::runtime::Runtime;
use crate::runtime::adopt::Adopter;
use crate::runtime::remote::KeeperRuntime;
use crate::store::Store;
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::sync::Arc;
use ward_core::deployment::Deployment;
use ward_core::spec::Spec;
use ward_supervisor::{Inputs, Ports, REQUEST_QUEUE, Request, Settings, Supervisor};

/// systemd's notify socket and watchdog period, as the keeper passed them.
pub type SystemdSettings = (String, Option<std::time::Duration>);

/// Runs the supervisor and the API until everything is down; returns the exit code.
pub async fn serve(paths: &Paths, spec: Spec, store: Store, systemd: Option<SystemdSettings>) -> Result<i32> {
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
    let cgroups = crate::cgroup::Cgroups::find(&paths.state).map(Arc::new);
    let state = AppState { requests, logs: logs.clone(), info, metrics: metrics.clone(), cgroups };
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
