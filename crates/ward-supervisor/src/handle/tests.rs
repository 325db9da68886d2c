//! The handle and its event stream, against a running supervisor over the fake runtime.

use super::{EventItem, EventStream, HandleError};
use crate::events::LIVE_BUFFER;
use crate::ports::health::{Hook, Subject};
use crate::ports::observer::OnHook;
use crate::ports::runtime::fake::FakeRuntime;
use crate::requests::Request;
use crate::testing::{Rig, service};
use crate::{Inputs, MemoryStore, Ports, Settings, Supervisor};
use std::time::Duration;
use tokio::sync::mpsc;
use ward_core::ExitStatus;
use ward_core::deployment::Deployment;
use ward_core::policy::{PanicAction, RestartPolicy};
use ward_core::spec::Spec;

/// Waits (a generous deadline: the machine may be loaded) for an event named `kind`.
async fn wait_for(events: &mut EventStream, kind: &str, instance: &str) -> EventItem {
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(item) = events.next().await {
            if let EventItem::Event(ev) = &item {
                if ev.kind == kind && format!("{}/{}", ev.service, ev.replica) == instance {
                    return item;
                }
            }
        }
        panic!("the stream ended before {kind} of {instance}");
    });
    found.await.unwrap_or_else(|_| panic!("no {kind} of {instance} within 30s"))
}

#[tokio::test(flavor = "current_thread")]
async fn a_program_supervises_commands_and_hears_its_hooks() {
    let (inputs, feeds) = Inputs::channels();
    let (runtime, control) = FakeRuntime::new(feeds.exits.clone());
    let (hooks_tx, mut hooks) = mpsc::unbounded_channel::<(Hook, Subject)>();
    let observer = OnHook::new(move |hook, subject: &Subject| {
        let _ = hooks_tx.send((hook, subject.clone()));
    });
    let ports = Ports::new(MemoryStore::new()).with_observer(observer);
    let sup = Supervisor::new(Deployment::new(Spec::new([])), runtime, ports, Settings::new("/", "/"));
    let running = tokio::spawn(sup.run(inputs));
    let handle = feeds.handle();
    let mut events = handle.events().await.unwrap();

    let mut web = service("web");
    web.on_panic.action = PanicAction::Isolate;
    assert_eq!(handle.supervise(web).await.unwrap(), "web: supervised");
    let EventItem::Event(started) = wait_for(&mut events, "started", "web/0").await else { unreachable!() };
    let pid = started.pid.unwrap();

    assert!(control.end(pid, ExitStatus::Code(3)));
    wait_for(&mut events, "isolated", "web/0").await;
    let (hook, subject) = hooks.recv().await.unwrap();
    assert_eq!(hook, Hook::Isolate);
    assert_eq!(subject.id.to_string(), "web/0");
    assert_eq!((subject.pid, subject.exit), (Some(pid), Some(ExitStatus::Code(3))));
    assert!(subject.reason.is_some_and(|r| !r.is_empty()));
    let why = handle.why("web/0").await.unwrap();
    assert_eq!(why.instances[0].state, "isolated");
    assert!(!why.instances[0].rule.is_empty());

    assert!(matches!(handle.restart("nope").await, Err(HandleError::Refused(_))));
    handle.start("web/0").await.unwrap();
    wait_for(&mut events, "started", "web/0").await;
    handle.unsupervise("web").await.unwrap();
    wait_for(&mut events, "stopped", "web/0").await;
    assert!(handle.status().await.unwrap().instances.is_empty());

    handle.down().await.unwrap();
    let code = tokio::time::timeout(Duration::from_secs(30), running).await.unwrap().unwrap();
    assert_eq!(code, 0);
    assert!(matches!(handle.status().await, Err(HandleError::Stopped)));
    while let Some(item) = events.next().await {
        drop(item); // what was left; then the stream ends
    }
}

#[test]
fn a_crash_loop_calls_the_hook() {
    let (tx, mut hooks) = mpsc::unbounded_channel::<Hook>();
    let observer = OnHook::new(move |hook, _: &Subject| {
        let _ = tx.send(hook);
    });
    let mut flaky = service("flaky");
    flaky.crash_loop.threshold = 2;
    let mut rig = Rig::new(vec![flaky], |p| p.with_observer(observer));
    rig.control.end_instance("flaky/0", ExitStatus::Code(1)).unwrap();
    rig.pump();
    rig.advance(5_000);
    rig.control.end_instance("flaky/0", ExitStatus::Code(1)).unwrap();
    rig.pump();
    assert_eq!(rig.state("flaky/0").as_deref(), Some("crashloop"));
    assert_eq!(hooks.try_recv().ok(), Some(Hook::Crashloop));
}

#[test]
fn a_shutdown_panic_calls_the_hook() {
    let (tx, mut hooks) = mpsc::unbounded_channel::<(Hook, Subject)>();
    let observer = OnHook::new(move |hook, subject: &Subject| {
        let _ = tx.send((hook, subject.clone()));
    });
    let mut db = service("db");
    db.on_panic.action = PanicAction::Shutdown;
    let mut rig = Rig::new(vec![db], |p| p.with_observer(observer));
    rig.control.end_instance("db/0", ExitStatus::Signal(9)).unwrap();
    rig.pump();
    let (hook, subject) = hooks.try_recv().expect("a hook");
    assert_eq!((hook, subject.id.to_string()), (Hook::Shutdown, "db/0".to_string()));
    assert_eq!(subject.exit, Some(ExitStatus::Signal(9)));
}

#[tokio::test(flavor = "current_thread")]
async fn a_slow_reader_is_told_how_many_events_it_missed() {
    let mut fast = service("fast");
    fast.restart = RestartPolicy::Always;
    fast.backoff.initial = Duration::ZERO;
    fast.backoff.jitter = 0.0;
    fast.success_backoff = Some(fast.backoff);
    let mut rig = Rig::new(vec![fast], |p| p);
    let (history, live) = rig.ask(|reply| Request::Events { since: u64::MAX, reply, follow: true });
    let mut stream = EventStream { backlog: history.into(), live: live.unwrap() };
    let (before, _) = rig.ask(|reply| Request::Events { since: 1, reply, follow: false });
    let from = before.last().map_or(1, |e| e.seq + 1);
    // Each clean exit is at least `exited` and `started`: more than the buffer holds.
    for _ in 0..LIVE_BUFFER {
        rig.control.end_instance("fast/0", ExitStatus::Code(0)).expect("fast/0 runs");
        rig.pump();
        rig.advance(0);
    }
    let (recorded, _) = rig.ask(|reply| Request::Events { since: from, reply, follow: false });
    assert!(recorded.len() > LIVE_BUFFER + 1000, "{}", recorded.len());
    let Some(EventItem::Lagged(missed)) = stream.next().await else { panic!("no lag told") };
    let mut read = 0;
    let mut last = 0;
    while read + missed < recorded.len() as u64 {
        let Some(EventItem::Event(ev)) = stream.next().await else { panic!("only one lag") };
        assert!(ev.seq > last, "in order");
        last = ev.seq;
        read += 1;
    }
    assert_eq!(read, LIVE_BUFFER as u64, "the reader keeps the newest it can hold");
    assert_eq!(last, recorded.last().unwrap().seq);
}
