//! The whole `check`: the demo catalog (controls/) and the demo sources.yaml
//! (evidence/sources.yaml) on a small generated evidence folder: four exports in
//! the demo's layout whose cells are drawn from pools of meaningful values (ids that
//! link, DST and leap-day times, naive times, impossible dates, value-map keys) or
//! are arbitrary text; rows may be ragged. Then every report is rendered.
//!
//! Checks: nothing is lost (inputs reconcile; per check the verdict counts add up to
//! the population; every non-passing record is listed) and control results add up;
//! the report does not depend on the outputs asked for, nor on reading the exports in
//! parallel parts with the incidents streamed.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use evidentia::assess::Period;
use evidentia::report::{self, FailOn};
use evidentia::rules::Verdict;
use evidentia::time::Ts;
use evidentia::{CheckOptions, run_check};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Clone, Copy)]
enum Col {
    Id(&'static str),
    Ref(&'static str),
    Time,
    Bool,
    Enum(&'static [&'static str]),
    Text,
}

use Col::*;

const SEV: &[&str] = &["SEV1", "SEV2", "SEV3", "SEV4", "sev1", "P1"];
const TYPE: &[&str] = &["Security Incident", "Security Event", "Other"];
const STATUS: &[&str] = &["Closed", "Open", "Investigating"];
const REPORTED: &[&str] = &["Monitoring", "Customer", "Internal", "Third party", "?"];
const AUDIENCE: &[&str] = &[
    "Affected customers",
    "Supervisory authority",
    "Executive team",
    "Press",
];
const STAGE: &[&str] = &["Initial notice", "Update", "Final report", "Draft"];
const PM_STATUS: &[&str] = &["Draft", "In Review", "Published", "Cancelled"];
const LAPSES: &[&str] = &[
    "technical",
    "process;communication",
    "manual-error; ;procedural",
    "",
];
const KIND: &[&str] = &["Bug", "Change Request", "Process", "Task"];
const F_STATUS: &[&str] = &["To Do", "In Progress", "Done", "Won't Do"];
const OWNER: &[&str] = &["a.khan", "Unassigned", "", "m.osei"];

const INCIDENTS: &[(&str, Col)] = &[
    ("Incident ID", Id("INC-")),
    ("Title", Text),
    ("Severity", Enum(SEV)),
    ("Type", Enum(TYPE)),
    ("Status", Enum(STATUS)),
    ("Service", Text),
    ("Reported By", Enum(REPORTED)),
    ("Incident Lead", Text),
    ("Detected At", Time),
    ("Escalated At", Time),
    ("Declared At", Time),
    ("Contained At", Time),
    ("Eradicated At", Time),
    ("Recovered At", Time),
    ("Resolved At", Time),
    ("Customer Impact", Bool),
    ("Personal Data Breach", Bool),
    ("Postmortem", Ref("PIR-")),
    ("Summary", Text),
    ("Slack Channel", Text),
];
const NOTIFICATIONS: &[(&str, Col)] = &[
    ("Notice ID", Id("COM-")),
    ("Incident Ref", Ref("INC-")),
    ("Recipient Group", Enum(AUDIENCE)),
    ("Stage", Enum(STAGE)),
    ("Channel", Text),
    ("Sent (UTC)", Time),
    ("Nature of Incident", Text),
    ("Impact on Users", Text),
    ("Mitigation", Text),
    ("Next Steps & Timeline", Text),
];
const POSTMORTEMS: &[(&str, Col)] = &[
    ("Review ID", Id("PIR-")),
    ("Incident", Ref("INC-")),
    ("Status", Enum(PM_STATUS)),
    ("Completed", Time),
    ("Timeline", Text),
    ("Technical Summary", Text),
    ("Participants", Text),
    ("Response Summary", Text),
    ("Lessons Learned", Text),
    ("Lapse Categories", Enum(LAPSES)),
];
const FINDINGS: &[(&str, Col)] = &[
    ("Key", Id("AI-")),
    ("Summary", Text),
    ("Issue Type", Enum(KIND)),
    ("Assignee", Enum(OWNER)),
    ("Created", Time),
    ("Due Date", Time),
    ("Status", Enum(F_STATUS)),
    ("Resolved", Time),
    ("Jira Issue", Text),
    ("Review", Ref("PIR-")),
];

/// Times as exports write them: offsets, Z, naive (the demo declares zones for some
/// files only), the postmortem pattern, dates, DST gaps and overlaps in New York and
/// Berlin, leap days, nanoseconds, impossible and out-of-range values.
const TIMES: &[&str] = &[
    "2025-03-04T06:12:00Z",
    "2025-03-05T06:12:00Z",
    "2025-03-07T06:12:00.000000001Z",
    "2025-03-09T02:30:00-05:00",
    "2025-03-30 02:30",
    "2025-10-26 02:30",
    "2025-11-02T01:30:00-04:00",
    "2025-11-02T01:30:00-05:00",
    "2024-02-29T12:00:00Z",
    "2024-02-29",
    "2025-02-29T00:00:00Z",
    "2025-04-30",
    "2025-06-30 23:59",
    "2025-05-14 15:22:00 +0200",
    "2025-03-14 14:00:00 +0000",
    "2025-07-01T00:00:00Z",
    "2025-06-28T00:00:00+14:00",
    "2025-06-30T23:59:59.999999999-12:00",
    "2026-03-31T12:00:00Z",
    "1677-09-21T00:12:43.145224192Z",
    "2262-04-11T23:47:16.854775807Z",
    "9999-12-31T23:59:59Z",
    "2025-01-01T24:00:00Z",
    "2025-13-01",
    "N/A",
    "",
];
const BOOLS: &[&str] = &["Yes", "No", "", "yes", "true", "N/A"];
const TEXTS: &[&str] = &[
    "",
    " ",
    "Credential stuffing",
    "=cmd|' /C calc'!A0",
    "a\nb",
    "\u{feff}x",
    "N/A",
];

#[derive(Debug, Arbitrary)]
enum Cell {
    Pool(u8),
    Raw(String),
}

#[derive(Debug, Arbitrary)]
struct Row {
    cells: Vec<Cell>,
    ragged: bool,
}

#[derive(Debug, Arbitrary)]
struct Input {
    incidents: Vec<Row>,
    notifications: Vec<Row>,
    postmortems: Vec<Row>,
    findings: Vec<Row>,
    as_of: u8,
    period: u8,
    keep_going: bool,
    fail_on: u8,
}

fn cell(col: Col, c: Option<&Cell>) -> String {
    let pick = |pool: &[&str], i: u8| {
        pool.get(usize::from(i) % pool.len())
            .copied()
            .unwrap_or("")
            .to_string()
    };
    match (col, c) {
        (_, None) => String::new(),
        (_, Some(Cell::Raw(s))) => s.clone(),
        (Id(p) | Ref(p), Some(Cell::Pool(i))) => {
            if i % 17 == 16 {
                String::new()
            } else {
                format!("{p}{}", i % 6)
            }
        }
        (Time, Some(Cell::Pool(i))) => pick(TIMES, *i),
        (Bool, Some(Cell::Pool(i))) => pick(BOOLS, *i),
        (Enum(pool), Some(Cell::Pool(i))) => pick(pool, *i),
        (Text, Some(Cell::Pool(i))) => pick(TEXTS, *i),
    }
}

fn csv(layout: &[(&str, Col)], rows: &[Row]) -> String {
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut out = String::from("\u{feff}");
    out.push_str(
        &layout
            .iter()
            .map(|(h, _)| q(h))
            .collect::<Vec<_>>()
            .join(","),
    );
    out.push_str("\r\n");
    for r in rows.iter().take(12) {
        let mut cells: Vec<String> = layout
            .iter()
            .enumerate()
            .map(|(i, (_, col))| q(&cell(*col, r.cells.get(i))))
            .collect();
        if r.ragged {
            cells.pop();
        }
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// The demo catalog's checks on incidents, notices, postmortems and findings (the
/// tables the demo exports fill), its calendars, and one framework naming them all:
/// a quarter of the whole catalog, so that a run takes milliseconds, not hundreds.
const CHECK_FILES: &[&str] = &[
    "checks/incident-response.yaml",
    "checks/notification.yaml",
    "checks/postmortem.yaml",
    "checks/findings.yaml",
    "checks/fedramp.yaml",
    "calendars/us-federal.yaml",
];

fn dirs() -> &'static (PathBuf, PathBuf) {
    static D: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    D.get_or_init(|| {
        let repo = fuzz_support::repo();
        let ev = fuzz_support::scratch("check/evidence");
        let sources =
            std::fs::read_to_string(repo.join("evidence/sources.yaml")).unwrap_or_default();
        std::fs::write(ev.join("sources.yaml"), sources).unwrap_or_default();
        let controls = fuzz_support::scratch("check/controls");
        let mut ids = Vec::new();
        for (i, f) in CHECK_FILES.iter().enumerate() {
            let text = std::fs::read_to_string(repo.join("controls").join(f)).unwrap_or_default();
            if f.starts_with("checks/") {
                ids.extend(
                    text.lines()
                        .filter_map(|l| l.strip_prefix("  - id: "))
                        .map(|s| s.trim().to_string()),
                );
            }
            std::fs::write(controls.join(format!("{i}.yaml")), text).unwrap_or_default();
        }
        let mut fw = String::from("frameworks:\n  - id: fuzz\n    name: Fuzz\n    controls:\n");
        for id in &ids {
            fw.push_str(&format!(
                "      - {{ id: {id}, title: t, checks: [{id}] }}\n"
            ));
        }
        std::fs::write(controls.join("framework.yaml"), fw).unwrap_or_default();
        (controls, ev)
    })
}

const AS_OF: &[&str] = &[
    "2025-07-01T00:00:00Z",
    "2026-03-31T12:00:00Z",
    "2025-03-05T06:12:00Z",
    "2025-11-02T06:30:00Z",
];

fuzz_target!(|inp: Input| {
    let (controls, ev) = dirs();
    for (name, layout, rows) in [
        ("incidents.csv", INCIDENTS, &inp.incidents),
        ("notifications.csv", NOTIFICATIONS, &inp.notifications),
        ("postmortems.csv", POSTMORTEMS, &inp.postmortems),
        ("findings.csv", FINDINGS, &inp.findings),
    ] {
        if std::fs::write(ev.join(name), csv(layout, rows)).is_err() {
            return;
        }
    }
    let as_of =
        evidentia::parse_instant(AS_OF[usize::from(inp.as_of) % AS_OF.len()]).unwrap_or(Ts(0));
    let period = match inp.period % 3 {
        0 => Period {
            start: None,
            end: None,
        },
        1 => evidentia::parse_period("2025-04-01..2026-03-31").unwrap_or(Period {
            start: None,
            end: None,
        }),
        _ => evidentia::parse_period("2025-03-05T06:12:00Z..2025-07-01T00:00:00Z").unwrap_or(
            Period {
                start: None,
                end: None,
            },
        ),
    };
    let opts = CheckOptions {
        controls: controls.clone(),
        sources: ev.join("sources.yaml"),
        data: None,
        as_of,
        period,
        frameworks: vec![],
        keep_going: inp.keep_going,
        fail_on: match inp.fail_on % 3 {
            0 => FailOn::Exception,
            1 => FailOn::AtRisk,
            _ => FailOn::Never,
        },
        allow_empty: false,
        entity: None,
        waivers: None,
        sample: None,
        progress: None,
        preset: None,
        severity: vec![],
        max_exceptions: None,
        remediations: true,
        open_findings: true,
    };
    let out = match run_check(&opts) {
        Ok(o) => o,
        Err(diags) => {
            assert!(!diags.is_empty(), "a failed run says why");
            assert!(
                !diags.iter().any(|d| d.file.contains("check/controls")),
                "the fuzz catalog does not load: {diags:?}"
            );
            fuzz_support::check_diagnostics(
                &diags,
                &[
                    "incidents.csv",
                    "notifications.csv",
                    "postmortems.csv",
                    "findings.csv",
                ],
            );
            return;
        }
    };
    fuzz_support::check_diagnostics(
        &out.diagnostics,
        &[
            "incidents.csv",
            "notifications.csv",
            "postmortems.csv",
            "findings.csv",
        ],
    );
    let a = &out.assessment;
    for i in &a.inputs {
        assert!(i.rows_rejected <= i.rows_read, "{i:?}");
        assert_eq!(
            i.rows_read,
            i.rows_evaluated + i.rows_out_of_period + i.rows_rejected,
            "{i:?}"
        );
    }
    for c in &a.checks {
        let count = |v: Verdict| c.records.iter().filter(|r| r.verdict == v).count() as u64;
        let exceptions = count(Verdict::Exception);
        let ne_counted = c
            .records
            .iter()
            .filter(|r| r.verdict == Verdict::NotEvaluable && r.counts_as_exception)
            .count() as u64;
        assert_eq!(
            c.population,
            c.passed + c.waived + c.pending + c.at_risk + exceptions + c.not_evaluable + c.rejected,
            "check {} counts do not add up: {c:?}",
            c.id
        );
        assert_eq!(
            c.exceptions_count,
            exceptions + ne_counted,
            "check {}",
            c.id
        );
        assert_eq!(
            c.records.len() as u64,
            c.population - c.passed,
            "check {}: a non-passing record is not listed",
            c.id
        );
        assert_eq!(count(Verdict::Pending), c.pending);
        assert_eq!(count(Verdict::AtRisk), c.at_risk);
    }
    for ctl in &a.controls {
        let sum: u64 = ctl
            .checks
            .iter()
            .filter_map(|id| a.checks.iter().find(|c| &c.id == id))
            .map(|c| c.exceptions_count)
            .sum();
        assert_eq!(ctl.exceptions, sum, "control {}", ctl.id);
    }
    let g = &out.gate;
    let _ = report::text::render(a, g);
    let json = report::json::render(a, g);
    // Asking for fewer outputs keeps fewer fields and frees the id indexes: it must
    // not change a verdict, a rejection or a count.
    let lean = CheckOptions {
        remediations: false,
        open_findings: false,
        ..opts.clone()
    };
    match run_check(&lean) {
        Ok(o) => assert!(
            report::json::render(&o.assessment, &o.gate) == json,
            "report.json depends on the outputs asked for"
        ),
        Err(d) => panic!("the run without the POA&M and the chart failed: {d:?}"),
    }
    // Every CSV read in small parallel blocks, the incidents streamed (judged part by
    // part as they are read, `evidentia::stream`): the same report. Without the POA&M
    // and the chart, the fields only a prejudged requirement reads are also freed
    // before the stream (`stream::prejudge`).
    for (o, what) in [(&opts, "with"), (&lean, "without")] {
        evidentia::evidence::read::tune(0, 61);
        let streamed = run_check(o);
        evidentia::evidence::read::tune_defaults();
        match streamed {
            Ok(s) => assert!(
                report::json::render(&s.assessment, &s.gate) == json,
                "report.json differs when the population is streamed {what} the POA&M and the chart ({:?})",
                s.streamed
            ),
            Err(d) => panic!("the streamed run {what} the POA&M and the chart failed: {d:?}"),
        }
    }
    let _ = report::csv::render(a);
    let _ = report::csv::render_ids(a);
    let _ = report::html::render(a, g);
    let _ = report::markdown::render(a, g);
    let _ = report::junit::render(a, g);
    let _ = report::oscal::render(a, g);
    let _ = report::oscal::render_poam(a, &out.remediations);
    let lines = report::locate::Lines::scan(a);
    let _ = report::sarif::render(a, g, &lines);
    let _ = report::annotations::render(a, g, &lines);
});
