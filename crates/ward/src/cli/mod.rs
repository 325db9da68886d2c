//! The `ward` command: parse the command line, run the verb, map the outcome
//! to an exit code.
//!
//! Exit codes: 0 success; 1 failure (ward not running, a refused command, an
//! OS error); 2 invalid spec or usage; `ward up` ends with the failed
//! instance's code after a `shutdown` panic with `scope: all`.
//!
//! - `args`: the clap definitions.
//! - `up`: `check` and `up` (foreground and detached).
//! - `control`: the verbs that talk to a running ward.
//! - `logs`: `ward logs`, one instance or several merged.
//! - `render`: tables and human text.
//! - `completions`: shell completions and man pages from the clap definition.
//! - `init`: a starter `ward.yaml`, from a Procfile when there is one.
//! - `signal`: `ward signal SERVICE[/N] SIGNAL`.
//! - `wait`: `ward wait` and `ward up -d --wait`, on the event stream.
//! - `token`: `ward token new`.
//! - `export`: `ward export systemd`, a unit that runs `ward up`.
//! - `ready`: `ward ready`, the readiness probe for orchestrators.
//! - `import`: `ward import`, other tools' files as a spec.

pub mod args;
pub mod completions;
pub mod control;
pub mod export;
pub mod import;
pub mod init;
pub mod logs;
pub mod ready;
pub mod render;
pub mod signal;
pub mod token;
pub mod up;
pub mod wait;

use crate::paths::Paths;
use args::{Cli, Verb};
use std::path::PathBuf;

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = <Cli as clap::Parser>::parse();
    let spec_flag = match &cli.command {
        Verb::Check { spec }
        | Verb::Up { spec, .. }
        | Verb::Status { spec, .. }
        | Verb::Endpoints { spec, .. }
        | Verb::Start { spec, .. }
        | Verb::Stop { spec, .. }
        | Verb::Restart { spec, .. }
        | Verb::Unblock { spec, .. }
        | Verb::Isolate { spec, .. }
        | Verb::Why { spec, .. }
        | Verb::Wait { spec, .. }
        | Verb::Reload { spec }
        | Verb::Down { spec }
        | Verb::Export { spec, .. }
        | Verb::Ready { spec }
        | Verb::Top { spec }
        | Verb::Signal { spec, .. }
        | Verb::Init { spec } => spec.file.clone(),
        Verb::Logs { .. }
        | Verb::Events { .. }
        | Verb::Brain
        | Verb::Import { .. }
        | Verb::Completions { .. }
        | Verb::Man { .. }
        | Verb::Token { .. } => None,
    };
    let file = spec_flag.or(cli.place.file.clone()).unwrap_or_else(|| PathBuf::from("ward.yaml"));
    let paths = Paths::resolve(&file, cli.place.state_dir.as_deref(), cli.place.socket.as_deref());
    match cli.command {
        Verb::Check { .. } => up::check(&paths),
        Verb::Up { detach, wait: true, wait_timeout, listen, .. } => {
            match up::up(&paths, detach, listen.as_deref()) {
                0 => {
                    let local = crate::api::client::Client::new(&paths.socket);
                    wait::run(&local, None, ward_core::deployment::WaitFor::Settled, Some(wait_timeout))
                }
                code => code,
            }
        }
        Verb::Up { detach, listen, .. } => up::up(&paths, detach, listen.as_deref()),
        Verb::Wait { target, what, timeout, .. } => match control::client(&paths, &cli.place) {
            Ok(client) => wait::run(&client, Some(&target), what, timeout),
            Err(code) => code,
        },
        Verb::Brain => crate::brain::run(&paths),
        Verb::Top { .. } => match control::client(&paths, &cli.place) {
            Ok(client) => crate::top::run(&paths, client),
            Err(code) => code,
        },
        Verb::Signal { target, signal, .. } => match control::client(&paths, &cli.place) {
            Ok(client) => signal::run(&client, &target, &signal),
            Err(code) => code,
        },
        Verb::Init { .. } => init::run(&paths),
        Verb::Completions { shell } => completions::completions(shell),
        Verb::Man { out } => completions::man(out.as_deref()),
        Verb::Token { action: args::TokenAction::New { output, read_only, force } } => {
            token::new(&output, read_only, force)
        }
        Verb::Ready { .. } => ready::run(&paths),
        Verb::Export { output, name, .. } => export::run(&paths, output.as_deref(), name.as_deref()),
        Verb::Import { files, output, format, force } => import::run(&import::ImportArgs {
            files: &files,
            output: output.as_deref(),
            format: format.as_deref(),
            force,
        }),
        verb => control::run(&paths, &cli.place, verb),
    }
}
