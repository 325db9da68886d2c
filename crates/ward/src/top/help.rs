//! The help screen: every key, over the rest of the screen.

use super::input::HELP;
use super::view::{Palette, pane};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph};

/// Draws the help screen in the middle of `area`.
pub fn draw(f: &mut Frame, area: Rect, pal: &Palette) {
    let mut lines: Vec<Line> = HELP.iter().map(|(k, what)| Line::from(format!(" {k:<8} {what}"))).collect();
    lines.push(Line::from(""));
    lines.push(Line::from(" Columns: GATE = time until the restart gate opens; RDY = ready;"));
    lines.push(Line::from(" CPU% and RSS are read from /proc on this machine."));
    let h = (lines.len() as u16 + 1).min(area.height);
    let w = 76.min(area.width);
    let popup =
        Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h };
    f.render_widget(Clear, popup);
    f.render_widget(Paragraph::new(lines).block(pane("keys".into(), pal)), popup);
}
