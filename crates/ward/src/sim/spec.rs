//! The spec the simulation runs, in two shapes that reloads switch between,
//! each parsed once.

/// The spec the simulation runs, in two shapes that reloads switch between.
pub(super) fn spec_text(variant: u64) -> String {
    let fast = 1 + variant % 2;
    // The node's restart budget in one shape only: reloads add and remove it
    // while restarts wait in its queue.
    let budget = if variant % 2 == 0 { "restart_budget: { rate: 2/s, burst: 3 }\n" } else { "" };
    // `dep` waits for `slow` to be ready, or (the other shape) to have
    // started, and then goes down and up with it.
    let dep = if variant % 2 == 0 { "[slow]" } else { "{ slow: started }\n    binds_to: true" };
    // Isolated instances replaced, or not; clean exits of `fast` restarted
    // behind a curve of their own, or the crash one.
    let iso = if variant % 2 == 0 { "isolate" } else { "{ action: isolate, replace: true }" };
    let fast_clean = if variant % 2 == 0 { "" } else { "\n    success_backoff: { initial: 100ms, max: 1s }" };
    format!(
        r#"version: 1
{budget}services:
  fast:
    command: ["fast"]
    replicas: {fast}
    restart: always
    backoff: {{ initial: 0s, jitter: 0 }}
    crash_loop: {{ threshold: 1000, window: 1s }}{fast_clean}
  slow:
    command: ["slow"]
    backoff: {{ initial: 1s, max: 8s, jitter: 0.3 }}
    crash_loop: {{ threshold: 3, window: 10s, cooldown: 20s }}
    stable_after: 5s
    stop: {{ timeout: 2s }}
  once:
    command: ["once"]
  iso:
    command: ["iso"]
    on_panic: {iso}
  dep:
    command: ["dep"]
    depends_on: {dep}
    exit_codes: {{ no_restart: [78] }}
  job:
    command: ["job"]
    restart: never
  use:
    command: ["use"]
    depends_on: {{ job: completed }}
"#
    )
}

/// The simulated spec `text`, parsed once per shape (parsing YAML would be
/// most of a seed's time otherwise).
pub(super) fn parsed(text: &str) -> Result<(String, ward_core::spec::Spec), String> {
    thread_local! {
        static SHAPES: std::cell::RefCell<Vec<(String, ward_core::spec::Spec)>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    SHAPES.with(|shapes| {
        let mut shapes = shapes.borrow_mut();
        if let Some((t, spec)) = shapes.iter().find(|(t, _)| t == text) {
            return Ok((t.clone(), spec.clone()));
        }
        let spec = ward_core::spec::parse(text, "ward.yaml").map_err(|e| e.to_string())?;
        shapes.push((text.to_string(), spec.clone()));
        Ok((text.to_string(), spec))
    })
}
