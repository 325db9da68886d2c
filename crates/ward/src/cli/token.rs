//! `ward token new -o FILE [--read-only]`: writes a fresh random token to a
//! new file of mode 0600, for `api.token_file` or `api.read_token_file`.
//!
//! A token is 32 bytes from the kernel's random source (`/dev/urandom`), in
//! URL-safe base64 without padding, after a prefix that says what it is for
//! (`ward_op_` or `ward_ro_`); the prefix is a label for people, the role
//! comes from which spec key names the file.

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Runs `ward token new`; returns the exit code.
pub fn new(out: &Path, read_only: bool, force: bool) -> i32 {
    match write(out, read_only, force) {
        Ok(()) => {
            let key = if read_only { "read_token_file" } else { "token_file" };
            println!(
                "wrote a new {} token to {} (mode 0600); name it as api.{key} in the spec",
                if read_only { "read-only" } else { "operator" },
                out.display()
            );
            0
        }
        Err(e) => {
            eprintln!("ward: cannot write token file {}: {e}", out.display());
            1
        }
    }
}

fn write(out: &Path, read_only: bool, force: bool) -> std::io::Result<()> {
    let mut raw = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut raw)?;
    let token = format!("{}{}", if read_only { "ward_ro_" } else { "ward_op_" }, encode(&raw));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).mode(0o600);
    if force {
        options.create(true).truncate(true)
    } else {
        options.create_new(true)
    };
    let mut file = options.open(out)?;
    // An existing file replaced with --force keeps its mode: make it 0600.
    std::fs::set_permissions(out, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    writeln!(file, "{token}")?;
    file.sync_all()
}

/// URL-safe base64 without padding.
fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 2);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_without_padding() {
        assert_eq!(super::encode(b"\xff\xff\xff"), "____");
        assert_eq!(super::encode(b"Man"), "TWFu");
        assert_eq!(super::encode(b"Ma"), "TWE");
        assert_eq!(super::encode(&[0u8; 32]).len(), 43);
    }
}
