//! The sending side of sd_notify: newline-separated `KEY=value` lines in one
//! datagram to `$NOTIFY_SOCKET`, a path or (with a leading `@`) an abstract
//! socket name.

use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};

/// A connection-less sender to the service manager's notify socket.
pub struct Notify {
    socket: UnixDatagram,
    to: SocketAddr,
}

impl Notify {
    /// A sender to `address` (`/run/systemd/notify`, or `@name` for an abstract socket).
    pub fn new(address: &str) -> io::Result<Notify> {
        let to = match address.strip_prefix('@') {
            Some(name) => SocketAddr::from_abstract_name(name.as_bytes())?,
            None => SocketAddr::from_pathname(address)?,
        };
        Ok(Notify { socket: UnixDatagram::unbound()?, to })
    }

    /// Sends the lines as one message. A status text is cut to one line.
    pub fn send(&self, lines: &[(&str, &str)]) -> io::Result<()> {
        let message = format(lines);
        self.socket.send_to_addr(message.as_bytes(), &self.to).map(|_| ())
    }
}

/// `KEY=value` lines; newlines inside a value become spaces.
pub fn format(lines: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (key, value) in lines {
        out.push_str(key);
        out.push('=');
        out.push_str(&value.replace('\n', " "));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_datagram_of_lines_to_a_path_socket() {
        let dir = std::env::temp_dir().join(format!("ward-sdnotify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify.sock");
        let _ = std::fs::remove_file(&path);
        let server = UnixDatagram::bind(&path).unwrap();
        let n = Notify::new(path.to_str().unwrap()).unwrap();
        n.send(&[("READY", "1"), ("STATUS", "2 running\nsecond line")]).unwrap();
        let mut buf = [0u8; 256];
        let len = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"READY=1\nSTATUS=2 running second line\n");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
