//! The `api:` section: the opt-in TCP face of ward (the HTTP API, `/metrics`
//! and the dashboard on a TCP address), its token files and TLS.
//!
//! Tokens are never written in the spec: it names the files that hold them.
//! The one rule that spans keys is checked here too: a listener on an
//! address other than loopback needs a token (see [`crate::access`]).

use super::raw::{Node, Reader};
use crate::access;
use std::net::SocketAddr;

// The keys each mapping allows, in the order error messages list them.
const API: &str = "listen token_file read_token_file tls metrics_without_token";
const TLS: &str = "cert key";

/// The expected form of a listen address, used in error messages.
pub const LISTEN_FORM: &str = "an IP address and port such as 127.0.0.1:7070 or [::1]:7070";

/// The TCP API's settings; the API listens only when an address is given
/// (here or by `ward up --listen`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiSpec {
    /// Where to listen; `None` leaves TCP off unless `--listen` names an address.
    pub listen: Option<SocketAddr>,
    /// The file holding the operator token (every route), relative to the spec's folder.
    pub token_file: Option<String>,
    /// The file holding the read-only token (status, events, logs, metrics, why, endpoints).
    pub read_token_file: Option<String>,
    /// Serve HTTPS with this certificate and key; plain HTTP without.
    pub tls: Option<TlsSpec>,
    /// Let `/metrics` answer without a token (default false).
    pub metrics_without_token: bool,
}

impl ApiSpec {
    /// Whether any token file is named.
    pub fn has_token(&self) -> bool {
        self.token_file.is_some() || self.read_token_file.is_some()
    }
}

/// A certificate chain and its private key, PEM files relative to the spec's folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsSpec {
    /// The certificate chain (PEM).
    pub cert: String,
    /// The private key (PEM).
    pub key: String,
}

/// Parses a listen address (`127.0.0.1:7070`, `[::1]:7070`); the error says
/// what was found and the expected form.
pub fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    s.trim()
        .parse::<SocketAddr>()
        .map_err(|_| format!("invalid listen address `{s}`, expected {LISTEN_FORM}"))
}

/// Reads the `api:` mapping.
pub(super) fn read_api(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<ApiSpec> {
    let f = r.mapping(node, path, API)?;
    let api = ApiSpec {
        listen: r.field(&f, "listen", read_listen),
        token_file: r.field(&f, "token_file", read_file_name),
        read_token_file: r.field(&f, "read_token_file", read_file_name),
        tls: r.field(&f, "tls", read_tls),
        metrics_without_token: r.or(&f, "metrics_without_token", Reader::bool, false),
    };
    if let (Some(addr), Some(at)) = (api.listen, f.get("listen")) {
        let token_failed = r.failed.iter().any(|p| p.starts_with(path) && p.contains("token_file"));
        if let Err(e) = access::check_listen(addr, api.has_token() || token_failed) {
            let help = "add `token_file: FILE` (make one with `ward token new -o FILE`), \
                        or listen on 127.0.0.1";
            r.fail(at, &f.path("listen"), e.to_string(), Some(help));
        }
    }
    Some(api)
}

fn read_listen(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<SocketAddr> {
    let text = r.string(node, path)?;
    match parse_listen(&text) {
        Ok(addr) => Some(addr),
        Err(message) => {
            r.reject(node, path, message, Some("a host name is not accepted: give its IP address"))
        }
    }
}

/// A file name: a non-empty string (a token itself never goes in the spec).
fn read_file_name(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<String> {
    let text = r.string(node, path)?;
    if text.trim().is_empty() {
        return r.reject(node, path, "empty file name, expected the path of a file", None);
    }
    Some(text)
}

fn read_tls(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<TlsSpec> {
    let f = r.mapping(node, path, TLS)?;
    let cert = r.required(&f, "cert").and_then(|n| read_file_name(r, n, &f.path("cert")));
    let key = r.required(&f, "key").and_then(|n| read_file_name(r, n, &f.path("key")));
    Some(TlsSpec { cert: cert?, key: key? })
}
