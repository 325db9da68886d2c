//! Tests of the spec parser: a full spec, defaults, and one test per mistake
//! pinning the exact rendered error (file:line:col, key path, message, help).
//!
//! - `valid`: a full spec with every key, the defaults, a spec built in code.
//! - `mistakes`: one test per mistake, with the exact text it renders to.
//! - `reports`: several errors in file order, a cycle once, positions, the display.
//! - `units`: durations and sizes.
//! - `exit_codes`: exit code classes, the backoff after a success, the restart budget.

mod exit_codes;
mod mistakes;
mod reports;
mod units;
mod valid;

use super::*;
use std::time::Duration;

fn ok(source: &str) -> Spec {
    match parse(source, "ward.yaml") {
        Ok(spec) => spec,
        Err(errors) => panic!("unexpected errors:\n{errors}"),
    }
}

fn err(source: &str) -> String {
    match parse(source, "ward.yaml") {
        Ok(spec) => panic!("expected an error, got {spec:?}"),
        Err(errors) => errors.to_string(),
    }
}

/// A spec with a single service `api` whose body is `body` (indented 4).
fn api(body: &str) -> String {
    format!("version: 1\nservices:\n  api:\n    command: [\"./api\"]\n{body}")
}

fn name(s: &str) -> ServiceName {
    ServiceName::new(s).unwrap()
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// One test per mistake: the source and the exact text it renders to.
macro_rules! rejects {
    ($($name:ident: $source:expr => $expected:expr;)*) => {
        $(
            #[test]
            fn $name() {
                assert_eq!(err(&String::from($source)), $expected);
            }
        )*
    };
}
// The test modules name it through `use super::*`.
use rejects;
