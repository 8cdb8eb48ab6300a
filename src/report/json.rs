//! `report.json`: the stable, versioned machine contract (see docs/report-format.md).
//! Keys are sorted and records ordered, so the same inputs and as-of give the same
//! bytes.

use serde_json::{Value, json};

use super::{Gate, is_pending};
use crate::assess::Assessment;

/// Version of the report.json layout; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// The report as a JSON value.
pub fn to_value(a: &Assessment, gate: &Gate) -> Value {
    let checks: Vec<Value> = a
        .checks
        .iter()
        .map(|c| {
            let rec = |r: &crate::assess::RecordResult| {
                json!({
                    "record_id": r.record_id,
                    "table": r.table,
                    "file": r.file,
                    "line": r.line,
                    "pointer": r.pointer,
                    "verdict": r.verdict,
                    "message": r.message,
                    "values": r.values,
                    "due": r.due,
                    "time_left_seconds": is_pending(r.verdict).then(|| r.due.as_deref().and_then(|d| crate::parse_instant(d).ok()).map(|d| (d.0 - a.as_of.0) / 1_000_000_000)).flatten(),
                    "raw_verdict": r.raw_verdict,
                    "waiver": r.waiver,
                })
            };
            json!({
                "id": c.id,
                "title": c.title,
                "rule": c.rule,
                "severity": c.severity,
                "table": c.table,
                "via": c.via,
                "filter": c.filter,
                "test": c.test,
                "population": c.population,
                "passed": c.passed,
                "exceptions_count": c.exceptions_count,
                "not_evaluable": c.not_evaluable,
                "rejected": c.rejected,
                "waived": c.waived,
                "waived_items": c.records.iter().filter(|r| r.verdict == crate::rules::Verdict::Waived).map(rec).collect::<Vec<_>>(),
                "pending": c.pending,
                "at_risk": c.at_risk,
                "error": c.error,
                "sample": c.sample,
                "exceptions": c.records.iter().filter(|r| r.counts_as_exception).map(rec).collect::<Vec<_>>(),
                "pending_items": c.records.iter().filter(|r| is_pending(r.verdict)).map(rec).collect::<Vec<_>>(),
                "not_counted": c.records.iter().filter(|r| !r.counts_as_exception && !is_pending(r.verdict) && r.verdict != crate::rules::Verdict::Waived).map(rec).collect::<Vec<_>>(),
            })
        })
        .collect();
    let controls: Vec<Value> = a
        .controls
        .iter()
        .map(|c| {
            json!({
                "framework": c.framework,
                "id": c.id,
                "title": c.title,
                "status": c.status,
                "checks": c.checks,
                "exceptions": c.exceptions,
                "population": c.population,
                "result": c.result,
                "manual": c.manual,
                "waived": c.waived,
                "waiver": c.waiver,
            })
        })
        .collect();
    let mut statuses = std::collections::BTreeMap::new();
    for c in &a.controls {
        *statuses.entry(c.status.as_str()).or_insert(0u64) += 1;
    }
    json!({
        "schema_version": SCHEMA_VERSION,
        "tool": { "name": "evidentia", "version": env!("CARGO_PKG_VERSION") },
        "as_of": a.as_of.to_string(),
        "period": {
            "start": a.period.start.map(|t| t.to_string()),
            "end": a.period.end.map(|t| t.to_string()),
        },
        "frameworks": a.frameworks.iter().map(|(id, name, v)| json!({"id": id, "name": name, "version": v})).collect::<Vec<_>>(),
        "inputs": a.inputs,
        "catalog": a.catalog_files.iter().map(|(p, h)| json!({"path": p, "sha256": h})).collect::<Vec<_>>(),
        "checks": checks,
        "controls": controls,
        "rejected": a.rejected.iter().map(|r| json!({
            "table": r.table,
            "record_id": r.record_id,
            "file": r.diagnostic.file,
            "line": r.diagnostic.line,
            "pointer": r.diagnostic.pointer,
            "code": r.diagnostic.code,
            "message": r.diagnostic.message,
        })).collect::<Vec<_>>(),
        "warnings": a.warnings.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        "summary": {
            "verdicts": gate.records_evaluated,
            "rows_evaluated": a.inputs.iter().map(|i| i.rows_evaluated).sum::<u64>(),
            "not_evaluable": a.checks.iter().map(|c| c.not_evaluable).sum::<u64>(),
            "waived": a.checks.iter().map(|c| c.waived).sum::<u64>(),
            "controls": statuses,
            "exceptions": a.checks.iter().map(|c| c.exceptions_count).sum::<u64>(),
            "pending": a.checks.iter().map(|c| c.pending).sum::<u64>(),
            "at_risk": a.checks.iter().map(|c| c.at_risk).sum::<u64>(),
        },
        "gate": gate,
    })
}

/// Pretty JSON bytes with a trailing newline.
pub fn render(a: &Assessment, gate: &Gate) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(&to_value(a, gate)).unwrap_or_default();
    v.push(b'\n');
    v
}
