//! `ward logs`: one instance's output as it was written (`ward logs api/0`,
//! `ward logs api`, `--previous`), or, with several targets, a glob, no
//! target or any stream option, the timed lines of every matching instance
//! merged in time order, each prefixed by its instance in a stable colour.

use std::hash::{Hash, Hasher};
use std::io::{IsTerminal, Write};
use std::time::{Duration, UNIX_EPOCH};

use clap::Args;
use hyper::Method;

use crate::api::client::{Client, ClientError, encode, next_chunk};
use crate::logs::lines::LineJson;

/// The options of the merged stream.
#[derive(Debug, Args, Default, Clone)]
pub struct StreamArgs {
    /// Print each line's time (RFC 3339, UTC) first.
    #[arg(long, short = 't')]
    pub timestamps: bool,
    /// Only lines written since: a duration back (`10m`, `1h30m`) or a time
    /// (`2026-12-01T10:00`, UTC).
    #[arg(long, value_name = "WHEN", value_parser = when_arg)]
    pub since: Option<u64>,
    /// Only lines written until: a duration back or a time, as --since.
    #[arg(long, value_name = "WHEN", value_parser = when_arg)]
    pub until: Option<u64>,
    /// Only lines that match this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub grep: Option<String>,
    /// Do not prefix lines with their instance.
    #[arg(long)]
    pub no_prefix: bool,
    /// One JSON object per line: service, replica, run, ts, ts_ms, line.
    #[arg(long)]
    pub json: bool,
}

impl StreamArgs {
    fn any(&self) -> bool {
        self.timestamps
            || self.since.is_some()
            || self.until.is_some()
            || self.grep.is_some()
            || self.no_prefix
            || self.json
    }
}

/// Runs `ward logs`.
pub async fn run(
    client: &Client,
    targets: Vec<String>,
    follow: bool,
    lines: Option<usize>,
    previous: bool,
    stream: StreamArgs,
) -> Result<(), ClientError> {
    let single = targets.len() == 1 && !targets[0].contains(['*', '?', ',']);
    if previous || (single && !stream.any()) {
        let [target] = targets.as_slice() else {
            return Err(usage("--previous takes exactly one SERVICE or SERVICE/N"));
        };
        return raw(client, target, follow, lines.unwrap_or(100), previous).await;
    }
    let (since, until) = (stream.since, stream.until);
    let n = lines.or(if since.is_some() || until.is_some() { None } else { Some(100) });
    let mut path = format!("/v1/logs/lines?targets={}&follow={follow}", encode(&targets.join(",")));
    for (key, value) in [("n", n.map(|n| n as u64)), ("since", since), ("until", until)] {
        if let Some(v) = value {
            path.push_str(&format!("&{key}={v}"));
        }
    }
    if let Some(re) = &stream.grep {
        path.push_str(&format!("&grep={}", encode(re)));
    }
    let mut body = client.send(Method::GET, &path, None).await?;
    let colour = use_colour(std::io::stdout().is_terminal(), std::env::var_os("NO_COLOR").as_deref());
    let look = Look { colour, stream };
    let mut out = std::io::stdout();
    let mut buf = Vec::new();
    while let Some(Ok(chunk)) = next_chunk(&mut body).await {
        buf.extend_from_slice(&chunk);
        let Some(cut) = buf.iter().rposition(|&b| b == b'\n') else { continue };
        let rest = buf.split_off(cut + 1);
        let whole = std::mem::replace(&mut buf, rest);
        let mut text = Vec::new();
        for raw in whole.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            if let Ok(line) = serde_json::from_slice::<LineJson>(raw) {
                look.render(&line, &mut text);
            }
        }
        if out.write_all(&text).and_then(|()| out.flush()).is_err() {
            break; // stdout closed (e.g. piped into head)
        }
    }
    Ok(())
}

/// Today's `ward logs SERVICE[/N]`: the bytes as written.
async fn raw(
    client: &Client,
    target: &str,
    follow: bool,
    lines: usize,
    previous: bool,
) -> Result<(), ClientError> {
    let path = format!("/v1/logs?target={}&n={lines}&follow={follow}&previous={previous}", encode(target));
    let mut body = client.send(Method::GET, &path, None).await?;
    let mut out = std::io::stdout();
    while let Some(chunk) = next_chunk(&mut body).await {
        let Ok(chunk) = chunk else { break };
        if out.write_all(&chunk).and_then(|()| out.flush()).is_err() {
            break; // stdout closed (e.g. piped into head)
        }
    }
    Ok(())
}

/// How lines are printed.
struct Look {
    colour: bool,
    stream: StreamArgs,
}

impl Look {
    /// Appends `line` as printed to `out`.
    fn render(&self, line: &LineJson, out: &mut Vec<u8>) {
        if self.stream.json {
            out.extend(serde_json::to_vec(line).unwrap_or_default());
            out.push(b'\n');
            return;
        }
        if self.stream.timestamps {
            out.extend(line.ts.as_bytes());
            out.push(b' ');
        }
        if !self.stream.no_prefix {
            let prefix = format!("{}/{} | ", line.service, line.replica);
            if self.colour {
                out.extend(format!("\x1b[{}m{prefix}\x1b[0m", colour_of(&line.service)).as_bytes());
            } else {
                out.extend(prefix.as_bytes());
            }
        }
        out.extend(line.line.as_bytes());
        out.push(b'\n');
    }
}

/// Colour only on a terminal, and not when `NO_COLOR` is set to anything
/// but the empty string (<https://no-color.org>).
pub fn use_colour(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// A stable ANSI colour for a service: the same name, the same colour, in
/// every run and on every machine.
pub fn colour_of(service: &str) -> u8 {
    const PALETTE: [u8; 6] = [36, 33, 32, 35, 34, 31];
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    service.hash(&mut h);
    PALETTE[(h.finish() % PALETTE.len() as u64) as usize]
}

/// FNV-1a: a hash that does not change between runs (unlike std's default).
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// `10m` (that long before `now`), `2026-12-01T10:00[:SS][Z]` or
/// `2026-12-01` (UTC) → Unix ms.
pub fn when(s: &str, now: u64) -> Result<u64, String> {
    if let Ok(d) = humantime::parse_duration(s) {
        return Ok(now.saturating_sub(d.as_millis() as u64));
    }
    let full = match s.len() {
        10 => format!("{s}T00:00:00Z"),
        16 => format!("{s}:00Z"),
        _ if s.ends_with('Z') => s.to_string(),
        _ => format!("{s}Z"),
    };
    match humantime::parse_rfc3339_weak(&full) {
        Ok(t) => Ok(t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_millis() as u64),
        Err(_) => Err(format!(
            "{s:?} is not a time: expected a duration back (10m, 1h30m) or a UTC time (2026-12-01T10:00)"
        )),
    }
}

/// `--since`/`--until` as clap parses them (a bad value exits 2).
fn when_arg(s: &str) -> Result<u64, String> {
    when(s, now_ms())
}

fn usage(msg: impl Into<String>) -> ClientError {
    ClientError::Api { status: hyper::StatusCode::BAD_REQUEST, message: msg.into() }
}

#[allow(clippy::disallowed_methods)] // the CLI's "10m ago": display-side, not a decision
fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_takes_durations_and_utc_times() {
        assert_eq!(when("10m", 1_000_000), Ok(400_000));
        assert_eq!(when("1h30m", 10_000_000), Ok(4_600_000));
        assert_eq!(when("1970-01-01T00:01", 0), Ok(60_000));
        assert_eq!(when("1970-01-02", 0), Ok(86_400_000));
        assert_eq!(when("1970-01-01T00:00:02Z", 0), Ok(2_000));
        assert!(when("yesterday", 0).unwrap_err().contains("expected a duration back"));
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        assert!(use_colour(true, None) && use_colour(true, Some(OsStr::new(""))));
        assert!(!use_colour(true, Some(OsStr::new("1"))) && !use_colour(false, None));
        let line = LineJson {
            service: "web".into(),
            replica: 2,
            run: 1,
            ts: "2026-12-01T10:00:00.000Z".into(),
            ts_ms: 0,
            line: "hi".into(),
        };
        let render = |colour, stream| {
            let mut out = Vec::new();
            Look { colour, stream }.render(&line, &mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(render(false, StreamArgs::default()), "web/2 | hi\n");
        let c = colour_of("web");
        assert_eq!(render(true, StreamArgs::default()), format!("\x1b[{c}mweb/2 | \x1b[0mhi\n"));
        let t = StreamArgs { timestamps: true, no_prefix: true, ..StreamArgs::default() };
        assert_eq!(render(true, t), "2026-12-01T10:00:00.000Z hi\n");
    }

    #[test]
    fn colours_are_stable_per_service() {
        assert_eq!(colour_of("web"), colour_of("web"));
        let all: std::collections::HashSet<u8> =
            ["web", "db", "api", "worker", "cache", "queue"].iter().map(|s| colour_of(s)).collect();
        assert!(all.len() > 1);
    }
}
