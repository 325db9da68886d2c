//! Small files of the kernel's (`/proc/PID/stat`, a cgroup's `cpu.stat`),
//! read in one go: open, read into a buffer on the stack until the end,
//! close. `fs::read_to_string` would first ask the file's size (these
//! report 0) and then read in growing steps, a system call each; ward reads
//! such files at every start and exit.

use std::path::Path;

/// The most a file read here may hold.
const MAX: usize = 4096;

/// Calls `f` with the text of `path`; `None` when it cannot be read, is not
/// text, or holds more than 4 KiB.
pub fn read<T>(path: &Path, f: impl FnOnce(&str) -> Option<T>) -> Option<T> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).ok()?;
    let mut buf = [0u8; MAX];
    let mut len = 0;
    loop {
        match rustix::io::read(&fd, &mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => return None,
        }
        if len == MAX {
            return None;
        }
    }
    f(std::str::from_utf8(&buf[..len]).ok()?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_a_kernel_file_whole() {
        let stat = super::read(std::path::Path::new("/proc/self/stat"), |t| Some(t.to_owned()));
        let stat = stat.expect("readable");
        assert!(stat.starts_with(&format!("{} (", std::process::id())), "{stat}");
        assert!(stat.ends_with('\n'));
        assert_eq!(super::read(std::path::Path::new("/nonexistent"), |_| Some(())), None);
    }
}
