//! Tokens of the TCP API: read from their files (never from the spec text or
//! the command line), compared in constant time, and the middleware that
//! applies ward-core's access rules, the origin check and the body limit to
//! every TCP request before it reaches a route.

use super::types::ErrorReply;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, Limited};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use subtle::ConstantTimeEq;
use ward_core::access::{self, Presented, Role, Verdict};

/// The largest request body the TCP API reads (every body is a small JSON object).
pub const MAX_BODY: usize = 16 * 1024;

/// How long a client may take to send its request body.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a token file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The file cannot be read.
    #[error("cannot read token file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What failed.
        #[source]
        source: io::Error,
    },
    /// Other users may read the file.
    #[error("token file {path} is readable by other users (mode {mode:o}); run `chmod 600 {path}`")]
    Open {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file holds no token.
    #[error("token file {path} holds no token; make one with `ward token new -o {path}`")]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// The tokens a TCP listener accepts, and its setting for `/metrics`.
#[derive(Clone, Default)]
pub struct Tokens {
    tokens: Arc<Vec<(Vec<u8>, Role)>>,
    /// `/metrics` answers without a token.
    pub metrics_without_token: bool,
}

impl Tokens {
    /// Reads the operator and read-only token files that are given.
    pub fn load(
        operate: Option<&Path>,
        read: Option<&Path>,
        metrics_without_token: bool,
    ) -> Result<Self, TokenError> {
        let mut tokens = Vec::new();
        for (path, role) in [(operate, Role::Operate), (read, Role::Read)] {
            if let Some(path) = path {
                tokens.push((read_token(path)?, role));
            }
        }
        Ok(Tokens { tokens: Arc::new(tokens), metrics_without_token })
    }

    /// The role of a presented token. Every configured token is compared, in
    /// constant time, so the answer's timing tells nothing about which matched.
    pub fn recognise(&self, presented: Option<&str>) -> Presented {
        let Some(presented) = presented else { return Presented::Nothing };
        let mut found = Presented::Unknown;
        for (token, role) in self.tokens.iter() {
            if bool::from(token.as_slice().ct_eq(presented.as_bytes())) {
                found = Presented::Token(*role);
            }
        }
        found
    }
}

/// The token in a file: its first line, trimmed. The file must not be
/// readable by group or others.
fn read_token(path: &Path) -> Result<Vec<u8>, TokenError> {
    let read = |source| TokenError::Read { path: path.to_path_buf(), source };
    let meta = std::fs::metadata(path).map_err(read)?;
    if meta.mode() & 0o077 != 0 {
        return Err(TokenError::Open { path: path.to_path_buf(), mode: meta.mode() & 0o777 });
    }
    let text = std::fs::read_to_string(path).map_err(read)?;
    let token = text.lines().next().unwrap_or("").trim();
    if token.is_empty() {
        return Err(TokenError::Empty { path: path.to_path_buf() });
    }
    Ok(token.as_bytes().to_vec())
}

/// A JSON error answer: `{"error": "..."}`.
pub fn refuse(code: StatusCode, message: impl Into<String>) -> Response {
    (code, axum::Json(ErrorReply { error: message.into() })).into_response()
}

/// What the gate middleware needs.
#[derive(Clone)]
pub struct Gate {
    /// The accepted tokens.
    pub tokens: Tokens,
    /// `http` or `https`: the scheme of the listener's own origin.
    pub scheme: &'static str,
}

/// The middleware in front of every TCP route: origin, token and role, then a
/// bounded body read in bounded time.
pub async fn gate(State(g): State<Gate>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if !access::origin_allowed(origin, g.scheme, host) {
        return refuse(StatusCode::FORBIDDEN, "requests from another origin are refused");
    }
    let presented = g.tokens.recognise(bearer(headers));
    let need = access::need_of(req.method().as_str(), req.uri().path());
    match access::decide(need, presented, g.tokens.metrics_without_token) {
        Verdict::Allow => {}
        Verdict::Unauthorized(why) => {
            let mut r = refuse(StatusCode::UNAUTHORIZED, why);
            r.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            return r;
        }
        Verdict::Forbidden(why) => return refuse(StatusCode::FORBIDDEN, why),
    }
    match bounded_body(req).await {
        Ok(req) => next.run(req).await,
        Err(r) => r,
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(access::bearer)
}

/// Reads the body into memory, refusing one over [`MAX_BODY`] (413) or one
/// that takes longer than [`BODY_TIMEOUT`] (408).
async fn bounded_body(req: Request) -> Result<Request, Response> {
    let too_large =
        || refuse(StatusCode::PAYLOAD_TOO_LARGE, format!("the request body is over {MAX_BODY} bytes"));
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(too_large());
    }
    let (parts, body) = req.into_parts();
    let collect = Limited::new(body, MAX_BODY).collect();
    match tokio::time::timeout(BODY_TIMEOUT, collect).await {
        Ok(Ok(bytes)) => Ok(Request::from_parts(parts, Body::from(bytes.to_bytes()))),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Ok(Err(e)) => Err(refuse(StatusCode::BAD_REQUEST, format!("cannot read the request body: {e}"))),
        Err(_) => Err(refuse(StatusCode::REQUEST_TIMEOUT, "the request body took too long")),
    }
}

/// Turns every error answer that is not JSON (a route's rejection of a bad
/// query, a 405) into `{"error": "..."}` with the same status.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    let json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if status.as_u16() < 400 || json {
        return resp;
    }
    let text =
        match tokio::time::timeout(BODY_TIMEOUT, Limited::new(resp.into_body(), MAX_BODY).collect()).await {
            Ok(Ok(b)) => String::from_utf8_lossy(&b.to_bytes()).trim().to_string(),
            _ => String::new(),
        };
    let message =
        if text.is_empty() { status.canonical_reason().unwrap_or("error").to_lowercase() } else { text };
    refuse(status, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_recognised_by_role() {
        let dir = std::env::temp_dir().join(format!("ward-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (op, ro) = (dir.join("op"), dir.join("ro"));
        for (p, t) in [(&op, "secret-op\n"), (&ro, "secret-ro")] {
            std::fs::write(p, t).unwrap();
            std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        }
        let t = Tokens::load(Some(&op), Some(&ro), false).unwrap();
        assert_eq!(t.recognise(Some("secret-op")), Presented::Token(Role::Operate));
        assert_eq!(t.recognise(Some("secret-ro")), Presented::Token(Role::Read));
        assert_eq!(t.recognise(Some("secret-o")), Presented::Unknown);
        assert_eq!(t.recognise(None), Presented::Nothing);
        std::fs::set_permissions(&ro, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
        let e = Tokens::load(Some(&op), Some(&ro), false).err().unwrap().to_string();
        assert!(e.contains("readable by other users (mode 644)"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
