//! The verbs that talk to a running ward through its API: status, start,
//! stop, restart, unblock, logs, events, reload, down.

use super::args::Verb;
use super::render;
use crate::api::client::{Client, ClientError, encode, next_chunk};
use crate::api::types::{EventJson, OkReply, StatusReply};
use crate::paths::Paths;
use hyper::Method;
use std::io::Write;

/// Runs a client verb; returns the exit code.
pub fn run(paths: &Paths, place: &super::args::Place, verb: Verb) -> i32 {
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ward: {e}");
            return 1;
        }
    };
    let client = match client(paths, place) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match rt.block_on(dispatch(&client, verb)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("ward: {e}");
            1
        }
    }
}

/// The client of the verbs: the control socket, or the remote ward of
/// `--host` (`WARD_HOST`); on a bad `--host` or token file, prints why and
/// gives exit code 2.
pub fn client(paths: &Paths, place: &super::args::Place) -> Result<Client, i32> {
    let Some(host) = &place.host else { return Ok(Client::new(&paths.socket)) };
    crate::api::remote::Remote::new(host, place.token_file.as_deref(), place.ca_file.as_deref())
        .map(Client::remote)
        .map_err(|e| {
            eprintln!("ward: {e}");
            2
        })
}

async fn dispatch(client: &Client, verb: Verb) -> Result<(), ClientError> {
    match verb {
        Verb::Status { service, json, usage, .. } => status(client, service, json, usage).await,
        Verb::Endpoints { service, json, .. } => endpoints(client, &service, json).await,
        Verb::Start { target, .. } => command(client, "start", &target).await,
        Verb::Stop { target, .. } => command(client, "stop", &target).await,
        Verb::Restart { target, .. } => command(client, "restart", &target).await,
        Verb::Unblock { target, .. } => command(client, "unblock", &target).await,
        Verb::Isolate { target, .. } => command(client, "isolate", &target).await,
        Verb::Reload { .. } => simple(client, "/v1/reload").await,
        Verb::Down { .. } => simple(client, "/v1/down").await,
        Verb::Logs { targets, follow, lines, previous, stream } => {
            super::logs::run(client, targets, follow, lines, previous, stream).await
        }
        Verb::Why { target, json, .. } => why(client, &target, json).await,
        Verb::Events { follow, json } => events(client, follow, json).await,
        // Verbs that cli::main runs itself.
        Verb::Check { .. }
        | Verb::Up { .. }
        | Verb::Wait { .. }
        | Verb::Brain
        | Verb::Top { .. }
        | Verb::Signal { .. }
        | Verb::Init { .. }
        | Verb::Completions { .. }
        | Verb::Man { .. }
        | Verb::Token { .. }
        | Verb::Import { .. }
        | Verb::Export { .. }
        | Verb::Ready { .. } => Ok(()),
    }
}

async fn status(
    client: &Client,
    service: Option<String>,
    json: bool,
    usage: bool,
) -> Result<(), ClientError> {
    let mut query = Vec::new();
    if let Some(s) = &service {
        query.push(format!("service={}", encode(s)));
    }
    if usage {
        query.push("usage=true".to_string());
    }
    let path = match query.is_empty() {
        true => "/v1/status".to_string(),
        false => format!("/v1/status?{}", query.join("&")),
    };
    let reply: StatusReply = client.json(Method::GET, &path, None).await?;
    if json {
        // Straight to a buffered stdout: at 10,000 instances the text is 3 MB.
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        let _ = serde_json::to_writer_pretty(&mut out, &reply)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
            .and_then(|()| out.flush());
    } else {
        print!("{}", render::status_table(&reply, now_ms(), usage));
    }
    Ok(())
}

async fn endpoints(client: &Client, service: &str, json: bool) -> Result<(), ClientError> {
    let path = format!("/v1/endpoints?service={}", encode(service));
    let reply: crate::api::types::EndpointsReply = client.json(Method::GET, &path, None).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&reply).unwrap_or_default());
    } else {
        print!("{}", render::endpoints(&reply));
    }
    Ok(())
}

async fn command(client: &Client, verb: &str, target: &str) -> Result<(), ClientError> {
    let body = serde_json::json!({ "target": target });
    let reply: OkReply = client.json(Method::POST, &format!("/v1/{verb}"), Some(body)).await?;
    println!("{}", reply.message);
    Ok(())
}

async fn simple(client: &Client, path: &str) -> Result<(), ClientError> {
    let reply: OkReply = client.json(Method::POST, path, None).await?;
    println!("{}", reply.message);
    Ok(())
}

async fn why(client: &Client, target: &str, json: bool) -> Result<(), ClientError> {
    let path = format!("/v1/why?target={}", encode(target));
    let reply: crate::api::types::WhyReply = client.json(Method::GET, &path, None).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&reply).unwrap_or_default());
    } else {
        let texts: Vec<&str> = reply.instances.iter().map(|i| i.text.as_str()).collect();
        print!("{}", texts.join("\n"));
    }
    Ok(())
}

async fn events(client: &Client, follow: bool, json: bool) -> Result<(), ClientError> {
    let print = |ev: &EventJson| {
        if json {
            println!("{}", serde_json::to_string(ev).unwrap_or_default());
        } else {
            println!("{}", ward_supervisor::events::describe(ev));
        }
    };
    if !follow {
        let bytes = client.bytes("/v1/events").await?;
        for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            if let Ok(ev) = serde_json::from_slice::<EventJson>(line) {
                print(&ev);
            }
        }
        return Ok(());
    }
    let mut body = client.send(Method::GET, "/v1/events?follow=true", None).await?;
    let mut buf = Vec::new();
    while let Some(Ok(chunk)) = next_chunk(&mut body).await {
        buf.extend_from_slice(&chunk);
        while let Some(end) = find(&buf, b"\n\n") {
            let frame: Vec<u8> = buf.drain(..end + 2).collect();
            let text = String::from_utf8_lossy(&frame);
            let kind = text.lines().find_map(|l| l.strip_prefix("event: ")).unwrap_or("event");
            let Some(data) = text.lines().find_map(|l| l.strip_prefix("data: ")) else { continue };
            match kind {
                "lagged" => eprintln!("ward: this reader fell behind and missed events: {data}"),
                _ => {
                    if let Ok(ev) = serde_json::from_str::<EventJson>(data) {
                        print(&ev);
                    }
                }
            }
            let _ = std::io::stdout().flush();
        }
    }
    Ok(())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[allow(clippy::disallowed_methods)] // display only: "how long ago", "how long left"
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
