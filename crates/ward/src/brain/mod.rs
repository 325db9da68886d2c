//! The brain: the supervising actor (crate `ward-supervisor`) with ward's
//! ports, and the API, in a process the keeper starts and restarts
//! (`ward __brain`). It attaches to the keeper, reads the spec (or, after a
//! crash, the last good one the store kept), resumes from the store, and
//! serves until everything is down.
//!
//! - `wiring`: the ports (keeper runtime, SQLite store, health watchers,
//!   logs, adopter, metrics), the API, systemd's notify, signals.

mod wiring;

use crate::paths::Paths;
use crate::store::Store;
use anyhow::Result;
use ward_core::spec::Spec;

/// `ward __brain`: the supervisor, started (and restarted) by the keeper.
pub fn run(paths: &Paths) -> i32 {
    let systemd = crate::sdnotify::brain_settings();
    crate::init_tracing();
    let mut store = match Store::open(&paths.store()) {
        Ok(store) => store,
        Err(e) => {
            eprintln!("ward: {e}");
            return 1;
        }
    };
    let spec = match brain_spec(paths, &mut store) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let run = || -> Result<i32> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        rt.block_on(wiring::serve(paths, spec, store, systemd))
    };
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ward: {e:#}");
            1
        }
    }
}

/// The spec a brain runs on: the file's, kept in the store as the last good
/// one; or, when the file cannot be used and this brain resumes after a crash
/// (the store is not clean), the last good spec the store kept. A brain that
/// starts afresh on a broken file fails as `ward up` does, with exit code 2.
fn brain_spec(paths: &Paths, store: &mut Store) -> Result<Spec, i32> {
    let file = paths.spec.display().to_string();
    match crate::specfile::read_for_people(&paths.spec) {
        Ok((text, spec)) => {
            if let Err(e) = store.set_last_good_spec(&file, &text).and_then(|()| store.commit()) {
                tracing::warn!("store: cannot keep the spec as the last good one: {e}");
            }
            Ok(spec)
        }
        Err(message) => {
            eprintln!("{message}");
            if store.ended_uncleanly().unwrap_or(false) { last_good(store, &file) } else { Err(2) }
        }
    }
}

/// The last good spec of `file` that the store kept, parsed under the file's
/// name (so that paths relative to it, and messages, are the same).
fn last_good(store: &Store, file: &str) -> Result<Spec, i32> {
    let kept = match store.last_good_spec() {
        Ok(Some(kept)) if kept.file == file => kept,
        Ok(_) => {
            tracing::error!("the store keeps no last good spec of {file} to fall back on");
            return Err(2);
        }
        Err(e) => {
            tracing::error!("cannot read the last good spec from the store: {e}");
            return Err(2);
        }
    };
    match crate::specfile::parse(&kept.source, std::path::Path::new(file)) {
        Ok(spec) => {
            tracing::error!(
                "{file} is invalid (see above): ward runs on the last good spec kept in the store; \
                 fix the file and `ward reload` will pick it up"
            );
            Ok(spec)
        }
        Err(errors) => {
            eprintln!("{errors}");
            tracing::error!("the last good spec of {file} kept in the store does not parse either");
            Err(2)
        }
    }
}
