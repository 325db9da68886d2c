//! The state of `ward top`, apart from drawing and I/O: what the screen
//! shows, fed by messages, answering with effects for the driver to run.

use super::procstat::{ProcFigures, ProcSample};
use crate::api::types::{EventJson, InstanceStatus, StatusReply};
use std::collections::{HashMap, VecDeque};

/// How many events the events pane keeps.
const EVENTS_KEPT: usize = 200;
/// How many log lines the log pane keeps.
const LOG_LINES_KEPT: usize = 500;
/// How many lines of the past the log pane asks for.
pub const LOG_TAIL: usize = 50;

/// A key, as the app understands it (mapped from the terminal's in `input`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// A printable character.
    Char(char),
    /// Enter.
    Enter,
    /// Escape.
    Esc,
    /// Backspace.
    Backspace,
    /// Arrow up.
    Up,
    /// Arrow down.
    Down,
    /// Ctrl-C.
    Interrupt,
}

/// What happened: a key, an answer of the API, a tick of the clock.
#[derive(Debug)]
pub enum Msg {
    /// The operator pressed a key.
    Key(Key),
    /// The terminal changed size (only a redraw).
    Resized,
    /// The status table, or why it could not be had.
    Status(Result<StatusReply, String>),
    /// One event of the live stream.
    Event(Box<EventJson>),
    /// The stream dropped events this reader was too slow to take.
    Lagged(u64),
    /// The event stream ended (ward went away).
    StreamEnded(String),
    /// Output of the selected instance (`feed` names the request it answers).
    Logs {
        /// The log request this answers.
        feed: u64,
        /// The bytes, as text.
        text: String,
    },
    /// A command's answer, in words.
    Done(Result<String, String>),
    /// The redraw tick: the wall clock (Unix ms) and fresh /proc figures.
    Tick {
        /// Unix time in milliseconds.
        now_ms: u64,
        /// A sample of each live pid.
        samples: Vec<ProcSample>,
    },
}

/// What the driver should do for the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// GET the status table.
    FetchStatus,
    /// POST a command (`start`, `stop`, `restart`, `unblock`) on a target.
    Command {
        /// The verb.
        verb: &'static str,
        /// `SERVICE/N`.
        target: String,
    },
    /// POST `/v1/reload`.
    Reload,
    /// Replace the log pane's feed: the tail of `target`, live when `follow`.
    Logs {
        /// A number that the answers carry.
        feed: u64,
        /// `SERVICE/N`, or none to stop feeding.
        target: Option<String>,
        /// Keep streaming.
        follow: bool,
    },
    /// Leave.
    Quit,
}

/// What the keys do now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Moving, acting.
    Normal,
    /// Typing a name filter after `/`.
    Filter,
    /// Waiting for `y` to a destructive command on a target.
    Confirm {
        /// The verb.
        verb: &'static str,
        /// `SERVICE/N`.
        target: String,
    },
    /// The help screen.
    Help,
}

/// Everything `ward top` shows.
#[derive(Debug)]
pub struct App {
    /// Every instance, as the last status said.
    pub instances: Vec<InstanceStatus>,
    /// The latest events, oldest first.
    pub events: VecDeque<EventJson>,
    /// The log pane's lines, oldest first.
    pub logs: VecDeque<String>,
    /// A log line not ended yet.
    partial: String,
    /// The service/replica of the selected instance.
    selected: Option<(String, u32)>,
    /// The name filter (`/`).
    pub filter: String,
    /// What keys do now.
    pub mode: Mode,
    /// Whether the log pane streams live output.
    pub follow: bool,
    /// The last line of feedback (a command's answer, an error).
    pub message: Option<String>,
    /// Wall-clock now, Unix ms (for uptimes and countdowns); the driver sets
    /// it before each message.
    pub now_ms: u64,
    /// When the status shown was had (Unix ms): uptimes grow from there.
    pub status_at_ms: u64,
    /// CPU and memory of each live pid, from /proc.
    pub procs: HashMap<u32, ProcFigures>,
    /// The spec file of the deployment (for the title).
    pub title: String,
    /// Whether colours are used (`NO_COLOR` unset).
    pub color: bool,
    log_gen: u64,
    fetching: bool,
    dirty: bool,
    samples: HashMap<u32, ProcSample>,
}

impl App {
    /// A fresh app; `now_ms` is the wall clock at start.
    pub fn new(title: String, color: bool, now_ms: u64) -> App {
        App {
            instances: vec![],
            events: VecDeque::new(),
            logs: VecDeque::new(),
            partial: String::new(),
            selected: None,
            filter: String::new(),
            mode: Mode::Normal,
            follow: false,
            message: None,
            now_ms,
            status_at_ms: now_ms,
            procs: HashMap::new(),
            title,
            color,
            log_gen: 0,
            fetching: false,
            dirty: false,
            samples: HashMap::new(),
        }
    }

    /// The effects to run at start.
    pub fn start(&mut self) -> Vec<Effect> {
        self.fetching = true;
        vec![Effect::FetchStatus]
    }

    /// The instances whose `SERVICE/N` contains the filter, in order.
    pub fn visible(&self) -> Vec<&InstanceStatus> {
        let shown = |i: &&InstanceStatus| {
            self.filter.is_empty() || format!("{}/{}", i.service, i.replica).contains(&self.filter)
        };
        self.instances.iter().filter(shown).collect()
    }

    /// The index of the selected instance in [`App::visible`].
    pub fn selected_index(&self) -> Option<usize> {
        let (s, r) = self.selected.as_ref()?;
        self.visible().iter().position(|i| &i.service == s && i.replica == *r)
    }

    /// The selected instance as `SERVICE/N`.
    pub fn target(&self) -> Option<String> {
        self.selected.as_ref().map(|(s, r)| format!("{s}/{r}"))
    }

    /// Takes one message; returns what the driver should do.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(k) => self.on_key(k),
            Msg::Resized => vec![],
            Msg::Status(Ok(reply)) => self.on_status(reply),
            Msg::Status(Err(e)) => {
                self.fetching = false;
                self.message = Some(e);
                vec![]
            }
            Msg::Event(ev) => self.on_event(*ev),
            Msg::Lagged(n) => {
                self.message = Some(format!("missed {n} events (this view fell behind)"));
                self.refresh()
            }
            Msg::StreamEnded(why) => {
                self.message = Some(format!("the event stream ended: {why}"));
                vec![]
            }
            Msg::Logs { feed, text } => {
                if feed == self.log_gen {
                    self.push_log(&text);
                }
                vec![]
            }
            Msg::Done(r) => {
                self.message = Some(r.unwrap_or_else(|e| format!("refused: {e}")));
                self.refresh()
            }
            Msg::Tick { now_ms, samples } => {
                self.now_ms = now_ms;
                self.on_samples(samples);
                vec![]
            }
        }
    }

    /// Asks for the status again, once at a time: a request while one is in
    /// flight marks it dirty and is made when the answer comes.
    pub(super) fn refresh(&mut self) -> Vec<Effect> {
        if self.fetching {
            self.dirty = true;
            return vec![];
        }
        self.fetching = true;
        vec![Effect::FetchStatus]
    }

    fn on_status(&mut self, reply: StatusReply) -> Vec<Effect> {
        self.fetching = false;
        self.status_at_ms = self.now_ms;
        self.instances = reply.instances;
        let live: Vec<u32> = self.instances.iter().filter_map(|i| i.pid).collect();
        self.procs.retain(|pid, _| live.contains(pid));
        self.samples.retain(|pid, _| live.contains(pid));
        let mut out = if self.selected_index().is_none() { self.select_at(0) } else { vec![] };
        if std::mem::take(&mut self.dirty) {
            out.extend(self.refresh());
        }
        out
    }

    fn on_event(&mut self, ev: EventJson) -> Vec<Effect> {
        let mine = self.selected.as_ref().is_some_and(|(s, r)| *s == ev.service && *r == ev.replica);
        self.events.push_back(ev);
        while self.events.len() > EVENTS_KEPT {
            self.events.pop_front();
        }
        let mut out = self.refresh();
        if mine && !self.follow {
            out.extend(self.reload_logs());
        }
        out
    }

    /// Selects the visible instance at `index` (clamped); a change re-feeds the log pane.
    pub(super) fn select_at(&mut self, index: usize) -> Vec<Effect> {
        let visible = self.visible();
        let new = match visible.len() {
            0 => None,
            n => visible.get(index.min(n - 1)).map(|i| (i.service.clone(), i.replica)),
        };
        if new == self.selected {
            return vec![];
        }
        self.selected = new;
        self.reload_logs()
    }

    /// A new feed for the log pane: the selected instance's tail, live when following.
    pub(super) fn reload_logs(&mut self) -> Vec<Effect> {
        self.log_gen += 1;
        self.logs.clear();
        self.partial.clear();
        vec![Effect::Logs { feed: self.log_gen, target: self.target(), follow: self.follow }]
    }

    fn push_log(&mut self, text: &str) {
        self.partial.push_str(text);
        while let Some(end) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=end).collect();
            self.logs.push_back(line.trim_end_matches(['\n', '\r']).to_string());
        }
        while self.logs.len() > LOG_LINES_KEPT {
            self.logs.pop_front();
        }
    }

    /// The log lines to show, with the line not ended yet.
    pub fn log_lines(&self) -> impl Iterator<Item = &str> {
        self.logs
            .iter()
            .map(String::as_str)
            .chain((!self.partial.is_empty()).then_some(self.partial.as_str()))
    }

    fn on_samples(&mut self, samples: Vec<ProcSample>) {
        for s in samples {
            let prev = self.samples.insert(s.pid, s);
            self.procs.insert(s.pid, ProcFigures::between(prev.as_ref(), &s));
        }
    }
}
