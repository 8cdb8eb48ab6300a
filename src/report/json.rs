//! `report.json`: the stable, versioned machine contract (see docs/report-format.md).
//! Keys are sorted and records ordered, so the same inputs and as-of give the same
//! bytes.

use serde::Serialize;
use serde_json::{Value, json};

use super::{Gate, is_pending};
use crate::assess::{Assessment, CheckResult, RecordResult};
use crate::rules::Verdict;

/// Version of the report.json layout; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// One record as written in `report.json`. Fields are declared in key order: the
/// records are serialised straight from the assessment (a run can hold a hundred
/// thousand of them), and the bytes equal those of a sorted JSON map.
#[derive(Serialize)]
struct Rec<'a> {
    due: Option<&'a str>,
    file: &'a str,
    line: Option<u64>,
    message: std::borrow::Cow<'a, str>,
    pointer: Option<&'a str>,
    raw_verdict: Option<Verdict>,
    record_id: &'a str,
    table: &'a str,
    time_left_seconds: Option<i64>,
    values: &'a crate::assess::Values,
    verdict: Verdict,
    /// A JSON value, so that its keys are sorted.
    waiver: Option<Value>,
}

impl<'a> Rec<'a> {
    fn new(a: &Assessment, r: &'a RecordResult) -> Rec<'a> {
        Rec {
            due: r.due(),
            file: &r.file,
            line: r.line(),
            message: r.message(),
            pointer: r.pointer(),
            raw_verdict: r.raw_verdict,
            record_id: r.record_id(),
            table: r.table,
            time_left_seconds: is_pending(r.verdict)
                .then(|| {
                    r.due()
                        .and_then(|d| crate::parse_instant(d).ok())
                        .map(|d| (d.0 - a.as_of.0) / 1_000_000_000)
                })
                .flatten(),
            values: &r.values,
            verdict: r.verdict,
            waiver: r.waiver.as_deref().map(sorted),
        }
    }
}

/// The records of a check that pass a test, serialised as an array when written.
struct Recs<'a> {
    a: &'a Assessment,
    c: &'a CheckResult,
    keep: fn(&RecordResult) -> bool,
}

impl Serialize for Recs<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            self.c
                .records
                .iter()
                .filter(|r| (self.keep)(r))
                .map(|r| Rec::new(self.a, r)),
        )
    }
}

/// One check as written in `report.json` (fields in key order, as `Rec`).
#[derive(Serialize)]
struct CheckJson<'a> {
    at_risk: u64,
    error: &'a Option<String>,
    exceptions: Recs<'a>,
    exceptions_count: u64,
    filter: &'a Option<String>,
    id: &'a str,
    not_counted: Recs<'a>,
    not_evaluable: u64,
    passed: u64,
    pending: u64,
    pending_items: Recs<'a>,
    population: u64,
    rejected: u64,
    rule: &'a str,
    sample: Value,
    severity: crate::catalog::Severity,
    table: &'a str,
    test: &'a str,
    title: &'a str,
    via: &'a Option<String>,
    waived: u64,
    waived_items: Recs<'a>,
}

impl<'a> CheckJson<'a> {
    fn new(a: &'a Assessment, c: &'a CheckResult) -> CheckJson<'a> {
        let recs = |keep| Recs { a, c, keep };
        CheckJson {
            at_risk: c.at_risk,
            error: &c.error,
            exceptions: recs(|r| r.counts_as_exception),
            exceptions_count: c.exceptions_count,
            filter: &c.filter,
            id: &c.id,
            not_counted: recs(|r| {
                !r.counts_as_exception && !is_pending(r.verdict) && r.verdict != Verdict::Waived
            }),
            not_evaluable: c.not_evaluable,
            passed: c.passed,
            pending: c.pending,
            pending_items: recs(|r| is_pending(r.verdict)),
            population: c.population,
            rejected: c.rejected,
            rule: &c.rule,
            sample: sorted(&c.sample),
            severity: c.severity,
            table: &c.table,
            test: &c.test,
            title: &c.title,
            via: &c.via,
            waived: c.waived,
            waived_items: recs(|r| r.verdict == Verdict::Waived),
        }
    }
}

/// The whole report (fields in key order, as `Rec`); the small parts are JSON values.
#[derive(Serialize)]
struct Report<'a> {
    as_of: String,
    catalog: Value,
    checks: Vec<CheckJson<'a>>,
    controls: Value,
    frameworks: Value,
    gate: Value,
    inputs: Value,
    period: Value,
    rejected: Value,
    schema_version: u32,
    summary: Value,
    tool: Value,
    warnings: Vec<String>,
}

/// A value as a JSON value: its maps' keys sorted.
fn sorted<T: Serialize + ?Sized>(x: &T) -> Value {
    serde_json::to_value(x).unwrap_or_default()
}

fn report<'a>(a: &'a Assessment, gate: &'a Gate) -> Report<'a> {
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
    Report {
        as_of: a.as_of.to_string(),
        catalog: a
            .catalog_files
            .iter()
            .map(|(p, h)| json!({"path": p, "sha256": h}))
            .collect(),
        checks: a.checks.iter().map(|c| CheckJson::new(a, c)).collect(),
        controls: Value::Array(controls),
        frameworks: a
            .frameworks
            .iter()
            .map(|(id, name, v)| json!({"id": id, "name": name, "version": v}))
            .collect(),
        gate: sorted(gate),
        inputs: sorted(&a.inputs),
        period: json!({
            "start": a.period.start.map(|t| t.to_string()),
            "end": a.period.end.map(|t| t.to_string()),
        }),
        rejected: a
            .rejected
            .iter()
            .map(|r| {
                json!({
                    "table": r.table,
                    "record_id": r.record_id,
                    "file": r.diagnostic.file,
                    "line": r.diagnostic.line,
                    "pointer": r.diagnostic.pointer,
                    "code": r.diagnostic.code,
                    "message": r.diagnostic.message,
                })
            })
            .collect(),
        schema_version: SCHEMA_VERSION,
        summary: json!({
            "verdicts": gate.records_evaluated,
            "rows_evaluated": a.inputs.iter().map(|i| i.rows_evaluated).sum::<u64>(),
            "not_evaluable": a.checks.iter().map(|c| c.not_evaluable).sum::<u64>(),
            "waived": a.checks.iter().map(|c| c.waived).sum::<u64>(),
            "controls": statuses,
            "exceptions": a.checks.iter().map(|c| c.exceptions_count).sum::<u64>(),
            "pending": a.checks.iter().map(|c| c.pending).sum::<u64>(),
            "at_risk": a.checks.iter().map(|c| c.at_risk).sum::<u64>(),
        }),
        tool: json!({ "name": "evidentia", "version": env!("CARGO_PKG_VERSION") }),
        warnings: a.warnings.iter().map(|d| d.to_string()).collect(),
    }
}

/// Pretty JSON bytes with a trailing newline.
pub fn render(a: &Assessment, gate: &Gate) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(&report(a, gate)).unwrap_or_default();
    v.push(b'\n');
    v
}
