//! The service the benchmark supervises: on start it records
//! `REPLICA PID CLOCK_MONOTONIC_NS` as one line (one `write`, so lines from
//! thousands of instances never interleave) on the FIFO named by
//! `BENCH_OUT`, then sleeps until a signal ends it.
//!
//! The replica comes from `WARD_REPLICA`, which ward sets and the baseline
//! supervisor imitates.

use std::io::Write;

fn main() {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    let ns = ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64;
    let replica = std::env::var("WARD_REPLICA").unwrap_or_else(|_| "0".into());
    if let Some(path) = std::env::var_os("BENCH_OUT") {
        let line = format!("{replica} {} {ns}\n", std::process::id());
        if let Ok(mut out) = std::fs::OpenOptions::new().append(true).open(path) {
            let _ = out.write_all(line.as_bytes());
        }
    }
    loop {
        // SAFETY: pause has no arguments; it returns only after a caught signal.
        unsafe { libc::pause() };
    }
}
