//! The command line, as DESIGN.md's CLI contract gives it.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// ward: run the services of a YAML spec, restart them when they fail, and
/// let operators watch and steer them.
#[derive(Debug, Parser)]
#[command(name = "ward", version, about, long_about = None)]
pub struct Cli {
    /// Where to find the deployment.
    #[command(flatten)]
    pub place: Place,
    /// What to do.
    #[command(subcommand)]
    pub command: Verb,
}

/// Where the spec, the state folder and the control socket are.
#[derive(Debug, Args)]
pub struct Place {
    /// The spec file [default: ward.yaml]; `-f FILE` after most verbs too.
    #[arg(long = "file", global = true, env = "WARD_FILE")]
    pub file: Option<PathBuf>,
    /// The state folder [default: .ward beside the spec file].
    #[arg(long, global = true, env = "WARD_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// The control socket [default: ward.sock in the state folder].
    #[arg(long, global = true, env = "WARD_SOCKET")]
    pub socket: Option<PathBuf>,
}

/// `-f FILE`: the spec file, after the verbs where `-f` does not mean follow.
#[derive(Debug, Args)]
pub struct SpecFlag {
    /// The spec file (as --file).
    #[arg(short = 'f', value_name = "FILE")]
    pub file: Option<PathBuf>,
}

/// The verbs.
#[derive(Debug, Subcommand)]
pub enum Verb {
    /// Validate the spec: every error with file:line:col; exit 2 on error.
    Check {
        #[command(flatten)]
        spec: SpecFlag,
    },
    /// Run the supervisor (foreground, or detached with -d).
    Up {
        /// The spec file.
        #[command(flatten)]
        spec: SpecFlag,
        /// Detach: run in the background, logging to ward.log in the state folder.
        #[arg(short = 'd', long)]
        detach: bool,
    },
    /// One row per instance.
    Status {
        /// The spec file.
        #[command(flatten)]
        spec: SpecFlag,
        /// Only this service.
        service: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The instances of a service in rotation, and their addresses.
    Endpoints {
        /// The spec file.
        #[command(flatten)]
        spec: SpecFlag,
        /// The service.
        service: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Start a service or one instance (SERVICE or SERVICE/N).
    Start {
        /// The spec file.
        #[command(flatten)]
        spec: SpecFlag,
        /// SERVICE or SERVICE/N.
        target: String,
    },
    /// Stop a service or one instance and keep it down.
    Stop {
        /// The spec file.
        #[command(flatten)]
        spec: SpecFlag,
        /// SERVICE or SERVICE/N.
        target: String,
    },
    /// Stop, then start again.
    Restart {
        /// The spec file.
        #[command(flatten)]
        spec: SpecFlag,
        /// SERVICE or SERVICE/N.
        target: String,
    },
    /// Release a backoff or crash-loop gate now and reset its history.
    Unblock {
        /// The spec file.
        #[command(flatten)]
        spec: SpecFlag,
        /// SERVICE or SERVICE/N.
        target: String,
    },
    /// Print service output.
    Logs {
        /// SERVICE or SERVICE/N.
        target: String,
        /// Keep printing new output.
        #[arg(short = 'f', long)]
        follow: bool,
        /// How many lines of the past to print first.
        #[arg(short = 'n', long = "lines", default_value_t = 100)]
        lines: usize,
        /// The output of the previous run (kept after a restart).
        #[arg(long, conflicts_with = "follow")]
        previous: bool,
    },
    /// Explain why an instance is in its state, and what you can do.
    Why {
        /// The spec file.
        #[command(flatten)]
        spec: SpecFlag,
        /// SERVICE or SERVICE/N.
        target: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Lifecycle events, oldest first (then live, with -f).
    Events {
        /// Keep printing new events.
        #[arg(short = 'f', long)]
        follow: bool,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Apply the changed spec; an invalid spec changes nothing.
    Reload {
        #[command(flatten)]
        spec: SpecFlag,
    },
    /// The supervisor process that `ward up` starts (not for people).
    #[command(name = "__brain", hide = true)]
    Brain,
    /// Stop everything in dependency order, then exit.
    Down {
        #[command(flatten)]
        spec: SpecFlag,
    },
}
