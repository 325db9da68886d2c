//! `GET /v1/logs/lines`: the output of every instance that matches the
//! patterns, as timed lines (NDJSON, one [`LineJson`] per line) merged in
//! time order; then, with `follow`, new lines as they are stamped, of these
//! instances and of any matching instance that starts later.
//!
//! Query: `targets` (comma-separated patterns; none: every instance), `n`
//! (the last N lines; none: all in the window), `since` and `until` (Unix
//! ms), `grep` (a regex), `follow`.

use std::collections::HashMap;
use std::time::{Duration, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc};

use super::server::{AppState, ask, error, request_error};
use super::stream::ChannelBody;
use crate::logs::Logs;
use crate::logs::lines::{From, Line, LineJson, Reader};
use crate::logs::merge::{Filter, last_n, merge};
use crate::logs::select::{Pattern, any_matches, instance_of};
use ward_supervisor::requests::Request;

/// Lines sent in one chunk of the body.
const BATCH: usize = 64;

/// The query of `/v1/logs/lines`.
#[derive(Debug, Deserialize)]
pub struct LinesQuery {
    #[serde(default)]
    targets: String,
    n: Option<usize>,
    since: Option<u64>,
    until: Option<u64>,
    grep: Option<String>,
    #[serde(default)]
    follow: bool,
}

/// What one request reads.
struct Plan {
    /// `(service, replica, file)`, in the order ties are broken.
    instances: Vec<(String, u32, String)>,
    patterns: Vec<Pattern>,
    filter: Filter,
    n: Option<usize>,
    follow: bool,
}

/// The handler.
pub async fn lines(State(s): State<AppState>, Query(q): Query<LinesQuery>) -> Response {
    let patterns: Result<Vec<Pattern>, _> =
        q.targets.split(',').filter(|t| !t.is_empty()).map(str::parse).collect();
    let patterns = match patterns {
        Ok(p) => p,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    };
    let grep = match q.grep.as_deref().map(regex::bytes::Regex::new).transpose() {
        Ok(g) => g,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, format!("--grep: {e}")),
    };
    let st = match ask(&s, |reply| Request::Status { service: None, usage: false, reply }).await {
        Ok(Ok(st)) => st,
        Ok(Err(e)) => return request_error(e),
        Err(r) => return r,
    };
    let mut instances: Vec<(String, u32, String)> = st
        .instances
        .iter()
        .filter(|i| any_matches(&patterns, &i.service, i.replica))
        .map(|i| (i.service.clone(), i.replica, format!("{}.{}.log", i.service, i.replica)))
        .collect();
    instances.sort();
    if instances.is_empty() && !patterns.is_empty() {
        return error(StatusCode::NOT_FOUND, format!("no instance matches {}", q.targets));
    }
    let filter = Filter { since: q.since, until: q.until, grep };
    let plan = Plan { instances, patterns, filter, n: q.n, follow: q.follow };
    let (tx, body) = ChannelBody::new();
    tokio::spawn(feed(s.logs.clone(), plan, tx));
    ([(header::CONTENT_TYPE, "application/x-ndjson")], Body::new(body)).into_response()
}

/// The history, then (with `follow`) the live lines.
async fn feed(logs: Logs, plan: Plan, tx: mpsc::Sender<Bytes>) {
    // Subscribe before reading: a stamp after the history is never missed.
    let stamped = plan.follow.then(|| logs.stamped());
    let started = logs.now_ms();
    let (history_logs, history_tx) = (logs.clone(), tx.clone());
    let history = tokio::task::spawn_blocking(move || history(&history_logs, plan, &history_tx)).await;
    let Ok((plan, readers)) = history else { return };
    if let Some(stamped) = stamped {
        follow(logs, plan, readers, stamped, started, tx).await;
    }
}

/// One stream of the merge: a reader's lines, filtered, until the window ends.
struct Stream<'a> {
    reader: &'a mut Reader,
    filter: &'a Filter,
    /// At the end of the history: keep the unfinished line for following.
    follow: bool,
    lines: std::collections::VecDeque<Line>,
    done: bool,
    /// The client's channel: once it is gone, reading stops.
    tx: &'a mpsc::Sender<Bytes>,
}

impl Iterator for Stream<'_> {
    type Item = Line;

    fn next(&mut self) -> Option<Line> {
        loop {
            if let Some(line) = self.lines.pop_front() {
                if self.filter.past(&line) {
                    self.done = true;
                    self.lines.clear();
                    return None;
                }
                if self.filter.keeps(&line) {
                    return Some(line);
                }
                continue;
            }
            if self.done || self.tx.is_closed() {
                return None;
            }
            let mut out = Vec::new();
            let more = self.reader.read(false, &mut out).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "reading a log for the merged stream failed");
                false
            });
            self.lines.extend(out);
            if !more {
                self.done = true;
                if !self.follow {
                    self.lines.extend(self.reader.finish());
                }
            }
        }
    }
}

/// Reads and sends the merged history (blocking); returns the readers,
/// positioned at its end, by file name.
fn history(logs: &Logs, plan: Plan, tx: &mpsc::Sender<Bytes>) -> (Plan, HashMap<String, Reader>) {
    let tail = if plan.filter.by_time_only() { plan.n } else { None };
    let from = From { since: plan.filter.since, tail, end: false };
    let mut readers: Vec<Reader> = Vec::new();
    let mut names = Vec::new();
    for (service, replica, file) in &plan.instances {
        match logs.reader(file, from) {
            Ok(r) => {
                readers.push(r);
                names.push((service.clone(), *replica, file.clone()));
            }
            Err(e) => {
                let msg = format!("cannot read the log of {service}/{replica}: {e}");
                let _ = tx.blocking_send(Bytes::from(json_line(&line_json("ward", 0, 0, 0, msg))));
            }
        }
    }
    {
        let streams: Vec<Stream<'_>> = readers
            .iter_mut()
            .map(|reader| Stream {
                reader,
                filter: &plan.filter,
                follow: plan.follow,
                lines: Default::default(),
                done: false,
                tx,
            })
            .collect();
        let merged = merge(streams).map(|(i, line)| to_json(&names[i].0, names[i].1, &line));
        let mut send = Batcher::new(tx);
        match plan.n {
            Some(n) => last_n(merged, Some(n)).into_iter().for_each(|l| send.push(l)),
            None => merged.for_each(|l| send.push(l)),
        }
        send.flush();
    }
    let readers = names.into_iter().map(|(_, _, file)| file).zip(readers).collect();
    (plan, readers)
}

/// Follows the files of `readers`, and of matching instances that appear,
/// as the log thread stamps them.
async fn follow(
    logs: Logs,
    plan: Plan,
    mut readers: HashMap<String, Reader>,
    mut stamped: broadcast::Receiver<std::sync::Arc<str>>,
    started: u64,
    tx: mpsc::Sender<Bytes>,
) {
    let plan = std::sync::Arc::new(plan);
    loop {
        let names: Vec<String> = tokio::select! {
            got = stamped.recv() => match got {
                Ok(name) => vec![name.to_string()],
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let l = logs.clone();
                    let mut all = tokio::task::spawn_blocking(move || l.live_files()).await
                        .ok().and_then(Result::ok).unwrap_or_default();
                    all.extend(readers.keys().cloned());
                    all
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            () = tx.closed() => return,
        };
        for name in names {
            let Some((service, replica)) = instance_of(&name) else { continue };
            if !any_matches(&plan.patterns, service, replica) {
                continue;
            }
            let (service, replica) = (service.to_string(), replica);
            let reader = readers.remove(&name);
            let (l, p, t, n) = (logs.clone(), plan.clone(), tx.clone(), name.clone());
            let job = move || -> Option<Reader> {
                let mut reader = match reader {
                    Some(r) => r,
                    // Started since: what it wrote from the moment we began.
                    None => l.reader(&n, From { since: Some(started), ..From::default() }).ok()?,
                };
                let mut send = Batcher::new(&t);
                let mut out = Vec::new();
                while let Ok(true) = reader.read(true, &mut out) {
                    for line in out.drain(..).filter(|line| p.filter.keeps(line)) {
                        send.push(to_json(&service, replica, &line));
                    }
                }
                send.flush();
                Some(reader)
            };
            if let Ok(Some(reader)) = tokio::task::spawn_blocking(job).await {
                readers.insert(name, reader);
            }
        }
    }
}

/// Sends JSON lines in chunks of [`BATCH`].
struct Batcher<'a> {
    tx: &'a mpsc::Sender<Bytes>,
    buf: Vec<u8>,
    count: usize,
}

impl<'a> Batcher<'a> {
    fn new(tx: &'a mpsc::Sender<Bytes>) -> Self {
        Batcher { tx, buf: Vec::new(), count: 0 }
    }

    fn push(&mut self, line: LineJson) {
        self.buf.extend(json_line(&line));
        self.count += 1;
        if self.count >= BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if !self.buf.is_empty() {
            let _ = self.tx.blocking_send(Bytes::from(std::mem::take(&mut self.buf)));
        }
        self.count = 0;
    }
}

fn to_json(service: &str, replica: u32, line: &Line) -> LineJson {
    let text = String::from_utf8_lossy(&line.text).into_owned();
    line_json(service, replica, line.run, line.ms, text)
}

fn line_json(service: &str, replica: u32, run: u64, ms: u64, line: String) -> LineJson {
    let ts = humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string();
    LineJson { service: service.to_string(), replica, run, ts, ts_ms: ms, line }
}

fn json_line(line: &LineJson) -> Vec<u8> {
    let mut v = serde_json::to_vec(line).unwrap_or_default();
    v.push(b'\n');
    v
}
