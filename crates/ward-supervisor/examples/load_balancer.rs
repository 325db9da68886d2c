//! A program that embeds the supervisor over a runtime of its own and takes
//! a crashed instance out of its load balancer the moment it is isolated.
//!
//! The "workloads" are fake (the crate's [`FakeRuntime`]: a real program
//! would implement [`Runtime`](ward_supervisor::Runtime) for its container
//! engine or its remote agents the same way). Three replicas of `web` run;
//! one crashes; its panic policy isolates it (kept for debugging, out of
//! rotation) and starts a replacement so capacity holds. The isolate
//! callback tells the balancer at once; `why` explains the decision.
//!
//! Run it with `cargo run -p ward-supervisor --example load_balancer`.

use std::collections::BTreeSet;
use tokio::sync::mpsc;
use ward_core::ExitStatus;
use ward_core::deployment::Deployment;
use ward_core::policy::{OnPanic, PanicAction};
use ward_core::spec::{ServiceSpec, Spec};
use ward_supervisor::events::describe;
use ward_supervisor::ports::health::{Hook, Subject};
use ward_supervisor::ports::observer::OnHook;
use ward_supervisor::ports::runtime::fake::FakeRuntime;
use ward_supervisor::{EventItem, EventStream, Inputs, MemoryStore, Ports, Settings, Supervisor};

/// What the balancer is told.
enum Change {
    /// An instance serves: put it in the pool.
    In(String),
    /// An instance must get no more traffic, and why.
    Out(String, String),
}

type Error = Box<dyn std::error::Error>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let mut web = ServiceSpec::new("web".parse()?, vec!["./web".into(), "--port".into(), "${PORT}".into()]);
    web.replicas = 3;
    web.ports.insert("PORT".into(), 8080);
    web.on_panic = OnPanic { action: PanicAction::Isolate, replace: true, ..OnPanic::default() };

    // The balancer runs as a task of its own; the callback only sends to it,
    // so it never blocks the supervisor.
    let (changes, mut changed) = mpsc::unbounded_channel::<Change>();
    let out = changes.clone();
    let on_hook = OnHook::new(move |hook, subject: &Subject| {
        if hook == Hook::Isolate {
            let why = subject.reason.clone().unwrap_or_default();
            let _ = out.send(Change::Out(subject.id.to_string(), why));
        }
    });
    let balancer = tokio::spawn(async move {
        let mut pool = BTreeSet::new();
        while let Some(change) = changed.recv().await {
            match change {
                Change::In(id) => pool.insert(id),
                Change::Out(id, why) => {
                    println!("balancer: {id} out of the pool ({why})");
                    pool.remove(&id)
                }
            };
            println!("balancer: pool is {pool:?}");
        }
    });

    let (inputs, feeds) = Inputs::channels();
    let (runtime, world) = FakeRuntime::new(feeds.exits.clone());
    let ports = Ports::new(MemoryStore::new()).with_observer(on_hook);
    let settings = Settings::new(".", std::env::temp_dir());
    let supervisor = Supervisor::new(Deployment::new(Spec::new([web])), runtime, ports, settings);
    let running = tokio::spawn(supervisor.run(inputs));
    let handle = feeds.handle();
    let mut events = handle.events_since(1).await?;

    follow(&mut events, &changes, 3).await?;
    println!("-- web/1 crashes (SIGSEGV)");
    world.end_instance("web/1", ExitStatus::Signal(11)).ok_or("web/1 does not run")?;
    follow(&mut events, &changes, 1).await?; // the replacement
    for why in handle.why("web/1").await?.instances {
        print!("{}", why.text);
    }

    println!("-- down");
    handle.down().await?;
    drop(changes);
    while let Some(item) = events.next().await {
        if let EventItem::Event(ev) = item {
            println!("{}", describe(&ev));
        }
    }
    let code = running.await?;
    balancer.await?;
    println!("the supervisor ended with {code}");
    Ok(())
}

/// Prints events until `starts` more instances started; each one that
/// starts goes into the pool.
async fn follow(
    events: &mut EventStream,
    changes: &mpsc::UnboundedSender<Change>,
    starts: usize,
) -> Result<(), Error> {
    let mut seen = 0;
    while seen < starts {
        match events.next().await.ok_or("the supervisor stopped")? {
            EventItem::Event(ev) => {
                println!("{}", describe(&ev));
                if ev.kind == "started" {
                    seen += 1;
                    changes.send(Change::In(format!("{}/{}", ev.service, ev.replica)))?;
                    tokio::task::yield_now().await; // let the balancer print it now
                }
            }
            EventItem::Lagged(n) => println!("(missed {n} events)"),
            _ => {}
        }
    }
    Ok(())
}
