//! The whole screen: the title line, the instances, the latest events, the
//! selected instance's output, and a footer line for prompts and answers;
//! the help screen over it when asked. Drawing only reads the app.

use super::app::{App, Mode};
use super::{events_pane, help, logs_pane, table};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// Colours, or none under `NO_COLOR`.
pub struct Palette {
    color: bool,
}

impl Palette {
    /// A foreground colour, or the plain style without colours.
    pub fn fg(&self, c: Color) -> Style {
        if self.color { Style::default().fg(c) } else { Style::default() }
    }
}

/// A pane: a titled rule above its content.
pub fn pane<'a>(title: String, pal: &Palette) -> Block<'a> {
    Block::default()
        .borders(Borders::TOP)
        .title(Span::styled(title, Style::default().add_modifier(Modifier::BOLD)))
        .border_style(pal.fg(Color::DarkGray))
}

/// Draws the whole screen.
pub fn draw(f: &mut Frame, app: &App) {
    let pal = Palette { color: app.color };
    let area = f.area();
    let rows = app.visible().len() as u16;
    // The table takes what its rows need, up to half the screen; events a
    // fixed few lines; the output pane the rest.
    let table_h = (rows + 2).clamp(3, (area.height.saturating_sub(2) / 2).max(3));
    let [title, body, events, logs, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(table_h),
        Constraint::Length(6),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    f.render_widget(title_line(app), title);
    table::draw(f, body, app, &pal);
    events_pane::draw(f, events, app, &pal);
    logs_pane::draw(f, logs, app, &pal);
    f.render_widget(footer_line(app, &pal), footer);
    if app.mode == Mode::Help {
        help::draw(f, area, &pal);
    }
}

fn title_line(app: &App) -> Paragraph<'_> {
    let line = Line::from(vec![
        Span::styled("ward top", Style::default().add_modifier(Modifier::BOLD)),
        Span::raw(format!("  {}  ", app.title)),
        Span::raw("? help  q quit"),
    ]);
    Paragraph::new(line)
}

fn footer_line<'a>(app: &'a App, pal: &Palette) -> Paragraph<'a> {
    let line = match &app.mode {
        Mode::Confirm { verb, target } => Line::from(Span::styled(
            format!("{verb} {target}? y: yes, any other key: no"),
            pal.fg(Color::Yellow).add_modifier(Modifier::BOLD),
        )),
        Mode::Filter => Line::from(format!("/{}▏  (Enter keeps, Esc clears)", app.filter)),
        Mode::Normal | Mode::Help => match &app.message {
            Some(m) => Line::from(m.as_str()),
            None => Line::from(Span::styled(
                "r restart  x stop  s start  u unblock  i isolate  R reload  f follow  / filter",
                pal.fg(Color::DarkGray),
            )),
        },
    };
    Paragraph::new(line)
}
