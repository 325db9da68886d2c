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
    /// Talk to a remote ward's TCP API instead: http://HOST:PORT or https://HOST:PORT.
    #[arg(long, global = true, env = "WARD_HOST", value_name = "URL")]
    pub host: Option<String>,
    /// The file holding the token for --host.
    #[arg(long, global = true, env = "WARD_TOKEN_FILE", value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Certificate authorities (PEM) to trust for an https --host [default: the system's].
    #[arg(long, global = true, env = "WARD_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
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
    #[command(
        after_help = "Examples:\n  ward check -f ward.yaml\n  ward check            # ./ward.yaml, or $WARD_FILE"
    )]
    Check {
        #[command(flatten)]
        spec: SpecFlag,
    },
    /// Run the supervisor (foreground, or detached with -d).
    #[command(
        after_help = "Examples:\n  ward up -f ward.yaml  # foreground; Ctrl-C stops everything\n  ward up -d            # in the background; its log is .ward/ward.log\n  ward up -d --wait     # and return once everything is ready, running or completed\n  ward up --listen 127.0.0.1:7070   # also serve the API and dashboard on TCP"
    )]
    Up {
        /// The spec file.
        #[command(flatten)]
        spec: SpecFlag,
        /// Detach: run in the background, logging to ward.log in the state folder.
        #[arg(short = 'd', long)]
        detach: bool,
        /// With -d: return once every instance is ready, running or completed
        /// (exit 0), or something failed or timed out (exit 1, with its `why`).
        #[arg(long, requires = "detach")]
        wait: bool,
        /// How long `--wait` waits.
        #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = super::wait::duration)]
        wait_timeout: std::time::Duration,
        /// Also serve the API on this TCP address (over the spec's `api.listen`).
        #[arg(long, value_name = "ADDR", env = "WARD_LISTEN")]
        listen: Option<String>,
    },
    /// Block until SERVICE[/N] is ready, running, completed or stopped.
    #[command(
        after_help = "Examples:\n  ward wait db          # until db is ready (or runs, without `ready:`)\n  ward wait migrate --for completed --timeout 2m"
    )]
    Wait {
        /// The spec file.
        #[command(flatten)]
        spec: SpecFlag,
        /// SERVICE or SERVICE/N.
        target: String,
        /// What to wait for: ready, running, completed or stopped.
        #[arg(long = "for", value_name = "CONDITION", default_value = "ready", value_parser = super::wait::condition)]
        what: ward_core::deployment::WaitFor,
        /// Give up after this long (exit 1); default: wait as long as it takes.
        #[arg(long, value_name = "DURATION", value_parser = super::wait::duration)]
        timeout: Option<std::time::Duration>,
    },
    /// One row per instance.
    #[command(after_help = "Examples:\n  ward status\n  ward status api --json\n  ward status --usage")]
    Status {
        /// The spec file.
        #[command(flatten)]
        spec: SpecFlag,
        /// Only this service.
        service: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Also what each instance's cgroup counts: CPU time, memory, OOM kills.
        #[arg(long)]
        usage: bool,
    },
    /// The instances of a service in rotation, and their addresses.
    #[command(after_help = "Example:\n  ward endpoints api --json")]
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
    #[command(
        after_help = "Examples:\n  ward start api        # every replica\n  ward start api/1      # one instance"
    )]
    Start {
        /// The spec file.
        #[command(flatten)]
        spec: SpecFlag,
        /// SERVICE or SERVICE/N.
        target: String,
    },
    /// Stop a service or one instance and keep it down.
    #[command(
        after_help = "Examples:\n  ward stop api/0\n  ward stop worker      # every replica, kept down until `ward start`"
    )]
    Stop {
        /// The spec file.
        #[command(flatten)]
        spec: SpecFlag,
        /// SERVICE or SERVICE/N.
        target: String,
    },
    /// Stop, then start again.
    #[command(after_help = "Example:\n  ward restart api/0")]
    Restart {
        /// The spec file.
        #[command(flatten)]
        spec: SpecFlag,
        /// SERVICE or SERVICE/N.
        target: String,
    },
    /// Release a backoff or crash-loop gate now and reset its history.
    #[command(after_help = "Example:\n  ward unblock flaky    # release its backoff or crash-loop gate now")]
    Unblock {
        /// The spec file.
        #[command(flatten)]
        spec: SpecFlag,
        /// SERVICE or SERVICE/N.
        target: String,
    },
    /// Take an instance out of rotation and keep it as it is, for debugging.
    #[command(
        after_help = "Example:\n  ward isolate api/1    # its process is kept; `ward stop api/1` or `restart` when done"
    )]
    Isolate {
        /// The spec file.
        #[command(flatten)]
        spec: SpecFlag,
        /// SERVICE or SERVICE/N.
        target: String,
    },
    /// Print service output: one instance's, or several merged in time order.
    #[command(
        after_help = "Examples:\n  ward logs -f api/0\n  ward logs -n 20 api   # every replica, lines prefixed `api/N | `\n  ward logs --previous api/0\n  ward logs 'web*' db -f --since 10m   # merged in time order\n  ward logs --grep error --json"
    )]
    Logs {
        /// SERVICE, SERVICE/N or a glob (`web*`); several, or none for every instance.
        targets: Vec<String>,
        /// Keep printing new output (and that of instances that start).
        #[arg(short = 'f', long)]
        follow: bool,
        /// How many lines of the past to print first [default: 100; all with --since/--until].
        #[arg(short = 'n', long = "lines")]
        lines: Option<usize>,
        /// The output of the previous run (kept after a restart).
        #[arg(long, conflicts_with = "follow")]
        previous: bool,
        #[command(flatten)]
        stream: super::logs::StreamArgs,
    },
    /// Explain why an instance is in its state, and what you can do.
    #[command(after_help = "Example:\n  ward why flaky/0")]
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
    #[command(after_help = "Examples:\n  ward events -f\n  ward events --json | tail -n 5")]
    Events {
        /// Keep printing new events.
        #[arg(short = 'f', long)]
        follow: bool,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Apply the changed spec; an invalid spec changes nothing.
    #[command(after_help = "Example:\n  ward reload           # after editing ward.yaml")]
    Reload {
        #[command(flatten)]
        spec: SpecFlag,
    },
    /// Tokens of the TCP API.
    #[command(
        after_help = "Examples:\n  ward token new -o ops.token              # for api.token_file\n  ward token new -o viewer.token --read-only   # for api.read_token_file"
    )]
    Token {
        /// What to do.
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Convert a Procfile, supervisord.conf, systemd units, process-compose,
    /// pm2 or compose file into a ward spec.
    #[command(
        after_help = "Examples:\n  ward import Procfile -o ward.yaml\n  ward import api.service db.service -o ward.yaml   # several units, one spec\n  ward import procs.conf --format supervisord       # the spec goes to stdout"
    )]
    Import {
        /// The file(s) to convert (several systemd units make one spec).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Write the spec here (default: stdout).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// The input format, instead of guessing it from the name and content:
        /// procfile, supervisord, systemd, process-compose, pm2, compose.
        #[arg(long)]
        format: Option<String>,
        /// Overwrite the output file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Exit 0 when no instance is still on its way up (a probe for orchestrators).
    #[command(
        after_help = "Example:\n  ward ready -f /app/ward.yaml   # a Kubernetes readinessProbe, a Nomad check, a HEALTHCHECK"
    )]
    Ready {
        /// The spec file.
        #[command(flatten)]
        spec: SpecFlag,
    },
    /// Write a service manager's unit that runs `ward up` for this spec.
    #[command(
        after_help = "Examples:\n  ward export systemd -f ward.yaml               # print the unit\n  ward export systemd -o /etc/systemd/system --name shop"
    )]
    Export {
        /// The spec file.
        #[command(flatten)]
        spec: SpecFlag,
        /// The service manager: `systemd` (a Type=notify unit).
        #[arg(value_parser = ["systemd"])]
        kind: String,
        /// Write NAME.service into this folder (default: print the unit).
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        output: Option<PathBuf>,
        /// The unit's name [default: ward-FOLDER, from the spec file's folder].
        #[arg(long)]
        name: Option<String>,
    },
    /// The supervisor process that `ward up` starts (not for people).
    #[command(name = "__brain", hide = true)]
    Brain,
    /// A live full-screen view of every instance, with keys to steer them.
    #[command(
        after_help = "Example:\n  ward top -f ward.yaml # keys: r restart, x stop, s start, u unblock, ? help, q quit"
    )]
    Top {
        #[command(flatten)]
        spec: SpecFlag,
    },
    /// Send a signal to a service's instances or one instance.
    #[command(
        after_help = "Examples:\n  ward signal api HUP   # every replica of api\n  ward signal api/0 SIGUSR1\n  ward signal api/1 10"
    )]
    Signal {
        #[command(flatten)]
        spec: SpecFlag,
        /// SERVICE or SERVICE/N.
        target: String,
        /// A signal name (HUP, SIGHUP) or number (1).
        signal: String,
    },
    /// Write a commented starter ward.yaml (from a Procfile in the folder, if any).
    #[command(
        after_help = "Examples:\n  ward init             # writes ./ward.yaml; refuses to overwrite\n  ward init -f srv/ward.yaml"
    )]
    Init {
        #[command(flatten)]
        spec: SpecFlag,
    },
    /// Print a shell completion script (bash, zsh, fish, …).
    #[command(
        after_help = "Examples:\n  ward completions bash > ~/.local/share/bash-completion/completions/ward\n  ward completions zsh > ~/.zfunc/_ward\n  ward completions fish > ~/.config/fish/completions/ward.fish"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per verb with -o.
    #[command(after_help = "Examples:\n  ward man | man -l -\n  ward man -o /usr/local/share/man/man1")]
    Man {
        /// Write ward.1 and ward-VERB.1 for every verb into this folder.
        #[arg(short = 'o', long = "out", value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Stop everything in dependency order, then exit.
    #[command(after_help = "Example:\n  ward down")]
    Down {
        #[command(flatten)]
        spec: SpecFlag,
    },
}

/// `ward token …`.
#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Write a new random token to a new file (mode 0600).
    #[command(after_help = "Example:\n  ward token new -o ops.token")]
    New {
        /// The file to write.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: PathBuf,
        /// Label it read-only (name the file as `api.read_token_file`).
        #[arg(long)]
        read_only: bool,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
    },
}
