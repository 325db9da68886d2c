//! Tests of the OCI runtime without running a container: the bundle's
//! config, the user lookup, the host checks, the state folder, and the
//! commands the runtime issues (through a recording inner runtime).

use super::bundle::{self, CONTAINER_PATH};
use super::host::{self, Controllers};
use super::state::{self, ContainerStatus};
use super::user::{ContainerUser, resolve_in};
use super::*;
use oci_spec::runtime::{LinuxNamespaceType, Spec};
use std::fs;
use ward_core::ServiceName;
use ward_core::spec::ResourcesSpec;

/// A scratch directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("ward-oci-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn id(service: &str, replica: u32) -> InstanceId {
    InstanceId::new(ServiceName::new(service).expect("name"), replica)
}

fn image(rootfs: &Path, state: &Path) -> ImageLaunch {
    ImageLaunch {
        rootfs: rootfs.to_owned(),
        writable: false,
        runtime: "runc".into(),
        runtime_path: None,
        resources: ResourcesSpec::default(),
        state_dir: state.to_owned(),
    }
}

fn launch(argv: &[&str], image: Option<ImageLaunch>) -> Launch {
    Launch {
        id: id("web", 1),
        argv: argv.iter().map(|a| (*a).to_owned()).collect(),
        env: vec![("PORT".into(), "8081".into()), ("MODE".into(), "a".into()), ("MODE".into(), "b".into())],
        workdir: Some(PathBuf::from("srv")),
        user: None,
        log: PathBuf::from("/tmp/ward-oci-test.log"),
        image,
        process: Default::default(),
    }
}

fn all_controllers() -> Controllers {
    Controllers { available: vec!["cpu".into(), "memory".into(), "pids".into()], source: "test".into() }
}

fn config_of(l: &Launch, user: Option<ContainerUser>, controllers: &Controllers) -> Spec {
    let image = l.image.as_ref().expect("an image");
    bundle::config(l, image, user, controllers).expect("config")
}

#[test]
fn the_config_carries_the_process() {
    let l = launch(&["sh", "-c", "echo hi"], Some(image(Path::new("/img"), Path::new("/s"))));
    let spec = config_of(&l, Some(ContainerUser { uid: 1000, gid: 100 }), &all_controllers());
    let process = spec.process().as_ref().expect("process");
    assert_eq!(process.args().as_deref(), Some(&["sh".to_owned(), "-c".into(), "echo hi".into()][..]));
    let env = process.env().clone().expect("env");
    assert_eq!(env, [format!("PATH={CONTAINER_PATH}"), "PORT=8081".into(), "MODE=b".into()]);
    assert_eq!(process.cwd(), Path::new("/srv"));
    assert_eq!((process.user().uid(), process.user().gid()), (1000, 100));
    assert_eq!(process.terminal(), Some(false));
    assert_eq!(spec.hostname().as_deref(), Some("web-1"));
}

#[test]
fn a_service_path_replaces_the_default_and_cwd_defaults_to_root() {
    let mut l = launch(&["app"], Some(image(Path::new("/img"), Path::new("/s"))));
    l.env = vec![("PATH".into(), "/opt/bin".into())];
    l.workdir = None;
    let spec = config_of(&l, None, &all_controllers());
    let process = spec.process().as_ref().expect("process");
    assert_eq!(process.env().clone().expect("env"), ["PATH=/opt/bin"]);
    assert_eq!(process.cwd(), Path::new("/"));
    assert_eq!((process.user().uid(), process.user().gid()), (0, 0));
}

#[test]
fn root_is_read_only_unless_writable() {
    let mut img = image(Path::new("/images/db"), Path::new("/s"));
    let spec = config_of(&launch(&["db"], Some(img.clone())), None, &all_controllers());
    let root = spec.root().as_ref().expect("root");
    assert_eq!((root.path().as_path(), root.readonly()), (Path::new("/images/db"), Some(true)));
    img.writable = true;
    let spec = config_of(&launch(&["db"], Some(img)), None, &all_controllers());
    assert_eq!(spec.root().as_ref().expect("root").readonly(), Some(false));
}

#[test]
fn the_usual_mounts_and_namespaces_but_the_host_network() {
    let spec =
        config_of(&launch(&["x"], Some(image(Path::new("/i"), Path::new("/s")))), None, &all_controllers());
    let mounts: Vec<(String, String)> = spec
        .mounts()
        .as_ref()
        .expect("mounts")
        .iter()
        .map(|m| (m.destination().display().to_string(), m.typ().clone().unwrap_or_default()))
        .collect();
    for (dest, typ) in [
        ("/proc", "proc"),
        ("/dev", "tmpfs"),
        ("/dev/pts", "devpts"),
        ("/dev/shm", "tmpfs"),
        ("/dev/mqueue", "mqueue"),
        ("/sys", "sysfs"),
    ] {
        assert!(mounts.contains(&(dest.into(), typ.into())), "{dest} {typ} in {mounts:?}");
    }
    let linux = spec.linux().as_ref().expect("linux");
    let kinds: Vec<LinuxNamespaceType> =
        linux.namespaces().as_ref().expect("namespaces").iter().map(|n| n.typ()).collect();
    use LinuxNamespaceType::*;
    assert_eq!(kinds, [Pid, Ipc, Uts, Mount]);
    assert!(linux.masked_paths().as_ref().is_some_and(|p| !p.is_empty()));
}

#[test]
fn resources_become_cgroup_limits() {
    let mut img = image(Path::new("/i"), Path::new("/s"));
    img.resources =
        ResourcesSpec { memory: Some(256 << 20), memory_high: None, pids: Some(100), cpu: Some(0.5) };
    let spec = config_of(&launch(&["x"], Some(img)), None, &all_controllers());
    let res = spec.linux().as_ref().and_then(|l| l.resources().clone()).expect("resources");
    assert_eq!(res.memory().as_ref().and_then(|m| m.limit()), Some(256 << 20));
    assert_eq!(res.pids().as_ref().map(|p| p.limit()), Some(100));
    let cpu = res.cpu().as_ref().expect("cpu");
    assert_eq!((cpu.quota(), cpu.period()), (Some(50_000), Some(100_000)));
    let devices = res.devices().as_ref().expect("device rules");
    assert_eq!(devices.first().map(|d| (d.allow(), d.access().clone())), Some((false, Some("rwm".into()))));
    assert_eq!(bundle::cpu_quota(0.0001), 1_000, "the kernel's minimum");
    assert_eq!(bundle::cpu_quota(2.0), 200_000);
}

#[test]
fn no_limits_means_no_cgroup_limits() {
    let spec = config_of(
        &launch(&["x"], Some(image(Path::new("/i"), Path::new("/s")))),
        None,
        &Controllers::default(),
    );
    let res = spec.linux().as_ref().and_then(|l| l.resources().clone()).expect("resources");
    assert!(res.memory().is_none() && res.pids().is_none() && res.cpu().is_none());
}

#[test]
fn a_limit_without_its_controller_is_a_clear_error() {
    let mut img = image(Path::new("/i"), Path::new("/s"));
    img.resources.pids = Some(10);
    let only_memory =
        Controllers { available: vec!["memory".into()], source: "/sys/fs/cgroup/cgroup.controllers".into() };
    let err =
        bundle::config(&launch(&["x"], Some(img.clone())), &img, None, &only_memory).expect_err("no pids");
    assert_eq!(
        err.to_string(),
        "resources.pids needs the cgroup `pids` controller, which this host does not offer \
         (read /sys/fs/cgroup/cgroup.controllers); remove the limit or enable the controller"
    );
}

#[test]
fn controllers_are_read_from_v2_or_v1_layouts() {
    let v2 = Scratch::new("cg2");
    fs::write(v2.0.join("cgroup.controllers"), "cpuset cpu io memory pids\n").expect("write");
    let found = Controllers::detect(&v2.0);
    assert!(found.has("memory") && found.has("pids") && found.has("cpu") && !found.has("cpuacct"));
    let v1 = Scratch::new("cg1");
    for dir in ["cpu,cpuacct", "memory", "systemd"] {
        fs::create_dir_all(v1.0.join(dir)).expect("mkdir");
    }
    let found = Controllers::detect(&v1.0);
    assert!(found.has("cpu") && found.has("cpuacct") && found.has("memory") && !found.has("pids"));
    assert!(Controllers::detect(&v1.0.join("absent")).available.is_empty());
}

#[test]
fn users_are_looked_up_in_the_image() {
    let passwd = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\nbroken line\n";
    let group = "root:x:0:\nstaff:x:50:\n";
    let user = |s| resolve_in(s, passwd, group).map(|u| (u.uid, u.gid));
    assert_eq!(user("app"), Some((1000, 1001)));
    assert_eq!(user("1000"), Some((1000, 1001)), "a listed uid gets its group");
    assert_eq!(user("4242"), Some((4242, 0)), "an unlisted uid gets gid 0");
    assert_eq!(user("4242:7"), Some((4242, 7)));
    assert_eq!(user("app:staff"), Some((1000, 50)));
    assert_eq!(user("nobody"), None);
    assert_eq!(user("app:nogroup"), None);
}

#[test]
fn an_unknown_user_names_the_image() {
    let rootfs = Scratch::new("users");
    let err = user::resolve("ghost", &rootfs.0).expect_err("no passwd");
    assert!(err.to_string().starts_with("unknown user \"ghost\" in the image"), "{err}");
}

#[test]
fn a_missing_runtime_says_how_to_get_it() {
    let err = host::runtime_binary("ward-no-such-runtime", None).expect_err("absent");
    assert_eq!(
        err.to_string(),
        "ward-no-such-runtime not found on PATH; install it (apt-get install ward-no-such-runtime) or set image.runtime_path"
    );
    let err = host::runtime_binary("runc", Some(Path::new("/nonexistent/runc"))).expect_err("absent");
    assert_eq!(err.to_string(), "image.runtime_path /nonexistent/runc is not an executable file");
    assert_eq!(host::runtime_binary("sh", None).ok().map(|p| p.is_absolute()), Some(true));
}

#[test]
fn container_names_are_unique_and_name_their_instance() {
    let state = Path::new("/srv/app/.ward/oci");
    let a = container_name(state, &id("api-v2", 3), 1);
    let b = container_name(state, &id("api-v2", 3), 2);
    assert_ne!(a, b);
    assert!(a.starts_with(&container_prefix(state)) && a.len() < 100, "{a}");
    assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)), "{a}");
    assert_eq!(instance_of(&a, state), Some(("api-v2".to_owned(), 3)));
    assert_eq!(instance_of(&a, Path::new("/elsewhere/.ward/oci")), None);
    assert_ne!(container_prefix(state), container_prefix(Path::new("/other")));
}

#[test]
fn the_state_folder_lists_live_and_stopped_containers() {
    let root = Scratch::new("state");
    let me = std::process::id();
    let start = crate::runtime::process::process_start_time(me).expect("own start time");
    let write = |name: &str, pid: u32, start: u64| {
        let dir = root.0.join(name);
        fs::create_dir_all(&dir).expect("mkdir");
        let json = format!(
            r#"{{"id":"{name}","init_process_pid":{pid},"init_process_start":{start},"created":"2026-01-01T00:00:00Z","config":{{}}}}"#
        );
        fs::write(dir.join("state.json"), json).expect("write");
    };
    write("alive", me, start);
    write("reused", me, start + 1);
    write("gone", u32::MAX - 1, 1);
    write("creating", me, start);
    fs::write(root.0.join("creating/exec.fifo"), "").expect("fifo stand-in");
    fs::create_dir_all(root.0.join("half-made")).expect("mkdir");
    let found: Vec<(String, ContainerStatus)> =
        list_containers(&root.0).into_iter().map(|c| (c.id, c.status)).collect();
    assert_eq!(
        found,
        [
            ("alive".to_owned(), ContainerStatus::Running),
            ("creating".to_owned(), ContainerStatus::Created),
            ("gone".to_owned(), ContainerStatus::Stopped),
            ("reused".to_owned(), ContainerStatus::Stopped),
        ]
    );
    assert!(list_containers(&root.0.join("absent")).is_empty());
    assert_eq!(state::instance_of("ward-1-a-b-0-9x1", "ward-1-"), Some(("a-b", 0)));
}

/// A runtime that records what it is asked and hands out pids.
#[derive(Default)]
struct Recorder {
    spawned: Vec<Launch>,
    signals: Vec<(u32, i32)>,
    cleaned: Vec<u32>,
}

impl Runtime for Recorder {
    type Error = SpawnError;

    fn start_time(&self, _pid: u32) -> Option<u64> {
        None
    }

    fn alive(&self, _pid: u32) -> bool {
        true
    }
    fn request(&mut self, batch: Vec<(u64, Launch)>) -> Vec<(u64, Result<u32, SpawnError>)> {
        let mut out = Vec::new();
        for (req, launch) in batch {
            self.spawned.push(launch);
            out.push((req, Ok(1000 + self.spawned.len() as u32)));
        }
        out
    }
    fn signal(&mut self, _: &InstanceId, pid: u32, signal: i32) -> io::Result<()> {
        self.signals.push((pid, signal));
        Ok(())
    }
    fn cleanup(&mut self, _: &InstanceId, pid: u32) {
        self.cleaned.push(pid);
    }
}

/// Spawns one launch through `rt`, which answers at once.
fn spawn1(rt: &mut OciRuntime<Recorder>, launch: &Launch) -> Result<u32, SpawnError> {
    match rt.request(vec![(1, launch.clone())]).pop() {
        Some((_, answer)) => answer,
        None => panic!("no answer"),
    }
}

#[test]
fn processes_pass_through_unchanged() {
    let mut rt = OciRuntime::new(Recorder::default());
    let pid = spawn1(&mut rt, &launch(&["./api"], None)).expect("spawn");
    rt.signal(&id("web", 1), pid, 15).expect("signal");
    rt.cleanup(&id("web", 1), pid);
    assert_eq!(rt.inner.spawned.len(), 1);
    assert_eq!(rt.inner.spawned[0].argv, ["./api"]);
    assert_eq!((rt.inner.signals.clone(), rt.inner.cleaned.clone()), (vec![(pid, 15)], vec![pid]));
}

#[test]
fn a_container_is_runc_run_and_is_signalled_and_deleted_through_runc() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: containers need root");
        return;
    }
    let scratch = Scratch::new("runc");
    let rootfs = scratch.0.join("rootfs");
    fs::create_dir_all(&rootfs).expect("mkdir");
    let mut img = image(&rootfs, &scratch.0.join("oci"));
    img.runtime_path = Some(PathBuf::from("/bin/sh")); // never run: the recorder only records
    let mut rt = OciRuntime::new(Recorder::default());
    let pid = spawn1(&mut rt, &launch(&["app"], Some(img.clone()))).expect("spawn");
    let run = rt.inner.spawned[0].clone();
    let bundle = scratch.0.join("oci/bundles/web.1");
    let root = scratch.0.join("oci/runc-root").display().to_string();
    assert_eq!(run.argv[..6], ["/bin/sh", "--root", &root, "run", "--bundle", &bundle.display().to_string()]);
    let name = run.argv[6].clone();
    assert!(run.image.is_none() && run.log == Path::new("/tmp/ward-oci-test.log"));
    assert!(Spec::load(bundle.join("config.json")).is_ok(), "a readable config.json");

    rt.signal(&id("web", 1), pid, 9).expect("signal");
    assert_eq!(rt.inner.spawned[1].argv[3..], ["kill", name.as_str(), "9"]);
    assert!(rt.inner.signals.is_empty(), "never a signal to runc run itself");
    rt.cleanup(&id("web", 1), pid);
    assert_eq!(rt.inner.spawned[2].argv[3..], ["delete", "--force", name.as_str()]);
    assert!(!bundle.exists(), "the bundle is removed");
    // Once cleaned up, the pid is no container any more.
    rt.signal(&id("web", 1), pid, 15).expect("signal");
    assert_eq!(rt.inner.signals, [(pid, 15)]);
    let again =
        launch(&["app"], rt.inner.spawned[0].image.clone().or(Some(image(&rootfs, &scratch.0.join("oci")))));
    let second = spawn1(&mut rt, &again).map(|_| ());
    assert!(
        second.is_err() || rt.inner.spawned.last().is_some_and(|l| l.argv[6] != name),
        "a fresh id per spawn"
    );
}

#[test]
fn a_runc_run_of_ours_is_recognised_by_its_command_line() {
    let state = Path::new("/srv/.ward/oci");
    let name = container_name(state, &id("db", 0), 7);
    let argv = [
        "/usr/sbin/runc",
        "--root",
        "/srv/.ward/oci/runc-root",
        "run",
        "--bundle",
        "/srv/.ward/oci/bundles/db.0",
    ];
    let cmdline = |extra: &str| {
        let mut bytes: Vec<u8> = argv.iter().flat_map(|a| a.bytes().chain([0])).collect();
        bytes.extend(extra.bytes().chain([0]));
        bytes
    };
    let found = super::recognise(42, &cmdline(&name)).expect("recognised");
    assert_eq!((found.name.as_str(), found.pid), (name.as_str(), 42));
    assert_eq!(found.runtime.root, Path::new("/srv/.ward/oci/runc-root"));
    assert_eq!(found.runtime.log, Path::new("/srv/.ward/oci/runtime.log"));
    assert!(super::recognise(42, &cmdline("someone-elses")).is_none());
    assert!(super::recognise(42, b"sleep\x00600\x00").is_none());
}
