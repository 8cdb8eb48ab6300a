//! Rule kinds, control results and the gate, through the real binary: a small inline
//! fixture per rule kind and exact verdicts per record id read back from report.json.
//! As-of is 2025-07-01T00:00:00Z throughout.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::{Fixture, Run, catalog_with};

/// `[(id, verdict)]` as the map `Run::verdicts` returns.
fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// Assert a check's tallies: population, passed, exceptions_count, not_evaluable,
/// pending, at_risk.
fn tallies(r: &Run, check: &str, want: [u64; 6]) {
    let keys = [
        "population",
        "passed",
        "exceptions_count",
        "not_evaluable",
        "pending",
        "at_risk",
    ];
    let got: Vec<u64> = keys.iter().map(|k| r.count(check, k)).collect();
    assert_eq!(got, want.to_vec(), "{check}: {keys:?}\n{}", r.check(check));
}

fn message<'a>(r: &'a Run, check: &str, id: &str) -> &'a str {
    r.record(check, id)["message"].as_str().unwrap()
}

// ---------------------------------------------------------------------------
// deadline
// ---------------------------------------------------------------------------

const DEADLINE_CHECKS: &str = "  - id: notice-72h
    title: Customers notified within 72 hours of declaration
    rule: deadline
    population: { table: incidents, where: { data_breach: true } }
    start: declared_at
    end: { table: notifications, via: incident_id, where: { audience: customers }, pick: earliest, field: sent_at }
    within: 72h
    warn_before: 24h
  - id: notice-72h-lenient
    title: Same, a missing start is not counted
    rule: deadline
    not_evaluable: ignore
    population: { table: incidents, where: { data_breach: true } }
    start: declared_at
    end: { table: notifications, via: incident_id, where: { audience: customers }, pick: earliest, field: sent_at }
    within: 72h
    warn_before: 24h
  - id: resolved-5d
    title: Resolved within 5 days of declaration
    rule: deadline
    population: { table: incidents, where: { data_breach: false } }
    start: declared_at
    end: resolved_at
    within: 5d
";

const DEADLINE_INCIDENTS: &str = "\
id,declared_at,resolved_at,data_breach
D-EXACT,2025-01-01T00:00:00Z,,true
D-LATE,2025-01-01T00:00:00Z,,true
D-NEVER,2025-01-01T00:00:00Z,,true
D-REG,2025-01-01T00:00:00Z,,true
D-PEND,2025-06-30T00:00:00Z,,true
D-RISK,2025-06-28T12:00:00Z,,true
D-EDGE,2025-06-28T00:00:00Z,,true
D-NOSTART,,,true
R-FAST,2025-01-01T00:00:00Z,2025-01-06T00:00:00Z,false
R-SLOW,2025-01-01T00:00:00Z,2025-01-06T00:00:01Z,false
R-OPEN,2025-06-29T00:00:00Z,,false
";

const DEADLINE_NOTIFICATIONS: &str = "\
id,incident_id,audience,sent_at
N-1,D-EXACT,customers,2025-01-05T00:00:00Z
N-2,D-EXACT,customers,2025-01-04T02:00:00+02:00
N-3,D-LATE,customers,2025-01-04T00:00:00.001Z
N-4,D-REG,regulator,2025-01-01T01:00:00Z
";

const DEADLINE_SOURCES: &str = "\
tables:
  incidents:
    file: incidents.csv
  notifications:
    file: notifications.csv
";

fn deadline_fixture() -> Fixture {
    Fixture::with(
        &catalog_with(
            DEADLINE_CHECKS,
            &["notice-72h", "notice-72h-lenient", "resolved-5d"],
        ),
        DEADLINE_SOURCES,
        &[
            ("incidents.csv", DEADLINE_INCIDENTS),
            ("notifications.csv", DEADLINE_NOTIFICATIONS),
        ],
    )
}

#[test]
fn deadline_verdicts() {
    let r = deadline_fixture().run(&[]);
    r.assert_code(1);
    assert_eq!(
        r.verdicts("notice-72h"),
        map(&[
            ("D-EDGE", "at-risk"),
            ("D-LATE", "exception"),
            ("D-NEVER", "exception"),
            ("D-NOSTART", "not-evaluable"),
            ("D-PEND", "pending"),
            ("D-REG", "exception"),
            ("D-RISK", "at-risk"),
        ])
    );
    // D-EXACT passes: its earliest customer notice (N-2, another offset) is exactly
    // 72 h after declaration.
    tallies(&r, "notice-72h", [8, 1, 4, 1, 1, 2]);
    assert!(
        message(&r, "notice-72h", "D-LATE").contains("late by 1 ms"),
        "{}",
        message(&r, "notice-72h", "D-LATE")
    );
    let never = message(&r, "notice-72h", "D-NEVER");
    assert!(
        never.contains("deadline 2025-01-04T00:00:00Z passed"),
        "{never}"
    );
    assert!(message(&r, "notice-72h", "D-NOSTART").contains("declared_at is missing"));
    let risk = r.record("notice-72h", "D-RISK");
    assert_eq!(risk["due"], "2025-07-01T12:00:00Z");
    assert!(risk["message"].as_str().unwrap().contains("(at risk)"));
    assert_eq!(risk["values"]["time_left"], "12 h 00 min");
    assert_eq!(
        r.record("notice-72h", "D-PEND")["due"],
        "2025-07-03T00:00:00Z"
    );
    // A deadline exactly at as-of has not passed yet.
    assert_eq!(
        r.record("notice-72h", "D-EDGE")["due"],
        "2025-07-01T00:00:00Z"
    );
    let late = r.record("notice-72h", "D-LATE");
    assert_eq!(late["values"]["end"], "2025-01-04T00:00:00.001Z");
    assert_eq!(late["values"]["deadline"], "2025-01-04T00:00:00Z");
    assert!(late["line"] == 3 && late["table"] == "incidents", "{late}");

    // not_evaluable: ignore keeps the record visible but does not count it.
    tallies(&r, "notice-72h-lenient", [8, 1, 3, 1, 1, 2]);
    let lenient = r.check("notice-72h-lenient");
    let not_counted: Vec<&str> = lenient["not_counted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["record_id"].as_str().unwrap())
        .collect();
    assert_eq!(not_counted, ["D-NOSTART"]);

    // An end that is a field of the record itself, in calendar days.
    assert_eq!(
        r.verdicts("resolved-5d"),
        map(&[("R-OPEN", "pending"), ("R-SLOW", "exception")])
    );
    tallies(&r, "resolved-5d", [3, 1, 1, 0, 1, 0]);
    assert_eq!(r.control_status("fw", "C-notice-72h"), "exceptions");
}

#[test]
fn deadline_exceptions_csv_lists_every_non_pass_record() {
    let r = deadline_fixture().run(&[]);
    let csv = String::from_utf8(r.exceptions_csv.clone().unwrap()).unwrap();
    let mut rdr = ::csv::ReaderBuilder::new().from_reader(csv.as_bytes());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    // The leading columns are the workpaper's contract; later ones may be added.
    assert_eq!(
        header[..9],
        [
            "check_id",
            "record_id",
            "table",
            "file",
            "line",
            "verdict",
            "counts_as_exception",
            "due",
            "message"
        ]
    );
    assert!(csv.contains("\r\n"), "CRLF line ends");
    let rows: Vec<Vec<String>> = rdr
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    let notice: Vec<(&str, &str, &str)> = rows
        .iter()
        .filter(|r| r[0] == "notice-72h")
        .map(|r| (r[1].as_str(), r[5].as_str(), r[6].as_str()))
        .collect();
    assert_eq!(
        notice,
        [
            ("D-EDGE", "at-risk", "false"),
            ("D-LATE", "exception", "true"),
            ("D-NEVER", "exception", "true"),
            ("D-NOSTART", "not-evaluable", "true"),
            ("D-PEND", "pending", "false"),
            ("D-REG", "exception", "true"),
            ("D-RISK", "at-risk", "false"),
        ]
    );
    let late = rows
        .iter()
        .find(|r| r[0] == "notice-72h" && r[1] == "D-LATE")
        .unwrap();
    assert!(late[3].ends_with("incidents.csv"), "{late:?}");
    assert_eq!(late[4], "3");
}

// ---------------------------------------------------------------------------
// required
// ---------------------------------------------------------------------------

#[test]
fn required_plain_when_and_conditional() {
    let checks = "  - id: incident-record
    title: Title and severity recorded; steps while the investigation is open
    rule: required
    population: { table: incidents }
    fields: [title, severity]
    conditional:
      - fields: [steps_taken]
        when: { investigation_completed_at: null }
  - id: breach-facts
    title: Users affected recorded for breaches
    rule: required
    population: { table: incidents }
    fields: [users_affected]
    when: { data_breach: true }
";
    let incidents = "\
id,title,severity,investigation_completed_at,steps_taken,data_breach,users_affected
Q-DONE,t,sev1,2025-01-02T00:00:00Z,,false,
Q-OPEN-OK,t,sev2,,contained,true,10
Q-OPEN-MISSING,t,sev2,,,true,
Q-BLANK,\"  \",sev3,2025-01-02T00:00:00Z,,false,
Q-NOSEV,t,,,,false,
";
    let f = Fixture::with(
        &catalog_with(checks, &["incident-record", "breach-facts"]),
        "tables:\n  incidents:\n    file: incidents.csv\n",
        &[("incidents.csv", incidents)],
    );
    let r = f.run(&[]);
    r.assert_code(1);
    assert_eq!(
        r.verdicts("incident-record"),
        map(&[
            ("Q-BLANK", "exception"),
            ("Q-NOSEV", "exception"),
            ("Q-OPEN-MISSING", "exception"),
        ])
    );
    tallies(&r, "incident-record", [5, 2, 3, 0, 0, 0]);
    assert_eq!(
        message(&r, "incident-record", "Q-OPEN-MISSING"),
        "missing or blank: steps_taken"
    );
    assert_eq!(
        message(&r, "incident-record", "Q-NOSEV"),
        "missing or blank: severity, steps_taken"
    );
    assert_eq!(
        message(&r, "incident-record", "Q-BLANK"),
        "missing or blank: title"
    );
    assert_eq!(
        r.verdicts("breach-facts"),
        map(&[("Q-OPEN-MISSING", "exception")])
    );
    tallies(&r, "breach-facts", [5, 4, 1, 0, 0, 0]);
}

// ---------------------------------------------------------------------------
// allowed
// ---------------------------------------------------------------------------

#[test]
fn allowed_values_and_pattern() {
    let checks = "  - id: severity-scale
    title: Severity on the scale
    rule: allowed
    population: { table: incidents }
    field: severity
    values: [sev1, sev2, sev3]
  - id: intake-ref-shape
    title: Customer reports carry a support ticket
    rule: allowed
    population: { table: incidents, where: { reported_by: customer } }
    field: intake_ref
    pattern: \"^SUP-[0-9]+$\"
";
    let incidents = "\
id,severity,reported_by,intake_ref
A-1,sev1,customer,SUP-123
A-2,SEV1,customer,sup-9
A-3,sev4,internal,
A-4,,customer,
A-5,sev3,customer,SUP-12x
A-6,Critical,customer,xSUP-1
";
    let sources = "\
tables:
  incidents:
    file: incidents.csv
    values:
      severity: { Critical: sev1 }
";
    let f = Fixture::with(
        &catalog_with(checks, &["severity-scale", "intake-ref-shape"]),
        sources,
        &[("incidents.csv", incidents)],
    );
    let r = f.run(&[]);
    r.assert_code(1);
    // A-6 `Critical` is mapped to sev1 by sources.yaml; matching is case-sensitive.
    assert_eq!(
        r.verdicts("severity-scale"),
        map(&[
            ("A-2", "exception"),
            ("A-3", "exception"),
            ("A-4", "not-evaluable"),
        ])
    );
    tallies(&r, "severity-scale", [6, 3, 3, 1, 0, 0]);
    assert_eq!(
        message(&r, "severity-scale", "A-3"),
        "severity `sev4` is not one of [sev1, sev2, sev3]"
    );
    assert_eq!(message(&r, "severity-scale", "A-4"), "severity is missing");
    assert_eq!(
        r.verdicts("intake-ref-shape"),
        map(&[
            ("A-2", "exception"),
            ("A-4", "not-evaluable"),
            ("A-5", "exception"),
            ("A-6", "exception"),
        ])
    );
    tallies(&r, "intake-ref-shape", [5, 1, 4, 1, 0, 0]);
    assert!(message(&r, "intake-ref-shape", "A-5").contains("SUP-12x"));
}

// ---------------------------------------------------------------------------
// sequence
// ---------------------------------------------------------------------------

#[test]
fn sequence_missing_skip_and_strict() {
    let checks = "  - id: lifecycle
    title: Detected, declared, contained in order
    rule: sequence
    population: { table: incidents }
    fields: [detected_at, declared_at, contained_at]
  - id: lifecycle-skip
    title: Same, missing timestamps skipped
    rule: sequence
    population: { table: incidents }
    fields: [detected_at, declared_at, contained_at]
    missing: skip
  - id: lifecycle-strict
    title: Same, strictly increasing
    rule: sequence
    population: { table: incidents }
    fields: [detected_at, declared_at, contained_at]
    allow_equal: false
";
    let incidents = "\
id,detected_at,declared_at,contained_at
S-OK,2025-01-01T00:00:00Z,2025-01-01T01:00:00Z,2025-01-01T02:00:00Z
S-EQUAL,2025-01-01T00:00:00Z,2025-01-01T02:00:00+02:00,2025-01-01T03:00:00Z
S-BACK,2025-01-01T00:00:00Z,2025-01-01T01:00:00Z,2025-01-01T00:30:00Z
S-GAP,2025-01-01T00:00:00Z,,2025-01-01T02:00:00Z
S-GAP-BACK,2025-01-01T03:00:00Z,,2025-01-01T02:00:00Z
";
    let f = Fixture::with(
        &catalog_with(checks, &["lifecycle", "lifecycle-skip", "lifecycle-strict"]),
        "tables:\n  incidents:\n    file: incidents.csv\n",
        &[("incidents.csv", incidents)],
    );
    let r = f.run(&[]);
    r.assert_code(1);
    assert_eq!(
        r.verdicts("lifecycle"),
        map(&[
            ("S-BACK", "exception"),
            ("S-GAP", "not-evaluable"),
            ("S-GAP-BACK", "exception"),
        ])
    );
    tallies(&r, "lifecycle", [5, 2, 3, 1, 0, 0]);
    assert_eq!(
        message(&r, "lifecycle", "S-BACK"),
        "out of order: declared_at 2025-01-01T01:00:00Z is after contained_at 2025-01-01T00:30:00Z by 30 min 00 s"
    );
    assert_eq!(message(&r, "lifecycle", "S-GAP"), "missing: declared_at");
    // Skipping compares the neighbours across the gap.
    assert_eq!(
        r.verdicts("lifecycle-skip"),
        map(&[("S-BACK", "exception"), ("S-GAP-BACK", "exception")])
    );
    tallies(&r, "lifecycle-skip", [5, 3, 2, 0, 0, 0]);
    // Equal instants written with different offsets fail only the strict check.
    assert_eq!(
        r.verdicts("lifecycle-strict"),
        map(&[
            ("S-BACK", "exception"),
            ("S-EQUAL", "exception"),
            ("S-GAP", "not-evaluable"),
            ("S-GAP-BACK", "exception"),
        ])
    );
}

// ---------------------------------------------------------------------------
// linked
// ---------------------------------------------------------------------------

#[test]
fn linked_with_grace_period_and_min() {
    let checks = "  - id: postmortem-done
    title: Customer-impacting incidents have a completed postmortem within 30 days
    rule: linked
    population: { table: incidents, where: { customer_impacting: true } }
    related: { table: postmortems, via: incident_id, where: { status: complete } }
    start: resolved_at
    within: 30d
    warn_before: 168h
  - id: two-reviews
    title: At least two postmortems
    rule: linked
    population: { table: incidents, where: { customer_impacting: true } }
    related: { table: postmortems, via: incident_id }
    min: 2
";
    let incidents = "\
id,resolved_at,customer_impacting
L-DONE,2025-01-01T00:00:00Z,true
L-DRAFT,2025-01-01T00:00:00Z,true
L-NONE,2025-01-01T00:00:00Z,true
L-PEND,2025-06-25T00:00:00Z,true
L-RISK,2025-06-05T00:00:00Z,true
L-NORES,,true
L-TWO,2025-01-01T00:00:00Z,true
L-OUT,2025-01-01T00:00:00Z,false
";
    let postmortems = "\
id,incident_id,status
PM-1,L-DONE,complete
PM-2,L-DRAFT,draft
PM-3,L-TWO,draft
PM-4,L-TWO,complete
PM-5,L-OUT,draft
";
    let f = Fixture::with(
        &catalog_with(checks, &["postmortem-done", "two-reviews"]),
        "tables:\n  incidents:\n    file: incidents.csv\n  postmortems:\n    file: postmortems.csv\n",
        &[
            ("incidents.csv", incidents),
            ("postmortems.csv", postmortems),
        ],
    );
    let r = f.run(&[]);
    r.assert_code(1);
    assert_eq!(
        r.verdicts("postmortem-done"),
        map(&[
            ("L-DRAFT", "exception"),
            ("L-NONE", "exception"),
            ("L-NORES", "not-evaluable"),
            ("L-PEND", "pending"),
            ("L-RISK", "at-risk"),
        ])
    );
    tallies(&r, "postmortem-done", [7, 2, 3, 1, 1, 1]);
    let draft = message(&r, "postmortem-done", "L-DRAFT");
    assert!(
        draft.contains("0 of 1 related postmortems qualify"),
        "{draft}"
    );
    assert!(message(&r, "postmortem-done", "L-NONE").contains("none exist"));
    assert_eq!(
        r.record("postmortem-done", "L-PEND")["due"],
        "2025-07-25T00:00:00Z"
    );
    assert_eq!(
        r.record("postmortem-done", "L-RISK")["due"],
        "2025-07-05T00:00:00Z"
    );
    assert!(message(&r, "postmortem-done", "L-NORES").contains("resolved_at is missing"));
    // Without a grace period, an absence is an exception at once.
    assert_eq!(
        r.verdicts("two-reviews"),
        map(&[
            ("L-DONE", "exception"),
            ("L-DRAFT", "exception"),
            ("L-NONE", "exception"),
            ("L-NORES", "exception"),
            ("L-PEND", "exception"),
            ("L-RISK", "exception"),
        ])
    );
    assert!(message(&r, "two-reviews", "L-DONE").contains("expected at least 2"));
}

// ---------------------------------------------------------------------------
// each-linked
// ---------------------------------------------------------------------------

#[test]
fn each_linked_judges_every_related_record() {
    let checks = "  - id: findings-tracked
    title: Findings owned, and closed or not yet due
    rule: each-linked
    population: { table: incidents, where: { customer_impacting: true } }
    related:
      - { table: postmortems, via: incident_id }
      - { table: findings, via: postmortem_id }
    require:
      all:
        - { owner: { set: true } }
        - any:
            - { status: closed }
            - { due_at: { after: as_of } }
";
    let incidents = "id,customer_impacting\nE-1,true\nE-2,true\nE-3,false\nE-4,true\n";
    let postmortems = "id,incident_id\nPM-1,E-1\nPM-2,E-1\nPM-3,E-2\nPM-4,E-3\n";
    let findings = "\
id,postmortem_id,owner,status,due_at
F-1,PM-1,alice,open,2025-08-01T00:00:00Z
F-2,PM-1,\" \",closed,2025-08-01T00:00:00Z
F-3,PM-2,bob,open,2025-06-30T23:59:59Z
F-4,PM-2,bob,open,2025-07-01T02:00:00+02:00
F-5,PM-3,carol,closed,2024-01-01T00:00:00Z
F-6,PM-4,,open,2020-01-01T00:00:00Z
F-7,PM-3,dan,open,
";
    let sources = "\
tables:
  incidents:
    file: incidents.csv
  postmortems:
    file: postmortems.csv
  findings:
    file: findings.csv
";
    let f = Fixture::with(
        &catalog_with(checks, &["findings-tracked"]),
        sources,
        &[
            ("incidents.csv", incidents),
            ("postmortems.csv", postmortems),
            ("findings.csv", findings),
        ],
    );
    let r = f.run(&[]);
    r.assert_code(1);
    // Judged: the findings of E-1 and E-2 (E-3 is out of scope, E-4 has none). F-4
    // is due exactly at as-of: not after it.
    assert_eq!(
        r.verdicts("findings-tracked"),
        map(&[
            ("F-2", "exception"),
            ("F-3", "exception"),
            ("F-4", "exception"),
            ("F-7", "exception"),
        ])
    );
    tallies(&r, "findings-tracked", [6, 2, 4, 0, 0, 0]);
    let f2 = r.record("findings-tracked", "F-2");
    assert_eq!(f2["table"], "findings");
    assert_eq!(f2["line"], 3);
    assert!(f2["file"].as_str().unwrap().ends_with("findings.csv"));
    assert!(
        f2["message"]
            .as_str()
            .unwrap()
            .contains("via incidents E-1"),
        "{f2}"
    );
}

// ---------------------------------------------------------------------------
// Control statuses
// ---------------------------------------------------------------------------

const STATUS_CATALOG: &str = "\
checks:
  - id: ok-check
    title: Titles recorded
    rule: required
    population: { table: incidents }
    fields: [title]
  - id: bad-check
    title: Only sev1
    rule: allowed
    population: { table: incidents }
    field: severity
    values: [sev1]
  - id: empty-check
    title: Nothing is sev0
    rule: required
    population: { table: incidents, where: { severity: sev0 } }
    fields: [title]
  - id: oncall-check
    title: Shifts have an engineer
    rule: required
    population: { table: oncall }
    fields: [engineer]
frameworks:
  - id: fw
    name: Status framework
    controls:
      - { id: C-ok, title: ok, checks: [ok-check] }
      - { id: C-bad, title: bad, checks: [ok-check, bad-check] }
      - { id: C-empty, title: empty, checks: [empty-check] }
      - { id: C-mixed, title: mixed, checks: [empty-check, ok-check] }
      - { id: C-err, title: error, checks: [oncall-check] }
      - id: C-manual
        title: Plan approved
        manual: { attest: The response plan was approved by the CISO }
";

fn status_fixture() -> Fixture {
    Fixture::with(
        STATUS_CATALOG,
        "tables:\n  incidents:\n    file: incidents.csv\n",
        &[(
            "incidents.csv",
            "id,title,severity\nI-1,a,sev1\nI-2,b,sev2\n",
        )],
    )
}

#[test]
fn control_statuses() {
    let r = status_fixture().run(&[]);
    r.assert_code(1);
    let status = |id| r.control_status("fw", id);
    assert_eq!(status("C-ok"), "effective");
    assert_eq!(status("C-bad"), "exceptions");
    assert_eq!(status("C-empty"), "not-tested");
    assert_eq!(status("C-mixed"), "effective");
    assert_eq!(status("C-err"), "error");
    assert_eq!(status("C-manual"), "manual");
    let ctl = |id: &str| {
        r.report()["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(
        ctl("C-ok")["result"],
        "No exceptions noted (2 records tested)."
    );
    let bad = ctl("C-bad")["result"].as_str().unwrap().to_string();
    assert!(
        bad.starts_with("Exceptions noted") && bad.contains("bad-check 1 of 2"),
        "{bad}"
    );
    assert_eq!(ctl("C-bad")["exceptions"], 1);
    assert_eq!(ctl("C-bad")["population"], 4);
    assert_eq!(
        ctl("C-empty")["result"],
        "Not tested: the population was empty for the period."
    );
    assert_eq!(
        ctl("C-manual")["manual"],
        "The response plan was approved by the CISO"
    );
    let err = r.check("oncall-check")["error"].as_str().unwrap();
    assert!(err.contains("table `oncall` is not provided"), "{err}");
    assert!(
        ctl("C-err")["result"]
            .as_str()
            .unwrap()
            .starts_with("Not concluded")
    );
    assert_eq!(r.report()["summary"]["controls"]["not-tested"], 1);
    assert_eq!(r.report()["summary"]["controls"]["effective"], 2);
    // The gate names both reasons.
    let reasons = r.report()["gate"]["reasons"].to_string();
    assert!(
        reasons.contains("check `bad-check`: 1 exception(s)"),
        "{reasons}"
    );
    assert!(
        reasons.contains("check `oncall-check` could not run"),
        "{reasons}"
    );
    // The text summary says the same.
    assert!(r.stdout.contains("not tested  C-empty"), "{}", r.stdout);
    assert!(r.stdout.contains("Gate (--fail-on exception): FAILED"));
}

#[test]
fn framework_option_selects_checks_and_controls() {
    let cat = format!(
        "{STATUS_CATALOG}  - id: other\n    name: Other\n    controls:\n      - {{ id: O-1, title: o, checks: [ok-check] }}\n"
    );
    let f = Fixture::with(
        &cat,
        "tables:\n  incidents:\n    file: incidents.csv\n",
        &[(
            "incidents.csv",
            "id,title,severity\nI-1,a,sev1\nI-2,b,sev2\n",
        )],
    );
    let r = f.run(&["--framework", "other"]);
    r.assert_code(0);
    let checks: Vec<&str> = r.report()["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(checks, ["ok-check"]);
    let controls = r.report()["controls"].as_array().unwrap();
    assert_eq!(controls.len(), 1);
    assert_eq!(controls[0]["framework"], "other");
}

// ---------------------------------------------------------------------------
// Gate: --fail-on, severity, empty populations
// ---------------------------------------------------------------------------

#[test]
fn fail_on_exception_and_never() {
    let f = status_fixture();
    let r = f.run(&["--fail-on", "exception"]);
    r.assert_code(1);
    assert_eq!(r.report()["gate"]["passed"], false);
    let r = f.run(&["--fail-on", "never"]);
    r.assert_code(0);
    assert_eq!(r.report()["gate"]["passed"], true);
    // The report still holds the exceptions.
    assert_eq!(r.count("bad-check", "exceptions_count"), 1);
}

#[test]
fn fail_on_at_risk() {
    // Only pending / at-risk deadlines: no exception.
    let incidents = "\
id,declared_at,resolved_at,data_breach
D-OK,2025-01-01T00:00:00Z,,true
D-PEND,2025-06-30T00:00:00Z,,true
D-RISK,2025-06-28T12:00:00Z,,true
";
    let notifications =
        "id,incident_id,audience,sent_at\nN-1,D-OK,customers,2025-01-02T00:00:00Z\n";
    let f = Fixture::with(
        &catalog_with(DEADLINE_CHECKS, &["notice-72h"]),
        DEADLINE_SOURCES,
        &[
            ("incidents.csv", incidents),
            ("notifications.csv", notifications),
        ],
    );
    let r = f.run(&[]);
    r.assert_code(0);
    tallies(&r, "notice-72h", [3, 1, 0, 0, 1, 1]);
    // notice-72h-lenient (same rule) is in the catalog too.
    assert_eq!(r.report()["summary"]["at_risk"], 2);
    let r = f.run(&["--fail-on", "at-risk"]);
    r.assert_code(1);
    let reasons = r.report()["gate"]["reasons"].to_string();
    assert!(reasons.contains("1 at-risk deadline(s)"), "{reasons}");
    assert!(r.stdout.contains("Gate (--fail-on at-risk): FAILED"));
    let r = f.run(&["--fail-on", "at-risk", "--format", "json"]);
    r.assert_code(1);
    assert!(r.stdout.is_empty());
    r.assert_stderr(&["gate: check `notice-72h`: 1 at-risk deadline(s)"]);
    let r = f.run(&["--fail-on", "never"]);
    r.assert_code(0);
}

#[test]
fn severity_warn_and_allow_do_not_gate() {
    let checks = "  - id: sev-warn
    title: Only sev1 (warn)
    rule: allowed
    severity: warn
    population: { table: incidents }
    field: severity
    values: [sev1]
  - id: sev-allow
    title: Only sev1 (allow)
    rule: allowed
    severity: allow
    population: { table: incidents }
    field: severity
    values: [sev1]
";
    let f = Fixture::with(
        &catalog_with(checks, &["sev-warn", "sev-allow"]),
        "tables:\n  incidents:\n    file: incidents.csv\n",
        &[("incidents.csv", "id,severity\nI-1,sev1\nI-2,sev2\n")],
    );
    let r = f.run(&[]);
    r.assert_code(0);
    assert_eq!(r.count("sev-warn", "exceptions_count"), 1);
    assert_eq!(r.control_status("fw", "C-sev-warn"), "exceptions");
    let reasons = r.report()["gate"]["reasons"].to_string();
    assert!(
        reasons.contains("warning: check `sev-warn` has 1 exception(s)"),
        "{reasons}"
    );
}

#[test]
fn empty_population_fails_unless_allowed() {
    let checks = "  - id: sev0-titled
    title: Sev0 incidents titled
    rule: required
    population: { table: incidents, where: { severity: sev0 } }
    fields: [title]
";
    let f = Fixture::with(
        &catalog_with(checks, &["sev0-titled"]),
        "tables:\n  incidents:\n    file: incidents.csv\n",
        &[("incidents.csv", "id,title,severity\nI-1,a,sev1\n")],
    );
    let r = f.run(&[]);
    r.assert_code(1);
    assert!(
        r.stdout
            .contains("no record was evaluated: every check's population is empty"),
        "{}",
        r.stdout
    );
    assert_eq!(r.control_status("fw", "C-sev0-titled"), "not-tested");
    assert_eq!(r.report()["gate"]["records_evaluated"], 0);
    let r = f.run(&["--format", "json,csv"]);
    r.assert_code(1);
    r.assert_stderr(&["gate: no record was evaluated"]);
    let r = f.run(&["--allow-empty"]);
    r.assert_code(0);
    assert_eq!(r.report()["gate"]["passed"], true);
}

#[test]
fn header_only_export_is_an_empty_run() {
    let f = Fixture::with(
        &catalog_with(
            "  - id: titled\n    title: Titled\n    rule: required\n    population: { table: incidents }\n    fields: [title]\n",
            &["titled"],
        ),
        "tables:\n  incidents:\n    file: incidents.csv\n",
        &[("incidents.csv", "id,title\n")],
    );
    let r = f.run(&[]);
    r.assert_code(1);
    assert!(r.stdout.contains("no record was evaluated"), "{}", r.stdout);
    assert_eq!(r.input("incidents.csv")["rows_read"], 0);
    f.run(&["--allow-empty"]).assert_code(0);
}

// ---------------------------------------------------------------------------
// --period
// ---------------------------------------------------------------------------

#[test]
fn period_excludes_records_and_counts_them() {
    // Period fields of incidents: declared_at, else detected_at; none: kept.
    let incidents = "\
id,title,detected_at,declared_at
P-JAN,,2025-01-10T00:00:00Z,2025-01-10T00:00:00Z
P-MAR,,2025-03-10T00:00:00Z,2025-03-10T00:00:00Z
P-MAY,,2025-05-10T00:00:00Z,2025-05-10T00:00:00Z
P-DET,,2025-03-11T00:00:00Z,
P-EDGE,,2025-04-30T23:59:59Z,
P-AFTER,,2025-05-01T00:00:00Z,
P-NONE,,,
";
    let f = Fixture::with(
        &catalog_with(
            "  - id: titled\n    title: Titled\n    rule: required\n    population: { table: incidents }\n    fields: [title]\n",
            &["titled"],
        ),
        "tables:\n  incidents:\n    file: incidents.csv\n",
        &[("incidents.csv", incidents)],
    );
    let r = f.run(&["--period", "2025-02-01..2025-04-30"]);
    r.assert_code(1);
    assert_eq!(
        r.verdicts("titled"),
        map(&[
            ("P-DET", "exception"),
            ("P-EDGE", "exception"),
            ("P-MAR", "exception"),
            ("P-NONE", "exception"),
        ])
    );
    let inc = r.input("incidents.csv");
    assert_eq!(inc["rows_read"], 7);
    assert_eq!(inc["rows_out_of_period"], 3);
    assert_eq!(inc["rows_evaluated"], 4);
    assert_eq!(inc["rows_rejected"], 0);
    r.assert_inputs_reconcile();
    assert_eq!(r.report()["period"]["start"], "2025-02-01T00:00:00Z");
    assert_eq!(r.report()["period"]["end"], "2025-05-01T00:00:00Z");
    // Without a period every record is in.
    let r = f.run(&[]);
    assert_eq!(r.count("titled", "population"), 7);
    assert_eq!(r.input("incidents.csv")["rows_out_of_period"], 0);
}

#[test]
fn period_does_not_hide_related_records_after_it() {
    // Declared on the last day of the period, notified two days later: the notice is
    // outside the period but is still the evidence that ends the clock.
    let incidents = "id,declared_at,data_breach\nD-1,2025-03-31T12:00:00Z,true\n";
    let notifications = "id,incident_id,audience,sent_at\nN-1,D-1,customers,2025-04-02T12:00:00Z\n";
    let f = Fixture::with(
        &catalog_with(DEADLINE_CHECKS, &["notice-72h"]),
        DEADLINE_SOURCES,
        &[
            ("incidents.csv", incidents),
            ("notifications.csv", notifications),
        ],
    );
    let r = f.run(&["--period", "2025-01-01..2025-03-31"]);
    r.assert_code(0);
    tallies(&r, "notice-72h", [1, 1, 0, 0, 0, 0]);
    r.assert_inputs_reconcile();
}

#[test]
fn bad_period_and_as_of_are_usage_errors() {
    let f = status_fixture();
    let r = f.run(&["--period", "2025-05-01..2025-01-01"]);
    r.assert_code(2);
    r.assert_stderr(&["error[usage]: --period", "ends before it starts"]);
    let r = f.run(&["--as-of", "2025-07-01T00:00:00"]);
    r.assert_code(2);
    r.assert_stderr(&["error[usage]: --as-of", "no UTC offset"]);
    let r = f.run(&["--format", "pdf"]);
    r.assert_code(2);
    r.assert_stderr(&["error[usage]: --format `pdf`"]);
}

#[test]
fn out_inside_the_evidence_folder_is_refused() {
    let f = status_fixture();
    let out = f.evidence_dir().join("out");
    let args: Vec<String> = [
        "check",
        "--controls",
        f.controls_dir().to_str().unwrap(),
        "--sources",
        f.sources_path().to_str().unwrap(),
        "--as-of",
        common::AS_OF,
        "--out",
        out.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let r = f.run_raw(&args);
    r.assert_code(2);
    r.assert_stderr(&["error[usage]", "inside the evidence folder"]);
    assert!(!out.exists());
}

#[test]
fn formula_cells_are_neutralised_in_exceptions_csv() {
    let f = Fixture::with(
        &catalog_with(
            "  - id: titled\n    title: Titled\n    rule: required\n    population: { table: incidents }\n    fields: [title]\n",
            &["titled"],
        ),
        "tables:\n  incidents:\n    file: incidents.csv\n",
        &[(
            "incidents.csv",
            "id,title\n=HYPERLINK(\"x\"),\n@SUM,\n+1,\n-2,\nplain,\n",
        )],
    );
    let r = f.run(&[]);
    r.assert_code(1);
    let csv = String::from_utf8(r.exceptions_csv.clone().unwrap()).unwrap();
    let ids: Vec<String> = ::csv::ReaderBuilder::new()
        .from_reader(csv.as_bytes())
        .records()
        .map(|x| x.unwrap()[1].to_string())
        .collect();
    let mut ids_sorted = ids.clone();
    ids_sorted.sort();
    assert_eq!(
        ids_sorted,
        ["'+1", "'-2", "'=HYPERLINK(\"x\")", "'@SUM", "plain"],
        "{csv}"
    );
    // report.json keeps the ids as they are.
    assert!(r.verdicts("titled").contains_key("=HYPERLINK(\"x\")"));
}

// ---------------------------------------------------------------------------
// Determinism
// ---------------------------------------------------------------------------

#[test]
fn two_runs_give_identical_bytes() {
    let f = deadline_fixture();
    let a = f.run(&["--format", "json,csv,ids"]);
    let b = f.run(&["--format", "json,csv,ids"]);
    a.assert_code(1);
    assert!(a.report_bytes.is_some() && a.exceptions_csv.is_some() && a.ids_csv.is_some());
    assert!(a.report_bytes == b.report_bytes, "report.json differs");
    assert!(
        a.exceptions_csv == b.exceptions_csv,
        "exceptions.csv differs"
    );
    assert!(a.ids_csv == b.ids_csv, "exception-ids.csv differs");
    // The as-of is recorded, not the wall clock.
    assert_eq!(a.report()["as_of"], common::AS_OF);
}

#[test]
fn report_json_keys_are_sorted_and_inputs_hashed() {
    let r = deadline_fixture().run(&[]);
    let text = String::from_utf8(r.report_bytes.clone().unwrap()).unwrap();
    let top: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  \"") && !l.starts_with("   "))
        .map(|l| l.trim().split('"').nth(1).unwrap())
        .collect();
    let mut sorted = top.clone();
    sorted.sort_unstable();
    assert_eq!(top, sorted);
    assert!(top.contains(&"schema_version") && top.contains(&"gate"));
    let sha = r.input("incidents.csv")["sha256"].as_str().unwrap();
    assert_eq!(sha.len(), 64);
    assert!(sha.bytes().all(|b| b.is_ascii_hexdigit()));
    let ids = String::from_utf8(r.ids_csv.clone().unwrap_or_default()).unwrap();
    assert!(ids.is_empty(), "ids are only written with --format ids");
}
