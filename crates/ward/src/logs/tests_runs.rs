//! The last lines of a run's output (`runs::tail_lines`), against a plain
//! reading of the file's last 64 KiB.

use super::runs::tail_lines;
use super::tests::TempDir;
use std::path::Path;

/// What `tail_lines` must answer: the last `n` lines of `bytes[..end]`,
/// from at most its last 64 KiB, without the partial first line.
fn reference(bytes: &[u8], n: usize, end: usize) -> Vec<String> {
    let start = end.saturating_sub(64 * 1024);
    let text = String::from_utf8_lossy(&bytes[start..end]);
    let mut lines: Vec<&str> = text.lines().collect();
    if start > 0 && !lines.is_empty() {
        lines.remove(0);
    }
    lines[lines.len().saturating_sub(n)..].iter().map(|l| l.to_string()).collect()
}

/// A file of `count` lines whose lengths vary from 0 to `longest` bytes.
fn write_lines(path: &Path, count: usize, longest: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..count {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = (x as usize) % (longest + 1);
        bytes.extend(format!("{i}:").bytes());
        bytes.extend(std::iter::repeat_n(b'a' + (i % 26) as u8, len));
        bytes.push(b'\n');
    }
    std::fs::write(path, &bytes).unwrap();
    bytes
}

#[test]
fn the_last_lines_are_those_of_the_last_64_kib_whatever_the_line_lengths() {
    let dir = TempDir::new(&std::env::temp_dir(), "tail");
    std::fs::create_dir_all(&dir.0).unwrap();
    let path = dir.0.join("svc.0.log");
    for (count, longest) in [(0, 0), (3, 10), (50, 100), (200, 100), (2000, 80), (300, 2000), (40, 40_000)] {
        let bytes = write_lines(&path, count, longest);
        for n in [0, 1, 50, 120] {
            for end in [None, Some(bytes.len() / 2), Some(bytes.len() + 10), Some(0)] {
                let upto = end.map_or(bytes.len(), |e| e.min(bytes.len()));
                assert_eq!(
                    tail_lines(&path, n, end.map(|e| e as u64)),
                    reference(&bytes, n, upto),
                    "{count} lines of up to {longest} bytes, n {n}, end {end:?}"
                );
            }
        }
    }
}

#[test]
fn a_file_that_does_not_end_in_a_newline_keeps_its_last_line() {
    let dir = TempDir::new(&std::env::temp_dir(), "tail-end");
    std::fs::create_dir_all(&dir.0).unwrap();
    let path = dir.0.join("svc.0.log");
    std::fs::write(&path, b"one\ntwo\nthree").unwrap();
    assert_eq!(tail_lines(&path, 2, None), ["two", "three"]);
    assert!(tail_lines(&dir.0.join("missing.log"), 5, None).is_empty());
}
