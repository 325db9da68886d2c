//! Running a short command (an exec probe, a hook) from the brain without
//! blocking the supervisor: tokio's process support, the command in its own
//! process group, the whole group killed at the timeout (and the child killed
//! if the task that waits for it is cancelled).
//!
//! The brain is not a subreaper and has no reaper of its own, so tokio may
//! wait for its own children here; whatever they leave behind is reparented
//! to the keeper, which reaps it.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// How a command should be run.
#[derive(Clone, Debug)]
pub struct Cmd<'a> {
    /// The argv; `argv[0]` is looked up in `PATH` when it has no `/`.
    pub argv: &'a [String],
    /// Variables added to ward's own environment.
    pub env: &'a [(String, String)],
    /// The working directory.
    pub dir: &'a Path,
    /// Kill the command's process group after this long.
    pub timeout: Duration,
    /// Where its output goes: ward's own stderr (hooks), or nowhere (probes).
    pub show_output: bool,
}

/// Runs the command to its end; `Ok` when it exits 0, else why not, in words.
pub async fn run(cmd: &Cmd<'_>) -> Result<(), String> {
    let Some((program, args)) = cmd.argv.split_first() else {
        return Err("empty command".into());
    };
    let mut c = tokio::process::Command::new(program);
    c.args(args)
        .envs(cmd.env.iter().map(|(k, v)| (k, v)))
        .current_dir(cmd.dir)
        .stdin(Stdio::null())
        .stdout(output(cmd.show_output))
        .stderr(output(cmd.show_output))
        .process_group(0)
        .kill_on_drop(true);
    let mut child = c.spawn().map_err(|e| format!("cannot run {program}: {e}"))?;
    let pid = child.id();
    match tokio::time::timeout(cmd.timeout, child.wait()).await {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(describe(status)),
        Ok(Err(e)) => Err(format!("waiting for {program}: {e}")),
        Err(_) => {
            if let Some(pid) = pid.and_then(|p| rustix::process::Pid::from_raw(p as i32)) {
                // Its own process group: whatever it started goes too. Gone already is fine.
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
            }
            Err(format!("{program} timed out after {}", humantime::format_duration(cmd.timeout)))
        }
    }
}

fn output(show: bool) -> Stdio {
    if !show {
        return Stdio::null();
    }
    // ward's stderr is its log; a hook's output belongs there.
    match std::os::fd::AsFd::as_fd(&std::io::stderr()).try_clone_to_owned() {
        Ok(fd) => Stdio::from(fd),
        Err(_) => Stdio::null(),
    }
}

fn describe(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exited with code {c}"),
        (None, Some(s)) => format!("killed by {}", ward_core::exit::signal_name(s)),
        (None, None) => "ended".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    async fn go(v: &[&str], timeout_ms: u64) -> Result<(), String> {
        let argv = argv(v);
        let env = vec![("X".to_string(), "7".to_string())];
        let cmd = Cmd {
            argv: &argv,
            env: &env,
            dir: Path::new("/"),
            timeout: Duration::from_millis(timeout_ms),
            show_output: false,
        };
        run(&cmd).await
    }

    #[tokio::test]
    async fn exit_codes_env_and_timeout() {
        assert_eq!(go(&["sh", "-c", "test \"$X\" = 7"], 5000).await, Ok(()));
        assert_eq!(go(&["sh", "-c", "exit 3"], 5000).await, Err("exited with code 3".into()));
        let slow = go(&["sh", "-c", "sleep 5"], 100).await.unwrap_err();
        assert!(slow.contains("timed out after 100ms"), "{slow}");
        let missing = go(&["/nonexistent/probe"], 1000).await.unwrap_err();
        assert!(missing.starts_with("cannot run /nonexistent/probe"), "{missing}");
    }
}
