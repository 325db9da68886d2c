//! `ward signal SERVICE[/N] SIGNAL`: a signal, by name (`HUP`, `SIGHUP`) or
//! number, to the live processes of a service or one instance.

use crate::api::client::Client;
use crate::api::types::OkReply;
use hyper::Method;
use ward_supervisor::signals::MAX_SIGNAL;

/// A signal the command line does not know.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown signal {given:?}: expected a name like HUP, SIGTERM, USR1 or a number from 1 to {MAX_SIGNAL}"
)]
pub struct UnknownSignal {
    /// What was given.
    pub given: String,
}

/// The number of a signal given as `HUP`, `SIGHUP`, `sighup` or `1`.
pub fn parse_signal(s: &str) -> Result<i32, UnknownSignal> {
    let unknown = || UnknownSignal { given: s.to_string() };
    if let Ok(n) = s.parse::<i32>() {
        return if (1..=MAX_SIGNAL).contains(&n) { Ok(n) } else { Err(unknown()) };
    }
    ward_core::exit::signal_number(s).ok_or_else(unknown)
}

/// Runs `ward signal`; returns the exit code (2 for an unknown signal).
pub fn run(client: &Client, target: &str, signal: &str) -> i32 {
    let number = match parse_signal(signal) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("ward: {e}");
            return 2;
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ward: {e}");
            return 1;
        }
    };
    let body = serde_json::json!({ "target": target, "signal": number });
    match rt.block_on(client.json::<OkReply>(Method::POST, "/v1/signal", Some(body))) {
        Ok(reply) => {
            println!("{}", reply.message);
            0
        }
        Err(e) => {
            eprintln!("ward: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(parse_signal("HUP"), Ok(1));
        assert_eq!(parse_signal("SIGHUP"), Ok(1));
        assert_eq!(parse_signal("usr1"), Ok(10));
        assert_eq!(parse_signal("15"), Ok(15));
        assert_eq!(parse_signal("40"), Ok(40)); // a real-time signal, by number
        for bad in ["0", "65", "-1", "SIGFOO", "", "HUPX"] {
            let e = parse_signal(bad).unwrap_err();
            assert!(e.to_string().contains("expected a name like HUP"), "{bad}: {e}");
        }
    }
}
