//! The OCI runtime: instances with an `image:` run as containers through
//! runc (or crun, youki), with no container daemon in between.
//!
//! [`OciRuntime`] wraps another [`Runtime`] (the process runtime) and uses it
//! for everything that is a process:
//! - an instance without an image is passed through unchanged;
//! - a container is `runc run` in the foreground, spawned as the instance's
//!   process: the container inherits its stdio (so output reaches the
//!   instance's log) and its exit code is the container's (a container killed
//!   by signal N exits 128+N);
//! - `runc kill` and `runc delete --force` are fire-and-forget processes
//!   spawned the same way. Nothing here waits for a child: the reaper reaps
//!   them as unknown pids, so the supervisor is never blocked.
//!
//! Each spawn gets a fresh container id, so a container left over by a
//! previous run never collides with a new one. Signals (SIGKILL included:
//! killing `runc run` itself would leave the container running) go through
//! `runc kill`; when `runc run` has exited, `runc delete --force` removes
//! whatever the runtime still holds, and the bundle folder goes too.
//!
//! - `bundle`: the bundle's `config.json`, made with oci-spec.
//! - `host`: the runtime binary and the cgroup controllers of this host.
//! - `names`: container ids, made unique per spawn and recognised again.
//! - `port`: [`OciRuntime`] as a [`Runtime`]: what goes to a container,
//!   and what passes through to the inner runtime.
//! - `state`: the runtime's state folder, read without a subprocess.
//! - `user`: `user:` resolved inside the image.

mod bundle;
mod host;
mod names;
mod port;
mod state;
mod user;

#[cfg(test)]
mod tests;

pub use host::Controllers;
pub use names::container_name;
#[allow(unused_imports)] // for the tests, and adoption after a crash of ward (the durability work)
pub use names::{container_prefix, instance_of};
#[allow(unused_imports)] // for adoption after a crash of ward (the durability work)
pub use state::{ContainerState, ContainerStatus, list_containers};

use super::{ImageLaunch, Launch, Runtime, SpawnError};
use names::recognise;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use ward_core::InstanceId;

/// Where the host's cgroup controllers are mounted.
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// Why a container could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// The runtime binary is not in `PATH`.
    #[error("{0} not found on PATH; install it (apt-get install {0}) or set image.runtime_path")]
    RuntimeNotFound(String),
    /// `image.runtime_path` is not an executable file.
    #[error("image.runtime_path {0} is not an executable file")]
    RuntimePath(PathBuf),
    /// The rootfs folder is missing.
    #[error("image.rootfs {0} is not a folder; unpack an image there (see docs/containers.md)")]
    NoRootfs(PathBuf),
    /// `user:` is not in the image's `/etc/passwd` (or its group not in `/etc/group`).
    #[error(
        "unknown user {user:?} in the image {rootfs} (not in its /etc/passwd or /etc/group); use a numeric uid[:gid]"
    )]
    UnknownUser {
        /// As written.
        user: String,
        /// The image.
        rootfs: PathBuf,
    },
    /// Containers need root (rootless containers are not supported).
    #[error("containers need ward to run as root (it runs as uid {0})")]
    NotRoot(u32),
    /// A resource limit needs a cgroup controller the host does not offer.
    #[error(
        "{key} needs the cgroup `{controller}` controller, which this host does not offer (read {found_in}); remove the limit or enable the controller"
    )]
    NoController {
        /// The spec key (`resources.memory`).
        key: String,
        /// The controller (`memory`).
        controller: String,
        /// Where the available controllers were read.
        found_in: String,
    },
    /// The bundle's `config.json` could not be made.
    #[error("cannot make the container's config: {0}")]
    Config(#[from] oci_spec::OciSpecError),
    /// The bundle folder could not be written.
    #[error("cannot write the bundle {dir}: {source}")]
    Bundle {
        /// The bundle folder.
        dir: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// A container ward started and has not cleaned up yet.
#[derive(Clone, Debug)]
struct Container {
    /// Its id for the runtime.
    name: String,
    /// The pid of its `runc run` (the instance's pid).
    pid: u32,
    /// The runtime binary and its `--root`.
    runtime: Runner,
    /// Its bundle folder, removed at cleanup.
    bundle: Option<PathBuf>,
}

/// How to call one runtime: its binary, its state folder, and the log of
/// its helper commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Runner {
    /// The runtime binary.
    pub binary: PathBuf,
    /// Its `--root` state folder.
    pub root: PathBuf,
    /// Where the output of `kill`/`delete` goes.
    pub log: PathBuf,
}

impl Runner {
    /// The runner for `image`, or why there is none.
    pub fn of(image: &ImageLaunch) -> Result<Runner, ContainerError> {
        let binary = host::runtime_binary(&image.runtime, image.runtime_path.as_deref())?;
        Ok(Runner {
            binary,
            root: image.state_dir.join(format!("{}-root", image.runtime)),
            log: image.state_dir.join("runtime.log"),
        })
    }

    /// `[binary, --root, root, args…]`.
    fn argv(&self, args: &[&str]) -> Vec<String> {
        let mut argv =
            vec![self.binary.display().to_string(), "--root".into(), self.root.display().to_string()];
        argv.extend(args.iter().map(|a| (*a).to_owned()));
        argv
    }
}

/// Runs containers through an OCI runtime, and everything else through `inner`.
#[derive(Debug)]
pub struct OciRuntime<R: Runtime> {
    inner: R,
    /// Live containers by instance.
    containers: HashMap<InstanceId, Container>,
    /// Serial of the next container id (with ward's pid, unique per run).
    serial: u64,
    /// Containers whose `runc run` was requested, by request, until its pid is known.
    awaiting: HashMap<u64, (InstanceId, Container)>,
    /// Request number of the next helper command (apart from the supervisor's).
    helper_req: u64,
    /// The host's cgroup controllers, read at the first container with limits.
    controllers: Option<Controllers>,
}

impl<R: Runtime> OciRuntime<R> {
    /// Wraps `inner`, which runs the processes (containers' `runc run` too).
    pub fn new(inner: R) -> Self {
        OciRuntime {
            inner,
            containers: HashMap::new(),
            serial: 0,
            awaiting: HashMap::new(),
            helper_req: HELPER_REQS,
            controllers: None,
        }
    }

    /// Takes over container `state` of instance `id` found alive at start-up,
    /// whose main process (as the supervisor tracks it) is `pid`: its
    /// signals and cleanup then go through `runner`. For adoption after a
    /// crash of ward.
    #[allow(dead_code)] // for adoption after a crash of ward (the durability work)
    pub fn adopt(&mut self, id: InstanceId, pid: u32, state: &ContainerState, runner: Runner) {
        let container = Container { name: state.id.clone(), pid, runtime: runner, bundle: None };
        self.containers.insert(id, container);
    }

    /// Fires `runc delete --force` for each of `containers` (stale ones found
    /// at start-up, say); never waits.
    #[allow(dead_code)] // for adoption after a crash of ward (the durability work)
    pub fn delete_stale(&mut self, runner: &Runner, containers: &[ContainerState]) {
        for container in containers {
            self.helper(runner, &["delete", "--force", &container.id]);
        }
    }

    /// Starts `runner` with `args` through the inner runtime and forgets it:
    /// its exit is reaped as an unknown pid.
    fn helper(&mut self, runner: &Runner, args: &[&str]) {
        let launch = Launch {
            id: helper_id(),
            argv: runner.argv(args),
            env: Vec::new(),
            workdir: None,
            user: None,
            log: runner.log.clone(),
            image: None,
            process: Default::default(),
        };
        self.helper_req += 1;
        for (_, answer) in self.inner.request(vec![(self.helper_req, launch)]) {
            match answer {
                Ok(pid) => tracing::debug!(pid, command = ?args, "oci runtime helper started"),
                Err(error) => tracing::warn!(%error, command = ?args, "cannot run the oci runtime"),
            }
        }
    }

    /// Prepares the bundle of `launch`; returns the `runc run` launch that
    /// starts it, and its container (whose pid is the run's, once known).
    fn prepare_container(
        &mut self,
        launch: &Launch,
        image: &ImageLaunch,
    ) -> Result<(Launch, Container), SpawnError> {
        let euid = rustix::process::geteuid();
        if !euid.is_root() {
            return Err(ContainerError::NotRoot(euid.as_raw()).into());
        }
        let runner = Runner::of(image)?;
        if !image.rootfs.is_dir() {
            return Err(ContainerError::NoRootfs(image.rootfs.clone()).into());
        }
        let user = match &launch.user {
            Some(name) => Some(user::resolve(name, &image.rootfs)?),
            None => None,
        };
        if let (Some(u), Some(state)) = (user, image.state_dir.parent()) {
            // Its notify socket (if it has one) is the container user's.
            crate::sockets::hand_over(state, &launch.id, u.uid, u.gid)
                .map_err(|source| ContainerError::Bundle { dir: state.to_owned(), source })?;
        }
        let controllers = self.controllers.get_or_insert_with(|| Controllers::detect(Path::new(CGROUP_ROOT)));
        let config = bundle::config(launch, image, user, controllers)?;
        let dir =
            image.state_dir.join("bundles").join(format!("{}.{}", launch.id.service, launch.id.replica));
        bundle::write(&dir, &config)?;
        self.serial += 1;
        let name = container_name(&image.state_dir, &launch.id, self.serial);
        let run = Launch {
            argv: runner.argv(&["run", "--bundle", &dir.display().to_string(), &name]),
            env: Vec::new(),
            workdir: Some(dir.clone()),
            user: None,
            image: None,
            process: Default::default(),
            ..launch.clone()
        };
        let container = Container { name, pid: 0, runtime: runner, bundle: Some(dir) };
        Ok((run, container))
    }

    /// Deletes the container of `id` run by `pid` (if it is one) and its bundle.
    fn remove_container(&mut self, id: &InstanceId, pid: u32) {
        if let Some(container) = self.container(id, pid) {
            self.containers.remove(id);
            self.helper(&container.runtime, &["delete", "--force", &container.name]);
            if let Some(dir) = &container.bundle {
                if let Err(error) = std::fs::remove_dir_all(dir) {
                    tracing::debug!(%error, dir = %dir.display(), "cannot remove a bundle");
                }
            }
        }
    }

    /// The container of `id` whose main process is `pid`: one this runtime
    /// started, or a `runc run` of ours that it did not (started before a
    /// restart of the brain), recognised by its command line.
    fn container(&mut self, id: &InstanceId, pid: u32) -> Option<Container> {
        if let Some(known) = self.containers.get(id).filter(|c| c.pid == pid) {
            return Some(known.clone());
        }
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let container = recognise(pid, &cmdline)?;
        tracing::debug!(instance = %id, pid, container = %container.name, "container recognised");
        self.containers.insert(id.clone(), container.clone());
        Some(container)
    }
}

/// Request numbers of helper commands start here, far above the supervisor's.
const HELPER_REQS: u64 = 1 << 62;

/// The instance named in the messages of helper commands.
fn helper_id() -> InstanceId {
    // Only for messages: the supervisor never tracks helpers.
    let service = ward_core::ServiceName::new("oci").expect("`oci` is a valid service name");
    InstanceId::new(service, 0)
}
