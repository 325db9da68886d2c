//! The brain's mailbox: what the brain says that the keeper needs only
//! before it next acts (standing orders, their withdrawal, acknowledgements),
//! sent as datagrams to a socket that no thread of the keeper waits on.
//!
//! A restart under a standing order ends in the brain re-arming the order
//! for the replacement and acknowledging the exit. On the brain's connection
//! those two messages woke the keeper's reader thread and then the keeper's
//! loop, for nothing to do until the replacement exits. In the mailbox they
//! wait: the keeper takes everything there at the start of each input it
//! handles (an exit, a message on the connection, a signal), before it.
//! What the brain put in the mailbox before it wrote on its connection is
//! therefore always handled first, and an exit always finds the latest
//! orders. What the mailbox does not take at once (full, or too large for one
//! datagram) the brain sends on its connection instead.
//!
//! The socket (`keeper.mailbox` beside `keeper.sock`, mode 0600) takes only
//! datagrams from the attached brain: each carries its sender's credentials
//! (`SO_PASSCRED`), and one whose pid is not that of the connection's peer
//! is dropped.

use super::Keeper;
use crate::protocol::ToKeeper;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::Path;

use crate::protocol::MAX_DATAGRAM;

/// The keeper's end.
pub(super) struct Mailbox {
    socket: UnixDatagram,
    buf: Vec<u8>,
}

impl Mailbox {
    /// Binds the mailbox at `path` (mode 0600), replacing a stale one.
    pub(super) fn bind(path: &Path) -> io::Result<Mailbox> {
        let _ = std::fs::remove_file(path);
        let socket = UnixDatagram::bind(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        socket.set_nonblocking(true)?;
        rustix::net::sockopt::set_socket_passcred(&socket, true)?;
        Ok(Mailbox { socket, buf: vec![0; MAX_DATAGRAM] })
    }

    /// Every message waiting, in the order sent; those of any process but
    /// `brain` (none when no brain runs) are dropped.
    pub(super) fn take(&mut self, brain: Option<u32>) -> Vec<ToKeeper> {
        let mut out = Vec::new();
        while let Some((from, len)) = self.receive() {
            if from.is_none() || from != brain {
                continue;
            }
            for line in self.buf[..len].split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                match serde_json::from_slice::<ToKeeper>(line) {
                    Ok(msg) => out.push(msg),
                    Err(e) => tracing::warn!("keeper: bad message in the brain's mailbox: {e}"),
                }
            }
        }
        out
    }

    /// One datagram into `buf`: its sender's pid and its length; `None`
    /// once there is none.
    fn receive(&mut self) -> Option<(Option<u32>, usize)> {
        use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmCredentials(1))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let mut iov = [io::IoSliceMut::new(&mut self.buf)];
        loop {
            match rustix::net::recvmsg(self.socket.as_fd(), &mut iov, &mut control, RecvFlags::DONTWAIT) {
                Ok(msg) => {
                    let from = control.drain().find_map(|m| match m {
                        RecvAncillaryMessage::ScmCredentials(cred) => {
                            Some(cred.pid.as_raw_nonzero().get() as u32)
                        }
                        _ => None,
                    });
                    return Some((from, msg.bytes));
                }
                Err(rustix::io::Errno::INTR) => {}
                Err(rustix::io::Errno::AGAIN) => return None,
                Err(e) => {
                    tracing::warn!("keeper: cannot read the brain's mailbox: {e}");
                    return None;
                }
            }
        }
    }
}

impl Keeper {
    /// Handles what the brain left in its mailbox: called before each input.
    pub(super) fn read_mailbox(&mut self) {
        let Some(mailbox) = &mut self.mailbox else { return };
        for msg in mailbox.take(self.conn_pid) {
            self.on_message(msg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_of_the_brain_are_taken_in_order_and_others_dropped() {
        let dir = std::env::temp_dir().join(format!("ward-mailbox-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        let path = crate::protocol::mailbox_of(&dir.join("keeper.sock"));
        let mut mailbox = Mailbox::bind(&path).expect("bound");
        let mode = std::fs::metadata(&path).expect("the socket").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let brain = UnixDatagram::unbound().expect("a socket");
        brain.connect(&path).expect("connected");
        let two = [ToKeeper::Ack { seq: 1 }, ToKeeper::Disarm { pid: 7 }];
        let bytes: Vec<u8> = two.iter().flat_map(crate::protocol::encode).collect();
        brain.send(&bytes).expect("sent");
        brain.send(&crate::protocol::encode(&ToKeeper::Ack { seq: 2 })).expect("sent");
        let me = std::process::id();
        let got = mailbox.take(Some(me));
        assert!(
            matches!(
                got.as_slice(),
                [ToKeeper::Ack { seq: 1 }, ToKeeper::Disarm { pid: 7 }, ToKeeper::Ack { seq: 2 }]
            ),
            "{got:?}"
        );
        assert!(mailbox.take(Some(me)).is_empty(), "each message is taken once");
        brain.send(&crate::protocol::encode(&ToKeeper::Ack { seq: 3 })).expect("sent");
        assert!(mailbox.take(Some(me + 1)).is_empty(), "not from the brain: dropped");
        assert!(mailbox.take(Some(me)).is_empty(), "and gone");
        brain.send(&crate::protocol::encode(&ToKeeper::Ack { seq: 4 })).expect("sent");
        assert!(mailbox.take(None).is_empty(), "no brain runs: dropped");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
