//! The app's rules and its rendering, on ratatui's `TestBackend` at 80x24.

use super::app::{App, Effect, Key, Mode, Msg};
use super::driver::sse_message;
use super::procstat::ProcSample;
use super::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use ward_supervisor::view::{EventJson, ExitJson, GateJson, InstanceStatus, StatusReply};

const NOW: u64 = 1_800_000_000_000;

fn inst(service: &str, replica: u32, state: &str, pid: Option<u32>) -> InstanceStatus {
    InstanceStatus {
        service: service.into(),
        replica,
        state: state.into(),
        pid,
        restarts: 0,
        uptime_ms: pid.map(|_| 65_000),
        last_exit: None,
        gate: GateJson { state: "idle".into(), until_ms: None, crashes: 0, threshold: 5 },
        status_text: None,
        usage: None,
        cgroup: false,
    }
}

fn event(seq: u64, service: &str, replica: u32, kind: &str) -> EventJson {
    EventJson {
        seq,
        ts: "2027-01-15T08:00:00.000Z".into(),
        ts_ms: NOW,
        kind: kind.into(),
        service: service.into(),
        replica,
        pid: None,
        exit: None,
        run_ms: None,
        until_ms: None,
        restarts: None,
        error: None,
        dossier: None,
    }
}

/// An app showing web/0, web/1 (running) and flaky/0 (backing off, 4.2 s left).
fn app(color: bool) -> App {
    let mut a = App::new("/srv/ward.yaml".into(), color, NOW);
    assert_eq!(a.start(), vec![Effect::FetchStatus]);
    let mut flaky = inst("flaky", 0, "backoff", None);
    flaky.restarts = 3;
    flaky.last_exit = Some(ExitJson { code: Some(3), ..Default::default() });
    flaky.gate =
        GateJson { state: "backing-off".into(), until_ms: Some(NOW + 4_200), crashes: 3, threshold: 4 };
    let reply = StatusReply {
        instances: vec![flaky, inst("web", 0, "running", Some(4242)), inst("web", 1, "ready", Some(4243))],
        isolation: None,
    };
    let effects = a.update(Msg::Status(Ok(reply)));
    assert_eq!(effects, vec![Effect::Logs { feed: 1, target: Some("flaky/0".into()), follow: false }]);
    a
}

fn screen(app: &App) -> (Vec<String>, ratatui::buffer::Buffer) {
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| view::draw(f, app)).unwrap();
    let buf = t.backend().buffer().clone();
    let lines = (0..24)
        .map(|y| (0..80).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>().trim_end().to_string())
        .collect();
    (lines, buf)
}

fn find(lines: &[String], text: &str) -> usize {
    lines
        .iter()
        .position(|l| l.contains(text))
        .unwrap_or_else(|| panic!("{text:?} not on screen:\n{}", lines.join("\n")))
}

#[test]
fn the_screen_shows_every_instance_with_its_figures_at_80x24() {
    let mut a = app(true);
    a.update(Msg::Tick {
        now_ms: NOW,
        samples: vec![ProcSample { pid: 4242, at_ms: NOW, cpu_ms: 100, rss_kb: 2048 }],
    });
    a.update(Msg::Tick {
        now_ms: NOW + 1_000,
        samples: vec![ProcSample { pid: 4242, at_ms: NOW + 1_000, cpu_ms: 350, rss_kb: 20_480 }],
    });
    // An event of the selected instance asks for its output anew (feed 2).
    a.update(Msg::Event(Box::new(event(7, "flaky", 0, "exited"))));
    a.update(Msg::Logs { feed: 2, text: "boom\npartial".into() });
    let (lines, _) = screen(&a);
    assert!(lines[0].starts_with("ward top  /srv/ward.yaml"), "{}", lines[0]);
    let row = &lines[find(&lines, "flaky/0")];
    for cell in ["backoff", "code 3", "3.2s"] {
        assert!(row.contains(cell), "{cell:?} missing in {row:?}");
    }
    let row = &lines[find(&lines, "web/0")];
    for cell in ["running", "4242", "1m06s", "25.0", "20.0M"] {
        assert!(row.contains(cell), "{cell:?} missing in {row:?}");
    }
    assert!(lines[find(&lines, "web/1")].contains("yes"), "web/1 is ready");
    assert!(lines[find(&lines, "08:00:00 flaky/0 exited")].contains("exited"));
    find(&lines, "output of flaky/0 (f: follow)");
    let boom = find(&lines, "boom");
    assert_eq!(lines[boom + 1], "partial");
    assert!(lines[23].contains("r restart"), "{}", lines[23]);
}

#[test]
fn states_are_coloured_unless_no_color() {
    for color in [true, false] {
        let (lines, buf) = screen(&app(color));
        let y = find(&lines, "web/0") as u16;
        let x = lines[y as usize].find("running").unwrap() as u16;
        let fg = buf[(x, y)].fg;
        if color {
            assert_eq!(fg, Color::Green);
        } else {
            let coloured =
                buf.content.iter().filter(|c| c.fg != Color::Reset || c.bg != Color::Reset).count();
            assert_eq!(coloured, 0, "NO_COLOR: no colour anywhere");
        }
    }
}

#[test]
fn destructive_keys_ask_first() {
    let mut a = app(true);
    a.update(Msg::Key(Key::Down)); // web/0
    assert_eq!(a.update(Msg::Key(Key::Char('r'))), vec![]);
    assert_eq!(a.mode, Mode::Confirm { verb: "restart", target: "web/0".into() });
    let (lines, _) = screen(&a);
    assert!(lines[23].contains("restart web/0? y: yes"), "{}", lines[23]);
    assert_eq!(
        a.update(Msg::Key(Key::Char('y'))),
        vec![Effect::Command { verb: "restart", target: "web/0".into() }]
    );
    assert_eq!(a.mode, Mode::Normal);

    assert_eq!(a.update(Msg::Key(Key::Char('x'))), vec![]);
    assert_eq!(a.update(Msg::Key(Key::Char('n'))), vec![]);
    assert_eq!(a.message.as_deref(), Some("stop web/0: cancelled"));

    assert_eq!(a.update(Msg::Key(Key::Char('i'))), vec![]);
    assert_eq!(
        a.update(Msg::Key(Key::Enter)),
        vec![Effect::Command { verb: "isolate", target: "web/0".into() }]
    );

    // Start and unblock act at once; reload too.
    assert_eq!(
        a.update(Msg::Key(Key::Char('s'))),
        vec![Effect::Command { verb: "start", target: "web/0".into() }]
    );
    assert_eq!(
        a.update(Msg::Key(Key::Char('u'))),
        vec![Effect::Command { verb: "unblock", target: "web/0".into() }]
    );
    assert_eq!(a.update(Msg::Key(Key::Char('R'))), vec![Effect::Reload]);
    assert_eq!(a.update(Msg::Key(Key::Char('q'))), vec![Effect::Quit]);
    assert_eq!(a.update(Msg::Key(Key::Interrupt)), vec![Effect::Quit]);
}

#[test]
fn the_selection_and_a_pending_confirmation_follow_the_instance_not_the_row() {
    let mut a = app(true);
    a.update(Msg::Key(Key::Down)); // web/0
    assert_eq!(a.update(Msg::Key(Key::Char('r'))), vec![]);
    // A status reply in another order, with the row above gone, arrives
    // before the `y`: the prompt still names web/0, and so does the command.
    let reply = StatusReply {
        instances: vec![inst("web", 1, "ready", Some(4243)), inst("web", 0, "running", Some(4242))],
        isolation: None,
    };
    assert_eq!(a.update(Msg::Status(Ok(reply))), vec![]);
    assert_eq!(a.target().as_deref(), Some("web/0"));
    assert_eq!(a.selected_index(), Some(1));
    assert_eq!(
        a.update(Msg::Key(Key::Char('y'))),
        vec![Effect::Command { verb: "restart", target: "web/0".into() }]
    );
    // The answer and the events it causes leave the keys in the normal mode: `q` quits.
    a.update(Msg::Done(Ok("web/0: restarting".into())));
    a.update(Msg::Event(Box::new(event(9, "web", 0, "restarted"))));
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(a.update(Msg::Key(Key::Char('q'))), vec![Effect::Quit]);
}

#[test]
fn a_command_answer_is_shown_and_refreshes_the_status() {
    let mut a = app(true);
    assert_eq!(a.update(Msg::Done(Err("web/9: no instance".into()))), vec![Effect::FetchStatus]);
    assert_eq!(a.message.as_deref(), Some("refused: web/9: no instance"));
    let (lines, _) = screen(&a);
    assert!(lines[23].contains("refused: web/9"), "{}", lines[23]);
}

#[test]
fn events_refetch_the_status_once_at_a_time() {
    let mut a = app(true);
    assert_eq!(a.update(Msg::Event(Box::new(event(1, "web", 1, "started")))), vec![Effect::FetchStatus]);
    // While the fetch is in flight, more events only mark the view dirty.
    assert_eq!(a.update(Msg::Event(Box::new(event(2, "web", 1, "ready")))), vec![]);
    assert_eq!(a.update(Msg::Event(Box::new(event(3, "web", 1, "exited")))), vec![]);
    let reply = StatusReply { instances: a.instances.clone(), isolation: None };
    assert_eq!(a.update(Msg::Status(Ok(reply.clone()))), vec![Effect::FetchStatus]);
    assert_eq!(a.update(Msg::Status(Ok(reply))), vec![]);
    // A tick never asks the API.
    assert_eq!(a.update(Msg::Tick { now_ms: NOW + 5_000, samples: vec![] }), vec![]);
}

#[test]
fn an_event_of_the_selected_instance_refreshes_its_output_unless_following() {
    let mut a = app(true);
    let effects = a.update(Msg::Event(Box::new(event(1, "flaky", 0, "started"))));
    assert!(
        effects.contains(&Effect::Logs { feed: 2, target: Some("flaky/0".into()), follow: false }),
        "{effects:?}"
    );
    // Output of an older feed is dropped.
    a.update(Msg::Logs { feed: 1, text: "old\n".into() });
    assert_eq!(a.log_lines().count(), 0);
    assert_eq!(
        a.update(Msg::Key(Key::Char('f'))),
        vec![Effect::Logs { feed: 3, target: Some("flaky/0".into()), follow: true }]
    );
    let effects = a.update(Msg::Event(Box::new(event(2, "flaky", 0, "exited"))));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Logs { .. })), "{effects:?}");
}

#[test]
fn the_filter_narrows_the_table_and_keeps_a_selection() {
    let mut a = app(true);
    a.update(Msg::Key(Key::Char('/')));
    // flaky/0 leaves the table: the selection moves to what is left.
    let effects = a.update(Msg::Key(Key::Char('w')));
    assert_eq!(effects, vec![Effect::Logs { feed: 2, target: Some("web/0".into()), follow: false }]);
    assert_eq!(a.update(Msg::Key(Key::Char('e'))), vec![]);
    assert_eq!(a.mode, Mode::Filter);
    let (lines, _) = screen(&a);
    assert!(lines[23].starts_with("/we"), "{}", lines[23]);
    a.update(Msg::Key(Key::Enter));
    assert_eq!(a.mode, Mode::Normal);
    let (lines, _) = screen(&a);
    assert!(!lines.iter().any(|l| l.contains("flaky/0 ")), "{}", lines.join("\n"));
    find(&lines, "instances (2 of 3, filter \"we\")");
    // Esc in the prompt clears it.
    a.update(Msg::Key(Key::Char('/')));
    a.update(Msg::Key(Key::Esc));
    assert_eq!(a.visible().len(), 3);
}

#[test]
fn help_lists_the_keys_and_any_key_closes_it() {
    let mut a = app(true);
    a.update(Msg::Key(Key::Char('?')));
    let (lines, _) = screen(&a);
    find(&lines, "keys");
    find(&lines, "unblock: release its backoff");
    assert_eq!(a.update(Msg::Key(Key::Char('r'))), vec![], "the key that closes help does nothing else");
    assert_eq!(a.mode, Mode::Normal);
}

#[test]
fn server_sent_events_become_messages() {
    let frame = "id: 4\nevent: event\ndata: {\"seq\":4,\"ts\":\"t\",\"ts_ms\":1,\"kind\":\"started\",\"service\":\"a\",\"replica\":0}\n\n";
    assert!(matches!(sse_message(frame), Some(Msg::Event(ev)) if ev.seq == 4));
    assert!(matches!(sse_message("event: lagged\ndata: {\"missed\":12}\n\n"), Some(Msg::Lagged(12))));
    assert!(sse_message(": keep-alive\n\n").is_none());
}
