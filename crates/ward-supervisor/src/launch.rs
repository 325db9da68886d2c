//! From a service's spec to the [`Launch`] of one of its instances: ports per
//! replica, `${NAME}` templating, environment, paths relative to the spec file.
//!
//! Templating is plain text replacement of `${NAME}` for the port names and
//! `WARD_SERVICE`/`WARD_REPLICA`; no shell ever sees the strings, and an
//! unknown `${X}` stays as it is.

use crate::ports::runtime::{ImageLaunch, Launch, ProcessOptions};
use std::path::{Path, PathBuf};
use ward_core::InstanceId;
use ward_core::spec::ServiceSpec;

/// The variables an instance gets: its ports (`base + replica`) and its identity.
pub fn variables(spec: &ServiceSpec, id: &InstanceId) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = spec
        .ports
        .iter()
        .map(|(name, base)| (name.clone(), (u32::from(*base) + id.replica).to_string()))
        .collect();
    vars.push(("WARD_SERVICE".into(), id.service.to_string()));
    vars.push(("WARD_REPLICA".into(), id.replica.to_string()));
    vars
}

/// Replaces each `${NAME}` of `vars` in `text`.
pub fn template(text: &str, vars: &[(String, String)]) -> String {
    if !text.contains("${") {
        return text.to_string();
    }
    let mut out = text.to_string();
    for (name, value) in vars {
        out = out.replace(&format!("${{{name}}}"), value);
    }
    out
}

/// Whether the instances of `spec` run in a cgroup of their own: every
/// native one, unless the spec says `cgroup: false` (containers get theirs
/// from their OCI runtime).
pub fn in_cgroup(spec: &ServiceSpec) -> bool {
    spec.image.is_none() && spec.cgroup.unwrap_or(true)
}

/// The launch of instance `id` of `spec`, for a spec file in `spec_dir`.
pub fn launch(
    spec: &ServiceSpec,
    id: &InstanceId,
    spec_dir: &Path,
    log: PathBuf,
    state_dir: &Path,
) -> Launch {
    let vars = variables(spec, id);
    let argv = spec.command.iter().map(|a| template(a, &vars)).collect();
    let mut env: Vec<(String, String)> = vars.clone();
    env.extend(spec.env.iter().map(|(k, v)| (k.clone(), template(v, &vars))));
    // A container's workdir is a path inside its rootfs, as written; a
    // process's is relative to the spec file's folder.
    let workdir = match (&spec.image, &spec.workdir) {
        (Some(_), w) => w.as_ref().map(|w| PathBuf::from(template(w, &vars))),
        (None, Some(w)) => Some(spec_dir.join(template(w, &vars))),
        (None, None) => Some(spec_dir.to_path_buf()),
    };
    let image = spec.image.as_ref().map(|img| ImageLaunch {
        rootfs: spec_dir.join(&img.rootfs),
        writable: img.writable,
        runtime: img.runtime.clone(),
        runtime_path: img.runtime_path.as_ref().map(|p| spec_dir.join(p)),
        resources: spec.resources,
        state_dir: state_dir.join("oci"),
    });
    let process = ProcessOptions {
        // A cgroup of its own unless the spec says `cgroup: false` (the child
        // is born in it: see the README's "Real daemons").
        cgroup: in_cgroup(spec),
        memory: spec.resources.memory,
        memory_high: spec.resources.memory_high,
        pids: spec.resources.pids,
        cpu: spec.resources.cpu,
        limits: spec.limits.iter().map(|(l, v)| (l.key().to_string(), *v)).collect(),
        group: spec.group.clone(),
        umask: spec.umask,
        // MAINPID (issue #17): a notify service's main process may hand over.
        handover: matches!(spec.ready, Some(ward_core::spec::ReadySpec::Notify { .. })),
    };
    Launch { id: id.clone(), argv, env, workdir, user: spec.user.clone(), log, image, process }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_templates() {
        let yaml = "version: 1\nservices:\n  api:\n    command: [\"./api\", \"--port\", \"${PORT}\", \"$${NOPE}\"]\n    replicas: 2\n    ports: { PORT: 8080 }\n    env: { URL: \"http://127.0.0.1:${PORT}/\" }\n    workdir: srv\n";
        let spec = ward_core::spec::parse(yaml, "t.yaml").unwrap();
        let svc = spec.services.values().next().unwrap();
        let id = InstanceId::new("api".parse().unwrap(), 1);
        let l = launch(svc, &id, Path::new("/etc/x"), PathBuf::from("/l"), Path::new("/s"));
        assert_eq!(l.argv, vec!["./api", "--port", "8081", "${NOPE}"]);
        assert!(l.env.contains(&("PORT".into(), "8081".into())));
        assert!(l.env.contains(&("URL".into(), "http://127.0.0.1:8081/".into())));
        assert!(l.env.contains(&("WARD_REPLICA".into(), "1".into())));
        assert_eq!(l.workdir, Some(PathBuf::from("/etc/x/srv")));
    }
}
