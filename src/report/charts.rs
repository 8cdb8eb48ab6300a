//! Inline SVG charts for `report.html`, drawn here without scripts or a chart crate:
//! the distribution of elapsed times of each deadline check against its limit, and
//! exceptions by month over the period.
//!
//! Every chart is a string of SVG markup that the template inserts unescaped, so every
//! piece of text written into it goes through [`esc`]. Colours are chosen to stay
//! distinguishable in greyscale print (light = on time, dark = exception), and every
//! bar carries its count as text.

use std::fmt::Write;

use crate::assess::{Assessment, CheckResult, RecordResult};
use crate::rules::Verdict;
use crate::time::{NANOS_PER_HOUR, Ts};

/// A rendered chart and the sentence under it.
#[derive(Debug, Clone)]
pub struct Chart {
    /// SVG markup (text escaped).
    pub svg: String,
    /// Caption, plain text (escaped by the template).
    pub caption: String,
}

const W: f64 = 680.0;
const H: f64 = 230.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 52.0;
const PASS_FILL: &str = "#a9bdd3";
const EXC_FILL: &str = "#8c1d18";
const INK: &str = "#1f2933";
const GRID: &str = "#d5dbe3";

/// Escape text for SVG (XML) content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// The limit of a deadline check in hours, when it is exact elapsed time.
///
/// `CheckResult::limit` is the text of the span (`72 h 00 min`, `30 d 00 h`,
/// `45 min 00 s`, or `3 calendar days`); only exact spans have one line on an hours
/// axis.
pub fn exact_limit_hours(limit: &str) -> Option<f64> {
    let mut hours = 0.0;
    let mut words = limit.split_whitespace();
    let mut any = false;
    while let Some(n) = words.next() {
        let unit = words.next()?;
        let v: f64 = n.parse().ok()?;
        hours += match unit {
            "d" => v * 24.0,
            "h" => v,
            "min" => v / 60.0,
            "s" => v / 3600.0,
            "ms" => v / 3_600_000.0,
            _ => return None,
        };
        any = true;
    }
    any.then_some(hours)
}

/// A step for about `target` ticks on `[0, max]`, from a list that reads well in hours.
fn nice_step(max: f64, target: f64) -> f64 {
    const STEPS: &[f64] = &[
        0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 12.0, 24.0, 48.0, 72.0, 168.0, 336.0, 720.0, 1440.0,
        2160.0, 4320.0, 8760.0,
    ];
    let raw = max / target;
    STEPS
        .iter()
        .copied()
        .find(|s| *s >= raw)
        .unwrap_or_else(|| (raw / 8760.0).ceil() * 8760.0)
}

/// An integer step for a count axis.
fn count_step(max: u64) -> u64 {
    let mut step = 1;
    for s in [
        1u64, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000,
    ] {
        step = s;
        if max / s <= 5 {
            break;
        }
    }
    step
}

fn fmt_num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

fn svg_open(s: &mut String, label: &str) {
    let _ = write!(
        s,
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{}"><title>{}</title>"#,
        esc(label),
        esc(label)
    );
}

/// Y axis with grid lines; returns the pixel height per count.
fn y_axis(s: &mut String, max_count: u64) -> f64 {
    let step = count_step(max_count);
    // At least two steps, so a chart of ones does not fill the whole height.
    let top = (max_count.div_ceil(step).max(1) * step).max(2);
    let plot_h = H - TOP - BOTTOM;
    let per = plot_h / top as f64;
    let mut v = 0;
    while v <= top {
        let y = H - BOTTOM - v as f64 * per;
        let _ = write!(
            s,
            r#"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{GRID}" stroke-width="1"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end" fill="{INK}">{v}</text>"#,
            W - RIGHT,
            LEFT - 6.0,
            y + 3.5
        );
        v += step;
    }
    per
}

fn bar(s: &mut String, x: f64, w: f64, y0: f64, h: f64, fill: &str, tip: &str) {
    if h <= 0.0 {
        return;
    }
    let _ = write!(
        s,
        r#"<rect x="{x:.1}" y="{:.1}" width="{w:.1}" height="{h:.1}" fill="{fill}" stroke="{INK}" stroke-width="0.6"><title>{}</title></rect>"#,
        y0 - h,
        esc(tip)
    );
}

fn legend(s: &mut String, items: &[(&str, String)]) {
    let mut x = LEFT;
    let y = H - 12.0;
    for (fill, label) in items {
        let _ = write!(
            s,
            r#"<rect x="{x:.1}" y="{:.1}" width="10" height="10" fill="{fill}" stroke="{INK}" stroke-width="0.6"/><text x="{:.1}" y="{y:.1}" font-size="10.5" fill="{INK}">{}</text>"#,
            y - 9.0,
            x + 14.0,
            esc(label)
        );
        x += 24.0 + 6.2 * label.chars().count() as f64;
    }
}

/// One SVG element per line, so a change to a chart reads as a small diff.
fn one_element_per_line(svg: &str) -> String {
    svg.replace("><", ">\n<")
}

fn hours_label(h: f64) -> String {
    format!("{} h", fmt_num(h))
}

/// Distribution of elapsed time start -> end of one deadline check, with its limit.
/// `None` when no record has both instants.
pub fn deadline_chart(c: &CheckResult) -> Option<Chart> {
    if c.elapsed.is_empty() {
        return None;
    }
    let hours: Vec<(f64, bool)> = c
        .elapsed
        .iter()
        .map(|(n, v)| (*n as f64 / NANOS_PER_HOUR as f64, *v != Verdict::Pass))
        .collect();
    let limit = c.limit.as_deref().and_then(exact_limit_hours);
    let max_h = hours
        .iter()
        .map(|(h, _)| *h)
        .fold(0.0f64, f64::max)
        .max(limit.unwrap_or(0.0) * 1.1)
        .max(1.0);
    let step = nice_step(max_h, 6.0);
    let ticks = (max_h / step).ceil().max(1.0);
    let x_max = ticks * step;
    // Bins are a whole fraction of a tick, so a bin never straddles a tick.
    let per_tick = (24.0 / ticks).floor().clamp(1.0, 8.0);
    let bw = step / per_tick;
    let nbins = (x_max / bw).round() as usize;
    let mut pass = vec![0u64; nbins];
    let mut late = vec![0u64; nbins];
    let mut negative = 0;
    for (h, exc) in &hours {
        if *h < 0.0 {
            negative += 1;
        }
        // Bins are closed on the right, so a record ending exactly at the limit (on
        // time) is drawn left of the limit line.
        let i = ((h.max(0.0) / bw).ceil() as usize)
            .saturating_sub(1)
            .min(nbins.saturating_sub(1));
        if *exc {
            late[i] += 1;
        } else {
            pass[i] += 1;
        }
    }
    let max_count = pass
        .iter()
        .zip(&late)
        .map(|(a, b)| a + b)
        .max()
        .unwrap_or(1);
    let plot_w = W - LEFT - RIGHT;
    let px = |h: f64| LEFT + h / x_max * plot_w;
    let mut s = String::new();
    svg_open(
        &mut s,
        &format!("Elapsed time per record for check {}", c.id),
    );
    let per = y_axis(&mut s, max_count);
    let y0 = H - BOTTOM;
    for i in 0..nbins {
        let x = px(i as f64 * bw) + 0.8;
        let w = (px(bw) - LEFT - 1.6).max(1.0);
        let range = format!(
            "over {} up to {}",
            hours_label(i as f64 * bw),
            hours_label((i + 1) as f64 * bw)
        );
        let hp = pass[i] as f64 * per;
        bar(
            &mut s,
            x,
            w,
            y0,
            hp,
            PASS_FILL,
            &format!("{range}: {} on time", pass[i]),
        );
        bar(
            &mut s,
            x,
            w,
            y0 - hp,
            late[i] as f64 * per,
            EXC_FILL,
            &format!("{range}: {} exception(s)", late[i]),
        );
    }
    // X axis and ticks.
    let _ = write!(
        s,
        r#"<line x1="{LEFT}" y1="{y0}" x2="{:.1}" y2="{y0}" stroke="{INK}" stroke-width="1"/>"#,
        W - RIGHT
    );
    for t in 0..=ticks as usize {
        let h = t as f64 * step;
        let x = px(h);
        let _ = write!(
            s,
            r#"<line x1="{x:.1}" y1="{y0}" x2="{x:.1}" y2="{:.1}" stroke="{INK}" stroke-width="1"/><text x="{x:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="{INK}">{}</text>"#,
            y0 + 4.0,
            y0 + 15.0,
            esc(&hours_label(h))
        );
    }
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" font-size="10.5" text-anchor="end" fill="{INK}">hours from start to end</text>"#,
        W - RIGHT,
        y0 + 28.0
    );
    if let Some(l) = limit {
        let x = px(l);
        let _ = write!(
            s,
            r#"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{y0}" stroke="{INK}" stroke-width="1.6" stroke-dasharray="5 3"/><text x="{x:.1}" y="{:.1}" font-size="10.5" font-weight="bold" text-anchor="middle" fill="{INK}">limit {}</text>"#,
            TOP - 6.0,
            TOP - 10.0,
            esc(&hours_label(l))
        );
    }
    let n_late = hours.iter().filter(|(_, e)| *e).count();
    let n_ok = hours.len() - n_late;
    legend(
        &mut s,
        &[
            (PASS_FILL, format!("on time ({n_ok})")),
            (EXC_FILL, format!("late: exception ({n_late})")),
        ],
    );
    s.push_str("</svg>");

    let mut sorted: Vec<f64> = hours.iter().map(|(h, _)| *h).collect();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
    let max = sorted.last().copied().unwrap_or(0.0);
    let not_drawn = c.population.saturating_sub(hours.len() as u64);
    let mut caption = format!(
        "{} record(s) with both a start and an end: median {} h, longest {} h; {} after the limit.",
        hours.len(),
        fmt1(median),
        fmt1(max),
        n_late
    );
    match (limit, c.limit.as_deref()) {
        (Some(_), _) => {}
        (None, Some(l)) => {
            let _ = write!(
                caption,
                " The limit ({l}) is counted on the wall clock, so no single line in hours applies; bars show each record's verdict."
            );
        }
        (None, None) => {}
    }
    if not_drawn > 0 {
        let _ = write!(
            caption,
            " Not drawn: {not_drawn} record(s) with no end yet or not evaluable (see the exceptions and pending items)."
        );
    }
    if negative > 0 {
        let _ = write!(
            caption,
            " {negative} record(s) end before they start and are drawn at 0 h."
        );
    }
    Some(Chart {
        svg: one_element_per_line(&s),
        caption,
    })
}

fn fmt1(h: f64) -> String {
    format!("{h:.1}")
}

/// The instant an exception is dated by for the month chart: the earliest instant
/// among the values the check used (the declaration of a late notice, the first phase
/// of an out-of-order lifecycle, the due date of an overdue finding), else its due date.
///
/// `RecordResult` does not carry the instant that placed the record in the period, so
/// an exception whose check used no instant (e.g. a required field left blank) has no
/// date and is counted as undated in the caption.
pub fn exception_instant(r: &RecordResult) -> Option<Ts> {
    r.values
        .iter()
        .filter_map(|(_, v)| crate::parse_instant(v).ok())
        .min()
        .or_else(|| r.due().and_then(|d| crate::parse_instant(d).ok()))
}

/// (year, month) of an instant, in UTC.
fn ym(t: Ts) -> (i32, u32) {
    use chrono::Datelike;
    let d = t.to_utc();
    (d.year(), d.month())
}

fn next_month((y, m): (i32, u32)) -> (i32, u32) {
    if m == 12 { (y + 1, 1) } else { (y, m + 1) }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Exceptions (record x check) by month of the period. `None` when there is nothing to
/// place on a time axis.
pub fn exceptions_by_month(a: &Assessment) -> Option<Chart> {
    let mut dated: Vec<Ts> = Vec::new();
    let mut undated = 0u64;
    for c in &a.checks {
        for r in c.records.iter().filter(|r| r.counts_as_exception) {
            match exception_instant(r) {
                Some(t) => dated.push(t),
                None => undated += 1,
            }
        }
    }
    let first = a
        .period
        .start
        .or_else(|| dated.iter().min().copied())
        .map(ym);
    let last = a
        .period
        .end
        .map(|e| Ts(e.0 - 1))
        .or_else(|| dated.iter().max().copied())
        .map(ym);
    let (Some(first), Some(last)) = (first, last) else {
        return None;
    };
    let mut months = vec![first];
    while months.len() < 240 && months.last().is_some_and(|m| *m < last) {
        let n = next_month(*months.last()?);
        months.push(n);
    }
    let mut counts = vec![0u64; months.len()];
    let mut outside = 0u64;
    for t in &dated {
        match months.iter().position(|m| *m == ym(*t)) {
            Some(i) => counts[i] += 1,
            None => outside += 1,
        }
    }
    let max_count = counts.iter().copied().max().unwrap_or(0).max(1);
    let mut s = String::new();
    svg_open(&mut s, "Exceptions by month over the period");
    let per = y_axis(&mut s, max_count);
    let y0 = H - BOTTOM;
    let plot_w = W - LEFT - RIGHT;
    let slot = plot_w / months.len() as f64;
    let label_every = (months.len() as f64 / 14.0).ceil().max(1.0) as usize;
    for (i, ((y, m), n)) in months.iter().zip(&counts).enumerate() {
        let x = LEFT + i as f64 * slot;
        let name = MONTHS.get(*m as usize - 1).copied().unwrap_or("?");
        let h = *n as f64 * per;
        bar(
            &mut s,
            x + slot * 0.15,
            slot * 0.7,
            y0,
            h,
            EXC_FILL,
            &format!("{name} {y}: {n} exception(s)"),
        );
        if *n > 0 {
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="{INK}">{n}</text>"#,
                x + slot / 2.0,
                y0 - h - 3.0
            );
        }
        if i % label_every == 0 {
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="{INK}">{name}</text><text x="{:.1}" y="{:.1}" font-size="9" text-anchor="middle" fill="{INK}">{y}</text>"#,
                x + slot / 2.0,
                y0 + 14.0,
                x + slot / 2.0,
                y0 + 25.0
            );
        }
    }
    let _ = write!(
        s,
        r#"<line x1="{LEFT}" y1="{y0}" x2="{:.1}" y2="{y0}" stroke="{INK}" stroke-width="1"/>"#,
        W - RIGHT
    );
    s.push_str("</svg>");
    let total = dated.len() as u64 + undated;
    let mut caption = format!(
        "{total} exception(s) (a record that fails several checks counts once per check), by the month (UTC) of the earliest instant the check used for the record (e.g. the declaration of a late notice), or else its due date."
    );
    if outside > 0 {
        let _ = write!(
            caption,
            " {outside} dated outside the period (e.g. a finding due before it) are not drawn."
        );
    }
    if undated > 0 {
        let _ = write!(
            caption,
            " {undated} with no date to place them by are not drawn."
        );
    }
    Some(Chart {
        svg: one_element_per_line(&s),
        caption,
    })
}

/// Buckets of the findings-aging chart: days past (or before) the due date.
const AGE_BUCKETS: &[(&str, i64, i64, bool)] = &[
    ("overdue > 90 d", 90, i64::MAX, true),
    ("overdue 31-90 d", 31, 90, true),
    ("overdue 1-30 d", 1, 30, true),
    ("due in 0-30 d", -30, 0, false),
    ("due in 31-90 d", -90, -31, false),
    ("due in > 90 d", i64::MIN, -91, false),
];

/// Open findings at as-of by how far past (or before) their due date they are, with
/// their median age. `None` when no finding is open.
pub fn findings_aging(a: &Assessment) -> Option<Chart> {
    if a.open_findings.is_empty() {
        return None;
    }
    const DAY: i64 = 24 * NANOS_PER_HOUR;
    let mut counts = vec![0u64; AGE_BUCKETS.len() + 1];
    let mut ages: Vec<i64> = Vec::new();
    for f in &a.open_findings {
        if let Some(c) = f.created_at {
            ages.push((a.as_of.0 - c.0).div_euclid(DAY));
        }
        let slot = match f.due_at {
            None => AGE_BUCKETS.len(),
            Some(d) => {
                // Whole days past due (positive) or left (negative), rounded up when past.
                let past = a.as_of.0 - d.0;
                let days = if past > 0 {
                    (past + DAY - 1) / DAY
                } else {
                    -((-past) / DAY)
                };
                AGE_BUCKETS
                    .iter()
                    .position(|(_, lo, hi, _)| days >= *lo && days <= *hi)
                    .unwrap_or(AGE_BUCKETS.len())
            }
        };
        if let Some(c) = counts.get_mut(slot) {
            *c += 1;
        }
    }
    let max_count = counts.iter().copied().max().unwrap_or(0).max(1);
    let mut s = String::new();
    svg_open(
        &mut s,
        "Open findings by days past or before their due date",
    );
    let per = y_axis(&mut s, max_count);
    let y0 = H - BOTTOM;
    let plot_w = W - LEFT - RIGHT;
    let slot = plot_w / counts.len() as f64;
    for (i, n) in counts.iter().enumerate() {
        let (label, overdue) = match AGE_BUCKETS.get(i) {
            Some((l, _, _, o)) => (*l, *o),
            None => ("no due date", true),
        };
        let x = LEFT + i as f64 * slot;
        let h = *n as f64 * per;
        let fill = if overdue { EXC_FILL } else { PASS_FILL };
        bar(
            &mut s,
            x + slot * 0.15,
            slot * 0.7,
            y0,
            h,
            fill,
            &format!("{label}: {n} open finding(s)"),
        );
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="{INK}">{n}</text><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="{INK}">{}</text>"#,
            x + slot / 2.0,
            y0 - h - 3.0,
            x + slot / 2.0,
            y0 + 14.0,
            esc(label)
        );
    }
    let _ = write!(
        s,
        r#"<line x1="{LEFT}" y1="{y0}" x2="{:.1}" y2="{y0}" stroke="{INK}" stroke-width="1"/>"#,
        W - RIGHT
    );
    legend(
        &mut s,
        &[
            (EXC_FILL, "past due, or no due date".to_string()),
            (PASS_FILL, "not yet due".to_string()),
        ],
    );
    s.push_str("</svg>");
    ages.sort_unstable();
    let overdue: u64 = counts.iter().take(3).sum::<u64>() + counts.last().copied().unwrap_or(0);
    let median = ages
        .get(ages.len() / 2)
        .map(|d| format!(" Median age of the open findings: {d} days."))
        .unwrap_or_default();
    Some(Chart {
        svg: one_element_per_line(&s),
        caption: format!(
            "{} finding(s) open at as-of; {overdue} past due or without a due date.{median}",
            a.open_findings.len()
        ),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn exact_limits_parse_from_span_text() {
        assert_eq!(exact_limit_hours("72 h 00 min"), Some(72.0));
        assert_eq!(exact_limit_hours("30 d 00 h"), Some(720.0));
        assert_eq!(exact_limit_hours("1 h 30 min"), Some(1.5));
        assert_eq!(exact_limit_hours("45 min 00 s"), Some(0.75));
        assert_eq!(exact_limit_hours("3 calendar days"), None);
        assert_eq!(exact_limit_hours("5 business days"), None);
        assert_eq!(exact_limit_hours(""), None);
    }

    #[test]
    fn svg_text_is_escaped() {
        assert_eq!(
            esc(r#"<script>"a"&'b'</script>"#),
            "&lt;script&gt;&quot;a&quot;&amp;&#39;b&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn steps_read_well() {
        assert_eq!(nice_step(100.0, 6.0), 24.0);
        assert_eq!(nice_step(5.0, 6.0), 1.0);
        assert_eq!(count_step(3), 1);
        assert_eq!(count_step(40), 10);
    }
}
