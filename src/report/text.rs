//! The terminal summary: inputs and reconciliation, each framework's controls with
//! their result, each check's tallies and its non-passing records, and the gate.

use std::fmt::Write;

use super::{Gate, is_pending};
use crate::assess::{Assessment, ControlStatus};

/// How many records per check the summary lists (all are in report.json and
/// exceptions.csv).
pub const MAX_LISTED: usize = 20;

/// Render the summary.
pub fn render(a: &Assessment, gate: &Gate) -> String {
    let mut s = String::new();
    let period = match (a.period.start, a.period.end) {
        (None, None) => "all records".to_string(),
        (st, en) => format!(
            "{} .. {} (end excluded)",
            st.map(|t| t.to_string()).unwrap_or_else(|| "(open)".into()),
            en.map(|t| t.to_string()).unwrap_or_else(|| "(open)".into())
        ),
    };
    let _ = writeln!(
        s,
        "evidentia {} | as of {} | period: {period}",
        env!("CARGO_PKG_VERSION"),
        a.as_of
    );
    let _ = writeln!(s, "\nInputs (read = evaluated + out of period + rejected):");
    for i in &a.inputs {
        let _ = writeln!(
            s,
            "  {:<40} {:>7} read {:>7} evaluated {:>5} out of period {:>5} rejected  [{}]{}",
            i.path,
            i.rows_read,
            i.rows_evaluated,
            i.rows_out_of_period,
            i.rows_rejected,
            i.tables.join(", "),
            if i.rows_superseded > 0 {
                format!(
                    " {} superseded by later updates (latest_by)",
                    i.rows_superseded
                )
            } else {
                String::new()
            }
        );
    }
    for (fid, name, version) in &a.frameworks {
        let _ = writeln!(
            s,
            "\n{name}{} [{fid}]",
            version
                .as_ref()
                .map(|v| format!(", version {v}"))
                .unwrap_or_default()
        );
        for c in a.controls.iter().filter(|c| &c.framework == fid) {
            let tag = match c.status {
                ControlStatus::Effective => "effective ",
                ControlStatus::Exceptions => "EXCEPTIONS",
                ControlStatus::NotTested => "not tested",
                ControlStatus::Manual => "manual    ",
                ControlStatus::Error => "ERROR     ",
            };
            let _ = writeln!(s, "  {tag}  {:<10} {}  {}", c.id, c.title, c.result);
        }
    }
    let _ = writeln!(s, "\nChecks:");
    for c in &a.checks {
        let _ = writeln!(
            s,
            "  {:<34} {:<11} {:>6} tested {:>6} pass {:>5} exceptions ({} not evaluable, {} rejected) {:>4} pending {:>4} at risk{}",
            c.id,
            c.rule,
            c.population,
            c.passed,
            c.exceptions_count,
            c.not_evaluable,
            c.rejected,
            c.pending,
            c.at_risk,
            if c.waived > 0 {
                format!(" {:>4} waived", c.waived)
            } else {
                String::new()
            }
        );
        if let Some(e) = &c.error {
            let _ = writeln!(s, "      error: {e}");
        }
        if let Some(sm) = &c.sample {
            let _ = writeln!(s, "      sample: {} ({})", sm.text, sm.file);
        }
        for r in c.records.iter().take(MAX_LISTED) {
            let loc = match (r.line(), &r.pointer()) {
                (Some(l), _) => format!("{}:{l}", r.file),
                (None, Some(p)) => format!("{} {p}", r.file),
                (None, None) => r.file.to_string(),
            };
            let mark = if r.counts_as_exception
                || is_pending(r.verdict)
                || r.verdict == crate::rules::Verdict::Waived
            {
                r.verdict.as_str()
            } else {
                "note"
            };
            let _ = writeln!(
                s,
                "      {mark:<13} {:<14} {loc}  {}",
                r.record_id(),
                r.message()
            );
        }
        if c.records.len() > MAX_LISTED {
            let _ = writeln!(
                s,
                "      ... and {} more (see report.json / exceptions.csv)",
                c.records.len() - MAX_LISTED
            );
        }
    }
    // Every at-risk deadline, soonest first, with the time left (the per-check lists
    // above stop at MAX_LISTED records).
    let mut risk: Vec<(&str, &crate::assess::RecordResult)> = a
        .checks
        .iter()
        .flat_map(|c| {
            c.records
                .iter()
                .filter(|r| r.verdict == crate::rules::Verdict::AtRisk)
                .map(move |r| (c.id.as_str(), r))
        })
        .collect();
    risk.sort_by(|x, y| {
        (&x.1.due(), x.0, &x.1.record_id()).cmp(&(&y.1.due(), y.0, &y.1.record_id()))
    });
    if !risk.is_empty() {
        let _ = writeln!(s, "\nAt risk (deadline inside its warning window):");
        for (check, r) in risk {
            let left = super::junit::time_left(r, a).unwrap_or_default();
            let _ = writeln!(
                s,
                "  due {}  {left:>14} left  {check:<34} {:<14} {}",
                r.due().unwrap_or("?"),
                r.record_id(),
                super::junit::where_is(r)
            );
        }
    }
    if !a.warnings.is_empty() {
        let _ = writeln!(s, "\nWarnings:");
        for w in &a.warnings {
            let _ = writeln!(s, "  {w}");
        }
    }
    let _ = writeln!(
        s,
        "\nGate (--fail-on {}): {}",
        match gate.fail_on {
            super::FailOn::Exception => "exception",
            super::FailOn::AtRisk => "at-risk",
            super::FailOn::Never => "never",
        },
        if gate.passed { "PASSED" } else { "FAILED" }
    );
    for r in &gate.reasons {
        let _ = writeln!(s, "  {r}");
    }
    s
}
