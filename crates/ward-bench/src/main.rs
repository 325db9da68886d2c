//! ward-bench: drives the real `ward` and, in the same run, a minimal
//! fork/exec/wait supervisor (the baseline), through the same scenarios, and
//! prints every ward figure with its ratio to the baseline.
//!
//! - `feed`: start records of the instances (a FIFO read by one thread).
//! - `sup`: starting, driving and stopping a supervisor under test.
//! - `baseline`: the baseline supervisor loop.
//! - `scenarios`: restart latency, scale + idle + storm + status.
//! - `procfs`: a supervisor's own processes, their RSS and context switches.
//! - `stats`: percentiles and formatting.
//! - `report`: the table.
//!
//! Usage: `ward-bench [--quick] [--kills N] [--scale N] [--storm N]
//! [--idle SECS] [--ward PATH] [--svc PATH]`; `scripts/bench.sh` builds in
//! release and runs it.

#![allow(clippy::disallowed_methods)] // a benchmark reads clocks and sleeps on purpose

mod baseline;
mod feed;
mod procfs;
mod report;
mod scenarios;
mod stats;
mod stream;
mod sup;

use scenarios::Sizes;
use std::path::PathBuf;
use std::time::Duration;
use sup::{Kind, Programs};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(baseline::ARG) {
        baseline::main(&args[1..]);
    }
    match run(&args) {
        Ok(()) => {}
        Err(e) => {
            eprintln!("ward-bench: {e}");
            std::process::exit(1);
        }
    }
}

fn parse(args: &[String]) -> Result<(Sizes, Programs), String> {
    let here = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = here.parent().map(PathBuf::from).unwrap_or_default();
    let mut sizes = Sizes {
        kills: 200,
        scale: 10_000,
        storm: 1_000,
        idle: Duration::from_secs(30),
        gap: Duration::from_millis(10),
    };
    let mut progs = Programs { ward: dir.join("ward"), svc: dir.join("bench-svc"), bench: here };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{a} needs a value"));
        let number = |v: String| v.parse::<usize>().map_err(|_| format!("{a}: not a number: {v}"));
        match a.as_str() {
            "--quick" => {
                sizes = Sizes { kills: 20, scale: 200, storm: 50, idle: Duration::from_secs(2), ..sizes };
            }
            "--kills" => sizes.kills = number(value()?)?.max(1),
            "--scale" => sizes.scale = number(value()?)?.max(1),
            "--storm" => sizes.storm = number(value()?)?,
            "--idle" => sizes.idle = Duration::from_secs(number(value()?)?.max(1) as u64),
            "--ward" => progs.ward = value()?.into(),
            "--svc" => progs.svc = value()?.into(),
            "-h" | "--help" => {
                println!(
                    "ward-bench [--quick] [--kills N] [--scale N] [--storm N] [--idle SECS] [--ward PATH] [--svc PATH]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    for p in [&progs.ward, &progs.svc] {
        if !p.is_file() {
            return Err(format!("{} not found (build it, or pass --ward/--svc)", p.display()));
        }
    }
    Ok((sizes, progs))
}

fn run(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let (sizes, progs) = parse(args)?;
    prepare_process();
    let root = std::env::temp_dir().join(format!("ward-bench-{}", std::process::id()));
    std::fs::create_dir_all(&root)?;
    println!("{}", report::machine());
    println!("{}", report::filesystem(&root));
    println!("sizes: {sizes:?}\n");
    let mut results = report::Results::default();
    for kind in [Kind::Baseline, Kind::Ward] {
        eprintln!("ward-bench: {kind:?}: restart latency ({} kills ×2)", sizes.kills);
        let r = scenarios::restart(kind, &progs, &sizes, &root)?;
        eprintln!(
            "ward-bench: {kind:?}: scale ({} instances, idle {:?}, storm {})",
            sizes.scale, sizes.idle, sizes.storm
        );
        let s = scenarios::scale(kind, &progs, &sizes, &root)?;
        results.set(kind, r, s);
    }
    let _ = std::fs::remove_dir_all(&root);
    print!("{}", results.table(&sizes));
    Ok(())
}

/// Child subreaper (orphaned instances come back to us to be reaped), and
/// as many open files as allowed.
fn prepare_process() {
    // SAFETY: plain-integer arguments, as the man pages ask.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0);
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
