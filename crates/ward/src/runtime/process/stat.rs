//! A process's start time and whether it still lives, read from
//! `/proc/PID/stat`.

use std::path::Path;

/// The start time of `pid` (clock ticks after boot, field 22 of
/// `/proc/PID/stat`): with the pid, it tells a process from a later one that
/// reused its pid. `None` when the process is gone.
pub fn process_start_time(pid: u32) -> Option<u64> {
    crate::kfile::read(Path::new(&format!("/proc/{pid}/stat")), parse_start_time)
}

/// True while process `pid` exists and is not a zombie (a zombie has ended:
/// only its exit status waits to be collected).
pub fn process_alive(pid: u32) -> bool {
    let live = |stat: &str| stat.rfind(')').map(|i| !stat[i + 1..].trim_start().starts_with(['Z', 'X']));
    crate::kfile::read(Path::new(&format!("/proc/{pid}/stat")), live).unwrap_or(false)
}

/// Field 22 of a `/proc/PID/stat` line. The command name (field 2) may hold
/// spaces and `)`, so fields are counted from the last `)`, after which
/// field 3 comes.
fn parse_start_time(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(22 - 3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_start_time_after_the_last_paren() {
        let mut fields: Vec<String> = (3..=52).map(|n| n.to_string()).collect();
        fields[0] = "S".into();
        let stat = format!("42 (a) b) c) {}", fields.join(" "));
        assert_eq!(parse_start_time(&stat), Some(22));
        assert_eq!(parse_start_time("42 (no close"), None);
        assert!(process_start_time(std::process::id()).is_some());
        assert_eq!(process_start_time(u32::MAX), None);
    }
}
