//! The CLI's way to a ward on another host: `--host http(s)://HOST:PORT`
//! (or `WARD_HOST`), a token from `--token-file` (or `WARD_TOKEN_FILE`), and
//! for https the certificate authorities of `--ca-file` (or the system's).

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use std::io;
use std::path::Path;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::{TlsConnector, rustls};

/// The system's certificate authorities, used for https without `--ca-file`.
const SYSTEM_CAS: &str = "/etc/ssl/certs/ca-certificates.crt";

/// A byte stream the HTTP client can speak over.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A remote ward: where it is, the token to show, and TLS when https.
pub struct Remote {
    /// `http://host:port` or `https://host:port`, for messages.
    pub url: String,
    /// `host:port`, for connecting and the `Host` header.
    pub authority: String,
    /// The bearer token, when a token file is given.
    pub token: Option<String>,
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

impl Remote {
    /// Parses `--host` and reads the token and CA files; the error says what is wrong.
    pub fn new(host: &str, token_file: Option<&Path>, ca_file: Option<&Path>) -> Result<Remote, String> {
        let host = host.trim().trim_end_matches('/');
        let (https, rest) = match host.split_once("://") {
            Some(("http", rest)) => (false, rest),
            Some(("https", rest)) => (true, rest),
            Some((scheme, _)) => {
                return Err(format!("--host {host}: unknown scheme `{scheme}`, expected http or https"));
            }
            None => (false, host),
        };
        if rest.is_empty() || rest.contains('/') {
            return Err(format!("--host {host}: expected http://HOST:PORT or https://HOST:PORT"));
        }
        let has_port =
            rest.rsplit_once(':').is_some_and(|(h, p)| !h.ends_with(':') && p.parse::<u16>().is_ok());
        let authority =
            if has_port { rest.to_string() } else { format!("{rest}:{}", if https { 443 } else { 80 }) };
        let token = match token_file {
            Some(path) => Some(read_token(path)?),
            None => None,
        };
        let tls = if https { Some(connector(&authority, ca_file)?) } else { None };
        let url = format!("{}://{authority}", if https { "https" } else { "http" });
        Ok(Remote { url, authority, token, tls })
    }

    /// Opens a connection (TLS when https).
    pub async fn connect(&self) -> io::Result<Box<dyn Io>> {
        let tcp = TcpStream::connect(&self.authority).await?;
        let _ = tcp.set_nodelay(true);
        match &self.tls {
            None => Ok(Box::new(tcp)),
            Some((connector, name)) => Ok(Box::new(connector.connect(name.clone(), tcp).await?)),
        }
    }
}

fn read_token(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read token file {}: {e}", path.display()))?;
    let token = text.lines().next().unwrap_or("").trim();
    if token.is_empty() {
        return Err(format!("token file {} holds no token", path.display()));
    }
    Ok(token.to_string())
}

fn connector(authority: &str, ca_file: Option<&Path>) -> Result<(TlsConnector, ServerName<'static>), String> {
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let name = ServerName::try_from(host.to_string()).map_err(|e| format!("--host: {host}: {e}"))?;
    let cas = ca_file.unwrap_or(Path::new(SYSTEM_CAS));
    let mut roots = rustls::RootCertStore::empty();
    let certs =
        CertificateDer::pem_file_iter(cas).and_then(|it| it.collect::<Result<Vec<_>, _>>()).map_err(|e| {
            format!("cannot read certificate authorities from {}: {e} (give --ca-file)", cas.display())
        })?;
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(format!("no certificate authority in {}", cas.display()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((TlsConnector::from(Arc::new(config)), name))
}
