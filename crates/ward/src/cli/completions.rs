//! Shell completions and man pages, generated from the clap definition so
//! that they never drift from the command line.

use super::args::Cli;
use clap::CommandFactory;
use std::io::Write;
use std::path::Path;

/// The command line without its hidden verbs (bash's generator would offer them).
fn offered() -> clap::Command {
    let full = Cli::command();
    let visible = full.get_subcommands().filter(|s| !s.is_hide_set()).cloned().collect::<Vec<_>>();
    let mut cmd = clap::Command::new("ward")
        .version(env!("CARGO_PKG_VERSION"))
        .args(full.get_arguments().cloned())
        .subcommands(visible);
    if let Some(about) = full.get_about() {
        cmd = cmd.about(about.clone());
    }
    cmd
}

/// `ward completions SHELL`: prints the completion script.
pub fn completions(shell: clap_complete::Shell) -> i32 {
    let mut cmd = offered();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut cmd, "ward", &mut out);
    i32::from(out.flush().is_err())
}

/// `ward man [-o DIR]`: prints ward(1) as roff, or writes `ward.1` and one
/// `ward-VERB.1` per verb into DIR.
pub fn man(out: Option<&Path>) -> i32 {
    let cmd = Cli::command();
    let written = match out {
        None => {
            let mut stdout = std::io::stdout().lock();
            clap_mangen::Man::new(cmd).render(&mut stdout).and_then(|()| stdout.flush())
        }
        Some(dir) => std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(cmd, dir)),
    };
    match written {
        Ok(()) => {
            if let Some(dir) = out {
                println!("wrote the man pages into {}", dir.display());
            }
            0
        }
        Err(e) => {
            eprintln!("ward: cannot write the man pages: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_visible_verb_has_an_example() {
        let cmd = Cli::command();
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let after = sub.get_after_help().map(|h| h.to_string()).unwrap_or_default();
            assert!(after.contains("ward "), "`ward {} --help` has no example", sub.get_name());
        }
    }

    #[test]
    fn the_clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
