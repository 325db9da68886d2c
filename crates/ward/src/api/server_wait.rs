//! `GET /v1/wait?for=ready|running|completed|stopped|settled[&target=T]`:
//! one verdict, asked again by `ward wait` each time an event arrives.

use super::server::{AppState, ask, request_error};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use ward_core::deployment::WaitFor;
use ward_supervisor::requests::Request;

#[derive(Deserialize)]
pub(super) struct WaitQuery {
    target: Option<String>,
    #[serde(rename = "for")]
    what: String,
}

pub(super) async fn wait(State(s): State<AppState>, Query(q): Query<WaitQuery>) -> Response {
    let Some(what) = WaitFor::from_word(&q.what) else {
        let message =
            format!("unknown condition `{}`, expected one of {}", q.what, WaitFor::WORDS.join(", "));
        return super::server::error(StatusCode::BAD_REQUEST, message);
    };
    match ask(&s, |reply| Request::Wait { target: q.target, what, reply }).await {
        Ok(Ok(w)) => axum::Json(w).into_response(),
        Ok(Err(e)) => request_error(e),
        Err(r) => r,
    }
}
