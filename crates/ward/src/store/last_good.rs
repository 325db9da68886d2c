//! The last good spec: the source of the spec the brain last loaded or
//! reloaded, kept in `meta` so that a brain restarted after a crash can run
//! on it when the file on disk has since been broken.

use super::{Store, StoreError};

/// The meta key of the spec file the kept source was read from.
const FILE: &str = "spec_file";
/// The meta key of the kept source.
const SOURCE: &str = "spec_source";

/// A spec source ward once ran on, and the file it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct LastGoodSpec {
    /// The spec file, as ward names it in messages (absolute).
    pub file: String,
    /// Its text as it was when it parsed.
    pub source: String,
}

impl Store {
    /// Keeps `source`, just read from `file` and valid, as the last good spec (in
    /// the open transaction).
    pub fn set_last_good_spec(&mut self, file: &str, source: &str) -> Result<(), StoreError> {
        self.set_meta(FILE, file)?;
        self.set_meta(SOURCE, source)
    }

    /// The last good spec, if one was kept.
    pub fn last_good_spec(&self) -> Result<Option<LastGoodSpec>, StoreError> {
        let (Some(file), Some(source)) = (self.meta(FILE)?, self.meta(SOURCE)?) else { return Ok(None) };
        Ok(Some(LastGoodSpec { file, source }))
    }

    /// True when the last run did not end cleanly: a brain (or all of ward)
    /// crashed, so a new brain resumes rather than starts afresh.
    pub fn ended_uncleanly(&self) -> Result<bool, StoreError> {
        Ok(self.meta("clean")?.is_some_and(|v| v == "no"))
    }
}
