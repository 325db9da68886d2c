//! The store: migrations, events, instance rows, errors.

use super::*;

fn temp(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ward-store-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn event(seq: u64) -> EventJson {
    EventJson {
        seq,
        ts: "t".into(),
        ts_ms: 1000 + seq,
        kind: "started".into(),
        service: "api".into(),
        replica: 0,
        pid: Some(42),
        exit: None,
        run_ms: None,
        until_ms: None,
        restarts: None,
        error: None,
        dossier: None,
    }
}

#[test]
fn events_and_instances_survive_a_reopen() {
    let dir = temp("reopen");
    let path = dir.join("ward.db");
    {
        let mut s = Store::open(&path).unwrap();
        for seq in 1..=3 {
            s.record_event(&event(seq)).unwrap();
        }
        let row = InstanceRow {
            service: "api".into(),
            replica: 1,
            state: "backoff".into(),
            pid: None,
            start_time: None,
            started_ms: None,
            restarts: 2,
            last_exit: Some("{\"code\":3}".into()),
            gate_state: "backing-off".into(),
            gate_until_ms: Some(5000),
            next_delay_ms: 1000,
            crashes_ms: vec![1, 2],
            decision: Some("exit code 3 is a crash".into()),
        };
        s.put_instance(&row, 9).unwrap();
        s.set_meta("clean", "no").unwrap();
        s.commit().unwrap();
        // Not committed: lost with the crash of this "process".
        s.record_event(&event(4)).unwrap();
    }
    let s = Store::open(&path).unwrap();
    assert_eq!(s.last_seq().unwrap(), 3);
    let evs = s.recent_events(2).unwrap();
    assert_eq!(evs.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 3]);
    let rows = s.instances().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].crashes_ms, [1, 2]);
    assert_eq!(rows[0].gate_until_ms, Some(5000));
    assert_eq!(s.meta("clean").unwrap().as_deref(), Some("no"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_file_that_is_not_a_store_is_refused_clearly() {
    let dir = temp("corrupt");
    let path = dir.join("ward.db");
    std::fs::write(&path, vec![7u8; 8192]).unwrap();
    let err = Store::open(&path).err().expect("refused");
    assert!(err.to_string().contains("move it away"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = temp("newer");
    let path = dir.join("ward.db");
    {
        let c = Connection::open(&path).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
    }
    let err = Store::open(&path).err().expect("refused");
    assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_last_good_spec_and_an_unclean_end_survive_a_reopen() {
    let dir = temp("last-good");
    let path = dir.join("ward.db");
    {
        let mut s = Store::open(&path).unwrap();
        assert_eq!(s.last_good_spec().unwrap(), None);
        assert!(!s.ended_uncleanly().unwrap(), "a new store is clean");
        s.set_last_good_spec("/srv/ward.yaml", "version: 1\n").unwrap();
        s.set_meta("clean", "no").unwrap();
        s.commit().unwrap();
    }
    let mut s = Store::open(&path).unwrap();
    let kept = s.last_good_spec().unwrap().expect("kept");
    assert_eq!((kept.file.as_str(), kept.source.as_str()), ("/srv/ward.yaml", "version: 1\n"));
    assert!(s.ended_uncleanly().unwrap());
    s.set_meta("clean", "yes").unwrap();
    s.commit().unwrap();
    assert!(!s.ended_uncleanly().unwrap());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn keeper_epochs_grow_past_every_recorded_exit_whatever_the_clock() {
    let dir = temp("epoch");
    let mut store = Store::open(&dir.join("ward.db")).unwrap();
    assert_eq!(store.take_keeper_epoch().unwrap(), 1);
    assert_eq!(store.take_keeper_epoch().unwrap(), 2);
    // A store whose last exit was numbered by a clock (older wards), or by a later epoch.
    store.set_meta("last_exit_seq", &((40_u64 << 32) | 7).to_string()).unwrap();
    store.commit().unwrap();
    let epoch = store.take_keeper_epoch().unwrap();
    assert_eq!(epoch, 41);
    drop(store);
    let mut again = Store::open(&dir.join("ward.db")).unwrap();
    assert_eq!(again.take_keeper_epoch().unwrap(), 42, "kept across opens");
    assert!(crate::protocol::exit_number(42, 1) > ((40_u64 << 32) | 7));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_full_disk_loses_its_transaction_and_the_store_goes_on_once_there_is_room() {
    let dir = temp("full");
    let path = dir.join("ward.db");
    let mut s = Store::open(&path).unwrap();
    s.record_event(&event(1)).unwrap();
    s.commit().unwrap();
    // No room beyond the pages there are now: SQLite says the disk is full.
    let pages: i64 = s.conn.pragma_query_value(None, "page_count", |r| r.get(0)).unwrap();
    s.conn.pragma_update(None, "max_page_count", pages).unwrap();
    let mut failed = false;
    for seq in 2..2000 {
        let mut e = event(seq);
        e.error = Some("x".repeat(2000));
        if s.record_event(&e).and_then(|()| s.commit()).is_err() {
            failed = true;
            break;
        }
    }
    assert!(failed, "the disk never filled");
    // Room again: the next transaction is one, committed.
    s.conn.pragma_update(None, "max_page_count", 1_000_000_000i64).unwrap();
    s.record_event(&event(5000)).unwrap();
    s.set_meta("after", "yes").unwrap();
    s.commit().unwrap();
    assert!(s.conn.is_autocommit(), "no transaction left open");
    drop(s);
    let s = Store::open(&path).unwrap();
    assert_eq!(s.last_seq().unwrap(), 5000);
    assert_eq!(s.meta("after").unwrap().as_deref(), Some("yes"));
}
