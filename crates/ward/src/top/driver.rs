//! The imperative shell of `ward top`: one loop that draws, then waits for
//! the next message — a key (from a thread blocked on the terminal), an
//! event of the live stream, an API answer, or the one-second redraw tick —
//! and runs the effects the app answers with. The API is asked again only
//! after an event or a command, never on a timer; the tick only advances
//! uptimes and countdowns and samples /proc for CPU and memory. SIGTERM and
//! SIGHUP quit as `q` does.

use super::app::{App, Effect, Key, LOG_TAIL, Msg};
use super::{input, procstat, view};
use crate::api::client::{Client, encode, next_chunk};
use crate::api::types::{EventJson, OkReply, StatusReply};
use hyper::Method;
use ratatui::DefaultTerminal;
use ratatui::crossterm::event;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How many messages may wait for the loop; producers wait when it is full.
const INBOX: usize = 1024;
/// How many processes the tick samples at most (the first visible ones).
const SAMPLED: usize = 500;

/// Runs the app on the terminal until it asks to quit.
/// `cgroups`: the deployment's cgroups, when top runs beside it (the CPU and
/// memory of an instance in a cgroup are its cgroup's: every process of it).
pub async fn run(
    client: Client,
    terminal: &mut DefaultTerminal,
    app: &mut App,
    cgroups: Option<crate::cgroup::Cgroups>,
) -> std::io::Result<()> {
    let client = Arc::new(client);
    let (tx, mut rx) = mpsc::channel::<Msg>(INBOX);
    spawn_keys(tx.clone());
    tokio::spawn(follow_events(client.clone(), tx.clone()));
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    // SIGTERM or SIGHUP (the terminal went away) end top like `q`, so the
    // terminal is given back.
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut logs: Option<JoinHandle<()>> = None;
    let mut effects = app.start();
    loop {
        for e in effects.drain(..) {
            if e == Effect::Quit {
                if let Some(h) = logs.take() {
                    h.abort();
                }
                return Ok(());
            }
            run_effect(&client, &tx, &mut logs, e);
        }
        terminal.draw(|f| view::draw(f, app))?;
        let msg = tokio::select! {
            Some(m) = rx.recv() => m,
            _ = tick.tick() => Msg::Tick { now_ms: now_ms(), samples: sample(app, cgroups.as_ref()) },
            _ = term.recv() => Msg::Key(Key::Interrupt),
            _ = hup.recv() => Msg::Key(Key::Interrupt),
        };
        app.now_ms = now_ms();
        effects = app.update(msg);
        // Take what else is waiting before drawing again (a burst of events).
        while let Ok(m) = rx.try_recv() {
            effects.extend(app.update(m));
        }
    }
}

fn run_effect(client: &Arc<Client>, tx: &mpsc::Sender<Msg>, logs: &mut Option<JoinHandle<()>>, e: Effect) {
    let (c, tx) = (client.clone(), tx.clone());
    match e {
        Effect::FetchStatus => {
            tokio::spawn(async move {
                let r = c.json::<StatusReply>(Method::GET, "/v1/status", None).await;
                let _ = tx.send(Msg::Status(r.map_err(|e| e.to_string()))).await;
            });
        }
        Effect::Command { verb, target } => {
            tokio::spawn(async move {
                let body = serde_json::json!({ "target": target });
                let r = c.json::<OkReply>(Method::POST, &format!("/v1/{verb}"), Some(body)).await;
                let _ = tx.send(Msg::Done(r.map(|o| o.message).map_err(|e| e.to_string()))).await;
            });
        }
        Effect::Reload => {
            tokio::spawn(async move {
                let r = c.json::<OkReply>(Method::POST, "/v1/reload", None).await;
                let _ = tx.send(Msg::Done(r.map(|o| o.message).map_err(|e| e.to_string()))).await;
            });
        }
        Effect::Logs { feed, target, follow } => {
            if let Some(h) = logs.take() {
                h.abort();
            }
            if let Some(target) = target {
                *logs = Some(tokio::spawn(feed_logs(c, tx, feed, target, follow)));
            }
        }
        Effect::Quit => {}
    }
}

/// Reads the terminal on a thread of its own (crossterm's read blocks).
fn spawn_keys(tx: mpsc::Sender<Msg>) {
    std::thread::spawn(move || {
        while let Ok(ev) = event::read() {
            let msg = match (&ev, input::map(&ev)) {
                (_, Some(k)) => Msg::Key(k),
                (event::Event::Resize(..), None) => Msg::Resized,
                _ => continue,
            };
            if tx.blocking_send(msg).is_err() {
                break;
            }
        }
    });
}

/// Feeds the live event stream (server-sent events) to the loop.
async fn follow_events(c: Arc<Client>, tx: mpsc::Sender<Msg>) {
    let mut body = match c.send(Method::GET, "/v1/events?follow=true", None).await {
        Ok(b) => b,
        Err(e) => {
            let _ = tx.send(Msg::StreamEnded(e.to_string())).await;
            return;
        }
    };
    let mut buf = Vec::new();
    while let Some(Ok(chunk)) = next_chunk(&mut body).await {
        buf.extend_from_slice(&chunk);
        while let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
            let frame: Vec<u8> = buf.drain(..end + 2).collect();
            if let Some(msg) = sse_message(&String::from_utf8_lossy(&frame)) {
                if tx.send(msg).await.is_err() {
                    return;
                }
            }
        }
    }
    let _ = tx.send(Msg::StreamEnded("ward went away".into())).await;
}

/// One server-sent event as a message: an event, or a `lagged` notice.
pub fn sse_message(frame: &str) -> Option<Msg> {
    let kind = frame.lines().find_map(|l| l.strip_prefix("event: ")).unwrap_or("event");
    let data = frame.lines().find_map(|l| l.strip_prefix("data: "))?;
    match kind {
        "lagged" => {
            let v: serde_json::Value = serde_json::from_str(data).ok()?;
            Some(Msg::Lagged(v["missed"].as_u64().unwrap_or(0)))
        }
        _ => serde_json::from_str::<EventJson>(data).ok().map(|ev| Msg::Event(Box::new(ev))),
    }
}

async fn feed_logs(c: Arc<Client>, tx: mpsc::Sender<Msg>, feed: u64, target: String, follow: bool) {
    let path = format!("/v1/logs?target={}&n={LOG_TAIL}&follow={follow}", encode(&target));
    let mut body = match c.send(Method::GET, &path, None).await {
        Ok(b) => b,
        Err(e) => {
            let _ = tx.send(Msg::Logs { feed, text: format!("(no output: {e})\n") }).await;
            return;
        }
    };
    while let Some(Ok(chunk)) = next_chunk(&mut body).await {
        let text = String::from_utf8_lossy(&chunk).into_owned();
        if tx.send(Msg::Logs { feed, text }).await.is_err() {
            return;
        }
    }
}

fn sample(app: &App, cgroups: Option<&crate::cgroup::Cgroups>) -> Vec<procstat::ProcSample> {
    let now = now_ms();
    if let Some(c) = cgroups {
        c.flush_counters();
    }
    app.visible()
        .iter()
        .filter_map(|i| Some((i, i.pid?)))
        .take(SAMPLED)
        .filter_map(|(i, pid)| {
            let stats = cgroups.and_then(|c| c.usage(&format!("{}/{}", i.service, i.replica)));
            procstat::with_cgroup(procstat::read(pid, now), stats)
        })
        .collect()
}

/// The wall clock, Unix ms: read here only, and handed to the app.
#[allow(clippy::disallowed_methods)] // display only: uptimes, countdowns, CPU rates
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
