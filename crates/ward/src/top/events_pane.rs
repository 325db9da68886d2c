//! The events pane: the latest lifecycle events, newest at the bottom.

use super::app::App;
use super::format;
use super::view::{Palette, pane};
use crate::api::types::EventJson;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

fn kind_color(kind: &str) -> Color {
    match kind {
        "started" | "ready" | "restarted" | "adopted" | "unblocked" | "main_pid" => Color::Green,
        "backoff" | "stopped" | "completed" => Color::Yellow,
        "isolated" => Color::Magenta,
        _ => Color::Red, // exited, crashloop, spawn_failed, health_failed, shutdown
    }
}

fn detail(ev: &EventJson) -> String {
    let mut s = String::new();
    if let Some(pid) = ev.pid {
        s.push_str(&format!(" pid {pid}"));
    }
    if let Some(exit) = &ev.exit {
        s.push_str(&format!(" {exit}"));
    }
    if let Some(run) = ev.run_ms {
        s.push_str(&format!(" after {}", format::short_duration(run)));
    }
    if let Some(until) = ev.until_ms {
        s.push_str(&format!(" for {}", format::short_duration(until.saturating_sub(ev.ts_ms))));
    }
    if let Some(e) = &ev.error {
        s.push_str(&format!(": {e}"));
    }
    s
}

/// Draws the events pane.
pub fn draw(f: &mut Frame, area: Rect, app: &App, pal: &Palette) {
    let fit = area.height.saturating_sub(1) as usize;
    let skip = app.events.len().saturating_sub(fit);
    let lines: Vec<Line> = app
        .events
        .iter()
        .skip(skip)
        .map(|ev| {
            Line::from(vec![
                Span::raw(format!("{} {}/{} ", format::clock_of(&ev.ts), ev.service, ev.replica)),
                Span::styled(ev.kind.clone(), pal.fg(kind_color(&ev.kind))),
                Span::raw(detail(ev)),
            ])
        })
        .collect();
    f.render_widget(Paragraph::new(lines).block(pane("events".into(), pal)), area);
}
