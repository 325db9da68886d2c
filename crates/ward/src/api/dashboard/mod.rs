//! The web dashboard served at `/` of the TCP listener: one HTML page, its
//! script and its style, embedded in the binary (no framework, no CDN, works
//! offline). The page holds no state: it asks for a token, keeps it in the
//! tab's `sessionStorage`, and reads everything through the API with an
//! `Authorization: Bearer` header (events live, as server-sent events read
//! with `fetch`).

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

const INDEX: &str = include_str!("index.html");
const SCRIPT: &str = include_str!("dashboard.js");
const STYLE: &str = include_str!("dashboard.css");

/// The page is strict about what it loads: only itself.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

fn page(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
}

/// The dashboard's routes (public: they hold no state) and the OpenAPI description.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let index = || async { page("text/html; charset=utf-8", INDEX) };
    Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/dashboard.js", get(|| async { page("text/javascript; charset=utf-8", SCRIPT) }))
        .route("/dashboard.css", get(|| async { page("text/css; charset=utf-8", STYLE) }))
        .route("/v1/openapi.json", get(|| async { page("application/json", super::openapi::TEXT) }))
}
