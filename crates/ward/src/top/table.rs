//! The instances pane: one row per instance, the selected one highlighted.

use super::app::App;
use super::format;
use super::view::{Palette, pane};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Cell, Row, Table, TableState};

const HEADER: [&str; 10] =
    ["INSTANCE", "STATE", "PID", "UPTIME", "RST", "LAST EXIT", "GATE", "RDY", "CPU%", "RSS"];
const WIDTHS: [u16; 10] = [14, 9, 7, 6, 3, 9, 6, 3, 5, 6];

/// The colour of a state word.
pub fn state_color(state: &str) -> Color {
    match state {
        "running" | "ready" => Color::Green,
        "starting" | "waiting" | "stopping" | "backoff" => Color::Yellow,
        "crashloop" | "failed" => Color::Red,
        "isolated" => Color::Magenta,
        _ => Color::DarkGray, // stopped, shutdown, completed
    }
}

/// Draws the instances pane.
pub fn draw(f: &mut Frame, area: Rect, app: &App, pal: &Palette) {
    let visible = app.visible();
    let title = if app.filter.is_empty() {
        format!("instances ({})", visible.len())
    } else {
        format!("instances ({} of {}, filter \"{}\")", visible.len(), app.instances.len(), app.filter)
    };
    let rows = visible.iter().map(|i| {
        let figures = i.pid.and_then(|p| app.procs.get(&p));
        let cpu = figures.and_then(|f| f.cpu_pct).map_or_else(|| "-".into(), |c| format!("{c:.1}"));
        let rss = figures.map_or_else(|| "-".into(), |f| format::short_size(f.rss_kb));
        let restarts = i.restarts.to_string();
        Row::new([
            Cell::from(format!("{}/{}", i.service, i.replica)),
            Cell::from(i.state.clone()).style(pal.fg(state_color(&i.state))),
            Cell::from(i.pid.map_or_else(|| "-".into(), |p| p.to_string())),
            Cell::from(format::uptime(i, app.status_at_ms, app.now_ms)),
            Cell::from(restarts),
            Cell::from(format::last_exit(i)),
            Cell::from(format::gate_left(i, app.now_ms)),
            Cell::from(format::readiness(i)),
            Cell::from(cpu),
            Cell::from(rss),
        ])
    });
    let header = Row::new(HEADER).style(Style::default().add_modifier(Modifier::BOLD));
    let table = Table::new(rows, WIDTHS.map(Constraint::Length))
        .header(header)
        .block(pane(title, pal))
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED));
    let mut state = TableState::default().with_selected(app.selected_index());
    f.render_stateful_widget(table, area, &mut state);
}
