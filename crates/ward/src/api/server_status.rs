//! `GET /v1/status` and `GET /metrics`: the supervisor answers with its rows
//! and nothing else; everything that costs I/O or time per instance happens
//! here, **off the supervisor's thread**.
//!
//! The brain runs the supervisor and the API on one thread (a current-thread
//! tokio runtime), so whatever a handler does there, exits wait for. At
//! 10,000 instances, reading each instance's cgroup counters (10,000
//! `cpu.stat` and `memory.*` files), each live process's `/proc/PID/stat`
//! (metrics), and writing the 4 MB of JSON take tens to hundreds of
//! milliseconds; they run on a blocking thread ([`off_actor`]), the actor
//! meanwhile recording exits.

use super::server::{AppState, ask, error, request_error};
use crate::cgroup::Cgroups;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use ward_supervisor::requests::Request;
use ward_supervisor::view::InstanceStatus;

/// The query of `GET /v1/status`.
#[derive(Deserialize)]
pub(super) struct StatusQuery {
    /// Only this service.
    service: Option<String>,
    /// Also what each instance's cgroup counts (`usage`).
    #[serde(default)]
    usage: bool,
}

/// `GET /v1/status[?service=S][&usage=true]`.
pub(super) async fn status(State(s): State<AppState>, Query(q): Query<StatusQuery>) -> Response {
    let mut st = match ask(&s, |reply| Request::Status { service: q.service, usage: false, reply }).await {
        Ok(Ok(st)) => st,
        Ok(Err(e)) => return request_error(e),
        Err(r) => return r,
    };
    let cgroups = s.cgroups.clone().filter(|_| q.usage);
    off_actor(move || {
        if let Some(cgroups) = &cgroups {
            fill_usage(&mut st.instances, cgroups);
        }
        json(&st, 320 * st.instances.len() + 256)
    })
    .await
}

/// Prometheus text; the instance gauges are counted from the status now,
/// and each instance's use read from its cgroup and its process.
pub(super) async fn metrics(State(s): State<AppState>) -> Response {
    let mut st = match ask(&s, |reply| Request::Status { service: None, usage: false, reply }).await {
        Ok(Ok(st)) => st,
        Ok(Err(e)) => return request_error(e),
        Err(r) => return r,
    };
    off_actor(move || {
        if let Some(cgroups) = &s.cgroups {
            fill_usage(&mut st.instances, cgroups);
        }
        let mut text = s.metrics.render(st.instances.iter().map(|i| i.state.as_str()));
        text.push_str(&super::scrape::instances(&st.instances));
        text.push_str(&super::scrape::process());
        text.push_str(&crate::metrics::usage_text(&st.instances));
        ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response()
    })
    .await
}

/// Runs `work` on a blocking thread, so that the supervisor (on the
/// brain's one runtime thread) goes on meanwhile.
async fn off_actor(work: impl FnOnce() -> Response + Send + 'static) -> Response {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| error(StatusCode::INTERNAL_SERVER_ERROR, format!("status: {e}")))
}

/// Reads the cgroup counters of every row the supervisor marked as in a
/// cgroup (the others have no folder: a miss is a path walk for nothing).
pub fn fill_usage(rows: &mut [InstanceStatus], cgroups: &Cgroups) {
    cgroups.flush_counters();
    for row in rows.iter_mut().filter(|r| r.cgroup) {
        row.usage = cgroups.usage(&format!("{}/{}", row.service, row.replica));
    }
}

/// A JSON answer, written into one buffer of about `size` bytes.
fn json<T: serde::Serialize>(value: &T, size: usize) -> Response {
    let mut body = Vec::with_capacity(size);
    match serde_json::to_writer(&mut body, value) {
        Ok(()) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot write the answer: {e}")),
    }
}
