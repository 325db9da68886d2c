//! Giving memory back after a burst.
//!
//! A burst (10,000 starts, a storm of exits) allocates and frees a lot on
//! several threads; glibc keeps the freed pages in its arenas, so the
//! resident size stays at the burst's peak for good. After a burst, once
//! there is nothing left to do, [`Trimmer::settled`] returns those pages to
//! the kernel with `malloc_trim(0)`. It runs at most once per
//! [`Trimmer::BURST`] units of work, never on an idle wake-up (there are none).
//!
//! A burst's tail (the last few hundred of 10,000 starts) is under
//! `BURST`, so a loop with a clock (the keeper's) also trims once it has
//! been [`Trimmer::QUIET`] for that long after at least [`Trimmer::TAIL`]
//! units of work: one wake-up at the end of a burst, none while idle.

use std::time::Duration;

/// Counts work since the last trim.
#[derive(Debug, Default)]
pub struct Trimmer {
    work: usize,
}

impl Trimmer {
    /// How much work makes a burst worth a trim.
    pub const BURST: usize = 1000;

    /// How much untrimmed work is worth a trim once the loop is quiet.
    pub const TAIL: usize = 64;

    /// How long a loop waits, quiet, before it trims a burst's tail.
    pub const QUIET: Duration = Duration::from_millis(300);

    /// Notes `n` units of work (inputs handled, actions run).
    pub fn note(&mut self, n: usize) {
        self.work = self.work.saturating_add(n);
    }

    /// Nothing is left to do for now: trims if a burst happened since the last trim.
    pub fn settled(&mut self) {
        if self.work >= Self::BURST {
            self.work = 0;
            trim();
        }
    }

    /// True when enough work waits to be trimmed that the loop should wake
    /// up after [`Trimmer::QUIET`] to do it.
    pub fn tail(&self) -> bool {
        self.work >= Self::TAIL
    }

    /// The loop was quiet for [`Trimmer::QUIET`]: trims the tail, if any.
    pub fn quiet(&mut self) {
        if self.tail() {
            self.work = 0;
            trim();
        }
    }
}

#[cfg(target_env = "gnu")]
fn trim() {
    // SAFETY: malloc_trim only walks and releases the allocator's own free memory.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(target_env = "gnu"))]
fn trim() {}

/// Makes every thread allocate from one arena of the allocator's. glibc
/// gives threads arenas of their own (up to 8 per CPU), each with its own
/// free pages; the keeper's threads take turns and allocate little at once,
/// so one arena keeps its memory together. Call it before threads start.
pub fn one_arena() {
    // SAFETY: mallopt only sets a tuning parameter of the allocator.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

#[cfg(test)]
mod tests {
    use super::Trimmer;

    #[test]
    fn a_burst_is_trimmed_when_settled_and_its_tail_once_quiet() {
        let mut t = Trimmer::default();
        t.note(Trimmer::TAIL - 1);
        assert!(!t.tail(), "too little to wake up for");
        t.note(Trimmer::BURST);
        t.settled();
        assert!(!t.tail(), "settled after a burst: trimmed");
        t.note(Trimmer::TAIL);
        t.settled();
        assert!(t.tail(), "a tail under a burst waits for quiet");
        t.quiet();
        assert!(!t.tail(), "trimmed once quiet; no further wake-up");
    }
}
