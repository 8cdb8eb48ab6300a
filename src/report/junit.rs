//! `junit.xml`: the gate as a test report for CI systems (GitLab, Jenkins, Azure,
//! GitHub test-report actions). One test suite for the checks and one per framework;
//! one test case per check and per control. A test case fails exactly when its result
//! fails the gate, and the failure lists the exceptions with their file and line;
//! non-gating exceptions and at-risk deadlines (with the time left) are written to the
//! test case's `system-out`; empty populations and manual controls are `skipped`.

use std::fmt::Write;

use super::{Gate, is_pending};
use crate::assess::{Assessment, CheckResult, ControlStatus, RecordResult};
use crate::rules::Verdict;

/// File name in `--out`.
pub const FILE: &str = "junit.xml";

/// Records listed per failure or note; the rest are counted (all are in report.json).
pub const MAX_LISTED: usize = 500;

/// Text safe in XML 1.0 content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\t' | '\n' | '\r' => o.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

/// `file:line`, `file (at /pointer)` or the file alone.
pub fn where_is(r: &RecordResult) -> String {
    match (r.line(), &r.pointer()) {
        (Some(l), _) => format!("{}:{l}", r.file),
        (None, Some(p)) => format!("{} (at {p})", r.file),
        (None, None) => r.file.to_string(),
    }
}

/// Time left until a record's due date at as-of, in words (`10 h 00 min left`).
pub fn time_left(r: &RecordResult, a: &Assessment) -> Option<String> {
    let due = crate::parse_instant(r.due()?).ok()?;
    Some(super::html::time_left(due, a.as_of))
}

/// One line per record: verdict, id, location, message (and due date when pending).
fn record_line(r: &RecordResult, a: &Assessment) -> String {
    let due = match (is_pending(r.verdict), &r.due()) {
        (true, Some(d)) => format!(
            " [due {d}, {}]",
            time_left(r, a)
                .map(|t| format!("{t} left"))
                .unwrap_or_default()
        ),
        _ => String::new(),
    };
    format!(
        "{} {} {}: {}{due}",
        r.verdict.as_str(),
        r.record_id(),
        where_is(r),
        r.message()
    )
}

fn listing<'a>(rs: impl Iterator<Item = &'a RecordResult>, a: &Assessment) -> String {
    let all: Vec<&RecordResult> = rs.collect();
    let mut s = String::new();
    for r in all.iter().take(MAX_LISTED) {
        let _ = writeln!(s, "{}", record_line(r, a));
    }
    if all.len() > MAX_LISTED {
        let _ = writeln!(
            s,
            "... and {} more (see report.json)",
            all.len() - MAX_LISTED
        );
    }
    s
}

enum Outcome {
    Pass,
    Failure {
        kind: &'static str,
        message: String,
        body: String,
    },
    Error {
        message: String,
    },
    Skipped {
        message: String,
    },
}

struct Case {
    class: String,
    name: String,
    outcome: Outcome,
    out: String,
}

fn check_case(c: &CheckResult, a: &Assessment, gate: &Gate) -> Case {
    let exceptions = || c.records.iter().filter(|r| r.counts_as_exception);
    let at_risk = || c.records.iter().filter(|r| r.verdict == Verdict::AtRisk);
    let fails = gate.fails(&c.id);
    let mut out = String::new();
    let outcome = if fails && c.exceptions_count > 0 {
        Outcome::Failure {
            kind: "exception",
            message: format!(
                "{} exception(s) in {} record(s) tested",
                c.exceptions_count, c.population
            ),
            body: listing(exceptions(), a),
        }
    } else if fails && c.error.is_some() {
        Outcome::Error {
            message: c.error.clone().unwrap_or_default(),
        }
    } else if fails && c.at_risk > 0 {
        Outcome::Failure {
            kind: "at-risk",
            message: format!("{} deadline(s) at risk (--fail-on at-risk)", c.at_risk),
            body: listing(at_risk(), a),
        }
    } else if c.population == 0 {
        Outcome::Skipped {
            message: c
                .error
                .clone()
                .unwrap_or_else(|| "not tested: the population was empty".into()),
        }
    } else {
        Outcome::Pass
    };
    // What the gate tolerates is still shown: exceptions of warn/allow checks (or
    // within --max-exceptions), and at-risk deadlines with the time left.
    if !fails && c.exceptions_count > 0 {
        let _ = writeln!(
            out,
            "{} exception(s), not failing the gate (severity {}):",
            c.exceptions_count,
            serde_json::to_value(c.severity)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default()
        );
        out.push_str(&listing(exceptions(), a));
    }
    if c.at_risk > 0 && !(fails && c.exceptions_count == 0 && c.error.is_none()) {
        let _ = writeln!(out, "{} deadline(s) at risk:", c.at_risk);
        out.push_str(&listing(at_risk(), a));
    }
    Case {
        class: "evidentia.checks".into(),
        name: format!("{}: {}", c.id, c.title),
        outcome,
        out,
    }
}

fn control_case(fw: &str, c: &crate::assess::ControlResult, a: &Assessment, gate: &Gate) -> Case {
    let failing: Vec<&String> = c.checks.iter().filter(|id| gate.fails(id)).collect();
    let mut out = String::new();
    let outcome = match c.status {
        ControlStatus::Manual => Outcome::Skipped {
            message: format!(
                "manual control: {}",
                c.manual
                    .as_deref()
                    .unwrap_or("management attestation required")
            ),
        },
        ControlStatus::NotTested => Outcome::Skipped {
            message: c.result.clone(),
        },
        _ if !failing.is_empty() => {
            let mut body = String::new();
            for id in &failing {
                if let Some(ch) = a.checks.iter().find(|x| &&x.id == id) {
                    let _ = writeln!(
                        body,
                        "check {}: {} exception(s) of {}{}",
                        ch.id,
                        ch.exceptions_count,
                        ch.population,
                        ch.error
                            .as_ref()
                            .map(|e| format!("; could not run: {e}"))
                            .unwrap_or_default()
                    );
                }
            }
            if c.status == ControlStatus::Error {
                Outcome::Error {
                    message: c.result.clone(),
                }
            } else {
                Outcome::Failure {
                    kind: "exceptions",
                    message: c.result.clone(),
                    body,
                }
            }
        }
        _ => {
            if c.status != ControlStatus::Effective {
                let _ = writeln!(out, "{} (not failing the gate)", c.result);
            }
            Outcome::Pass
        }
    };
    let at_risk: Vec<String> = c
        .checks
        .iter()
        .filter_map(|id| a.checks.iter().find(|x| &x.id == id))
        .filter(|x| x.at_risk > 0)
        .map(|x| format!("check {}: {} deadline(s) at risk", x.id, x.at_risk))
        .collect();
    for l in at_risk {
        let _ = writeln!(out, "{l}");
    }
    Case {
        class: format!("evidentia.{fw}"),
        name: format!("{}: {}", c.id, c.title),
        outcome,
        out,
    }
}

fn suite(s: &mut String, name: &str, cases: &[Case], a: &Assessment) {
    let count = |f: fn(&Outcome) -> bool| cases.iter().filter(|c| f(&c.outcome)).count();
    let _ = writeln!(
        s,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"0\" timestamp=\"{}\">",
        esc(name),
        cases.len(),
        count(|o| matches!(o, Outcome::Failure { .. })),
        count(|o| matches!(o, Outcome::Error { .. })),
        count(|o| matches!(o, Outcome::Skipped { .. })),
        esc(a.as_of.to_string().trim_end_matches('Z')),
    );
    for c in cases {
        let _ = write!(
            s,
            "    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
            esc(&c.class),
            esc(&c.name)
        );
        if matches!(c.outcome, Outcome::Pass) && c.out.is_empty() {
            s.push_str("/>\n");
            continue;
        }
        s.push_str(">\n");
        match &c.outcome {
            Outcome::Pass => {}
            Outcome::Failure {
                kind,
                message,
                body,
            } => {
                let _ = writeln!(
                    s,
                    "      <failure type=\"{kind}\" message=\"{}\">{}</failure>",
                    esc(message),
                    esc(body)
                );
            }
            Outcome::Error { message } => {
                let _ = writeln!(
                    s,
                    "      <error type=\"check-error\" message=\"{}\"/>",
                    esc(message)
                );
            }
            Outcome::Skipped { message } => {
                let _ = writeln!(s, "      <skipped message=\"{}\"/>", esc(message));
            }
        }
        if !c.out.is_empty() {
            let _ = writeln!(s, "      <system-out>{}</system-out>", esc(&c.out));
        }
        s.push_str("    </testcase>\n");
    }
    s.push_str("  </testsuite>\n");
}

/// Render junit.xml.
pub fn render(a: &Assessment, gate: &Gate) -> Vec<u8> {
    let checks: Vec<Case> = a.checks.iter().map(|c| check_case(c, a, gate)).collect();
    let mut suites: Vec<(String, Vec<Case>)> = vec![("evidentia checks".into(), checks)];
    for (fid, name, version) in &a.frameworks {
        let cases: Vec<Case> = a
            .controls
            .iter()
            .filter(|c| &c.framework == fid)
            .map(|c| control_case(fid, c, a, gate))
            .collect();
        let title = match version {
            Some(v) => format!("{fid}: {name} ({v})"),
            None => format!("{fid}: {name}"),
        };
        suites.push((title, cases));
    }
    let all: Vec<&Case> = suites.iter().flat_map(|(_, c)| c.iter()).collect();
    let n = |f: fn(&Outcome) -> bool| all.iter().filter(|c| f(&c.outcome)).count();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"evidentia gate: {}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"0\">",
        if gate.passed { "passed" } else { "failed" },
        all.len(),
        n(|o| matches!(o, Outcome::Failure { .. })),
        n(|o| matches!(o, Outcome::Error { .. })),
        n(|o| matches!(o, Outcome::Skipped { .. })),
    );
    for (name, cases) in &suites {
        suite(&mut s, name, cases, a);
    }
    s.push_str("</testsuites>\n");
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(esc("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(esc("x\u{1}y\nz"), "x\u{FFFD}y\nz");
    }
}
