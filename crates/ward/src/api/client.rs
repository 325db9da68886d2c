//! The CLI's side of the API: HTTP/1.1 over the control socket, or over TCP
//! to a remote ward (see `remote`).

use super::types::ErrorReply;
use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use std::io;
use std::path::{Path, PathBuf};
use tokio::net::UnixStream;

/// Why a call to the API failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing listens on the socket.
    #[error("ward is not running (no supervisor answers at {0})")]
    NotRunning(PathBuf),
    /// The API refused the request.
    #[error("{message}")]
    Api {
        /// The HTTP status.
        status: StatusCode,
        /// The API's error message.
        message: String,
    },
    /// The socket or HTTP failed.
    #[error("talking to ward at {path}: {source}")]
    Transport {
        /// The socket.
        path: PathBuf,
        /// What failed.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// A client of one ward's control socket, or of a remote ward's TCP API.
pub struct Client {
    socket: PathBuf,
    remote: Option<super::remote::Remote>,
}

impl Client {
    /// A client of the supervisor listening at `socket`.
    pub fn new(socket: &Path) -> Self {
        Client { socket: socket.to_path_buf(), remote: None }
    }

    /// A client of a remote ward's TCP API.
    pub fn remote(remote: super::remote::Remote) -> Self {
        Client { socket: PathBuf::from(&remote.url), remote: Some(remote) }
    }

    /// Connects to the socket, or to the remote ward.
    async fn connect(&self) -> Result<Box<dyn super::remote::Io>, ClientError> {
        let not_running = |e: io::Error| match e.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => {
                ClientError::NotRunning(self.socket.clone())
            }
            _ => self.transport(e),
        };
        match &self.remote {
            None => Ok(Box::new(UnixStream::connect(&self.socket).await.map_err(not_running)?)),
            Some(remote) => remote.connect().await.map_err(not_running),
        }
    }

    fn transport(&self, e: impl std::error::Error + Send + Sync + 'static) -> ClientError {
        ClientError::Transport { path: self.socket.clone(), source: Box::new(e) }
    }

    /// Sends a request; returns the response once its status is a success.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<Incoming, ClientError> {
        let stream = self.connect().await?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| self.transport(e))?;
        tokio::spawn(async move {
            // The connection ends with the response; its errors surface on the request.
            let _ = conn.await;
        });
        let bytes = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let host = self.remote.as_ref().map_or("ward", |r| r.authority.as_str());
        let mut req = Request::builder().method(method).uri(path).header("host", host);
        if let Some(token) = self.remote.as_ref().and_then(|r| r.token.as_deref()) {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        let req = req
            .header("content-type", "application/json")
            .body(Full::new(bytes))
            .map_err(|e| self.transport(e))?;
        let resp = sender.send_request(req).await.map_err(|e| self.transport(e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp.into_body());
        }
        let body = resp.into_body().collect().await.map_err(|e| self.transport(e))?.to_bytes();
        let message = serde_json::from_slice::<ErrorReply>(&body)
            .map(|e| e.error)
            .unwrap_or_else(|_| String::from_utf8_lossy(&body).into_owned());
        Err(ClientError::Api { status, message })
    }

    /// GET or POST, and decode the JSON answer.
    pub async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<T, ClientError> {
        let body = self.send(method, path, body).await?;
        let bytes = body.collect().await.map_err(|e| self.transport(e))?.to_bytes();
        serde_json::from_slice(&bytes).map_err(|e| self.transport(e))
    }

    /// GET a body as bytes.
    pub async fn bytes(&self, path: &str) -> Result<Bytes, ClientError> {
        let body = self.send(Method::GET, path, None).await?;
        Ok(body.collect().await.map_err(|e| self.transport(e))?.to_bytes())
    }
}

/// Reads the next data chunk of a streamed body; `None` at its end.
pub async fn next_chunk(body: &mut Incoming) -> Option<Result<Bytes, hyper::Error>> {
    loop {
        match body.frame().await? {
            Ok(frame) => match frame.into_data() {
                Ok(data) => return Some(Ok(data)),
                Err(_) => continue, // trailers
            },
            Err(e) => return Some(Err(e)),
        }
    }
}

/// Percent-encodes a query value (service names and targets are plain, but be safe).
pub fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
