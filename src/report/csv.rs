//! `exceptions.csv`: the auditor's workpaper, one row per non-passing record
//! (exceptions, not-evaluable, pending and at-risk), formula cells neutralised.

use super::safe_cell;
use crate::assess::Assessment;

/// Header of exceptions.csv.
pub const HEADER: &[&str] = &[
    "check_id",
    "record_id",
    "table",
    "file",
    "line",
    "verdict",
    "counts_as_exception",
    "due",
    "message",
    "raw_verdict",
    "waiver_id",
    "management_response",
];

/// Render exceptions.csv.
pub fn render(a: &Assessment) -> Vec<u8> {
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let _ = w.write_record(HEADER);
    for c in &a.checks {
        for r in &c.records {
            let line = r
                .line()
                .map(|l| l.to_string())
                .or_else(|| r.pointer().map(str::to_string))
                .unwrap_or_default();
            let message = r.message();
            let row = [
                c.id.as_str(),
                r.record_id(),
                r.table,
                &r.file,
                line.as_str(),
                r.verdict.as_str(),
                if r.counts_as_exception {
                    "true"
                } else {
                    "false"
                },
                r.due().unwrap_or(""),
                &message,
                r.raw_verdict.map(|v| v.as_str()).unwrap_or(""),
                r.waiver.as_ref().map(|w| w.id.as_str()).unwrap_or(""),
                r.waiver.as_ref().map(|w| w.response.as_str()).unwrap_or(""),
            ];
            let _ = w.write_record(row.iter().map(|s| safe_cell(s)));
        }
    }
    w.into_inner().unwrap_or_default()
}

/// Render exception-ids.csv: `check_id,record_id`, one row per counted exception.
pub fn render_ids(a: &Assessment) -> Vec<u8> {
    let mut w = ::csv::WriterBuilder::new().from_writer(Vec::new());
    let _ = w.write_record(["check_id", "record_id"]);
    for c in &a.checks {
        for r in c.records.iter().filter(|r| r.counts_as_exception) {
            let _ = w.write_record([c.id.as_str(), r.record_id()]);
        }
    }
    w.into_inner().unwrap_or_default()
}
