//! Line charts as SVG, drawn by plotters on the server. Text, axes and grid are drawn in
//! `currentColor`, so one chart reads in the light theme and the dark one.

use plotters::prelude::*;

/// Drawn by plotters in this colour, then written as `currentColor` in the SVG.
const FOREGROUND: RGBColor = RGBColor(1, 2, 3);
const FOREGROUND_SVG: &str = "#010203";

/// Series colours that read on white and on black.
const PALETTE: [RGBColor; 6] = [RGBColor(31, 119, 180), RGBColor(230, 120, 20), RGBColor(44, 160, 44), RGBColor(200, 50, 60), RGBColor(148, 103, 189), RGBColor(23, 170, 190)];

/// One share per queue and interval start drawn as a line per queue over the intervals in time
/// order (`2026-03-02T09:00:00+01:00` labelled `03-02 09:00`); empty without rows.
pub fn per_queue<'r, R>(rows: &'r [R], key: impl Fn(&'r R) -> (&'r str, &'r str), share: impl Fn(&R) -> Option<f64>, title: &str, target: Option<(String, f64)>) -> Result<String, String> {
    if rows.is_empty() {
        return Ok(String::new());
    }
    let mut points: Vec<&str> = rows.iter().map(|r| key(r).1).collect();
    points.sort_by_key(|p| chrono::DateTime::parse_from_rfc3339(p).map(|t| t.timestamp()).unwrap_or_default());
    points.dedup();
    let mut queues: Vec<&str> = rows.iter().map(|r| key(r).0).collect();
    queues.sort_unstable();
    queues.dedup();
    let by_key: std::collections::HashMap<(&str, &str), Option<f64>> = rows.iter().map(|r| (key(r), share(r))).collect();
    let series: Vec<(String, Vec<Option<f64>>)> = queues.iter().map(|q| ((*q).to_owned(), points.iter().map(|p| by_key.get(&(*q, *p)).copied().flatten()).collect())).collect();
    // The axis has room for little: month-day and time.
    let labels: Vec<String> = points.iter().map(|p| p.get(5..16).unwrap_or(p).replace('T', " ")).collect();
    ShareChart { title, points: &labels, series: &series, target }.svg()
}

/// A chart of shares (0–1) over labelled points, one line per series, and a dashed target.
pub struct ShareChart<'a> {
    pub title: &'a str,
    /// The x axis' labels, one per point.
    pub points: &'a [String],
    /// A name and one value per point (`None`: nothing to plot there).
    pub series: &'a [(String, Vec<Option<f64>>)],
    pub target: Option<(String, f64)>,
}

impl ShareChart<'_> {
    pub fn svg(&self) -> Result<String, String> {
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, (960, 360)).into_drawing_area();
            let text = |size| ("sans-serif", size).into_font().color(&FOREGROUND);
            let n = self.points.len().max(2);
            let mut chart = ChartBuilder::on(&root)
                .caption(self.title, text(18))
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(48)
                .build_cartesian_2d(0f64..(n - 1) as f64, 0f64..100f64)
                .map_err(|e| e.to_string())?;
            let label = |x: &f64| self.points.get(x.round() as usize).cloned().unwrap_or_default();
            chart
                .configure_mesh()
                .x_labels(8)
                .y_labels(6)
                .x_label_formatter(&label)
                .y_label_formatter(&|y| format!("{y:.0} %"))
                .label_style(text(12))
                .axis_style(FOREGROUND)
                .bold_line_style(FOREGROUND.mix(0.15))
                .light_line_style(TRANSPARENT)
                .draw()
                .map_err(|e| e.to_string())?;
            for (i, (name, values)) in self.series.iter().enumerate() {
                let color = PALETTE[i % PALETTE.len()];
                // A gap in the data (no calls) breaks the line instead of drawing through it.
                let mut runs: Vec<Vec<(f64, f64)>> = vec![vec![]];
                for (x, value) in values.iter().enumerate() {
                    match value {
                        Some(v) => runs.last_mut().expect("one run at least").push((x as f64, v * 100.0)),
                        None if runs.last().is_some_and(|r| !r.is_empty()) => runs.push(vec![]),
                        None => {}
                    }
                }
                for (k, run) in runs.into_iter().filter(|r| !r.is_empty()).enumerate() {
                    let drawn = if run.len() == 1 {
                        chart.draw_series(run.into_iter().map(|p| Circle::new(p, 3, color.filled())))
                    } else {
                        chart.draw_series(LineSeries::new(run, color.stroke_width(2)))
                    }
                    .map_err(|e| e.to_string())?;
                    if k == 0 {
                        drawn.label(name.as_str()).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
                    }
                }
            }
            if let Some((name, share)) = &self.target {
                let line = vec![(0.0, share * 100.0), ((n - 1) as f64, share * 100.0)];
                chart
                    .draw_series(DashedLineSeries::new(line, 6, 4, FOREGROUND.stroke_width(1)))
                    .map_err(|e| e.to_string())?
                    .label(name.as_str())
                    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], FOREGROUND.stroke_width(1)));
            }
            chart
                .configure_series_labels()
                .label_font(text(12))
                .border_style(FOREGROUND.mix(0.3))
                .background_style(TRANSPARENT)
                .position(SeriesLabelPosition::LowerLeft)
                .draw()
                .map_err(|e| e.to_string())?;
            root.present().map_err(|e| e.to_string())?;
        }
        Ok(out.replace(FOREGROUND_SVG, "currentColor"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_lines_in_current_color_and_breaks_at_gaps() {
        let points: Vec<String> = (0..4).map(|h| format!("{h:02}:00")).collect();
        let series = [("sales".to_owned(), vec![Some(0.9), Some(0.7), None, Some(0.8)])];
        let svg = ShareChart { title: "Service level", points: &points, series: &series, target: Some(("target 80 %".into(), 0.8)) }.svg().unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("currentColor") && !svg.contains(FOREGROUND_SVG));
        let texts: Vec<&str> = svg.split("<text").skip(1).filter_map(|t| t.split('>').nth(1)).map(|t| t.trim_end_matches("</text").trim()).collect();
        for label in ["Service level", "sales", "target 80 %", "01:00", "80 %"] {
            assert!(texts.contains(&label), "{label} in {texts:?}");
        }
        // Two points joined, then one alone after the gap: the run's line and the legend's, and a dot.
        assert_eq!(svg.matches(r##"<polyline fill="none" opacity="1" stroke="#1F77B4""##).count(), 2, "{svg}");
        assert_eq!(svg.matches("<circle").count(), 1, "{svg}");
    }
}
