//! The output pane: the selected instance's log tail, live when following.

use super::app::App;
use super::view::{Palette, pane};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

/// Draws the output pane.
pub fn draw(f: &mut Frame, area: Rect, app: &App, pal: &Palette) {
    let title = match (app.target(), app.follow) {
        (Some(t), true) => format!("output of {t} (following; f: stop)"),
        (Some(t), false) => format!("output of {t} (f: follow)"),
        (None, _) => "output".to_string(),
    };
    let fit = area.height.saturating_sub(1) as usize;
    let lines: Vec<&str> = app.log_lines().collect();
    let shown: Vec<Line> = lines[lines.len().saturating_sub(fit)..].iter().map(|l| Line::from(*l)).collect();
    f.render_widget(Paragraph::new(shown).block(pane(title, pal)), area);
}
