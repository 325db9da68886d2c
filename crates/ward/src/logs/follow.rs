//! `ward logs -f`: one task per follower. It sends the last lines, then reads
//! until the end of the stream each time inotify reports that the file
//! changed, and sleeps otherwise. It counts in absolute positions, so a
//! rotation between two reads neither repeats nor skips a byte.

use std::io;

use tokio::sync::mpsc;

use super::{Logs, blocking, read};

/// Pieces in flight to one follower; a slow reader holds the task back (the
/// bytes wait on disk, not in memory).
pub(super) const CHANNEL: usize = 16;

/// Follows the live file `name` until `tx` is closed.
pub(super) async fn run(logs: Logs, name: String, n: usize, tx: mpsc::Sender<io::Result<Vec<u8>>>) {
    let shared = logs.inner.shared.clone();
    // Subscribe before the first read: a write after it is never missed.
    let mut changed = shared.file(&name).changed.subscribe();
    let first = {
        let (shared, name) = (shared.clone(), name.clone());
        blocking(move || read::tail(&shared, &name, n)).await
    };
    let mut pos = match first {
        Ok((bytes, end)) => {
            if !bytes.is_empty() && tx.send(Ok(bytes)).await.is_err() {
                return;
            }
            end
        }
        Err(e) => {
            let _ = tx.send(Err(e)).await;
            return;
        }
    };
    loop {
        // Read to the end of what is there.
        loop {
            let got = {
                let (shared, name) = (shared.clone(), name.clone());
                blocking(move || read::from(&shared, &name, pos)).await
            };
            match got {
                Ok(read) => {
                    if read.skipped > 0 {
                        let bytes = read.skipped;
                        tracing::warn!(file = %name, bytes, "follower fell behind rotation; bytes skipped");
                    }
                    pos = read.next;
                    if read.bytes.is_empty() {
                        break;
                    }
                    if tx.send(Ok(read.bytes)).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            }
        }
        tokio::select! {
            woke = changed.changed() => {
                if woke.is_err() {
                    return;
                }
            }
            () = tx.closed() => return,
        }
    }
}
