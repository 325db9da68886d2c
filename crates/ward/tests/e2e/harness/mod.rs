//! A real `ward up` on a spec in its own temp folder, driven through the real
//! CLI, synchronised on its event stream with deadlines.
//!
//! Everything a test starts is killed by pid when the `Ward` drops: ward
//! itself, and every service process group it reported.
//!
//! - `ward`: the `Ward` driver: start, rerun, CLI, status, events, stderr, cleanup.
//! - `launch`: the binary under test; `ward up` and its event reader started.
//! - `temp_dir`: a temp folder per test, removed on drop.
//! - `process`: processes through /proc: children, alive, exists, start time; kill(2).
//! - `wait`: a short polling step, and `eventually` with a deadline.
//! - `container`: the busybox rootfs of container tests, and a binary's libraries.

mod container;
mod launch;
mod process;
mod temp_dir;
mod wait;
mod ward;

pub use container::{container_rootfs, with_libraries};
pub use launch::ward_bin;
pub use process::{alive, children, exists, kill};
pub use temp_dir::TempDir;
pub use wait::{eventually, wait_a_little};
pub use ward::Ward;
