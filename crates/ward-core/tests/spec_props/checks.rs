//! Running and judging a parse: on a main thread's stack, with the seed and
//! case count of the searches, and the checks every refusal must pass.

use crate::texts::FILE;
use proptest::prelude::*;
use ward_core::spec::{SpecErrors, parse};

/// Runs `f` on a thread with the 8 MiB stack of a main thread, where ward
/// parses specs: the YAML reader recurses up to its depth limit (64 levels),
/// which in a debug build needs more than a test thread's 2 MiB.
pub fn on_main_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new().stack_size(8 << 20).spawn_scoped(scope, f);
        thread.expect("a thread").join().expect("no panic")
    })
}

/// [`parse`] of `text` as [`FILE`], on a main thread's stack.
pub fn parse_text(text: &str) -> Result<ward_core::spec::Spec, SpecErrors> {
    on_main_stack(|| parse(text, FILE))
}

/// The seed of the searches: `WARD_PROPTEST_SEED`, or a fixed one.
pub fn seed() -> u64 {
    std::env::var("WARD_PROPTEST_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5EED_CAFE)
}

/// Checks a result of parsing `text`: a refusal is a non-empty, sorted list
/// of errors, each with the file name, a position inside the text, and a
/// message; rendering it never panics.
pub fn check(text: &str, result: Result<ward_core::spec::Spec, SpecErrors>) -> Result<(), TestCaseError> {
    let Err(errors) = result else { return Ok(()) };
    prop_assert!(!errors.is_empty(), "an empty list of errors for {text:?}");
    // YAML breaks lines at \n, \r\n and a bare \r.
    let lines = text.replace("\r\n", "\n").split(['\n', '\r']).count() as u32;
    for e in &errors {
        prop_assert_eq!(&e.file, FILE);
        prop_assert!(e.line >= 1 && e.column >= 1, "no position: {e:?} for {text:?}");
        prop_assert!(e.line <= lines + 1, "line {} beyond the {lines} lines of {text:?}: {e:?}", e.line);
        prop_assert!(!e.message.trim().is_empty(), "no message: {e:?}");
        let shown = e.to_string();
        let expected = format!("{FILE}:{}:{}: ", e.line, e.column);
        prop_assert!(shown.starts_with(&expected), "{shown:?}");
    }
    let positions: Vec<(u32, u32)> = errors.iter().map(|e| (e.line, e.column)).collect();
    prop_assert!(positions.windows(2).all(|p| p[0] <= p[1]), "not in file order: {positions:?}");
    let _ = errors.to_string();
    Ok(())
}

/// 256 cases each, or `PROPTEST_CASES` for a longer search.
pub fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256)
}
