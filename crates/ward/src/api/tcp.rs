//! The opt-in TCP face of the API: the Unix socket's routes, `/metrics`, the
//! OpenAPI description and the dashboard, behind tokens, over plain HTTP or
//! TLS (rustls, ring provider) when the spec gives a certificate.
//!
//! Slow clients cannot hold anything: headers must arrive within
//! [`HEADER_TIMEOUT`], a TLS handshake within [`HANDSHAKE_TIMEOUT`], a body
//! within the gate's limit; at most [`MAX_CONNECTIONS`] connections are
//! served at once (more are closed at accept); every handler talks to the
//! supervisor through its bounded request channel and streams are fed by
//! their own tasks.

use super::auth::{self, Gate, Tokens};
use super::server::{AppState, router};
use anyhow::{Context, Result};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use ward_core::spec::Spec;

/// How long a client may take to send a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a TLS handshake may take.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once; more are closed as they arrive.
pub const MAX_CONNECTIONS: usize = 256;

/// The environment variable that carries `ward up --listen` to the brain.
pub const LISTEN_ENV: &str = "WARD_LISTEN";

/// What the TCP listener needs, resolved from the spec and `--listen`.
pub struct TcpSettings {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The accepted tokens.
    pub tokens: Tokens,
    /// The TLS configuration, when a certificate is given.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

/// Resolves the TCP settings: `None` when no address is given. Reads the
/// token files and the certificate, and refuses a non-loopback address
/// without a token, so that `ward up` can fail at once with the reason.
pub fn settings(spec: &Spec, spec_file: &Path, listen: Option<&str>) -> Result<Option<TcpSettings>> {
    let api = spec.api.clone().unwrap_or_default();
    let listen = match listen.filter(|l| !l.is_empty()) {
        Some(text) => Some(ward_core::spec::parse_listen(text).map_err(anyhow::Error::msg)?),
        None => api.listen,
    };
    let Some(listen) = listen else { return Ok(None) };
    ward_core::access::check_listen(listen, api.has_token()).map_err(|e| {
        anyhow::anyhow!(
            "{e}\n  help: give `api: {{ token_file: FILE }}` in the spec (`ward token new -o FILE` makes one)"
        )
    })?;
    let dir = spec_file.parent().unwrap_or(Path::new("/"));
    let at = |f: &Option<String>| f.as_ref().map(|f| dir.join(f));
    let tokens = Tokens::load(
        at(&api.token_file).as_deref(),
        at(&api.read_token_file).as_deref(),
        api.metrics_without_token,
    )?;
    let tls = match &api.tls {
        Some(t) => Some(Arc::new(tls_config(&dir.join(&t.cert), &dir.join(&t.key))?)),
        None => None,
    };
    Ok(Some(TcpSettings { listen, tokens, tls }))
}

/// The settings of `ward up`: `--listen` (or `WARD_LISTEN`) over the spec's `api.listen`.
pub fn settings_from_env(spec: &Spec, spec_file: &Path) -> Result<Option<TcpSettings>> {
    let listen = std::env::var(LISTEN_ENV).ok();
    settings(spec, spec_file, listen.as_deref())
}

fn tls_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("cannot read the TLS certificate {}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read the TLS key {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the TLS certificate and key do not make a usable pair")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The TCP router: every route of the Unix socket, plus the OpenAPI
/// description and the dashboard, behind the gate; unknown paths are 404
/// and every error answer is JSON.
pub fn tcp_router(state: AppState, tokens: Tokens, tls: bool) -> Router {
    let gate = Gate { tokens, scheme: if tls { "https" } else { "http" } };
    router(state)
        .merge(super::dashboard::routes())
        .fallback(|| async {
            auth::refuse(axum::http::StatusCode::NOT_FOUND, "no such route; see /v1/openapi.json")
        })
        .layer(axum::middleware::from_fn(auth::json_errors))
        .layer(axum::middleware::from_fn_with_state(gate, auth::gate))
}

/// A bound TCP listener, ready to serve.
pub struct TcpApi {
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
}

impl TcpApi {
    /// Binds the address.
    pub async fn bind(settings: TcpSettings, state: AppState) -> Result<TcpApi> {
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let app = tcp_router(state, settings.tokens, settings.tls.is_some());
        Ok(TcpApi { listener, tls: settings.tls.map(TlsAcceptor::from), app })
    }

    /// The bound address (the port, when 0 was asked).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Accepts and serves connections until `stop` resolves.
    pub async fn serve(self, stop: impl std::future::Future<Output = ()>) {
        let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        tokio::pin!(stop);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        // EMFILE and friends: back off a little instead of spinning.
                        tracing::warn!("tcp accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut stop => return,
            };
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                tracing::warn!(%peer, "too many connections; closed one at accept");
                continue;
            };
            let (app, tls) = (self.app.clone(), self.tls.clone());
            tokio::spawn(async move {
                let _slot = slot;
                let _ = stream.set_nodelay(true);
                match tls {
                    None => serve_connection(stream, app).await,
                    Some(acceptor) => {
                        match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                            Ok(Ok(tls)) => serve_connection(tls, app).await,
                            Ok(Err(e)) => tracing::debug!(%peer, "tls handshake failed: {e}"),
                            Err(_) => tracing::debug!(%peer, "tls handshake timed out"),
                        }
                    }
                }
            });
        }
    }
}

async fn serve_connection<I>(io: I, app: Router)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(app);
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(io), service);
    if let Err(e) = conn.await {
        tracing::debug!("tcp connection ended: {e}");
    }
}

/// Binds and serves the TCP API when it is configured; it stops when the
/// returned sender is dropped. A bind that fails is logged and leaves TCP
/// off: the services are supervised all the same.
pub async fn start(
    settings: Option<TcpSettings>,
    state: AppState,
) -> Option<tokio::sync::oneshot::Sender<()>> {
    let settings = settings?;
    let scheme = if settings.tls.is_some() { "https" } else { "http" };
    let api = match TcpApi::bind(settings, state).await {
        Ok(api) => api,
        Err(e) => {
            tracing::error!("the TCP API is off: {e:#}");
            return None;
        }
    };
    if let Some(addr) = api.local_addr() {
        tracing::info!("API and dashboard on {scheme}://{addr}/");
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(api.serve(async move {
        let _ = stopped.await;
    }));
    Some(stop)
}
