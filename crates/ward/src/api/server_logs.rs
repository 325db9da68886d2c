//! `GET /v1/logs`: the last lines of one or more instances, then (with
//! `follow`) their new output as it is written. With several instances, each
//! line is prefixed by its instance (`api/1 | `).

use crate::logs::Logs;
use axum::body::Bytes;
use tokio::sync::mpsc;
use ward_core::InstanceId;

/// Feeds `tx` with the output of `ids`.
pub async fn feed(logs: Logs, ids: Vec<InstanceId>, n: usize, follow: bool, tx: mpsc::Sender<Bytes>) {
    let prefixed = ids.len() > 1;
    if !follow {
        for id in &ids {
            match logs.tail(id, n).await {
                Ok(bytes) => {
                    let mut p = Prefixer::new(id, prefixed);
                    let mut chunk = p.push(&bytes);
                    chunk.extend(p.finish());
                    if tx.send(Bytes::from(chunk)).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Bytes::from(format!("ward: cannot read the log of {id}: {e}\n"))).await;
                }
            }
        }
        return;
    }
    let mut tasks = Vec::new();
    for id in ids {
        let (logs, tx) = (logs.clone(), tx.clone());
        tasks.push(tokio::spawn(async move {
            let mut rx = logs.follow(&id, n);
            let mut p = Prefixer::new(&id, prefixed);
            while let Some(chunk) = rx.recv().await {
                let out = match chunk {
                    Ok(bytes) => p.push(&bytes),
                    Err(e) => format!("ward: cannot follow the log of {id}: {e}\n").into_bytes(),
                };
                if !out.is_empty() && tx.send(Bytes::from(out)).await.is_err() {
                    return;
                }
            }
        }));
    }
    drop(tx);
    for t in tasks {
        let _ = t.await;
    }
}

/// Feeds `tx` with the last `n` lines of the previous run of each of `ids`.
pub async fn feed_previous(logs: Logs, ids: Vec<InstanceId>, n: usize, tx: mpsc::Sender<Bytes>) {
    let prefixed = ids.len() > 1;
    for id in &ids {
        let path = crate::logs::runs::previous_path(&logs.path(id));
        let lines = tokio::task::spawn_blocking(move || crate::logs::runs::tail_lines(&path, n, None))
            .await
            .unwrap_or_default();
        let mut p = Prefixer::new(id, prefixed);
        let mut text = String::new();
        for line in lines {
            text.push_str(&line);
            text.push('\n');
        }
        let mut chunk = p.push(text.as_bytes());
        chunk.extend(p.finish());
        if tx.send(Bytes::from(chunk)).await.is_err() {
            return;
        }
    }
}

/// Prefixes whole lines with their instance, holding a partial line back.
struct Prefixer {
    prefix: Option<Vec<u8>>,
    partial: Vec<u8>,
}

impl Prefixer {
    fn new(id: &InstanceId, on: bool) -> Self {
        Prefixer { prefix: on.then(|| format!("{id} | ").into_bytes()), partial: Vec::new() }
    }

    fn push(&mut self, bytes: &[u8]) -> Vec<u8> {
        let Some(prefix) = &self.prefix else { return bytes.to_vec() };
        self.partial.extend_from_slice(bytes);
        let Some(last_nl) = self.partial.iter().rposition(|b| *b == b'\n') else { return Vec::new() };
        let rest = self.partial.split_off(last_nl + 1);
        let whole = std::mem::replace(&mut self.partial, rest);
        let mut out = Vec::with_capacity(whole.len() + prefix.len() * 4);
        for line in whole.split_inclusive(|b| *b == b'\n') {
            out.extend_from_slice(prefix);
            out.extend_from_slice(line);
        }
        out
    }

    fn finish(&mut self) -> Vec<u8> {
        if self.partial.is_empty() {
            return Vec::new();
        }
        let mut line = std::mem::take(&mut self.partial);
        line.push(b'\n');
        match &self.prefix {
            Some(p) => [p.clone(), line].concat(),
            None => line,
        }
    }
}
