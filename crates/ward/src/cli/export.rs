//! `ward export systemd [-o DIR] [--name NAME]`: a systemd unit that runs
//! `ward up` for this spec, as a `Type=notify` service (ward sends
//! `READY=1`, `STATUS=`, `WATCHDOG=1` and `STOPPING=1` itself; see
//! `crate::sdnotify`).
//!
//! `KillMode=mixed` sends SIGTERM to `ward up` alone, so ward stops the
//! services in dependency order with their own stop signals and timeouts;
//! `TimeoutStopSec` covers the longest chain of those timeouts.

use crate::paths::Paths;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use ward_core::spec::Spec;

/// Runs `ward export systemd`; returns the exit code.
pub fn run(paths: &Paths, output: Option<&Path>, name: Option<&str>) -> i32 {
    let spec = match super::up::load(paths) {
        Ok(spec) => spec,
        Err(code) => return code,
    };
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let spec_path = absolute(&paths.spec);
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("ward export: cannot find ward's own executable: {e}");
            return 1;
        }
    };
    let name = name.map_or_else(|| default_name(&spec_path), str::to_string);
    let text = unit(&exe, &spec_path, &spec);
    let Some(dir) = output else {
        print!("{text}");
        return 0;
    };
    let file = dir.join(format!("{name}.service"));
    if let Err(e) = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&file, text)) {
        eprintln!("ward export: cannot write {}: {e}", file.display());
        return 1;
    }
    println!("{}", file.display());
    eprintln!(
        "ward export: to install: cp {} /etc/systemd/system/ && systemctl daemon-reload && systemctl enable --now {name}",
        file.display()
    );
    0
}

/// `ward-FOLDER`: the unit name from the spec file's folder.
fn default_name(spec: &Path) -> String {
    let folder = spec.parent().and_then(Path::file_name).and_then(|n| n.to_str()).unwrap_or("app");
    let clean: String = folder
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '-' })
        .collect();
    format!("ward-{clean}")
}

/// The unit text.
pub fn unit(exe: &Path, spec_path: &Path, spec: &Spec) -> String {
    let dir = spec_path.parent().unwrap_or(Path::new("/"));
    let (exe, spec_s, dir_s) = (quote(exe), quote(spec_path), quote(dir));
    let stop = stop_budget(spec).as_secs() + 10;
    format!(
        "# Written by `ward export systemd` for {spec}.\n\
         [Unit]\n\
         Description=ward: the services of {spec}\n\
         Wants=network-online.target\n\
         After=network-online.target\n\
         \n\
         [Service]\n\
         # ward sends READY=1 once every instance is up (or ready, where it declares ready:),\n\
         # STATUS= as states change, WATCHDOG=1 and STOPPING=1. Its brain process sends them,\n\
         # hence NotifyAccess=all.\n\
         Type=notify\n\
         NotifyAccess=all\n\
         ExecStart={exe} up -f {spec_s}\n\
         ExecReload={exe} reload -f {spec_s}\n\
         WorkingDirectory={dir_s}\n\
         # SIGTERM to ward alone: it stops the services in dependency order, each with its\n\
         # own stop signal and timeout; the longest chain of those is {budget}s.\n\
         KillMode=mixed\n\
         TimeoutStopSec={stop}\n\
         # Slow readiness checks may need more than systemd's default 90s.\n\
         TimeoutStartSec=5min\n\
         # ward answers each half period while its supervisor loop runs.\n\
         WatchdogSec=30s\n\
         # ward restarts the services; systemd restarts ward.\n\
         Restart=on-failure\n\
         RestartSec=1s\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n",
        spec = spec_path.display(),
        budget = stop - 10,
    )
}

/// The longest chain of stop timeouts along `depends_on` (dependents stop
/// before their dependencies, one step after the other).
fn stop_budget(spec: &Spec) -> Duration {
    let mut memo: BTreeMap<&str, Duration> = BTreeMap::new();
    let names: Vec<&str> = spec.services.keys().map(|n| n.as_str()).collect();
    names.iter().map(|n| chain(spec, n, &mut memo, 0)).max().unwrap_or_default()
}

fn chain<'s>(
    spec: &'s Spec,
    name: &'s str,
    memo: &mut BTreeMap<&'s str, Duration>,
    depth: usize,
) -> Duration {
    if let Some(d) = memo.get(name) {
        return *d;
    }
    let Some((key, s)) = spec.services.iter().find(|(k, _)| k.as_str() == name) else {
        return Duration::ZERO;
    };
    // A valid spec has no cycles; the depth bound only guards against a bug.
    let deps = if depth > spec.services.len() {
        Duration::ZERO
    } else {
        s.depends_on
            .iter()
            .map(|d| chain(spec, d.service.as_str(), memo, depth + 1))
            .max()
            .unwrap_or_default()
    };
    let total = s.stop.timeout + deps;
    memo.insert(key.as_str(), total);
    total
}

/// A path as one word of a unit's command line: quoted when it needs it, `%` doubled.
fn quote(path: &Path) -> String {
    let s = path.display().to_string().replace('%', "%%");
    if s.contains([' ', '"', '\'', '\\']) {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notify_unit_whose_stop_timeout_covers_the_longest_chain() {
        let yaml = "version: 1\nservices:\n  db:\n    command: [\"db\"]\n    stop: { timeout: 30s }\n  api:\n    command: [\"api\"]\n    depends_on: [db]\n    stop: { timeout: 5s }\n";
        let spec = ward_core::spec::parse(yaml, "ward.yaml").unwrap();
        let text = unit(Path::new("/usr/local/bin/ward"), Path::new("/srv/my app/ward.yaml"), &spec);
        assert!(text.contains("Type=notify\nNotifyAccess=all\n"), "{text}");
        assert!(text.contains("ExecStart=/usr/local/bin/ward up -f \"/srv/my app/ward.yaml\"\n"), "{text}");
        assert!(text.contains("TimeoutStopSec=45\n"), "{text}");
        assert_eq!(default_name(Path::new("/srv/my app/ward.yaml")), "ward-my-app");
    }
}
