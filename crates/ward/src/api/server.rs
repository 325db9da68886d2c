//! The API routes. Each handler turns an HTTP request into a [`Request`] for
//! the supervisor and its answer into JSON; streams are fed by their own task.

use super::stream::ChannelBody;
use super::types::{ErrorReply, EventJson, InfoReply, OkReply, TargetRequest};
use crate::logs::Logs;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, oneshot};
use ward_core::Target;
use ward_core::instance::Command;
use ward_supervisor::requests::{Request, RequestError};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The supervisor's inbox.
    pub requests: mpsc::Sender<Request>,
    /// Service output files.
    pub logs: Logs,
    /// Who is serving.
    pub info: Arc<InfoReply>,
    /// Counters and histograms for `/metrics`.
    pub metrics: crate::metrics::Metrics,
    /// The deployment's cgroups, to read instances' usage from (off the
    /// supervisor's thread) for `status?usage=true` and `/metrics`.
    pub cgroups: Option<Arc<crate::cgroup::Cgroups>>,
}

/// The router of the API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/info", get(|State(s): State<AppState>| async move { axum::Json((*s.info).clone()) }))
        .route("/v1/status", get(super::server_status::status))
        .route("/v1/endpoints", get(endpoints))
        .route("/v1/start", post(|s, b| command(s, b, Command::Start)))
        .route("/v1/stop", post(|s, b| command(s, b, Command::Stop)))
        .route("/v1/restart", post(|s, b| command(s, b, Command::Restart)))
        .route("/v1/unblock", post(|s, b| command(s, b, Command::Unblock)))
        .route("/v1/isolate", post(|s, b| command(s, b, Command::Isolate)))
        .route("/v1/signal", post(signal))
        .route("/v1/reload", post(reload))
        .route("/v1/down", post(down))
        .route("/v1/events", get(events))
        .route("/v1/logs", get(logs))
        .route("/v1/logs/lines", get(super::server_lines::lines))
        .route("/v1/why", get(why))
        .route("/v1/wait", get(super::server_wait::wait))
        .route("/metrics", get(super::server_status::metrics))
        .with_state(state)
}

/// The Unix socket's router: every route, unknown paths 404, and every
/// error answer JSON `{"error": …}` (a bad query string, a 405), as on TCP.
pub fn unix_router(state: AppState) -> Router {
    router(state)
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such route") })
        .layer(axum::middleware::from_fn(super::auth::json_errors))
}

pub(super) fn error(code: StatusCode, msg: impl Into<String>) -> Response {
    (code, axum::Json(ErrorReply { error: msg.into() })).into_response()
}

pub(super) fn request_error(e: RequestError) -> Response {
    let code = match e {
        RequestError::NotFound(_) => StatusCode::NOT_FOUND,
        RequestError::Conflict(_) => StatusCode::CONFLICT,
        RequestError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        // `RequestError` is non-exhaustive: a newer refusal is a conflict.
        _ => StatusCode::CONFLICT,
    };
    error(code, e.to_string())
}

/// Sends a request to the supervisor and waits for its answer.
pub(super) async fn ask<T>(
    s: &AppState,
    make: impl FnOnce(oneshot::Sender<T>) -> Request,
) -> Result<T, Response> {
    let (tx, rx) = oneshot::channel();
    let gone = || error(StatusCode::SERVICE_UNAVAILABLE, "the supervisor is shutting down");
    s.requests.send(make(tx)).await.map_err(|_| gone())?;
    rx.await.map_err(|_| gone())
}

#[derive(Deserialize)]
struct EndpointsQuery {
    service: String,
}

async fn endpoints(State(s): State<AppState>, Query(q): Query<EndpointsQuery>) -> Response {
    match ask(&s, |reply| Request::Endpoints { service: q.service, reply }).await {
        Ok(Ok(e)) => axum::Json(e).into_response(),
        Ok(Err(e)) => request_error(e),
        Err(r) => r,
    }
}

async fn command(State(s): State<AppState>, body: Bytes, command: Command) -> Response {
    let Ok(req) = serde_json::from_slice::<TargetRequest>(&body) else {
        return error(StatusCode::BAD_REQUEST, "expected a JSON body {\"target\": \"SERVICE[/N]\"}");
    };
    let target = req.target;
    match ask(&s, |reply| Request::Command { command, target, reply }).await {
        Ok(Ok(message)) => axum::Json(OkReply { message }).into_response(),
        Ok(Err(e)) => request_error(e),
        Err(r) => r,
    }
}

async fn signal(State(s): State<AppState>, body: Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<super::types::SignalRequest>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected a JSON body {\"target\": \"SERVICE[/N]\", \"signal\": N}",
        );
    };
    let (target, signal) = (req.target, req.signal);
    match ask(&s, |reply| Request::Signal { target, signal, reply }).await {
        Ok(Ok(message)) => axum::Json(OkReply { message }).into_response(),
        Ok(Err(e)) => request_error(e),
        Err(r) => r,
    }
}

async fn reload(State(s): State<AppState>) -> Response {
    match ask(&s, |reply| Request::Reload { reply }).await {
        Ok(Ok(message)) => axum::Json(OkReply { message }).into_response(),
        Ok(Err(e)) => request_error(e),
        Err(r) => r,
    }
}

async fn down(State(s): State<AppState>) -> Response {
    match ask(&s, |reply| Request::Down { reply }).await {
        Ok(()) => axum::Json(OkReply { message: "stopping every service".into() }).into_response(),
        Err(r) => r,
    }
}

#[derive(Deserialize)]
struct EventsQuery {
    #[serde(default)]
    since: u64,
    /// Only past events at or after this Unix time in ms (the dashboard's last hour).
    #[serde(default)]
    since_ms: u64,
    #[serde(default)]
    follow: bool,
}

async fn events(State(s): State<AppState>, Query(q): Query<EventsQuery>) -> Response {
    let follow = q.follow;
    let (mut history, feed) = match ask(&s, |reply| Request::Events { since: q.since, reply, follow }).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if q.since_ms > 0 {
        history.retain(|e| e.ts_ms >= q.since_ms);
    }
    let Some(feed) = feed else {
        let mut out = String::new();
        for ev in history {
            out.push_str(&serde_json::to_string(&*ev).unwrap_or_default());
            out.push('\n');
        }
        return ([(header::CONTENT_TYPE, "application/x-ndjson")], out).into_response();
    };
    let (tx, body) = ChannelBody::new();
    tokio::spawn(feed_events(history, feed, tx));
    ([(header::CONTENT_TYPE, "text/event-stream"), (header::CACHE_CONTROL, "no-cache")], Body::new(body))
        .into_response()
}

fn sse(ev: &EventJson) -> Bytes {
    let json = serde_json::to_string(ev).unwrap_or_default();
    Bytes::from(format!("id: {}\nevent: event\ndata: {json}\n\n", ev.seq))
}

/// Writes the history, then live events, as server-sent events; tells a
/// reader that fell behind how many events it missed.
async fn feed_events(
    history: Vec<Arc<EventJson>>,
    mut feed: broadcast::Receiver<Arc<EventJson>>,
    tx: mpsc::Sender<Bytes>,
) {
    let mut last = 0;
    for ev in history {
        last = ev.seq;
        if tx.send(sse(&ev)).await.is_err() {
            return;
        }
    }
    loop {
        let chunk = match feed.recv().await {
            Ok(ev) if ev.seq <= last => continue,
            Ok(ev) => {
                last = ev.seq;
                sse(&ev)
            }
            Err(broadcast::error::RecvError::Lagged(n)) => {
                Bytes::from(format!("event: lagged\ndata: {{\"missed\":{n}}}\n\n"))
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        if tx.send(chunk).await.is_err() {
            return;
        }
    }
}

#[derive(Deserialize)]
struct LogsQuery {
    target: String,
    #[serde(default = "default_lines")]
    n: usize,
    #[serde(default)]
    follow: bool,
    #[serde(default)]
    previous: bool,
}

fn default_lines() -> usize {
    100
}

async fn logs(State(s): State<AppState>, Query(q): Query<LogsQuery>) -> Response {
    let target: Target = match q.target.parse() {
        Ok(t) => t,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    };
    let service = Some(target.service.to_string());
    let st = match ask(&s, |reply| Request::Status { service, usage: false, reply }).await {
        Ok(Ok(st)) => st,
        Ok(Err(e)) => return request_error(e),
        Err(r) => return r,
    };
    let ids: Vec<ward_core::InstanceId> = st
        .instances
        .iter()
        .filter(|i| target.replica.is_none_or(|r| r == i.replica))
        .map(|i| ward_core::InstanceId::new(target.service.clone(), i.replica))
        .collect();
    if ids.is_empty() {
        return error(StatusCode::NOT_FOUND, format!("no instance {target}"));
    }
    let (tx, body) = ChannelBody::new();
    if q.previous {
        tokio::spawn(super::server_logs::feed_previous(s.logs.clone(), ids, q.n, tx));
    } else {
        tokio::spawn(super::server_logs::feed(s.logs.clone(), ids, q.n, q.follow, tx));
    }
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], Body::new(body)).into_response()
}

#[derive(Deserialize)]
struct WhyQuery {
    target: String,
}

async fn why(State(s): State<AppState>, Query(q): Query<WhyQuery>) -> Response {
    let target = q.target;
    match ask(&s, |reply| Request::Why { target, reply }).await {
        Ok(Ok(w)) => axum::Json(w).into_response(),
        Ok(Err(e)) => request_error(e),
        Err(r) => r,
    }
}
