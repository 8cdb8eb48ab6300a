//! `report.html`: the auditor's report, rendered with askama from
//! `src/report/templates/report.html` (see `askama.toml`).
//!
//! One self-contained file: inline CSS, inline SVG charts (see `charts`), no scripts,
//! fonts or images fetched from anywhere. Every text taken from evidence or catalogs is
//! escaped by askama's HTML escaper; only the chart markup built by `charts` (which
//! escapes its own text) is inserted as is. Deterministic: no wall clock, everything
//! in assessment order.
//!
//! This module turns the `Assessment` into a view model of plain strings and numbers,
//! so the template has no logic beyond loops and conditions.

use std::collections::BTreeMap;

use askama::Template;

use super::charts::{self, Chart};
use super::{FailOn, Gate};
use crate::assess::{Assessment, CheckResult, ControlStatus, RecordResult};
use crate::rules::Verdict;
use crate::time::{NANOS_PER_HOUR, Ts, format_elapsed};
use crate::waivers::WaiverRef;

/// Shown when a record has no management response.
pub const NO_RESPONSE: &str = "(none)";

/// Shown on the cover when the settings file names no entity.
pub const NO_ENTITY: &str = "(entity not set)";

#[derive(Template)]
#[template(path = "report.html")]
struct Page {
    entity: String,
    entity_set: bool,
    version: &'static str,
    as_of: String,
    period: String,
    period_detail: String,
    gate_passed: bool,
    gate_policy: &'static str,
    gate_reasons: Vec<String>,
    totals: Totals,
    frameworks: Vec<FrameworkView>,
    inputs: Vec<InputView>,
    inputs_total: InputView,
    catalog: Vec<(String, String)>,
    period_rules: Vec<(String, String)>,
    rejected: Vec<RejectedView>,
    warnings: Vec<String>,
    exceptions: Vec<ExceptionGroup>,
    not_counted: Vec<ExceptionGroup>,
    pending: Vec<PendingView>,
    crosswalk: Vec<CrosswalkView>,
    deadline_charts: Vec<DeadlineChart>,
    month_chart: Option<Chart>,
    findings_chart: Option<Chart>,
}

struct Totals {
    records: u64,
    checks: usize,
    controls: usize,
    exceptions: u64,
    pending: u64,
    at_risk: u64,
}

struct FrameworkView {
    id: String,
    name: String,
    version: String,
    total: usize,
    effective: usize,
    exceptions: usize,
    not_tested: usize,
    manual: usize,
    error: usize,
    controls: Vec<ControlView>,
}

struct ControlView {
    id: String,
    title: String,
    status: &'static str,
    status_label: &'static str,
    result: String,
    waiver: String,
    rows: Vec<TestRow>,
    official: Option<OfficialView>,
}

/// A control's official text ("Official text (source, version)").
struct OfficialView {
    source: String,
    oscal_id: String,
    title: String,
    statement: String,
    /// (id and label, value)
    params: Vec<(String, String)>,
}

impl OfficialView {
    fn new(o: &crate::catalog::Official) -> OfficialView {
        OfficialView {
            source: o.source_label(),
            oscal_id: o.oscal_id.clone(),
            title: o.title.clone(),
            statement: o.statement.clone(),
            params: o
                .parameters
                .iter()
                .map(|p| {
                    let name = match &p.label {
                        Some(l) => format!("{} ({l})", p.id),
                        None => p.id.clone(),
                    };
                    (name, p.value.clone())
                })
                .collect(),
        }
    }
}

struct TestRow {
    check_id: String,
    check_title: String,
    test: String,
    population: String,
    count: String,
    result: String,
    result_class: &'static str,
}

struct InputView {
    path: String,
    sha256: String,
    tables: String,
    read: u64,
    evaluated: u64,
    out_of_period: u64,
    rejected: u64,
    reconciles: bool,
}

struct RejectedView {
    table: String,
    record_id: String,
    source: String,
    message: String,
}

struct ExceptionGroup {
    check_id: String,
    title: String,
    controls: String,
    rows: Vec<ExceptionRow>,
}

struct ExceptionRow {
    record_id: String,
    verdict: &'static str,
    verdict_class: &'static str,
    values: Vec<(String, String)>,
    message: String,
    response: String,
    has_response: bool,
    source_html: String,
    /// The verdict before a waiver (empty when not waived).
    raw_verdict: String,
    /// Which waiver, who approved it, until when (empty when none).
    waiver_note: String,
}

struct PendingView {
    check_id: String,
    record_id: String,
    status: &'static str,
    status_class: &'static str,
    due: String,
    left: String,
    message: String,
    source_html: String,
}

struct CrosswalkView {
    from: String,
    from_title: String,
    relation: String,
    to: String,
    to_title: String,
    note: String,
}

struct DeadlineChart {
    check_id: String,
    title: String,
    limit: String,
    chart: Chart,
}

/// Render report.html.
pub fn render(a: &Assessment, gate: &Gate) -> Vec<u8> {
    let page = build(a, gate);
    // Rendering into a String cannot fail for this template (no fallible filters); an
    // error would be a bug, reported in the file rather than as an empty report.
    match page.render() {
        Ok(s) => s.into_bytes(),
        Err(e) => {
            format!("<!doctype html><p>report.html could not be rendered: {e}</p>\n").into_bytes()
        }
    }
}

/// The audit period in words: dates when both ends are whole UTC days (end shown
/// inclusive), otherwise instants.
pub fn period_text(a: &Assessment) -> (String, String) {
    let day = 24 * NANOS_PER_HOUR;
    let whole = |t: Ts| t.0.rem_euclid(day) == 0;
    let date = |t: Ts| t.to_string().chars().take(10).collect::<String>();
    match (a.period.start, a.period.end) {
        (None, None) => (
            "all records (no period set)".into(),
            "No audit period was given: every record read is in scope.".into(),
        ),
        (s, e) => {
            let detail = format!(
                "From {} (included) up to {} (excluded), UTC.",
                s.map(|t| t.to_string())
                    .unwrap_or_else(|| "the earliest record".into()),
                e.map(|t| t.to_string())
                    .unwrap_or_else(|| "the latest record".into())
            );
            let all_whole = s.is_none_or(whole) && e.is_none_or(whole);
            let short = if all_whole {
                format!(
                    "{} to {}",
                    s.map(date).unwrap_or_else(|| "(open)".into()),
                    e.map(|t| date(Ts(t.0 - day)))
                        .unwrap_or_else(|| "(open)".into())
                )
            } else {
                format!(
                    "{} to {}",
                    s.map(|t| t.to_string()).unwrap_or_else(|| "(open)".into()),
                    e.map(|t| t.to_string()).unwrap_or_else(|| "(open)".into())
                )
            };
            (short, detail)
        }
    }
}

/// `file:line`, `file#/pointer`, or the file alone.
pub fn source_of(r: &RecordResult) -> String {
    match (r.line(), &r.pointer()) {
        (Some(l), _) if l > 0 => format!("{}:{l}", r.file),
        (_, Some(p)) => format!("{}#{p}", r.file),
        _ => r.file.to_string(),
    }
}

/// A path escaped for HTML, with a line-break opportunity after each `/`, so narrow
/// table cells break between folders rather than inside a file name.
pub fn breakable_path(p: &str) -> String {
    p.split('/')
        .map(charts::esc)
        .collect::<Vec<_>>()
        .join("/<wbr>")
}

/// The values a check used, in reading order: the clock first, then the rest by name.
pub fn ordered_values(v: &crate::assess::Values) -> Vec<(String, String)> {
    const FIRST: &[&str] = &["start", "end", "deadline", "elapsed", "limit", "time_left"];
    let mut out: Vec<(String, String)> = FIRST
        .iter()
        .filter_map(|k| v.get(k).map(|x| (k.replace('_', " "), x.to_string())))
        .collect();
    out.extend(
        v.iter()
            .filter(|(k, _)| !FIRST.contains(k))
            .map(|(k, x)| (k.to_string(), x.to_string())),
    );
    out
}

/// The population of a check in words: `incidents where data_breach = true`.
pub fn population_text(c: &CheckResult) -> String {
    let base = match &c.via {
        Some(via) => format!("{} reached from {via}", c.table),
        None => c.table.clone(),
    };
    match &c.filter {
        Some(f) => format!("{base} where {f}"),
        None => format!("all {base}"),
    }
}

/// The result of one check in SOC language.
pub fn check_result_sentence(c: &CheckResult) -> (String, &'static str) {
    let mut open = Vec::new();
    if c.pending > 0 {
        open.push(format!("{} pending", c.pending));
    }
    if c.at_risk > 0 {
        open.push(format!("{} at risk", c.at_risk));
    }
    let mut notes = Vec::new();
    if !open.is_empty() {
        notes.push(format!("{} at as-of", open.join(" and ")));
    }
    if c.waived > 0 {
        notes.push(format!("{} exception(s) waived by management", c.waived));
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({}.)", notes.join("; "))
    };
    if let Some(e) = &c.error {
        (format!("Not concluded: {e}."), "error")
    } else if c.exceptions_count > 0 {
        (
            format!(
                "Exceptions noted: {} of {}.{notes}",
                c.exceptions_count, c.population
            ),
            "exceptions",
        )
    } else if c.population == 0 {
        (
            "Not tested: the population was empty for the period.".into(),
            "not-tested",
        )
    } else {
        (format!("No exceptions noted.{notes}"), "effective")
    }
}

fn status_label(s: ControlStatus) -> &'static str {
    match s {
        ControlStatus::Effective => "Effective",
        ControlStatus::Exceptions => "Exceptions",
        ControlStatus::NotTested => "Not tested",
        ControlStatus::Manual => "Manual",
        ControlStatus::Error => "Error",
    }
}

fn verdict_label(v: Verdict) -> (&'static str, &'static str) {
    match v {
        Verdict::Pass => ("pass", "effective"),
        Verdict::Exception => ("exception", "exceptions"),
        Verdict::Pending => ("pending", "pending"),
        Verdict::AtRisk => ("at risk", "at-risk"),
        Verdict::NotEvaluable => ("not evaluable", "exceptions"),
        Verdict::Waived => ("waived", "waived"),
    }
}

/// Time left to a due date at as-of, in words.
pub fn time_left(due: Ts, as_of: Ts) -> String {
    let left = due.0 - as_of.0;
    if left < 0 {
        return format!("overdue by {}", format_elapsed(-left));
    }
    let h = left / NANOS_PER_HOUR;
    if h >= 48 {
        format!("{} d {:02} h", h / 24, h % 24)
    } else {
        format_elapsed(left)
    }
}

fn gate_policy(f: FailOn) -> &'static str {
    match f {
        FailOn::Exception => "--fail-on exception",
        FailOn::AtRisk => "--fail-on at-risk",
        FailOn::Never => "--fail-on never",
    }
}

/// A waiver in words, for the reader of a management response.
pub fn waiver_note(w: &WaiverRef) -> String {
    format!(
        "Waiver {}: {} Approved by {} on {}; expires {}.",
        w.id, w.reason, w.approver, w.approved_at, w.expires_at
    )
}

/// One exception row. `control_waivers` are the waivers of the controls this check
/// tests (a control waiver answers for every exception of its checks).
fn record_row(r: &RecordResult, control_waivers: &[(String, &WaiverRef)]) -> ExceptionRow {
    let (verdict, verdict_class) = verdict_label(r.verdict);
    let mut responses = Vec::new();
    let mut notes = Vec::new();
    if let Some(w) = &r.waiver {
        responses.push(w.response.clone());
        notes.push(waiver_note(w));
    } else {
        for (ctl, w) in control_waivers {
            responses.push(format!("For {ctl}: {}", w.response));
            notes.push(waiver_note(w));
        }
    }
    responses.retain(|s| !s.trim().is_empty());
    ExceptionRow {
        record_id: r.record_id().to_string(),
        verdict,
        verdict_class,
        raw_verdict: r
            .raw_verdict
            .map(|v| verdict_label(v).0.to_string())
            .unwrap_or_default(),
        values: ordered_values(&r.values),
        message: r.message().into_owned(),
        has_response: !responses.is_empty(),
        source_html: breakable_path(&source_of(r)),
        response: if responses.is_empty() {
            NO_RESPONSE.to_string()
        } else {
            responses.join(" ")
        },
        waiver_note: notes.join(" "),
    }
}

fn build(a: &Assessment, gate: &Gate) -> Page {
    let (period, period_detail) = period_text(a);
    let entity = a.entity.clone().filter(|e| !e.trim().is_empty());
    let checks: BTreeMap<&str, &CheckResult> =
        a.checks.iter().map(|c| (c.id.as_str(), c)).collect();

    // Controls that each check tests, and their waivers, for the exception tables.
    let mut control_waivers: BTreeMap<&str, Vec<(String, &WaiverRef)>> = BTreeMap::new();
    let mut tested_by: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for c in &a.controls {
        for k in &c.checks {
            if let Some(w) = &c.waiver {
                control_waivers
                    .entry(k.as_str())
                    .or_default()
                    .push((format!("{} {}", c.framework, c.id), w));
            }
            tested_by
                .entry(k.as_str())
                .or_default()
                .push(format!("{} {}", c.framework, c.id));
        }
    }

    let frameworks = a
        .frameworks
        .iter()
        .map(|(id, name, version)| {
            let mine: Vec<_> = a.controls.iter().filter(|c| &c.framework == id).collect();
            let count = |s: ControlStatus| mine.iter().filter(|c| c.status == s).count();
            FrameworkView {
                id: id.clone(),
                name: name.clone(),
                version: version.clone().unwrap_or_default(),
                total: mine.len(),
                effective: count(ControlStatus::Effective),
                exceptions: count(ControlStatus::Exceptions),
                not_tested: count(ControlStatus::NotTested),
                manual: count(ControlStatus::Manual),
                error: count(ControlStatus::Error),
                controls: mine
                    .iter()
                    .map(|c| ControlView {
                        id: c.id.clone(),
                        title: c.title.clone(),
                        status: c.status.as_str(),
                        status_label: status_label(c.status),
                        result: c.result.clone(),
                        waiver: c
                            .waiver
                            .as_ref()
                            .map(|w| {
                                format!("Management response: {} {}", w.response, waiver_note(w))
                            })
                            .unwrap_or_default(),
                        official: c.official.as_ref().map(OfficialView::new),
                        rows: if c.checks.is_empty() {
                            vec![TestRow {
                                check_id: String::new(),
                                check_title: "Manual control".into(),
                                test: format!(
                                    "Not tested by evidentia. To be attested by management: {}",
                                    c.manual
                                        .clone()
                                        .unwrap_or_else(|| "(no attestation described)".into())
                                ),
                                population: "Not applicable".into(),
                                count: String::new(),
                                result: "Management attestation required.".into(),
                                result_class: "manual",
                            }]
                        } else {
                            c.checks
                                .iter()
                                .filter_map(|k| checks.get(k.as_str()))
                                .map(|k| {
                                    let (result, result_class) = check_result_sentence(k);
                                    TestRow {
                                        check_id: k.id.clone(),
                                        check_title: k.title.clone(),
                                        test: k.test.clone(),
                                        population: population_text(k),
                                        count: format!(
                                            "{} record{}{}",
                                            k.population,
                                            if k.population == 1 { "" } else { "s" },
                                            if k.rejected > 0 {
                                                format!(
                                                    ", of which {} rejected input record(s)",
                                                    k.rejected
                                                )
                                            } else {
                                                String::new()
                                            }
                                        ),
                                        result,
                                        result_class,
                                    }
                                })
                                .collect()
                        },
                    })
                    .collect(),
            }
        })
        .collect();

    let inputs: Vec<InputView> = a
        .inputs
        .iter()
        .map(|i| InputView {
            path: i.path.clone(),
            sha256: i.sha256.clone(),
            tables: i.tables.join(", "),
            read: i.rows_read,
            evaluated: i.rows_evaluated,
            out_of_period: i.rows_out_of_period,
            rejected: i.rows_rejected,
            reconciles: i.rows_read == i.rows_evaluated + i.rows_out_of_period + i.rows_rejected,
        })
        .collect();
    let sum = |f: fn(&InputView) -> u64| inputs.iter().map(f).sum::<u64>();
    let inputs_total = InputView {
        path: "Total".into(),
        sha256: String::new(),
        tables: String::new(),
        read: sum(|i| i.read),
        evaluated: sum(|i| i.evaluated),
        out_of_period: sum(|i| i.out_of_period),
        rejected: sum(|i| i.rejected),
        reconciles: inputs.iter().all(|i| i.reconciles),
    };

    let mut tables: Vec<&str> = a
        .inputs
        .iter()
        .flat_map(|i| i.tables.iter().map(String::as_str))
        .collect();
    tables.sort_unstable();
    tables.dedup();
    let period_rules = tables
        .iter()
        .filter_map(|t| crate::evidence::tables::TABLES.iter().find(|d| d.name == *t))
        .map(|d| {
            (
                d.name.to_string(),
                if d.period_fields.is_empty() {
                    "no period field: every record read is in scope"
                        .to_string()
                } else {
                    format!(
                        "the first of {} that has a value; a record with none stays in scope (fail closed)",
                        d.period_fields.join(", ")
                    )
                },
            )
        })
        .collect();

    let rejected = a
        .rejected
        .iter()
        .map(|r| RejectedView {
            table: r.table.to_string(),
            record_id: r.record_id.clone().unwrap_or_else(|| "(no id)".into()),
            source: match (r.diagnostic.line, &r.diagnostic.pointer) {
                (Some(l), _) => format!("{}:{l}", r.diagnostic.file),
                (None, Some(p)) => format!("{}#{p}", r.diagnostic.file),
                (None, None) => r.diagnostic.file.clone(),
            },
            message: r.diagnostic.message.clone(),
        })
        .collect();

    let group = |c: &CheckResult, keep: &dyn Fn(&RecordResult) -> bool| -> Option<ExceptionGroup> {
        let rows: Vec<ExceptionRow> = c
            .records
            .iter()
            .filter(|r| keep(r))
            .map(|r| {
                record_row(
                    r,
                    control_waivers
                        .get(c.id.as_str())
                        .map(Vec::as_slice)
                        .unwrap_or(&[]),
                )
            })
            .collect();
        (!rows.is_empty()).then(|| ExceptionGroup {
            check_id: c.id.clone(),
            title: c.title.clone(),
            controls: tested_by
                .get(c.id.as_str())
                .map(|v| v.join("; "))
                .unwrap_or_default(),
            rows,
        })
    };
    let exceptions = a
        .checks
        .iter()
        .filter_map(|c| {
            group(c, &|r| {
                r.counts_as_exception || r.verdict == Verdict::Waived
            })
        })
        .collect();
    let not_counted = a
        .checks
        .iter()
        .filter_map(|c| {
            group(c, &|r| {
                !r.counts_as_exception
                    && !super::is_pending(r.verdict)
                    && r.verdict != Verdict::Waived
            })
        })
        .collect();

    let mut pending = Vec::new();
    for c in &a.checks {
        for r in c.records.iter().filter(|r| super::is_pending(r.verdict)) {
            let (status, status_class) = verdict_label(r.verdict);
            let due_ts = r.due().and_then(|d| crate::parse_instant(d).ok());
            pending.push(PendingView {
                check_id: c.id.clone(),
                record_id: r.record_id().to_string(),
                source_html: breakable_path(&source_of(r)),
                status,
                status_class,
                due: r.due().unwrap_or("(no due date)").to_string(),
                left: due_ts
                    .map(|d| time_left(d, a.as_of))
                    .unwrap_or_else(|| "(unknown)".into()),
                message: r.message().into_owned(),
            });
        }
    }
    // Most urgent first; ties in check and record order.
    pending.sort_by(|x, y| {
        (&x.due, &x.check_id, &x.record_id).cmp(&(&y.due, &y.check_id, &y.record_id))
    });

    let title_of = |fw: &str, id: &str| {
        a.controls
            .iter()
            .find(|c| c.framework == fw && c.id == id)
            .map(|c| c.title.clone())
            .unwrap_or_default()
    };
    let crosswalk = a
        .crosswalk
        .iter()
        .map(|m| CrosswalkView {
            from: format!("{} {}", m.from_framework, m.from),
            from_title: title_of(&m.from_framework, &m.from),
            relation: serde_json::to_value(m.relation)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            to: format!("{} {}", m.to_framework, m.to),
            to_title: title_of(&m.to_framework, &m.to),
            note: m.note.clone().unwrap_or_default(),
        })
        .collect();

    let deadline_charts = a
        .checks
        .iter()
        .filter(|c| c.rule == "deadline")
        .filter_map(|c| {
            charts::deadline_chart(c).map(|chart| DeadlineChart {
                check_id: c.id.clone(),
                title: c.title.clone(),
                limit: c.limit.clone().unwrap_or_default(),
                chart,
            })
        })
        .collect();

    Page {
        entity_set: entity.is_some(),
        entity: entity.unwrap_or_else(|| NO_ENTITY.to_string()),
        version: env!("CARGO_PKG_VERSION"),
        as_of: a.as_of.to_string(),
        period,
        period_detail,
        gate_passed: gate.passed,
        gate_policy: gate_policy(gate.fail_on),
        gate_reasons: gate.reasons.clone(),
        totals: Totals {
            records: gate.records_evaluated,
            checks: a.checks.len(),
            controls: a.controls.len(),
            exceptions: a.checks.iter().map(|c| c.exceptions_count).sum(),
            pending: a.checks.iter().map(|c| c.pending).sum(),
            at_risk: a.checks.iter().map(|c| c.at_risk).sum(),
        },
        frameworks,
        inputs,
        inputs_total,
        catalog: a.catalog_files.clone(),
        period_rules,
        rejected,
        warnings: a.warnings.iter().map(|d| d.to_string()).collect(),
        exceptions,
        not_counted,
        pending,
        crosswalk,
        deadline_charts,
        month_chart: charts::exceptions_by_month(a),
        findings_chart: charts::findings_aging(a),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn time_left_reads_in_days_beyond_two_days() {
        let h = NANOS_PER_HOUR;
        assert_eq!(time_left(Ts(47 * h + h / 3), Ts(0)), "47 h 20 min");
        assert_eq!(time_left(Ts(53 * h + h / 3), Ts(0)), "2 d 05 h");
        assert_eq!(time_left(Ts(391 * h), Ts(0)), "16 d 07 h");
        assert_eq!(time_left(Ts(0), Ts(2 * h)), "overdue by 2 h 00 min");
    }

    #[test]
    fn values_put_the_clock_first() {
        let v = crate::assess::Values::new(
            [
                ("limit", "72 h 00 min"),
                ("start", "s"),
                ("end", "e"),
                ("deadline", "d"),
                ("elapsed", "91 h 05 min"),
                ("audience", "customers"),
            ]
            .into_iter()
            .map(|(k, v)| (k, v.to_string()))
            .collect(),
        );
        let keys: Vec<String> = ordered_values(&v).into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            ["start", "end", "deadline", "elapsed", "limit", "audience"]
        );
    }
}
