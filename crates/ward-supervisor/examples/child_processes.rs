//! Supervise real child processes in a few lines: one steady, one that keeps
//! crashing. The crashing one is restarted behind its backoff until it trips
//! crash-loop; every event is printed as it happens, and `why` explains the
//! crash-loop at the end.
//!
//! Run it with `cargo run -p ward-supervisor --example child_processes`
//! (about two seconds; needs `sh` and `sleep`).

use std::time::Duration;
use ward_core::deployment::Deployment;
use ward_core::spec::{BackoffSpec, CrashLoopSpec, ServiceSpec, Spec};
use ward_supervisor::events::describe;
use ward_supervisor::ports::observer::OnHook;
use ward_supervisor::ports::runtime::process::ProcessRuntime;
use ward_supervisor::{EventItem, Inputs, MemoryStore, Ports, Settings, Supervisor};

fn sh(script: &str) -> Vec<String> {
    vec!["sh".into(), "-c".into(), script.into()]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let steady = ServiceSpec::new("steady".parse()?, vec!["sleep".into(), "60".into()]);
    let mut flaky =
        ServiceSpec::new("flaky".parse()?, sh("echo flaky: up; sleep 0.2; echo flaky: failing; exit 1"));
    flaky.backoff = BackoffSpec { initial: Duration::from_millis(100), ..BackoffSpec::default() };
    flaky.crash_loop = CrashLoopSpec { threshold: 3, ..CrashLoopSpec::default() };

    let (inputs, feeds) = Inputs::channels();
    let runtime = ProcessRuntime::new(feeds.exits.clone()).inherit_output();
    let on_hook = OnHook::new(|hook, subject| println!("hook: {} of {}", hook.event(), subject.id));
    let ports = Ports::new(MemoryStore::new()).with_observer(on_hook);
    let spec = Spec::new([steady, flaky]);
    let supervisor =
        Supervisor::new(Deployment::new(spec), runtime, ports, Settings::new(".", std::env::temp_dir()));
    let running = tokio::spawn(supervisor.run(inputs));
    let handle = feeds.handle();

    let mut events = handle.events_since(1).await?;
    while let Some(item) = events.next().await {
        let EventItem::Event(ev) = item else { continue };
        println!("{}", describe(&ev));
        if ev.kind == "crashloop" {
            break;
        }
    }
    print!("{}", handle.why("flaky").await?.instances[0].text);
    handle.down().await?;
    while let Some(EventItem::Event(ev)) = events.next().await {
        println!("{}", describe(&ev));
    }
    println!("the supervisor ended with {}", running.await?);
    Ok(())
}
