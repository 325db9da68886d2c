//! The OCI bundle of one container: a folder with the `config.json` that the
//! OCI runtime reads, made with the oci-spec crate from a [`Launch`].
//!
//! What ward puts there, and why:
//! - the service's argv, its environment (and a default `PATH` when it sets
//!   none; ward's own environment is not inherited), its workdir (`/` when
//!   unset), its user resolved inside the image, no terminal;
//! - the rootfs folder itself as root, read-only unless `writable: true`;
//! - the usual mounts (`/proc`, `/dev` as tmpfs with `devpts`, `shm` and
//!   `mqueue`, `/sys` and its cgroups read-only), masked and read-only paths;
//! - pid, ipc, uts and mount namespaces, but the host's network, so that
//!   ports and probes work as for a process; hostname `<service>-<replica>`;
//! - docker's default capabilities, and the device cgroup closed to all but
//!   the runtime's default devices;
//! - `resources:` as cgroup limits, refused when the host lacks the controller;
//! - with `ready: { notify: true }`, the instance's notify folder bound at
//!   `/run/ward` and `NOTIFY_SOCKET=/run/ward/notify.sock` (see `crate::sockets`).

use super::ContainerError;
use super::host::Controllers;
use super::user::ContainerUser;
use crate::runtime::{ImageLaunch, Launch};
use oci_spec::runtime::{
    Capability, LinuxBuilder, LinuxCapabilitiesBuilder, LinuxCpuBuilder, LinuxDeviceCgroupBuilder,
    LinuxMemoryBuilder, LinuxNamespaceBuilder, LinuxNamespaceType, LinuxPidsBuilder, LinuxResources,
    LinuxResourcesBuilder, Mount, MountBuilder, ProcessBuilder, RootBuilder, Spec, SpecBuilder, UserBuilder,
    get_default_maskedpaths, get_default_mounts, get_default_readonly_paths,
};
use std::collections::HashSet;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use ward_core::spec::ResourcesSpec;

/// `PATH` inside a container whose service sets none.
pub const CONTAINER_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The CFS period for `cpu:` limits, in microseconds (the kernel's default).
const CPU_PERIOD: u64 = 100_000;

/// The smallest CFS quota the kernel accepts, in microseconds.
const CPU_MIN_QUOTA: i64 = 1_000;

/// Docker's default capability set: what a root process in a container may do.
const CAPABILITIES: [Capability; 14] = [
    Capability::AuditWrite,
    Capability::Chown,
    Capability::DacOverride,
    Capability::Fowner,
    Capability::Fsetid,
    Capability::Kill,
    Capability::Mknod,
    Capability::NetBindService,
    Capability::NetRaw,
    Capability::Setfcap,
    Capability::Setgid,
    Capability::Setpcap,
    Capability::Setuid,
    Capability::SysChroot,
];

/// The `config.json` of `launch`, whose image is `image`, run as `user`
/// (root when `None`), with limits checked against `controllers`.
pub fn config(
    launch: &Launch,
    image: &ImageLaunch,
    user: Option<ContainerUser>,
    controllers: &Controllers,
) -> Result<Spec, ContainerError> {
    let user = user.unwrap_or(ContainerUser { uid: 0, gid: 0 });
    let caps: HashSet<Capability> = CAPABILITIES.into_iter().collect();
    let process = ProcessBuilder::default()
        .terminal(false)
        .args(launch.argv.clone())
        .env(environment(&launch.env))
        .cwd(cwd(launch.workdir.as_deref()))
        .user(UserBuilder::default().uid(user.uid).gid(user.gid).build()?)
        .no_new_privileges(true)
        .capabilities(
            LinuxCapabilitiesBuilder::default()
                .bounding(caps.clone())
                .effective(caps.clone())
                .permitted(caps)
                .inheritable(HashSet::new())
                .ambient(HashSet::new())
                .build()?,
        )
        .build()?;
    let root = RootBuilder::default().path(image.rootfs.clone()).readonly(!image.writable).build()?;
    let namespaces = [
        LinuxNamespaceType::Pid,
        LinuxNamespaceType::Ipc,
        LinuxNamespaceType::Uts,
        LinuxNamespaceType::Mount,
    ]
    .into_iter()
    .map(|typ| LinuxNamespaceBuilder::default().typ(typ).build())
    .collect::<Result<Vec<_>, _>>()?;
    let linux = LinuxBuilder::default()
        .namespaces(namespaces)
        .resources(resources(&image.resources, controllers)?)
        .masked_paths(get_default_maskedpaths())
        .readonly_paths(get_default_readonly_paths())
        .build()?;
    Ok(SpecBuilder::default()
        .version("1.0.2")
        .hostname(format!("{}-{}", launch.id.service, launch.id.replica))
        .process(process)
        .root(root)
        .mounts(get_default_mounts().into_iter().chain(notify_mount(launch, image)?).collect::<Vec<_>>())
        .linux(linux)
        .build()?)
}

/// The bind mount of the instance's notify folder, when its environment
/// names the container's notify socket (the folder holds that one socket).
fn notify_mount(launch: &Launch, image: &ImageLaunch) -> Result<Option<Mount>, ContainerError> {
    use crate::sockets::{CONTAINER_DIR, CONTAINER_SOCKET, run_dir};
    let Some(state) = image.state_dir.parent() else { return Ok(None) };
    if !launch.env.iter().any(|(k, v)| k == "NOTIFY_SOCKET" && v == CONTAINER_SOCKET) {
        return Ok(None);
    }
    let options = ["bind", "nosuid", "nodev", "noexec"].map(String::from).to_vec();
    let mount = MountBuilder::default()
        .destination(CONTAINER_DIR)
        .typ("bind")
        .source(run_dir(state, &launch.id))
        .options(options)
        .build()?;
    Ok(Some(mount))
}

/// `NAME=value` strings: the default `PATH` unless `env` sets one, then `env`
/// in order, a later duplicate replacing an earlier one in place.
fn environment(env: &[(String, String)]) -> Vec<String> {
    let mut vars: Vec<(&str, &str)> = Vec::with_capacity(env.len() + 1);
    if !env.iter().any(|(k, _)| k == "PATH") {
        vars.push(("PATH", CONTAINER_PATH));
    }
    for (key, value) in env {
        match vars.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => vars.push((key, value)),
        }
    }
    vars.into_iter().map(|(k, v)| format!("{k}={v}")).collect()
}

/// The working directory inside the container: absolute, `/` when unset.
fn cwd(workdir: Option<&Path>) -> PathBuf {
    Path::new("/").join(workdir.unwrap_or(Path::new("/")))
}

/// The cgroup limits; each one needs its controller on this host.
fn resources(spec: &ResourcesSpec, controllers: &Controllers) -> Result<LinuxResources, ContainerError> {
    let deny_all = LinuxDeviceCgroupBuilder::default().allow(false).access("rwm").build()?;
    let mut builder = LinuxResourcesBuilder::default().devices(vec![deny_all]);
    if let Some(bytes) = spec.memory {
        controllers.require("resources.memory", "memory")?;
        let limit = i64::try_from(bytes).unwrap_or(i64::MAX);
        builder = builder.memory(LinuxMemoryBuilder::default().limit(limit).build()?);
    }
    if let Some(pids) = spec.pids {
        controllers.require("resources.pids", "pids")?;
        builder = builder.pids(LinuxPidsBuilder::default().limit(i64::from(pids)).build()?);
    }
    if let Some(cpus) = spec.cpu {
        controllers.require("resources.cpu", "cpu")?;
        let cpu = LinuxCpuBuilder::default().period(CPU_PERIOD).quota(cpu_quota(cpus)).build()?;
        builder = builder.cpu(cpu);
    }
    Ok(builder.build()?)
}

/// The CFS quota for `cpus` CPUs per [`CPU_PERIOD`], at least the kernel's minimum.
pub fn cpu_quota(cpus: f64) -> i64 {
    let quota = (cpus * CPU_PERIOD as f64).round();
    if quota >= i64::MAX as f64 { i64::MAX } else { (quota as i64).max(CPU_MIN_QUOTA) }
}

/// Writes `spec` as `dir/config.json` (mode 0600: it holds the environment),
/// creating `dir` and replacing what a previous run left there.
pub fn write(dir: &Path, spec: &Spec) -> Result<(), ContainerError> {
    let io = |source| ContainerError::Bundle { dir: dir.to_owned(), source };
    fs::create_dir_all(dir).map_err(io)?;
    let json = serde_json::to_vec_pretty(spec).map_err(|e| io(e.into()))?;
    let path = dir.join("config.json");
    let _ = fs::remove_file(&path);
    let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).map_err(io)?;
    file.write_all(&json).map_err(io)
}
