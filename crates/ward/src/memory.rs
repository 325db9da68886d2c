//! Giving memory back after a burst.
//!
//! A burst (10,000 starts, a storm of exits) allocates and frees a lot on
//! several threads; glibc keeps the freed pages in its arenas, so the
//! resident size stays at the burst's peak for good. After a burst, once
//! there is nothing left to do, [`Trimmer::settled`] returns those pages to
//! the kernel with `malloc_trim(0)`. It runs at most once per
//! [`Trimmer::BURST`] units of work, never on an idle wake-up (there are none).

/// Counts work since the last trim.
#[derive(Debug, Default)]
pub struct Trimmer {
    work: usize,
}

impl Trimmer {
    /// How much work makes a burst worth a trim.
    pub const BURST: usize = 1000;

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
