//! Report stage: Assessment -> outputs. One file per format; the library never
//! prints, it returns bytes and the binary writes them.
//!
//! Outputs are deterministic: the same inputs and as-of give the same bytes (keys
//! sorted, records ordered by id, no wall-clock time, paths as given).

pub mod annotations;
pub mod charts;
pub mod csv;
pub mod html;
pub mod json;
pub mod junit;
pub mod locate;
pub mod manifest;
pub mod markdown;
pub mod oscal;
pub mod sarif;
pub mod text;

use serde::Serialize;

use crate::assess::Assessment;
use crate::rules::Verdict;

/// Output formats `--format` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// Terminal summary on standard output.
    Text,
    /// `report.json`.
    Json,
    /// `exceptions.csv`.
    Csv,
    /// `exception-ids.csv`: `check_id,record_id` of every record counted as an
    /// exception, for scripts and diffs.
    Ids,
    /// `report.html`: the auditor's report.
    Html,
    /// `summary.md`: for a CI step summary or a pull-request comment.
    Md,
    /// `assessment-results.json`: OSCAL assessment results.
    Oscal,
    /// `poam.json`: OSCAL plan of action and milestones for the open exceptions.
    Poam,
    /// `junit.xml`: one test case per control and per check, for CI test reports.
    Junit,
    /// `results.sarif`: SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
}

impl Format {
    /// Every format, in the order `all` writes them.
    pub const ALL: &'static [Format] = &[
        Format::Text,
        Format::Json,
        Format::Csv,
        Format::Ids,
        Format::Html,
        Format::Md,
        Format::Oscal,
        Format::Poam,
        Format::Junit,
        Format::Sarif,
    ];

    /// Parse one name.
    pub fn parse(s: &str) -> Option<Format> {
        match s.trim() {
            "text" => Some(Format::Text),
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "ids" => Some(Format::Ids),
            "html" => Some(Format::Html),
            "md" => Some(Format::Md),
            "oscal" => Some(Format::Oscal),
            "poam" => Some(Format::Poam),
            "junit" => Some(Format::Junit),
            "sarif" => Some(Format::Sarif),
            _ => None,
        }
    }

    /// The file written in `--out` (none for text).
    pub fn file_name(self) -> Option<&'static str> {
        match self {
            Format::Text => None,
            Format::Json => Some("report.json"),
            Format::Csv => Some("exceptions.csv"),
            Format::Ids => Some("exception-ids.csv"),
            Format::Html => Some("report.html"),
            Format::Md => Some("summary.md"),
            Format::Oscal => Some(oscal::AR_FILE),
            Format::Poam => Some(oscal::POAM_FILE),
            Format::Junit => Some(junit::FILE),
            Format::Sarif => Some(sarif::FILE),
        }
    }
}

/// When the gate fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum FailOn {
    /// Any exception in a `deny` check (default).
    Exception,
    /// Also any at-risk deadline in a `deny` check.
    AtRisk,
    /// Never: report only.
    Never,
}

/// The gate's decision.
#[derive(Debug, Clone, Serialize)]
pub struct Gate {
    /// Policy.
    pub fail_on: FailOn,
    /// Passed?
    pub passed: bool,
    /// Why it failed (or what it warns about).
    pub reasons: Vec<String>,
    /// Records judged in total.
    pub records_evaluated: u64,
    /// `--max-exceptions`: exceptions in `deny` checks tolerated in total.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_exceptions: Option<u64>,
    /// Checks whose results fail the gate (for per-check outputs: JUnit, SARIF,
    /// annotations).
    #[serde(skip)]
    pub failing: std::collections::BTreeSet<String>,
}

impl Gate {
    /// Does this check's result fail the gate?
    pub fn fails(&self, check: &str) -> bool {
        self.failing.contains(check)
    }
}

/// What the gate fails on: `--fail-on`, `--allow-empty`, `--max-exceptions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatePolicy {
    /// `--fail-on`.
    pub fail_on: FailOn,
    /// Pass even when no record was evaluated.
    pub allow_empty: bool,
    /// Fail on exceptions only when `deny` checks have more than this many in total.
    pub max_exceptions: Option<u64>,
}

/// Decide the gate.
pub fn gate(a: &Assessment, fail_on: FailOn, allow_empty: bool) -> Gate {
    gate_with(
        a,
        &GatePolicy {
            fail_on,
            allow_empty,
            max_exceptions: None,
        },
    )
}

/// Decide the gate under a policy.
pub fn gate_with(a: &Assessment, policy: &GatePolicy) -> Gate {
    use crate::catalog::Severity;
    let fail_on = policy.fail_on;
    let mut reasons = Vec::new();
    let mut failed = false;
    let mut failing = std::collections::BTreeSet::new();
    // Deny checks with exceptions: (id, count); they fail the gate unless
    // --max-exceptions tolerates their total.
    let mut denied: Vec<(&str, u64)> = Vec::new();
    for c in &a.checks {
        if c.severity == Severity::Allow {
            continue;
        }
        if c.severity == Severity::Warn {
            if c.exceptions_count > 0 {
                reasons.push(format!(
                    "warning: check `{}` has {} exception(s) (severity warn, not gating)",
                    c.id, c.exceptions_count
                ));
            }
            continue;
        }
        // Exceptions accepted by control waivers on every control the check tests do not
        // gate (per-record waivers are already out of `exceptions_count`).
        let mut controls = a
            .controls
            .iter()
            .filter(|x| x.checks.contains(&c.id))
            .peekable();
        let waived_by_controls = controls.peek().is_some() && controls.all(|x| x.waiver.is_some());
        if waived_by_controls && c.exceptions_count > 0 {
            reasons.push(format!(
                "check `{}`: {} exception(s) accepted by control waivers",
                c.id, c.exceptions_count
            ));
            continue;
        }
        if fail_on != FailOn::Never && c.exceptions_count > 0 {
            if policy.max_exceptions.is_none() {
                failed = true;
                failing.insert(c.id.clone());
                reasons.push(format!(
                    "check `{}`: {} exception(s)",
                    c.id, c.exceptions_count
                ));
            }
            denied.push((&c.id, c.exceptions_count));
        }
        if fail_on == FailOn::AtRisk && c.at_risk > 0 {
            failed = true;
            failing.insert(c.id.clone());
            reasons.push(format!(
                "check `{}`: {} at-risk deadline(s)",
                c.id, c.at_risk
            ));
        }
        if let Some(e) = &c.error
            && fail_on != FailOn::Never
        {
            failed = true;
            failing.insert(c.id.clone());
            reasons.push(format!("check `{}` could not run: {e}", c.id));
        }
    }
    let denied_total: u64 = denied.iter().map(|(_, n)| n).sum();
    if let Some(max) = policy.max_exceptions {
        if denied_total > max {
            for (id, n) in &denied {
                failed = true;
                failing.insert(id.to_string());
                reasons.push(format!("check `{id}`: {n} exception(s)"));
            }
            reasons.push(format!(
                "{denied_total} exception(s) in deny checks, more than --max-exceptions {max}"
            ));
        } else if denied_total > 0 {
            reasons.push(format!(
                "{denied_total} exception(s) in deny checks, within --max-exceptions {max}"
            ));
        }
    }
    let total = a.total_population();
    if total == 0 && !policy.allow_empty {
        failed = true;
        reasons.push(
            "no record was evaluated: every check's population is empty (check the period, the filters and the sources file)"
                .to_string(),
        );
    }
    Gate {
        fail_on,
        passed: !failed,
        reasons,
        records_evaluated: total,
        max_exceptions: policy.max_exceptions,
        failing,
    }
}

/// Neutralise a spreadsheet cell that would be read as a formula.
pub fn safe_cell(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

/// Does a verdict count towards "pending" items (pending or at risk)?
pub fn is_pending(v: Verdict) -> bool {
    matches!(v, Verdict::Pending | Verdict::AtRisk)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        for s in ["=HYPERLINK(\"x\")", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(safe_cell(s).starts_with('\''), "{s}");
        }
        assert_eq!(safe_cell("plain"), "plain");
        assert_eq!(safe_cell(""), "");
    }
}
