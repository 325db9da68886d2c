//! The baseline: the least a supervisor can do. It forks and execs each
//! instance, waits for any child to end, and forks its replacement at once.
//! Nothing else: no log files, no state, no API.
//!
//! It runs as its own process (`ward-bench __baseline SVC N FIFO`), so that
//! it is measured the way ward is. Its instances die with it
//! (`PR_SET_PDEATHSIG`), so killing it cleans everything up.

use std::collections::HashMap;
use std::ffi::CString;

/// The hidden first argument that runs the baseline loop.
pub const ARG: &str = "__baseline";

/// One instance's exec arguments, built before any fork (the child only
/// calls async-signal-safe functions).
struct Prepared {
    program: CString,
    argv: [*const libc::c_char; 2],
    envp: Vec<*const libc::c_char>,
    _env: Vec<CString>,
}

fn prepare(svc: &str, fifo: &str, replica: usize) -> Prepared {
    let program = CString::new(svc).expect("no NUL in the program path");
    let env: Vec<CString> = [format!("BENCH_OUT={fifo}"), format!("WARD_REPLICA={replica}")]
        .into_iter()
        .map(|s| CString::new(s).expect("no NUL in the environment"))
        .collect();
    let mut envp: Vec<*const libc::c_char> = env.iter().map(|c| c.as_ptr()).collect();
    envp.push(std::ptr::null());
    let argv = [program.as_ptr(), std::ptr::null()];
    Prepared { program, argv, envp, _env: env }
}

fn spawn(p: &Prepared) -> Option<u32> {
    // SAFETY: the child runs only async-signal-safe calls on memory prepared
    // before the fork, then execs or exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: plain-integer arguments and valid NUL-terminated arrays.
        unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0);
            libc::setpgid(0, 0);
            libc::execve(p.program.as_ptr(), p.argv.as_ptr(), p.envp.as_ptr());
            libc::_exit(127);
        }
    }
    (pid > 0).then_some(pid as u32)
}

/// The baseline's main: `args` are `SVC N FIFO`. Never returns.
pub fn main(args: &[String]) -> ! {
    let [svc, n, fifo] = args else {
        eprintln!("usage: ward-bench {ARG} SVC N FIFO");
        std::process::exit(2);
    };
    let n: usize = n.parse().expect("N is a number");
    let prepared: Vec<Prepared> = (0..n).map(|i| prepare(svc, fifo, i)).collect();
    let mut pids: HashMap<u32, usize> = HashMap::with_capacity(n);
    for (i, p) in prepared.iter().enumerate() {
        if let Some(pid) = spawn(p) {
            pids.insert(pid, i);
        }
    }
    loop {
        let mut status = 0;
        // SAFETY: `status` is a valid, writable int.
        let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
        if pid < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::ECHILD) {
                std::process::exit(0);
            }
            continue;
        }
        if let Some(i) = pids.remove(&(pid as u32)) {
            if let Some(new) = spawn(&prepared[i]) {
                pids.insert(new, i);
            }
        }
    }
}
