//! sd_notify: each instance whose service has `ready: { notify: true }` gets
//! its own Unix datagram socket (`<state>/notify/<service>.<replica>.sock`,
//! or an abstract socket when that path is too long for `sun_path`), named
//! in its `NOTIFY_SOCKET`. The socket is per instance, in ward's 0700 state
//! folder, so whatever arrives on it comes from that instance.
//!
//! An instance that runs as another user, or in a container, gets its socket
//! in a folder of its own below `/run/ward/<hash>/` instead: the user's
//! alone, or bind-mounted into the container at [`CONTAINER_DIR`] (an
//! abstract socket would not be reachable from another network namespace,
//! and a path socket in a folder only that container mounts is its alone).
//!
//! Understood: `READY=1`, `STATUS=…`, `STOPPING=1`, `WATCHDOG=1` (and
//! `WATCHDOG=trigger`), `MAINPID=…`. The real `systemd-notify` also sends
//! `BARRIER=1` with a file descriptor attached and waits until the manager
//! closes it: every descriptor received is closed at once.

use std::io::{self, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::AsFd;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use ward_core::InstanceId;

/// The longest socket path `sun_path` holds (108 bytes with its NUL).
const SUN_PATH_MAX: usize = 107;

use crate::sockets::fnv;
pub use crate::sockets::{CONTAINER_SOCKET, run_dir, user_sockets};
pub use ward_supervisor::ports::health::Notice;

/// Parses one datagram: newline-separated `KEY=VALUE` lines.
pub fn parse(msg: &[u8]) -> Vec<Notice> {
    String::from_utf8_lossy(msg)
        .split('\n')
        .filter(|l| !l.is_empty())
        .map(|line| match line.split_once('=') {
            Some(("READY", "1")) => Notice::Ready,
            Some(("STATUS", text)) => Notice::Status(text.to_string()),
            Some(("STOPPING", "1")) => Notice::Stopping,
            Some(("WATCHDOG", "1")) => Notice::Watchdog,
            Some(("WATCHDOG", "trigger")) => Notice::WatchdogTrigger,
            Some(("MAINPID", pid)) => pid.trim().parse().map_or(Notice::Other, Notice::MainPid),
            _ => Notice::Other,
        })
        .collect()
}

/// Where the socket of an instance is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// In ward's state folder (or abstract): the instance runs as ward's user.
    Ward,
    /// Reachable by this uid and gid only (`user:`).
    User(u32, u32),
    /// In a folder bind-mounted into the instance's container.
    Container,
}

/// Binds the notify socket of `id` at `place`; returns it (non-blocking)
/// and the value of `NOTIFY_SOCKET` (as the instance sees it).
pub fn bind(state: &Path, id: &InstanceId, place: Place) -> io::Result<(UnixDatagram, String)> {
    match place {
        Place::User(uid, gid) if uid != rustix::process::geteuid().as_raw() => {
            return bind_in_run(state, id, Some((uid, gid)));
        }
        Place::Container => {
            let (sock, _) = bind_in_run(state, id, None)?;
            return Ok((sock, CONTAINER_SOCKET.to_string()));
        }
        Place::User(..) | Place::Ward => {}
    }
    let dir = state.join("notify");
    std::fs::DirBuilder::new().recursive(true).create(&dir)?;
    let path = dir.join(format!("{}.{}.sock", id.service, id.replica));
    let sock = match path.to_str() {
        Some(p) if p.len() <= SUN_PATH_MAX => {
            // A file from an earlier process of this instance (or an earlier ward).
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            (UnixDatagram::bind(&path)?, p.to_string())
        }
        _ => bind_abstract(state, id)?,
    };
    sock.0.set_nonblocking(true)?;
    Ok(sock)
}

/// The socket `run_dir/notify.sock`, in folders that others can traverse
/// but not list (0711, ward's), the last one (0700) and the socket (0600)
/// `owner`'s, or ward's. The state folder stays 0700.
fn bind_in_run(
    state: &Path,
    id: &InstanceId,
    owner: Option<(u32, u32)>,
) -> io::Result<(UnixDatagram, String)> {
    use std::os::unix::fs::PermissionsExt;
    let base = user_sockets(state);
    if let Some(root) = base.parent() {
        own_dir(root, 0o711, None)?;
    }
    own_dir(&base, 0o711, None)?;
    let dir = run_dir(state, id);
    own_dir(&dir, 0o700, owner.map(|(uid, _)| uid))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid))?;
    }
    let path = dir.join("notify.sock");
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let name = path
        .to_str()
        .filter(|p| p.len() <= SUN_PATH_MAX)
        .ok_or_else(|| io::Error::other("socket path too long"))?;
    let sock = UnixDatagram::bind(&path)?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(&path, Some(uid), Some(gid))?;
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    sock.set_nonblocking(true)?;
    Ok((sock, name.to_string()))
}

/// Makes `dir` with `mode` unless it exists; either way it must be a real
/// folder owned by ward's user or by `user` (never a symlink someone else planted).
fn own_dir(dir: &Path, mode: u32, user: Option<u32>) -> io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    match std::fs::DirBuilder::new().mode(mode).create(dir) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
        _ => {}
    }
    let meta = std::fs::symlink_metadata(dir)?;
    if !meta.is_dir() || (meta.uid() != rustix::process::geteuid().as_raw() && Some(meta.uid()) != user) {
        return Err(io::Error::other(format!("{} is not a folder of ward's user", dir.display())));
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
}

/// An abstract socket named after a hash of the state folder: the same name
/// for the same instance across restarts of ward, and never a file.
fn bind_abstract(state: &Path, id: &InstanceId) -> io::Result<(UnixDatagram, String)> {
    use std::os::linux::net::SocketAddrExt;
    let hash = fnv(state);
    let name = format!("ward-{hash:016x}/{}.{}", id.service, id.replica);
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
    Ok((UnixDatagram::bind_addr(&addr)?, format!("@{name}")))
}

/// Receives one datagram (without waiting), closing every descriptor that came with it.
pub(super) fn recv_closing_fds(sock: &impl AsFd, buf: &mut [u8]) -> io::Result<usize> {
    use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(8))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let flags = RecvFlags::DONTWAIT | RecvFlags::CMSG_CLOEXEC;
    let msg = rustix::net::recvmsg(sock, &mut [IoSliceMut::new(buf)], &mut control, flags)?;
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(fds) = message {
            // systemd-notify's BARRIER=1 waits for this: close at once.
            fds.for_each(drop);
        }
    }
    Ok(msg.bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_sd_notify_sends() {
        let got = parse(b"READY=1\nSTATUS=warming up: 3/4\nMAINPID=42\nWATCHDOG=1\n");
        assert_eq!(
            got,
            vec![
                Notice::Ready,
                Notice::Status("warming up: 3/4".into()),
                Notice::MainPid(42),
                Notice::Watchdog
            ]
        );
        assert_eq!(parse(b"STOPPING=1"), vec![Notice::Stopping]);
        assert_eq!(parse(b"WATCHDOG=trigger"), vec![Notice::WatchdogTrigger]);
        assert_eq!(parse(b"BARRIER=1"), vec![Notice::Other]);
        assert_eq!(parse(b"READY=0\nMAINPID=x\nnonsense"), vec![Notice::Other; 3]);
        assert_eq!(parse(b"STATUS="), vec![Notice::Status(String::new())]);
        assert!(parse(b"").is_empty());
    }

    fn id() -> InstanceId {
        InstanceId::new("svc".parse().unwrap(), 3)
    }

    #[test]
    fn long_state_paths_fall_back_to_an_abstract_socket() {
        let dir = std::env::temp_dir().join(format!("ward-notify-{}", std::process::id()));
        let (_s, name) = bind(&dir, &id(), Place::Ward).unwrap();
        assert_eq!(name, dir.join("notify/svc.3.sock").to_str().unwrap());
        let long = dir.join("x".repeat(120));
        let (_s, name) = bind(&long, &id(), Place::Ward).unwrap();
        assert!(name.starts_with("@ward-") && name.ends_with("/svc.3"), "{name}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
