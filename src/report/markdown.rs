//! `summary.md`: the result in GitHub-flavoured Markdown, for a CI step summary
//! (`$GITHUB_STEP_SUMMARY`) or a pull-request comment: the gate, each framework's
//! controls, the first exceptions with `file:line`, and the pending deadlines.
//!
//! Text from evidence and catalogs is escaped so it cannot add Markdown structure,
//! HTML, links or `@mentions`.

use std::fmt::Write;

use super::html::{period_text, source_of, time_left};
use super::{FailOn, Gate, is_pending};
use crate::assess::{Assessment, ControlStatus};

/// How many exceptions (and pending items) summary.md lists; all are in
/// report.html, report.json and exceptions.csv.
pub const MAX_LISTED: usize = 15;

/// Escape text for a Markdown table cell or line: no HTML, no emphasis, links, code
/// spans, table pipes, mentions or line breaks.
pub fn md(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '@' => o.push_str("&#64;"),
            '|' => o.push_str("\\|"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '~' | '!' => {
                o.push('\\');
                o.push(c);
            }
            '\r' | '\n' | '\t' => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

fn status_cell(s: ControlStatus) -> &'static str {
    match s {
        ControlStatus::Effective => "✅ effective",
        ControlStatus::Exceptions => "❌ exceptions",
        ControlStatus::NotTested => "⚪ not tested",
        ControlStatus::Manual => "📝 manual",
        ControlStatus::Error => "⚠️ error",
    }
}

/// Render summary.md.
pub fn render(a: &Assessment, gate: &Gate) -> Vec<u8> {
    let mut s = String::new();
    let policy = match gate.fail_on {
        FailOn::Exception => "exception",
        FailOn::AtRisk => "at-risk",
        FailOn::Never => "never",
    };
    let _ = writeln!(
        s,
        "## evidentia: gate {} (`--fail-on {policy}`)\n",
        if gate.passed {
            "✅ passed"
        } else {
            "❌ failed"
        }
    );
    let exceptions: u64 = a.checks.iter().map(|c| c.exceptions_count).sum();
    let pending: u64 = a.checks.iter().map(|c| c.pending).sum();
    let at_risk: u64 = a.checks.iter().map(|c| c.at_risk).sum();
    let waived: u64 = a.checks.iter().map(|c| c.waived).sum();
    let (period, _) = period_text(a);
    let _ = writeln!(
        s,
        "{}period {} · as of {} · {} verdicts · **{exceptions} exception(s)**, {waived} waived, {pending} pending, {at_risk} at risk\n",
        a.entity
            .as_deref()
            .filter(|e| !e.trim().is_empty())
            .map(|e| format!("**{}** · ", md(e)))
            .unwrap_or_default(),
        md(&period),
        a.as_of,
        gate.records_evaluated
    );
    if !gate.reasons.is_empty() {
        for r in &gate.reasons {
            let _ = writeln!(s, "- {}", md(r));
        }
        s.push('\n');
    }
    for (fid, name, version) in &a.frameworks {
        let _ = writeln!(
            s,
            "### {}{}\n",
            md(name),
            version
                .as_deref()
                .map(|v| format!(" ({})", md(v)))
                .unwrap_or_default()
        );
        let _ = writeln!(
            s,
            "| Control | Title | Status | Result |\n|---|---|---|---|"
        );
        for c in a.controls.iter().filter(|c| &c.framework == fid) {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                md(&c.id),
                md(&c.title),
                status_cell(c.status),
                md(&c.result)
            );
        }
        s.push('\n');
    }
    let listed: Vec<_> = a
        .checks
        .iter()
        .flat_map(|c| {
            c.records
                .iter()
                .filter(|r| r.counts_as_exception)
                .map(move |r| (c, r))
        })
        .collect();
    if !listed.is_empty() {
        let _ = writeln!(s, "### Exceptions\n");
        let _ = writeln!(
            s,
            "| Check | Record | Source | Exception |\n|---|---|---|---|"
        );
        for (c, r) in listed.iter().take(MAX_LISTED) {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                md(&c.id),
                md(r.record_id()),
                md(&source_of(r)),
                md(&r.message())
            );
        }
        if listed.len() > MAX_LISTED {
            let _ = writeln!(
                s,
                "\n… and {} more in `report.html` and `exceptions.csv`.",
                listed.len() - MAX_LISTED
            );
        }
        s.push('\n');
    }
    let mut open: Vec<_> = a
        .checks
        .iter()
        .flat_map(|c| {
            c.records
                .iter()
                .filter(|r| is_pending(r.verdict))
                .map(move |r| (c, r))
        })
        .collect();
    open.sort_by(|x, y| {
        (&x.1.due(), &x.0.id, &x.1.record_id()).cmp(&(&y.1.due(), &y.0.id, &y.1.record_id()))
    });
    if !open.is_empty() {
        let _ = writeln!(s, "### Pending and at risk\n");
        let _ = writeln!(
            s,
            "| Due | Time left | Status | Check | Record | Source |\n|---|---|---|---|---|---|"
        );
        for (c, r) in open.iter().take(MAX_LISTED) {
            let left = r
                .due()
                .and_then(|d| crate::parse_instant(d).ok())
                .map(|d| time_left(d, a.as_of))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                md(r.due().unwrap_or("")),
                md(&left),
                r.verdict.as_str(),
                md(&c.id),
                md(r.record_id()),
                md(&source_of(r))
            );
        }
        if open.len() > MAX_LISTED {
            let _ = writeln!(s, "\n… and {} more.", open.len() - MAX_LISTED);
        }
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "<sub>evidentia {} · full report in `report.html`; hashes in `manifest.json` and `SHA256SUMS` (`evidentia verify`).</sub>",
        env!("CARGO_PKG_VERSION")
    );
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_text_is_inert() {
        assert_eq!(
            md("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(md("a|b"), "a\\|b");
        assert_eq!(md("@team"), "&#64;team");
        assert_eq!(md("[x](http://e)"), "\\[x\\](http://e)");
        assert_eq!(md("line\nbreak"), "line break");
        assert_eq!(md("due_at *x*"), "due\\_at \\*x\\*");
    }
}
