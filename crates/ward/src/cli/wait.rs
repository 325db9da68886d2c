//! `ward wait SERVICE[/N] --for ready|running|completed|stopped` and `ward up
//! -d --wait`: block until a condition holds, on the event stream.
//!
//! The client opens the live event stream first, then asks the supervisor
//! for its verdict (`GET /v1/wait`), and asks again each time an event
//! arrives: nothing polls, and no event can slip between the two. It ends
//! when the verdict holds (exit 0), when ward says it cannot hold without an
//! operator (exit 1, with `ward why` of the instance), at the timeout (exit
//! 1, with `ward why` of an instance still pending), or when ward goes away.

use crate::api::client::{Client, ClientError, encode, next_chunk};
use crate::api::types::{WaitReply, WhyReply};
use hyper::Method;
use std::time::Duration;
use ward_core::deployment::WaitFor;

/// How a wait ended.
enum Outcome {
    Holds,
    Failed { instance: String, reason: String },
    TimedOut { pending: Vec<String> },
    Gone,
}

/// Runs a wait; returns the exit code (0 when the condition holds).
pub fn run(client: &Client, target: Option<&str>, what: WaitFor, timeout: Option<Duration>) -> i32 {
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ward: {e}");
            return 1;
        }
    };
    rt.block_on(async {
        let outcome = match wait(client, target, what, timeout).await {
            Ok(outcome) => outcome,
            Err(e) => {
                eprintln!("ward: {e}");
                return 1;
            }
        };
        report(client, target, what, timeout, outcome).await
    })
}

/// What the wait is for, in words: "api to be ready", "everything to settle".
fn goal(target: Option<&str>, what: WaitFor) -> String {
    let target = target.unwrap_or("every service");
    match what {
        WaitFor::Settled => format!("{target} to be ready, running or completed"),
        WaitFor::Running => format!("{target} to run"),
        _ => format!("{target} to be {}", what.word()),
    }
}

async fn report(
    client: &Client,
    target: Option<&str>,
    what: WaitFor,
    timeout: Option<Duration>,
    outcome: Outcome,
) -> i32 {
    match outcome {
        Outcome::Holds => {
            match target {
                Some(t) => println!("{t}: {}", what.word()),
                None => println!("every service is ready, running or completed"),
            }
            0
        }
        Outcome::Failed { instance, reason } => {
            eprintln!("ward: gave up waiting for {}: {reason}", goal(target, what));
            print_why(client, &instance).await;
            1
        }
        Outcome::TimedOut { pending } => {
            let after = timeout.map(|t| humantime::format_duration(t).to_string()).unwrap_or_default();
            eprintln!(
                "ward: timed out after {after} waiting for {}; not yet: {}",
                goal(target, what),
                pending.join(", ")
            );
            if let Some(first) = pending.first() {
                print_why(client, first).await;
            }
            1
        }
        Outcome::Gone => {
            eprintln!("ward: the supervisor went away while waiting for {}", goal(target, what));
            1
        }
    }
}

async fn print_why(client: &Client, instance: &str) {
    let path = format!("/v1/why?target={}", encode(instance));
    if let Ok(reply) = client.json::<WhyReply>(Method::GET, &path, None).await {
        for i in &reply.instances {
            eprint!("{}", i.text);
        }
    }
}

async fn wait(
    client: &Client,
    target: Option<&str>,
    what: WaitFor,
    timeout: Option<Duration>,
) -> Result<Outcome, ClientError> {
    // Live events only: the verdict below covers everything before them.
    let mut events =
        client.send(Method::GET, &format!("/v1/events?since={}&follow=true", u64::MAX), None).await?;
    let mut query = format!("/v1/wait?for={}", what.word());
    if let Some(t) = target {
        query.push_str(&format!("&target={}", encode(t)));
    }
    let deadline = tokio::time::sleep(timeout.unwrap_or(Duration::MAX / 4));
    tokio::pin!(deadline);
    loop {
        let verdict: WaitReply = client.json(Method::GET, &query, None).await?;
        match verdict.verdict.as_str() {
            "holds" => return Ok(Outcome::Holds),
            "failed" => {
                let instance = verdict.instance.unwrap_or_default();
                return Ok(Outcome::Failed { instance, reason: verdict.reason.unwrap_or_default() });
            }
            _ => {}
        }
        tokio::select! {
            chunk = next_chunk(&mut events) => match chunk {
                Some(Ok(_)) => {} // something happened: ask again
                _ => return Ok(Outcome::Gone),
            },
            () = &mut deadline, if timeout.is_some() => return Ok(Outcome::TimedOut { pending: verdict.pending }),
        }
    }
}

/// Parses `--timeout 60s` / `--wait-timeout 2m`.
pub fn duration(text: &str) -> Result<Duration, String> {
    ward_core::spec::parse_duration(text)
}

/// Parses `--for ready|running|completed|stopped`.
pub fn condition(text: &str) -> Result<WaitFor, String> {
    match WaitFor::from_word(text) {
        Some(WaitFor::Settled) | None => Err("expected one of ready, running, completed, stopped".into()),
        Some(what) => Ok(what),
    }
}
