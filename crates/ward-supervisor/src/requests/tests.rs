//! Status rows: usage only when asked for, and which rows are in a cgroup.

use crate::ports::usage::CgroupStats;
use crate::requests::Request;
use crate::testing::{Rig, service};
use crate::view::InstanceStatus;

fn row<'a>(rows: &'a [InstanceStatus], instance: &str) -> &'a InstanceStatus {
    rows.iter()
        .find(|i| format!("{}/{}", i.service, i.replica) == instance)
        .unwrap_or_else(|| panic!("no row {instance}"))
}

fn rig() -> Rig {
    let mut bare = service("bare");
    bare.cgroup = Some(false);
    let mut rig = Rig::new(vec![service("web"), bare, service("idle")], |p| p);
    let stats = CgroupStats { cpu_usec: Some(1500), memory_bytes: Some(4096), ..Default::default() };
    for instance in ["web/0", "bare/0", "idle/0"] {
        rig.control.set_usage(instance, Some(stats));
    }
    rig.ask(|reply| Request::Command {
        command: ward_core::instance::Command::Stop,
        target: "idle".into(),
        reply,
    })
    .expect("stop idle");
    rig
}

#[test]
fn status_marks_rows_in_a_cgroup_and_reads_no_usage_unless_asked() {
    let mut rig = rig();
    let st = rig.ask(|reply| Request::Status { service: None, usage: false, reply }).expect("status");
    assert!(st.instances.iter().all(|i| i.usage.is_none()), "{:?}", st.instances);
    assert!(row(&st.instances, "web/0").cgroup, "a running instance of a service in cgroups");
    assert!(!row(&st.instances, "bare/0").cgroup, "cgroup: false");
    assert!(!row(&st.instances, "idle/0").cgroup, "no process, nothing to read");
    // The mark is for the caller only: the API's JSON does not carry it.
    let json = serde_json::to_value(row(&st.instances, "web/0")).expect("json");
    assert!(json.get("cgroup").is_none() && json.get("usage").is_none(), "{json}");
}

#[test]
fn status_with_usage_reads_it_for_the_rows_in_a_cgroup() {
    let mut rig = rig();
    let st = rig.ask(|reply| Request::Status { service: None, usage: true, reply }).expect("status");
    let web = row(&st.instances, "web/0");
    assert_eq!(web.usage.and_then(|u| u.cpu_usec), Some(1500));
    assert!(row(&st.instances, "bare/0").usage.is_none(), "not in a cgroup: not asked");
    assert!(row(&st.instances, "idle/0").usage.is_none(), "stopped: not asked");
    let one = rig.ask(|reply| Request::Status { service: Some("web".into()), usage: true, reply });
    assert_eq!(one.expect("status of web").instances.len(), 1);
}
