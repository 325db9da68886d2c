//! `ward top`: a live full-screen view of a running ward over its API, with
//! keys to steer it.
//!
//! - `app`: the state and what each message does to it (no I/O, no clock).
//! - `input`: keys, and what each does in each mode.
//! - `view`: the screen's layout; `table`, `events_pane`, `logs_pane`,
//!   `help`: one file per pane.
//! - `format`: short texts for durations, sizes, exits.
//! - `procstat`: CPU and memory of a pid from /proc (the API has none).
//! - `driver`: the loop over the terminal, the event stream and the API.

mod app;
mod driver;
mod events_pane;
mod format;
mod help;
mod input;
mod logs_pane;
mod procstat;
mod table;
#[cfg(test)]
mod tests;
mod view;

use crate::api::client::Client;
use crate::api::types::StatusReply;
use crate::paths::Paths;
use hyper::Method;
use std::io::IsTerminal;

/// Runs `ward top` until `q`; returns the exit code.
pub fn run(paths: &Paths, client: Client) -> i32 {
    if !std::io::stdout().is_terminal() {
        eprintln!("ward: top needs a terminal (for a plain listing: ward status)");
        return 1;
    }
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ward: {e}");
            return 1;
        }
    };
    // Ask once before taking the screen, so that "not running" is a plain message.
    if let Err(e) = rt.block_on(client.json::<StatusReply>(Method::GET, "/v1/status", None)) {
        eprintln!("ward: {e}");
        return 1;
    }
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut app = app::App::new(paths.spec.display().to_string(), color, driver::now_ms());
    // try_init also installs a panic hook that restores the terminal first.
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("ward: cannot set up the terminal: {e}");
            return 1;
        }
    };
    let cgroups = crate::cgroup::Cgroups::find(&paths.state);
    let outcome = rt.block_on(driver::run(client, &mut terminal, &mut app, cgroups));
    let restored = ratatui::try_restore();
    match outcome.and(restored) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("ward: top: {e}");
            1
        }
    }
}
