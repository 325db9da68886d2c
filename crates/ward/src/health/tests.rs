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
    let ready = vec![Verdict::Observe(Observation::Ready)];
    assert_eq!(h.accept(report(10, Seen::Ready), Some(10)), ready);
    assert_eq!(h.accept(report(9, Seen::Ready), Some(10)), vec![], "an older process");
    assert_eq!(h.accept(report(10, Seen::Ready), Some(11)), vec![], "the instance moved on");
    let failed = Seen::Failed("watchdog timeout".into());
    assert_eq!(
        h.accept(report(10, failed.clone()), Some(10)),
        vec![Verdict::Observe(Observation::HealthFailed { reason: "watchdog timeout".into() })]
    );
    // Handed over to 11: reports of the watchers started for 10 count for 11.
    h.moved(&id, 11);
    assert_eq!(h.accept(report(10, Seen::Ready), Some(11)), ready);
    assert_eq!(h.accept(report(10, Seen::Ready), Some(10)), vec![], "10 is no longer its main process");
    h.gone(&id);
    assert_eq!(h.accept(report(10, failed), Some(11)), vec![], "no longer watched");
    assert_eq!(h.status_text(&id), None);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn notices_are_read_in_order_and_an_exit_drains_them_first() {
    let (dir, mut h, mut rx) = dirs("notices");
    let s = spec("    command: [\"x\"]\n    ready: { notify: true }\n");
    let id = InstanceId::new("svc".parse().unwrap(), 0);
    let env = h.launch_env(&id, &s);
    h.started(&id, 10, &s);
    let client = std::os::unix::net::UnixDatagram::unbound().unwrap();
    client.connect(&env[0].1).unwrap();
    client.send(b"STATUS=busy\nSTOPPING=1").unwrap();
    let r = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv()).await.unwrap().unwrap();
    assert_eq!(r.seen, Seen::Mail);
    assert_eq!(h.accept(r, Some(10)), vec![]);
    assert_eq!(h.status_text(&id).as_deref(), Some("busy"));
    assert!(h.stopping(&id));
    // Sent just before the process exited: the exit drains them first.
    client.send(b"MAINPID=12\nREADY=1\nWATCHDOG=trigger").unwrap();
    let want = vec![
        Verdict::MainPid(12),
        Verdict::Observe(Observation::Ready),
        Verdict::Observe(Observation::HealthFailed { reason: "watchdog triggered by the service".into() }),
    ];
    assert_eq!(h.drain(&id, 11), vec![], "11 is not its main process");
    let got = h.drain(&id, 10);
    // The reader may have filed them first: then they come from its inbox.
    assert_eq!(got, want);
    h.gone(&id);
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
