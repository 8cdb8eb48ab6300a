//! GitHub Actions annotations: workflow commands (`::error file=F,line=L,title=T::msg`)
//! that GitHub shows on the run and beside the export's lines. `::error` for records of
//! a check that fails the gate, `::warning` for at-risk deadlines (with the time left)
//! and for exceptions the gate tolerates; one closing line for the gate. Printed on
//! standard output by the binary when `GITHUB_ACTIONS=true` or `--annotations github`.

use std::fmt::Write;

use super::Gate;
use super::locate::Lines;
use crate::assess::Assessment;
use crate::catalog::Severity;
use crate::rules::Verdict;

/// Annotations per level written in full; the rest are counted in one line (GitHub
/// shows at most 10 of each level per step and 50 per job).
pub const MAX_PER_LEVEL: usize = 50;

/// Escape a message (`%`, CR, LF).
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a property value (also `:` and `,`).
fn prop(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Render the workflow commands, one per line.
pub fn render(a: &Assessment, gate: &Gate, lines: &Lines) -> String {
    let mut errors: Vec<String> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    for c in &a.checks {
        if c.severity == Severity::Allow {
            continue;
        }
        let failing = gate.fails(&c.id);
        for r in &c.records {
            let (is_error, text) = match r.verdict {
                Verdict::AtRisk => {
                    let left = super::junit::time_left(r, a)
                        .map(|l| format!(" ({l} left)"))
                        .unwrap_or_default();
                    (
                        failing && gate.fail_on == super::FailOn::AtRisk,
                        format!(
                            "{} at risk: due {}{left}. {}",
                            r.record_id(),
                            r.due().unwrap_or("?"),
                            r.message()
                        ),
                    )
                }
                _ if r.counts_as_exception => (
                    failing,
                    format!("{} exception: {}", r.record_id(), r.message()),
                ),
                _ => continue,
            };
            let mut props = vec![format!("file={}", prop(&r.file))];
            if let Some(l) = lines.line_of(r) {
                props.push(format!("line={l}"));
            }
            props.push(format!("title={}", prop(&format!("{}: {}", c.id, c.title))));
            let line = format!("{}::{}", props.join(","), data(&text));
            if is_error {
                errors.push(line);
            } else {
                warnings.push(line);
            }
        }
    }
    let mut s = String::new();
    for (level, items) in [("error", &errors), ("warning", &warnings)] {
        for l in items.iter().take(MAX_PER_LEVEL) {
            let _ = writeln!(s, "::{level} {l}");
        }
        if items.len() > MAX_PER_LEVEL {
            let _ = writeln!(
                s,
                "::{level}::{} more {level}(s) not annotated; every record is in report.json and exceptions.csv",
                items.len() - MAX_PER_LEVEL
            );
        }
    }
    let summary = if gate.passed {
        format!(
            "evidentia gate passed ({} verdicts)",
            gate.records_evaluated
        )
    } else {
        let shown: Vec<&str> = gate.reasons.iter().take(5).map(String::as_str).collect();
        format!(
            "evidentia gate failed: {}{}",
            shown.join("; "),
            if gate.reasons.len() > 5 {
                format!(
                    "; and {} more reason(s) in report.json",
                    gate.reasons.len() - 5
                )
            } else {
                String::new()
            }
        )
    };
    let _ = writeln!(
        s,
        "::{} title=evidentia gate::{}",
        if gate.passed { "notice" } else { "error" },
        data(&summary)
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_escaping() {
        assert_eq!(data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(prop("a:b,c"), "a%3Ab%2Cc");
    }
}
