//! Operators' commands: targets that name known services and replicas,
//! unblock rules, and refusals while going down.

use super::*;

#[test]
fn commands_name_known_services_and_replicas() {
    let mut d = started(vec![svc("api", |s| s.replicas = 2)]);
    let now = t(10);
    assert_eq!(
        d.command(&target("nope"), Command::Stop, now),
        Err(CommandError::UnknownService("nope".into()))
    );
    assert_eq!(
        d.command(&target("api/7"), Command::Stop, now),
        Err(CommandError::UnknownInstance("api/7".into()))
    );
    assert!(matches!(d.command(&target("api"), Command::Start, now), Err(CommandError::Rejected(_))));
    // Unblock releases a held instance at once.
    d.observe(&id("api/1"), Observation::Exited { status: ExitStatus::Code(1) }, now, 1.0);
    let out = d.command(&target("api/1"), Command::Unblock, t(20)).unwrap();
    assert_eq!(spawned(&out), ["api/1"]);
    // Stop and start a whole service.
    let out = d.command(&target("api"), Command::Stop, t(30)).unwrap();
    assert_eq!(signalled(&out), ["api/0"]);
    assert_eq!(state(&d, "api/1"), "stopping", "its spawn is not confirmed yet");
}

#[test]
fn unblock_on_a_running_service_is_rejected() {
    let mut d = started(vec![svc("api", |s| s.replicas = 2)]);
    let got = d.command(&target("api"), Command::Unblock, t(10));
    assert!(matches!(got, Err(CommandError::Rejected(_))), "{got:?}");
    let got = d.command(&target("api/0"), Command::Unblock, t(10));
    assert!(matches!(got, Err(CommandError::Rejected(_))), "{got:?}");
}

#[test]
fn commands_and_reloads_while_going_down_are_refused() {
    let mut d = started(vec![plain("a"), needs("b", "a")]);
    let out = d.down(0, t(10));
    for cmd in [Command::Start, Command::Stop, Command::Restart, Command::Unblock] {
        assert_eq!(d.command(&target("a"), cmd, t(20)), Err(CommandError::GoingDown), "{cmd:?}");
    }
    assert_eq!(d.command(&target("nope"), Command::Stop, t(20)), Err(CommandError::GoingDown));
    assert_eq!(d.reload(spec_of(vec![plain("a")]), t(20)), vec![]);
    assert!(d.service(&ServiceName::new("b").unwrap()).is_some(), "the spec is unchanged");
    let seen = settle(&mut d, out, t(30));
    assert_eq!(seen.last(), Some(&DeployAction::Exit(0)));
}
