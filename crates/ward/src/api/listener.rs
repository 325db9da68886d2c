//! The control socket: created with mode 0600 in a 0700 state folder, and a
//! listener that drops every connection whose peer is another uid.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use tokio::net::{UnixListener, UnixStream};

/// A Unix listener that only accepts peers of ward's own uid.
pub struct OwnerListener {
    inner: UnixListener,
    uid: u32,
}

impl OwnerListener {
    /// Binds `path` (replacing a stale socket file) and sets its mode to 0600.
    pub fn bind(path: &Path) -> io::Result<Self> {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let inner = UnixListener::bind(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        Ok(OwnerListener { inner, uid: rustix::process::getuid().as_raw() })
    }
}

impl axum::serve::Listener for OwnerListener {
    type Io = UnixStream;
    type Addr = tokio::net::unix::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => match stream.peer_cred() {
                    Ok(cred) if cred.uid() == self.uid => return (stream, addr),
                    Ok(cred) => {
                        tracing::warn!(uid = cred.uid(), "refused a connection from another user")
                    }
                    Err(e) => tracing::warn!("refused a connection: no peer credentials: {e}"),
                },
                Err(e) => {
                    // EMFILE and friends: back off a little instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}
