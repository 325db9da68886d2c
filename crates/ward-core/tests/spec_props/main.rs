//! Bad input for the spec parser, as property tests: arbitrary text, YAML
//! token soup, mutations of valid specs, and well-formed specs whose values
//! are random must never panic, and every refusal must be a non-empty
//! `SpecErrors` whose errors each name the file, a position inside the text,
//! and what is wrong.
//!
//! The case counts are modest so that the whole file runs in a few seconds;
//! `PROPTEST_CASES=100000 cargo test -p ward-core --test spec_props` runs a
//! longer search (the `fuzz/` folder holds coverage-guided targets too).
//!
//! - `texts`: valid specs to mutate, and tokens of YAML and of ward's syntax glued into soup.
//! - `checks`: a parse on a main thread's stack, the seed and case count, what a refusal holds.
//! - `mutations`: changes to a valid spec: deletions, insertions, lines repeated or moved.
//! - `shaped`: specs of the right shape with random keys and values; random variables.

mod checks;
mod mutations;
mod shaped;
mod texts;

use checks::{cases, check, on_main_stack, parse_text, seed};
use mutations::{apply, mutation};
use proptest::prelude::*;
use shaped::{shaped_spec, small_map};
use std::collections::BTreeMap;
use texts::{FILE, VALID, soup};
use ward_core::spec::{EnvFileText, SpecInputs, parse_env_file, parse_with};

proptest! {
    // A fixed seed: the same cases on every run of the test command (a
    // longer, random search: PROPTEST_CASES=100000 with another seed below).
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(seed()),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        check(&text, parse_text(&text))?;
    }

    #[test]
    fn yaml_token_soup_never_panics(text in soup()) {
        check(&text, parse_text(&text))?;
    }

    #[test]
    fn mutated_valid_specs_never_panic(
        which in 0..VALID.len(),
        mutations in proptest::collection::vec(mutation(), 1..5),
    ) {
        let text = mutations.iter().fold(VALID[which].to_string(), |t, m| apply(&t, m));
        check(&text, parse_text(&text))?;
    }

    #[test]
    fn shaped_specs_with_random_values_never_panic(text in shaped_spec()) {
        check(&text, parse_text(&text))?;
    }

    /// Variables, `.env` and env files, all random, through `${VAR}` and `env_file`.
    #[test]
    fn random_variables_and_env_files_never_panic(
        text in shaped_spec(),
        environment in small_map(),
        dotenv in proptest::option::of("[ -~\n]{0,80}"),
        env_file in proptest::result::maybe_ok("[ -~\n\"'#=$]{0,80}", "[a-z ]{0,20}"),
    ) {
        let text = format!("{text}    env_file: [a.env]\n    env: {{ A: \"${{X:-${{PORT}}}}\" }}\n");
        let dotenv = dotenv.map(|t| EnvFileText { name: ".env".into(), text: Ok(t) });
        let env_files = BTreeMap::from([("a.env".to_string(), EnvFileText { name: "a.env".into(), text: env_file })]);
        let inputs = SpecInputs { environment, dotenv, env_files };
        let result = on_main_stack(|| parse_with(&text, FILE, &inputs));
        if let Err(errors) = &result {
            // An env file's errors name that file; the spec's errors name the spec.
            for e in errors {
                prop_assert!(e.line >= 1 && e.column >= 1 && !e.message.is_empty(), "{e:?}");
                prop_assert!([FILE, ".env", "a.env"].contains(&e.file.as_str()), "{e:?}");
            }
        }
    }

    #[test]
    fn env_file_text_never_panics(text in "[ -~\n\t\"'#=$\\\\]{0,120}|\\PC{0,60}") {
        if let Err(e) = parse_env_file(&text) {
            prop_assert!(e.line >= 1 && e.column >= 1 && !e.message.is_empty(), "{e:?}");
            prop_assert!(e.line as usize <= text.split('\n').count() + 1, "{e:?}");
        }
    }
}

/// Aliases that expand exponentially ("a billion laughs") are refused, at
/// the alias, with a message that says why.
#[test]
fn alias_bombs_are_refused() {
    let mut y = String::from(
        "version: 1\nservices:\n  api:\n    command: [\"./api\"]\n    env: { A: &a0 [x, x, x, x, x, x, x, x] }\n",
    );
    for i in 1..6 {
        let p = i - 1;
        y.push_str(&format!("    x{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
    }
    y.push_str("    hooks: { on_shutdown: *a5 }\n");
    let errors = parse_text(&y).expect_err("refused");
    check(&y, Err(errors.clone())).unwrap();
    assert!(errors.to_string().contains("once its aliases (`*name`) are expanded"), "{errors}");
}

/// Nesting deeper than any spec needs is refused with a clear error, and
/// nesting up to the limit is read without overflowing a main thread's stack.
#[test]
fn deep_nesting_is_refused() {
    for depth in [30, 58, 60, 62, 63, 64, 65, 5000] {
        for (open, close) in [("[", "]"), ("{a: ", "}"), ("[{a: ", "}]")] {
            let y = format!(
                "version: 1\nservices:\n  a:\n    command: [\"./a\"]\n    env: {{ X: {}x{} }}\n",
                open.repeat(depth),
                close.repeat(depth)
            );
            let errors = parse_text(&y).expect_err("refused");
            check(&y, Err(errors)).unwrap();
        }
    }
}
