use super::*;

fn spec(yaml_service: &str) -> ServiceSpec {
    let yaml = format!("version: 1\nservices:\n  svc:\n{yaml_service}");
    let spec = ward_core::spec::parse(&yaml, "t.yaml").unwrap();
    spec.services.into_values().next().unwrap()
}

fn dirs(tag: &str) -> (PathBuf, Health, mpsc::Receiver<Report>) {
    let dir = std::env::temp_dir().join(format!("ward-health-{tag}-{}", std::process::id()));
    let (tx, rx) = mpsc::channel(16);
    (dir.clone(), Health::new(dir.clone(), dir, tx), rx)
}

#[tokio::test]
async fn reports_about_other_pids_are_stale() {
    let (dir, mut h, _rx) = dirs("stale");
    let s = spec("    command: [\"x\"]\n    ready: { notify: true }\n");
    let id = InstanceId::new("svc".parse().unwrap(), 0);
    let env = h.launch_env(&id, &s);
    assert_eq!(env[0].0, "NOTIFY_SOCKET");
    h.started(&id, 10, &s);
    let report = |pid, seen| Report { id: id.clone(), pid, seen };
    assert_eq!(h.accept(report(10, Seen::Ready), Some(10)), Some(Observation::Ready));
    assert_eq!(h.accept(report(9, Seen::Ready), Some(10)), None, "an older process");
    assert_eq!(h.accept(report(10, Seen::Ready), Some(11)), None, "the instance moved on");
    let status = Seen::Notice(Notice::Status("busy".into()));
    assert_eq!(h.accept(report(10, status), Some(10)), None);
    assert_eq!(h.status_text(&id).as_deref(), Some("busy"));
    assert!(!h.stopping(&id));
    assert_eq!(h.accept(report(10, Seen::Notice(Notice::Stopping)), Some(10)), None);
    assert!(h.stopping(&id));
    let failed = Seen::Failed("watchdog timeout".into());
    assert_eq!(
        h.accept(report(10, failed.clone()), Some(10)),
        Some(Observation::HealthFailed { reason: "watchdog timeout".into() })
    );
    h.gone(&id);
    assert_eq!(h.accept(report(10, failed), Some(10)), None, "no longer watched");
    assert_eq!(h.status_text(&id), None);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_failing_liveness_probe_reports_its_pid() {
    let (dir, mut h, mut rx) = dirs("live");
    let s = spec("    command: [\"x\"]\n    health: { exec: [\"false\"], interval: 10ms, failures: 2 }\n");
    let id = InstanceId::new("svc".parse().unwrap(), 1);
    assert!(h.launch_env(&id, &s).is_empty(), "no notify socket without ready: notify");
    h.started(&id, 42, &s);
    let r = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv()).await.unwrap().unwrap();
    assert_eq!((r.id.clone(), r.pid), (id, 42));
    assert!(matches!(r.seen, Seen::Failed(ref why) if why.contains("2 failures in a row")), "{r:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
