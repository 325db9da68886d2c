//! Who may do what on ward's TCP API: the rules, apart from sockets and
//! token files (the shell compares tokens and asks these functions).
//!
//! - Two kinds of token: a **read-only** one (every `GET`: status, events,
//!   logs, metrics, why, endpoints) and an **operator** one (everything,
//!   including the `POST`s: start, stop, restart, unblock, isolate, signal,
//!   reload, down).
//! - The dashboard's static files and the OpenAPI description hold no state
//!   and are public, so that a browser can load the page before it has a token.
//! - `/metrics` may be public, by a setting.
//! - A request that carries an `Origin` must come from the listener's own
//!   origin: a page of another site cannot drive ward through a browser.
//! - A listener on an address other than loopback needs a token.

use std::net::SocketAddr;

/// What a token lets its bearer do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Role {
    /// Look: every `GET`.
    Read,
    /// Look and act: every route.
    Operate,
}

/// What a route asks of its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Need {
    /// Nothing: static files without state.
    Public,
    /// A token, unless metrics are public.
    Metrics,
    /// A read-only or an operator token.
    Read,
    /// An operator token.
    Operate,
}

/// The token a request presented, as the shell recognised it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Presented {
    /// No `Authorization: Bearer` header.
    Nothing,
    /// A token that matches no configured one.
    Unknown,
    /// A token of this role.
    Token(Role),
}

/// The answer to a request, before it reaches a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Serve it.
    Allow,
    /// 401: no token, or a wrong one.
    Unauthorized(&'static str),
    /// 403: a valid token that may not do this, or a foreign origin.
    Forbidden(&'static str),
}

/// The paths served without a token: the dashboard's files and the API description.
pub const PUBLIC_PATHS: [&str; 5] =
    ["/", "/index.html", "/dashboard.js", "/dashboard.css", "/v1/openapi.json"];

/// What the route `method path` needs: `GET`/`HEAD` read, anything else acts.
pub fn need_of(method: &str, path: &str) -> Need {
    let read = matches!(method, "GET" | "HEAD");
    match path {
        _ if read && PUBLIC_PATHS.contains(&path) => Need::Public,
        "/metrics" if read => Need::Metrics,
        _ if read => Need::Read,
        _ => Need::Operate,
    }
}

/// Decides a request from what it needs and what it presented.
pub fn decide(need: Need, presented: Presented, metrics_without_token: bool) -> Verdict {
    use Verdict::{Allow, Forbidden, Unauthorized};
    match (need, presented) {
        (Need::Public, _) => Allow,
        (Need::Metrics, Presented::Nothing) if metrics_without_token => Allow,
        (_, Presented::Nothing) => Unauthorized("this request needs an `Authorization: Bearer TOKEN` header"),
        (_, Presented::Unknown) => Unauthorized("the token is not valid"),
        (Need::Metrics | Need::Read, Presented::Token(_)) => Allow,
        (Need::Operate, Presented::Token(Role::Operate)) => Allow,
        (Need::Operate, Presented::Token(Role::Read)) => {
            Forbidden("a read-only token cannot act; this needs an operator token")
        }
    }
}

/// The token of an `Authorization` header value, when it is `Bearer TOKEN`.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Whether a request with this `Origin` header may go on: no origin (not a
/// browser's cross-site request), or exactly `scheme://host` of the request.
pub fn origin_allowed(origin: Option<&str>, scheme: &str, host: Option<&str>) -> bool {
    match (origin, host) {
        (None, _) => true,
        (Some(origin), Some(host)) => {
            origin.strip_prefix(scheme).and_then(|o| o.strip_prefix("://")).is_some_and(|o| o == host)
        }
        (Some(_), None) => false,
    }
}

/// Why a listen address was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("refusing to listen on {addr} without a token: only a loopback address may go without one")]
pub struct ListenError {
    /// The refused address.
    pub addr: SocketAddr,
}

/// Refuses an address other than loopback when no token is configured.
pub fn check_listen(addr: SocketAddr, has_token: bool) -> Result<(), ListenError> {
    if has_token || addr.ip().is_loopback() { Ok(()) } else { Err(ListenError { addr }) }
}

#[cfg(test)]
mod tests;
