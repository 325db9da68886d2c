//! The keeper's journal: which instance processes it started, so that after
//! a crash of the keeper (or of keeper and brain together) every one of them
//! is found again, also a restart the brain never heard of.
//!
//! Before each fork the keeper appends `+ TOKEN service/N` and gives the
//! process `WARD_RUN=TOKEN` in its environment; when it reaps the process it
//! appends `- TOKEN`. The tokens are unique: the deployment (a hash of its
//! state folder, so two wards on one machine never take each other's
//! processes), the keeper's epoch, a counter.
//! Plain appends, no fsync: a crashed process loses nothing it wrote (only a
//! crash of the machine does, and that ends the processes too). A new keeper
//! reads what the last one left: every token started and not ended names a
//! process that may still run, found by its token in `/proc/PID/environ`
//! (one scan of /proc, only when there is such a token). Those are handed to
//! the brain, which adopts or discards each (ward-core's `recovery`), and the
//! new journal names them until they end.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The environment variable that carries a process's token.
pub const VAR: &str = "WARD_RUN";

/// Past this size the journal is rewritten with only the live entries.
const COMPACT_AT: u64 = 4 << 20;

/// A process an earlier keeper started that still runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stray {
    /// Its token.
    pub token: String,
    /// Its pid, found by its token.
    pub pid: u32,
    /// Its instance, `service/N`.
    pub instance: String,
}

/// The journal of this keeper.
pub struct Journal {
    path: PathBuf,
    file: File,
    /// `<deployment>.<epoch>.`: what every token of this keeper starts with.
    prefix: String,
    counter: u64,
    written: u64,
    /// `- TOKEN` lines not yet written (see [`Journal::ended`]).
    ended: String,
    /// Processes of earlier keepers still named, until they end.
    strays: Vec<Stray>,
    /// What a failed write left out (a full disk): written first by the next
    /// one, so that no start or end is lost and a line cut short is completed
    /// rather than glued to the next.
    unwritten: Vec<u8>,
    /// Writes fail (said once, until one works again).
    failing: bool,
}

impl Journal {
    /// Reads what an earlier keeper left at `path`, finds its processes that
    /// still run, and starts this keeper's journal (epoch `epoch`) naming them.
    pub fn open(path: &Path, epoch: u64) -> io::Result<(Journal, Vec<Stray>)> {
        let deployment = path.parent().map(deployment_id).unwrap_or_default();
        let open = match fs::read_to_string(path) {
            Ok(text) => unended(&text),
            Err(e) if e.kind() == io::ErrorKind::NotFound => HashMap::new(),
            Err(e) => return Err(e),
        };
        let strays = if open.is_empty() { Vec::new() } else { find(&open) };
        let mut journal = Journal {
            path: path.to_path_buf(),
            file: File::open("/dev/null")?,
            prefix: format!("{deployment}.{epoch}."),
            counter: 0,
            written: 0,
            ended: String::new(),
            strays: strays.clone(),
            unwritten: Vec::new(),
            failing: false,
        };
        journal.rewrite(std::iter::empty())?;
        Ok((journal, strays))
    }

    /// Records that a process of `instance` is about to be started; returns
    /// its token, for its environment ([`VAR`]).
    pub fn starting(&mut self, instance: &str) -> String {
        self.counter += 1;
        let token = format!("{}{}", self.prefix, self.counter);
        // The ends recorded since go with it, in the same write.
        let mut lines = std::mem::take(&mut self.ended);
        lines.push_str(&format!("+ {token} {instance}\n"));
        self.append(&lines);
        lines.clear();
        self.ended = lines;
        token
    }

    /// Records that the process with `token` ended (was reaped), with the
    /// next start's line or at a [`Journal::flush`] that finds many: a crash
    /// before it leaves the token open, and the next keeper finds no process
    /// carrying it.
    pub fn ended(&mut self, token: &str) {
        self.ended.push_str("- ");
        self.ended.push_str(token);
        self.ended.push('\n');
    }

    /// Writes the ends recorded since the last write, in one write, once
    /// they are many (a storm that restarts nothing); fewer wait for the next
    /// start's line, so that a restart costs one write.
    pub fn flush(&mut self) {
        if self.ended.len() >= 4096 {
            self.flush_all();
        }
    }

    /// Writes every end recorded since the last write (the keeper ends: the
    /// next one then finds no open token to look for).
    pub fn flush_all(&mut self) {
        if !self.ended.is_empty() {
            let lines = std::mem::take(&mut self.ended);
            self.append(&lines);
            self.ended = lines;
            self.ended.clear();
        }
    }

    /// When the journal has grown, rewrites it with `live` (token, instance)
    /// and the strays still running.
    pub fn compact_if_large<'a>(&mut self, live: impl Iterator<Item = (&'a str, &'a str)>) {
        if self.written < COMPACT_AT {
            return;
        }
        self.strays.retain(|s| carries(s.pid, &s.token));
        let error = self.rewrite(live).err();
        self.note(error, "compact");
    }

    fn rewrite<'a>(&mut self, live: impl Iterator<Item = (&'a str, &'a str)>) -> io::Result<()> {
        let mut text = String::new();
        for s in &self.strays {
            text.push_str(&format!("+ {} {}\n", s.token, s.instance));
        }
        for (token, instance) in live {
            text.push_str(&format!("+ {token} {instance}\n"));
        }
        let tmp = self.path.with_extension("journal.new");
        let mut file = OpenOptions::new().create(true).write(true).truncate(true).open(&tmp)?;
        file.write_all(text.as_bytes())?;
        fs::rename(&tmp, &self.path)?;
        self.file = OpenOptions::new().append(true).open(&self.path)?;
        self.written = text.len() as u64;
        // The new journal names every live process: what was left out of the old one is in it.
        self.unwritten.clear();
        Ok(())
    }

    fn append(&mut self, lines: &str) {
        // One write(2) on an O_APPEND file, after what an earlier one left out.
        let (done, error) = if self.unwritten.is_empty() {
            let (done, error) = write_some(&mut self.file, lines.as_bytes());
            self.unwritten.extend_from_slice(&lines.as_bytes()[done..]);
            (done, error)
        } else {
            self.unwritten.extend_from_slice(lines.as_bytes());
            let (done, error) = write_some(&mut self.file, &self.unwritten);
            self.unwritten.drain(..done);
            (done, error)
        };
        self.written += done as u64;
        self.note(error, "write");
        if self.unwritten.len() as u64 >= COMPACT_AT {
            // Held for long: the next rewrite, which names every live
            // process, says it all (tried at each compaction until it works).
            self.unwritten = Vec::new();
            self.written = self.written.max(COMPACT_AT);
        }
    }
}

impl Journal {
    /// Says that writing (`what`) failed, once until a write works again,
    /// and then that it does (what failed is kept, see `unwritten`).
    fn note(&mut self, error: Option<io::Error>, what: &str) {
        match error {
            Some(e) if !self.failing => {
                self.failing = true;
                tracing::error!(
                    "keeper: cannot {what} {} ({e}); what it should say is kept until it can be written",
                    self.path.display()
                );
            }
            None if self.failing => {
                self.failing = false;
                tracing::info!("keeper: {} is written again", self.path.display());
            }
            _ => {}
        }
    }
}

/// Writes as much of `bytes` as `out` takes: how much, and why not all.
fn write_some(out: &mut impl Write, bytes: &[u8]) -> (usize, Option<io::Error>) {
    let mut done = 0;
    while done < bytes.len() {
        match out.write(&bytes[done..]) {
            Ok(0) => return (done, Some(io::ErrorKind::WriteZero.into())),
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (done, Some(e)),
        }
    }
    (done, None)
}

/// The tokens started and not ended in a journal's text, with their instance.
fn unended(text: &str) -> HashMap<String, String> {
    let mut open = HashMap::new();
    for line in text.lines() {
        let mut words = line.split(' ');
        match (words.next(), words.next(), words.next()) {
            (Some("+"), Some(token), Some(instance)) => {
                open.insert(token.to_owned(), instance.to_owned());
            }
            (Some("-"), Some(token), None) => {
                open.remove(token);
            }
            _ => {} // a line cut short by a crash
        }
    }
    open
}

/// The running processes that carry one of the `open` tokens.
fn find(open: &HashMap<String, String>) -> Vec<Stray> {
    let Ok(procs) = fs::read_dir("/proc") else { return Vec::new() };
    let mut found = Vec::new();
    for entry in procs.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Some(token) = token_of(pid) else { continue };
        if let Some(instance) = open.get(&token) {
            if crate::runtime::process::process_alive(pid) {
                found.push(Stray { token, pid, instance: instance.clone() });
            }
        }
    }
    // Oldest first: tokens count up.
    found.sort_by_key(|s| token_order(&s.token));
    found
}

/// The token in the environment of `pid`, if it has one.
fn token_of(pid: u32) -> Option<String> {
    let environ = fs::read(format!("/proc/{pid}/environ")).ok()?;
    let prefix = format!("{VAR}=");
    environ
        .split(|&b| b == 0)
        .find_map(|kv| kv.strip_prefix(prefix.as_bytes()))
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

/// True while `pid` runs and carries `token` (it is still that process).
pub(super) fn carries(pid: u32, token: &str) -> bool {
    token_of(pid).as_deref() == Some(token) && crate::runtime::process::process_alive(pid)
}

/// (epoch, counter) of a token `deployment.epoch.counter`, for ordering.
fn token_order(token: &str) -> (u64, u64) {
    let mut parts = token.rsplit('.');
    let counter = parts.next().and_then(|c| c.parse().ok()).unwrap_or(0);
    let epoch = parts.next().and_then(|e| e.parse().ok()).unwrap_or(0);
    (epoch, counter)
}

/// A short id of the deployment whose state folder is `dir` (FNV-1a of its
/// path: stable across runs, unlike std's hasher).
fn deployment_id(dir: &Path) -> String {
    format!("{:08x}", crate::sockets::fnv32(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unended_tokens_are_those_started_and_not_ended() {
        let text = "+ 1.1 api/0\n+ 1.2 api/1\n- 1.1\n+ 1.3 web/0\n+ 1.4 cut";
        let open = unended(text);
        let mut keys: Vec<&str> = open.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["1.2", "1.3", "1.4"]);
        assert_eq!(open["1.2"], "api/1");
        assert_eq!(token_order("ab12cd34.3.10"), (3, 10));
        assert!(token_order("ab12cd34.3.9") < token_order("ab12cd34.3.10"));
    }

    /// Takes `room` bytes, then says the disk is full until given more.
    struct Disk {
        kept: Vec<u8>,
        room: usize,
    }

    impl Write for Disk {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = buf.len().min(self.room);
            if n == 0 {
                return Err(io::Error::from_raw_os_error(libc::ENOSPC));
            }
            self.kept.extend_from_slice(&buf[..n]);
            self.room -= n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_write_cut_short_says_how_far_it_went() {
        let mut disk = Disk { kept: Vec::new(), room: 5 };
        let (done, e) = write_some(&mut disk, b"+ a.1.1 api/0\n");
        assert_eq!((done, disk.kept.as_slice()), (5, &b"+ a.1"[..]));
        assert_eq!(e.and_then(|e| e.raw_os_error()), Some(libc::ENOSPC));
        disk.room = 100;
        assert_eq!(write_some(&mut disk, b".1 api/0\n").0, 9);
        assert_eq!(disk.kept, b"+ a.1.1 api/0\n");
    }

    #[test]
    fn what_a_full_disk_left_out_is_written_first_once_there_is_room() {
        let dir = std::env::temp_dir().join(format!("ward-journal-full-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keeper.journal");
        let (mut j, _) = Journal::open(&path, 1).unwrap();
        let a = j.starting("api/0");
        // A full disk: /dev/full refuses every write with ENOSPC.
        let journal =
            std::mem::replace(&mut j.file, OpenOptions::new().write(true).open("/dev/full").unwrap());
        j.ended(&a);
        let b = j.starting("api/0");
        j.ended(&b);
        j.flush_all();
        assert_eq!(fs::read_to_string(&path).unwrap(), format!("+ {a} api/0\n"));
        j.file = journal; // room again
        let c = j.starting("web/0");
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            format!("+ {a} api/0\n- {a}\n+ {b} api/0\n- {b}\n+ {c} web/0\n"),
            "nothing lost, in order"
        );
        let open = unended(&fs::read_to_string(&path).unwrap());
        assert_eq!(open.into_iter().collect::<Vec<_>>(), [(c, "web/0".to_string())]);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_new_journal_names_the_strays_and_appends_after_them() {
        let dir = std::env::temp_dir().join(format!("ward-journal-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keeper.journal");
        // A journal whose processes are all gone.
        fs::write(&path, "+ 1.1 api/0\n+ 1.2 api/0\n").unwrap();
        let (mut j, strays) = Journal::open(&path, 2).unwrap();
        assert!(strays.is_empty(), "no process carries those tokens");
        let t = j.starting("api/0");
        assert_eq!(t, format!("{}.2.1", deployment_id(&dir)));
        j.ended(&t);
        assert_eq!(fs::read_to_string(&path).unwrap(), format!("+ {t} api/0\n"), "ends wait");
        let u = j.starting("api/1");
        j.ended(&u);
        j.flush();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            format!("+ {t} api/0\n- {t}\n+ {u} api/1\n"),
            "an end goes with the next start's line; a few wait for it"
        );
        let many: Vec<String> = (0..400).map(|_| j.starting("api/2")).collect();
        for token in &many {
            j.ended(token);
        }
        j.flush();
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.ends_with(&many.iter().map(|t| format!("- {t}\n")).collect::<String>()),
            "many ends are flushed"
        );
        let _ = fs::remove_dir_all(&dir);
    }
}
