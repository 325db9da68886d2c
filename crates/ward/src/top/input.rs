//! Keys: the terminal's key events mapped to the app's, and what each key
//! does in each mode.

use super::app::{App, Effect, Key, Mode};
use ratatui::crossterm::event::{Event, KeyCode, KeyEventKind, KeyModifiers};

/// The app's key for a terminal event, if it is one the app knows.
pub fn map(event: &Event) -> Option<Key> {
    let Event::Key(k) = event else { return None };
    if k.kind == KeyEventKind::Release {
        return None;
    }
    Some(match k.code {
        KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => Key::Interrupt,
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        _ => return None,
    })
}

/// The keys of the normal mode, for the help screen and the footer.
pub const HELP: &[(&str, &str)] = &[
    ("↑/↓ j/k", "select an instance"),
    ("r", "restart it (asks first)"),
    ("x", "stop it and keep it down (asks first)"),
    ("s", "start it"),
    ("u", "unblock: release its backoff or crash-loop gate now"),
    ("i", "isolate: out of rotation, process kept (asks first)"),
    ("R", "reload the spec file"),
    ("f", "follow its output live (again: stop following)"),
    ("/", "filter by service name (Enter keeps, Esc clears)"),
    ("?", "this help (any key closes it)"),
    ("q", "quit"),
];

impl App {
    /// Takes one key.
    pub(super) fn on_key(&mut self, key: Key) -> Vec<Effect> {
        if key == Key::Interrupt {
            return vec![Effect::Quit];
        }
        match std::mem::replace(&mut self.mode, Mode::Normal) {
            Mode::Help => vec![],
            Mode::Confirm { verb, target } => match key {
                Key::Char('y') | Key::Char('Y') | Key::Enter => {
                    self.message = Some(format!("{verb} {target}…"));
                    vec![Effect::Command { verb, target }]
                }
                _ => {
                    self.message = Some(format!("{verb} {target}: cancelled"));
                    vec![]
                }
            },
            Mode::Filter => self.on_filter_key(key),
            Mode::Normal => self.on_normal_key(key),
        }
    }

    fn on_filter_key(&mut self, key: Key) -> Vec<Effect> {
        match key {
            Key::Char(c) => {
                self.filter.push(c);
                self.mode = Mode::Filter;
            }
            Key::Backspace => {
                self.filter.pop();
                self.mode = Mode::Filter;
            }
            Key::Esc => self.filter.clear(),
            _ => {} // Enter (or an arrow) keeps the filter and leaves the prompt.
        }
        let at = self.selected_index().unwrap_or(0);
        self.select_at(at)
    }

    fn on_normal_key(&mut self, key: Key) -> Vec<Effect> {
        let at = self.selected_index();
        let target = self.target();
        match (key, target) {
            (Key::Char('q'), _) => vec![Effect::Quit],
            (Key::Up | Key::Char('k'), _) => self.select_at(at.map_or(0, |i| i.saturating_sub(1))),
            (Key::Down | Key::Char('j'), _) => self.select_at(at.map_or(0, |i| i + 1)),
            (Key::Char('?'), _) => {
                self.mode = Mode::Help;
                vec![]
            }
            (Key::Char('/'), _) => {
                self.mode = Mode::Filter;
                vec![]
            }
            (Key::Char('R'), _) => {
                self.message = Some("reloading the spec…".into());
                vec![Effect::Reload]
            }
            (Key::Char('f'), _) => {
                self.follow = !self.follow;
                self.reload_logs()
            }
            (Key::Char('r'), Some(target)) => self.confirm("restart", target),
            (Key::Char('x'), Some(target)) => self.confirm("stop", target),
            (Key::Char('i'), Some(target)) => self.confirm("isolate", target),
            (Key::Char('s'), Some(target)) => vec![Effect::Command { verb: "start", target }],
            (Key::Char('u'), Some(target)) => vec![Effect::Command { verb: "unblock", target }],
            (Key::Char('r' | 'x' | 's' | 'u' | 'i'), None) => {
                self.message = Some("no instance selected".into());
                vec![]
            }
            (Key::Esc, _) => {
                self.message = None;
                vec![]
            }
            _ => vec![],
        }
    }

    fn confirm(&mut self, verb: &'static str, target: String) -> Vec<Effect> {
        self.mode = Mode::Confirm { verb, target };
        vec![]
    }
}
