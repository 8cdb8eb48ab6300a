//! `results.sarif`: SARIF 2.1.0 for code-scanning dashboards (GitHub code scanning,
//! GitLab, Azure DevOps). Rules are the checks; each result is one record of a check
//! that is an exception, at risk, or waived (as a suppressed result), located at the
//! export file and line where the record starts. Levels follow the gate: `error` for
//! records of a check that fails it, `warning` for exceptions it tolerates (severity
//! warn, within `--max-exceptions`, `--fail-on never`) and for at-risk deadlines
//! (with the time left), `note` for checks of severity allow.

use serde_json::{Value, json};

use super::Gate;
use super::locate::Lines;
use crate::assess::{Assessment, CheckResult, RecordResult};
use crate::catalog::Severity;
use crate::rules::Verdict;

/// File name in `--out`.
pub const FILE: &str = "results.sarif";

/// A path as a relative URI reference: `/` separators, reserved bytes percent-encoded.
pub fn uri(path: &str) -> String {
    let p = path.replace('\\', "/");
    let p = p.strip_prefix("./").unwrap_or(&p);
    let mut o = String::new();
    for b in p.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                o.push(b as char)
            }
            _ => o.push_str(&format!("%{b:02X}")),
        }
    }
    o
}

fn level(c: &CheckResult, r: &RecordResult, gate: &Gate) -> &'static str {
    let failing = gate.fails(&c.id);
    if c.severity == Severity::Allow {
        return "note";
    }
    match r.verdict {
        Verdict::AtRisk if failing && gate.fail_on == super::FailOn::AtRisk => "error",
        Verdict::AtRisk => "warning",
        _ if r.counts_as_exception && failing => "error",
        _ => "warning",
    }
}

fn result(
    c: &CheckResult,
    idx: usize,
    r: &RecordResult,
    a: &Assessment,
    gate: &Gate,
    lines: &Lines,
) -> Value {
    let left = super::junit::time_left(r, a);
    let text = match (r.verdict, &r.due(), &left) {
        (Verdict::AtRisk, Some(d), Some(l)) => format!(
            "{} {}: at risk, due {d} ({l} left): {}",
            c.id,
            r.record_id(),
            r.message()
        ),
        _ => format!("{} {}: {}", c.id, r.record_id(), r.message()),
    };
    let mut phys = json!({ "artifactLocation": { "uri": uri(&r.file) } });
    if let Some(l) = lines.line_of(r) {
        phys["region"] = json!({ "startLine": l });
    }
    let mut loc = json!({ "physicalLocation": phys });
    loc["logicalLocations"] = json!([{
        "name": r.record_id(),
        "fullyQualifiedName": format!("{}/{}", r.table, r.record_id()),
        "kind": "object",
    }]);
    let time_left_seconds = r
        .due()
        .and_then(|d| crate::parse_instant(d).ok())
        .map(|d| (d.0 - a.as_of.0) / 1_000_000_000);
    let mut v = json!({
        "ruleId": c.id,
        "ruleIndex": idx,
        "level": level(c, r, gate),
        "message": { "text": text },
        "locations": [loc],
        "partialFingerprints": { "evidentiaRecord/v1": format!("{}|{}|{}", c.id, r.table, r.record_id()) },
        "properties": {
            "record_id": r.record_id(),
            "table": r.table,
            "verdict": r.verdict,
            "pointer": r.pointer(),
            "due": r.due(),
            "time_left_seconds": time_left_seconds,
            "raw_verdict": r.raw_verdict,
        },
    });
    if let Some(w) = &r.waiver {
        v["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": format!("waiver {}", w.id),
        }]);
    }
    v
}

/// The SARIF log as a JSON value.
pub fn to_value(a: &Assessment, gate: &Gate, lines: &Lines) -> Value {
    let rules: Vec<Value> = a
        .checks
        .iter()
        .map(|c| {
            let controls: Vec<String> = a
                .controls
                .iter()
                .filter(|x| x.checks.contains(&c.id))
                .map(|x| format!("{}/{}", x.framework, x.id))
                .collect();
            json!({
                "id": c.id,
                "name": c.id,
                "shortDescription": { "text": c.title },
                "fullDescription": { "text": c.test },
                "defaultConfiguration": {
                    "level": match c.severity {
                        Severity::Deny => "error",
                        Severity::Warn => "warning",
                        Severity::Allow => "note",
                    },
                    "enabled": true,
                },
                "properties": {
                    "rule": c.rule,
                    "table": c.table,
                    "severity": c.severity,
                    "controls": controls,
                    "tags": ["compliance", "incident-response"],
                },
            })
        })
        .collect();
    let mut results = Vec::new();
    let mut notes = Vec::new();
    for (idx, c) in a.checks.iter().enumerate() {
        for r in &c.records {
            let keep = r.counts_as_exception
                || r.verdict == Verdict::AtRisk
                || r.verdict == Verdict::Waived;
            if keep {
                results.push(result(c, idx, r, a, gate, lines));
            }
        }
        if let Some(e) = &c.error {
            notes.push(json!({
                "level": if gate.fails(&c.id) { "error" } else { "warning" },
                "message": { "text": format!("check {} could not run: {e}", c.id) },
                "descriptor": { "id": c.id, "index": idx },
            }));
        }
    }
    let artifacts: Vec<Value> = a
        .inputs
        .iter()
        .map(|i| {
            json!({
                "location": { "uri": uri(&i.path) },
                "hashes": { "sha-256": i.sha256 },
                "roles": ["analysisTarget"],
            })
        })
        .collect();
    let mut log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "evidentia",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notes,
                "properties": {
                    "as_of": a.as_of.to_string(),
                    "gate_passed": gate.passed,
                    "gate_reasons": gate.reasons,
                },
            }],
            "artifacts": artifacts,
            "columnKind": "unicodeCodePoints",
            "results": [],
        }],
    });
    // Moved in, not copied by `json!` (one result per exception).
    if let Some(slot) = log.pointer_mut("/runs/0/results") {
        *slot = Value::Array(results);
    }
    log
}

/// Render results.sarif (pretty JSON, trailing newline).
pub fn render(a: &Assessment, gate: &Gate, lines: &Lines) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(&to_value(a, gate, lines)).unwrap_or_default();
    v.push(b'\n');
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_relative_uris() {
        assert_eq!(uri("./evidence/inc 1.csv"), "evidence/inc%201.csv");
        assert_eq!(uri("a\\b#c.json"), "a/b%23c.json");
    }
}
