//! Reading real exports: CSV quirks (BOM, CRLF, quoted newlines, reordered and extra
//! columns), time zones and DST, business-day calendars, declared timestamp formats,
//! date-only values, nanoseconds, JSON under a records pointer, NDJSON, and derived
//! tables. As-of is 2025-07-01T00:00:00Z throughout.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::{Fixture, Run, catalog_with};

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// A sequence check whose second field is always earlier than the first, so every
/// record is an exception and report.json shows both instants as read.
const SHOW_DECLARED: &str = "  - id: show
    title: Declared before resolved
    rule: sequence
    population: { table: incidents }
    fields: [declared_at, resolved_at]
";

/// The instant evidentia read for `field` of `id` (from the `show` check).
fn read_as(r: &Run, id: &str, field: &str) -> String {
    r.record("show", id)["values"][field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} for {id}: {}", r.record("show", id)))
        .to_string()
}

fn show_fixture(sources: &str, incidents: &str) -> Fixture {
    Fixture::with(
        &catalog_with(SHOW_DECLARED, &["show"]),
        sources,
        &[("incidents.csv", incidents)],
    )
}

// ---------------------------------------------------------------------------
// CSV as real tools export it
// ---------------------------------------------------------------------------

#[test]
fn csv_bom_crlf_quoted_newlines_reordered_and_extra_columns() {
    let checks = "  - id: titled
    title: Titles recorded
    rule: required
    population: { table: incidents }
    fields: [title, severity]
  - id: lifecycle
    title: Detected before declared
    rule: sequence
    population: { table: incidents }
    fields: [detected_at, declared_at]
";
    // BOM before the first header; CRLF line ends; a quoted field spanning two lines
    // with a comma and escaped quotes; columns in another order than the canonical
    // one, one in other case and spacing (` Severity `), and columns no field uses.
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(
        b"notes,declared_at,id, Severity ,title,detected_at,unused\r\n\
\"line one\r\nline two, with \"\"quotes\"\"\",2025-01-01T01:00:00Z,I-1,sev1,\"multi\r\nline title\",2025-01-01T00:00:00Z,x\r\n\
n,2025-01-01T01:00:00Z,I-2,sev2,,2025-01-01T00:00:00Z,y\r\n\
n,2025-01-01T00:00:00Z,I-3,sev3,t,2025-01-01T02:00:00Z,z\r\n",
    );
    let f = Fixture::new();
    f.catalog(&catalog_with(checks, &["titled", "lifecycle"]));
    f.sources("tables:\n  incidents:\n    file: incidents.csv\n");
    f.export_bytes("incidents.csv", &bytes);
    let r = f.run(&[]);
    r.assert_code(1);
    assert!(!r.stderr.contains("error["), "{}", r.dump());
    assert_eq!(r.verdicts("titled"), map(&[("I-2", "exception")]));
    assert_eq!(r.verdicts("lifecycle"), map(&[("I-3", "exception")]));
    let inc = r.input("incidents.csv");
    assert_eq!(inc["rows_read"], 3);
    assert_eq!(inc["rows_evaluated"], 3);
    r.assert_inputs_reconcile();
}

/// A CSV whose first record spans lines 2-4 (two quoted line breaks), with line ends
/// `nl`; I-2 (blank title) starts on line 5 and I-3 (spanning 6-7) on line 6, I-4 on 8.
fn multiline_csv(nl: &str) -> String {
    format!(
        "id,notes,title{nl}I-1,\"a{nl}b\",\"c{nl}d\"{nl}I-2,x,{nl}I-3,\"q{nl}r\",{nl}I-4,x,{nl}"
    )
}

fn multiline_lines(nl: &str) -> Vec<(String, u64)> {
    let f = Fixture::new();
    f.catalog(&catalog_with(
        "  - id: titled\n    title: Titled\n    rule: required\n    population: { table: incidents }\n    fields: [title]\n",
        &["titled"],
    ));
    f.sources("tables:\n  incidents:\n    file: incidents.csv\n");
    f.export("incidents.csv", &multiline_csv(nl));
    let r = f.run(&[]);
    r.assert_code(1);
    r.check("titled")["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["record_id"].as_str().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn csv_records_are_placed_at_the_line_they_start_on() {
    assert_eq!(
        multiline_lines("\n"),
        [
            ("I-2".to_string(), 5),
            ("I-3".to_string(), 6),
            ("I-4".to_string(), 8)
        ]
    );
}

#[test]
fn csv_crlf_records_are_placed_at_the_line_they_start_on() {
    assert_eq!(
        multiline_lines("\r\n"),
        [
            ("I-2".to_string(), 5),
            ("I-3".to_string(), 6),
            ("I-4".to_string(), 8)
        ]
    );
}

#[test]
fn csv_bom_before_a_mapped_id_column_and_custom_delimiter() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(b"Key;Summary\nI-1;a\nI-2;\n");
    let f = Fixture::new();
    f.catalog(&catalog_with(
        "  - id: titled\n    title: Titled\n    rule: required\n    population: { table: incidents }\n    fields: [title]\n",
        &["titled"],
    ));
    f.sources(
        "tables:\n  incidents:\n    file: incidents.csv\n    delimiter: \";\"\n    columns: { id: Key, title: Summary }\n",
    );
    f.export_bytes("incidents.csv", &bytes);
    let r = f.run(&[]);
    r.assert_code(1);
    assert_eq!(r.verdicts("titled"), map(&[("I-2", "exception")]));
}

#[test]
fn csv_trailing_blank_line_is_not_a_record() {
    let f = show_fixture(
        "tables:\n  incidents:\n    file: incidents.csv\n",
        "id,declared_at,resolved_at\nI-1,2025-01-02T00:00:00Z,2025-01-01T00:00:00Z\n\n",
    );
    let r = f.run(&[]);
    r.assert_code(1);
    assert_eq!(r.input("incidents.csv")["rows_read"], 1);
    r.assert_inputs_reconcile();
}

#[test]
fn missing_markers_and_value_mapping() {
    let checks = "  - id: breach-titled
    title: Breaches titled
    rule: required
    population: { table: incidents, where: { data_breach: true } }
    fields: [title]
";
    let sources = "\
tables:
  incidents:
    file: incidents.csv
    missing: [\"\", \"N/A\", \"-\"]
    values:
      data_breach: { \"Yes\": true, \"No\": false }
";
    let f = Fixture::with(
        &catalog_with(checks, &["breach-titled"]),
        sources,
        &[(
            "incidents.csv",
            "id,title,data_breach\nI-1,t,Yes\nI-2,N/A,Yes\nI-3,-,No\nI-4,t,true\nI-5, ,Yes\n",
        )],
    );
    let r = f.run(&[]);
    r.assert_code(1);
    assert_eq!(
        r.verdicts("breach-titled"),
        map(&[("I-2", "exception"), ("I-5", "exception")])
    );
    assert_eq!(r.count("breach-titled", "population"), 4);
}

// ---------------------------------------------------------------------------
// Time zones
// ---------------------------------------------------------------------------

const NY_SOURCES: &str = "\
tables:
  incidents:
    file: incidents.csv
    timezone: America/New_York
";

#[test]
fn naive_timestamps_in_a_declared_zone_are_dst_correct() {
    let f = show_fixture(
        NY_SOURCES,
        "\
id,declared_at,resolved_at
WINTER,2025-01-15T09:00:00,2000-01-01T00:00:00Z
SUMMER,2025-06-15T09:00:00,2000-01-01T00:00:00Z
AFTER-GAP,2025-03-09T03:30:00,2000-01-01T00:00:00Z
OFFSET,2025-01-15T09:00:00+01:00,2000-01-01T00:00:00Z
",
    );
    let r = f.run(&[]);
    r.assert_code(1);
    assert_eq!(read_as(&r, "WINTER", "declared_at"), "2025-01-15T14:00:00Z");
    assert_eq!(read_as(&r, "SUMMER", "declared_at"), "2025-06-15T13:00:00Z");
    assert_eq!(
        read_as(&r, "AFTER-GAP", "declared_at"),
        "2025-03-09T07:30:00Z"
    );
    // A written offset wins over the declared zone.
    assert_eq!(read_as(&r, "OFFSET", "declared_at"), "2025-01-15T08:00:00Z");
}

#[test]
fn zone_at_the_top_of_sources_applies_to_every_table() {
    let f = show_fixture(
        "timezone: Europe/Berlin\ntables:\n  incidents:\n    file: incidents.csv\n",
        "id,declared_at,resolved_at\nI-1,2025-01-15 09:00,2000-01-01T00:00:00Z\n",
    );
    let r = f.run(&[]);
    r.assert_code(1);
    assert_eq!(read_as(&r, "I-1", "declared_at"), "2025-01-15T08:00:00Z");
}

#[test]
fn nonexistent_local_time_is_an_error_naming_the_zone() {
    let f = show_fixture(
        NY_SOURCES,
        "id,declared_at,resolved_at\nI-1,2025-01-15T09:00:00,2000-01-01T00:00:00Z\nI-2,2025-03-09T02:30:00,2000-01-01T00:00:00Z\n",
    );
    let r = f.run(&[]);
    r.assert_error(
        "unparseable-value",
        &[
            "incidents.csv:3",
            "column `declared_at`",
            "`2025-03-09T02:30:00`",
            "does not exist in America/New_York",
        ],
    );
}

#[test]
fn ambiguous_local_time_is_an_error_unless_a_policy_is_declared() {
    let rows = "id,declared_at,resolved_at\nI-1,2025-11-02T01:30:00,2000-01-01T00:00:00Z\n";
    let r = show_fixture(NY_SOURCES, rows).run(&[]);
    r.assert_error(
        "unparseable-value",
        &[
            "incidents.csv:2",
            "`2025-11-02T01:30:00`",
            "occurs twice in America/New_York",
            "ambiguous: earliest|latest",
        ],
    );
    let r = show_fixture(&format!("{NY_SOURCES}    ambiguous: earliest\n"), rows).run(&[]);
    r.assert_code(1);
    assert_eq!(read_as(&r, "I-1", "declared_at"), "2025-11-02T05:30:00Z");
    let r = show_fixture(&format!("{NY_SOURCES}    ambiguous: latest\n"), rows).run(&[]);
    assert_eq!(read_as(&r, "I-1", "declared_at"), "2025-11-02T06:30:00Z");
}

#[test]
fn day_deadlines_follow_the_wall_clock_hours_do_not() {
    // Saturday 2025-03-08 12:00 EST; DST starts that night. One calendar day later
    // is 12:00 EDT = 16:00Z, 23 hours on; 24 h later is 17:00Z.
    let checks = "  - id: one-day
    title: Resolved within a day (New York wall clock)
    rule: deadline
    population: { table: incidents }
    start: declared_at
    end: resolved_at
    within: 1d
    timezone: America/New_York
  - id: one-day-hours
    title: Resolved within 24 hours
    rule: deadline
    population: { table: incidents }
    start: declared_at
    end: resolved_at
    within: 24h
";
    let f = Fixture::with(
        &catalog_with(checks, &["one-day", "one-day-hours"]),
        "tables:\n  incidents:\n    file: incidents.csv\n",
        &[(
            "incidents.csv",
            "id,declared_at,resolved_at\nDST,2025-03-08T17:00:00Z,2025-03-09T16:30:00Z\n",
        )],
    );
    let r = f.run(&[]);
    r.assert_code(1);
    let rec = r.record("one-day", "DST");
    assert_eq!(rec["verdict"], "exception");
    assert_eq!(rec["values"]["deadline"], "2025-03-09T16:00:00Z");
    assert!(
        rec["message"]
            .as_str()
            .unwrap()
            .contains("late by 30 min 00 s")
    );
    assert_eq!(r.count("one-day-hours", "passed"), 1);
}

#[test]
fn business_days_skip_weekends_and_catalog_holidays() {
    let cat = "\
calendars:
  - id: us-ops
    timezone: America/New_York
    holidays: [2025-01-20]
checks:
  - id: fix-1bd
    title: Contained within one business day
    rule: deadline
    population: { table: incidents }
    start: declared_at
    end: contained_at
    within: 1bd
    calendar: us-ops
  - id: fix-1bd-plain
    title: Same without holidays
    rule: deadline
    population: { table: incidents }
    start: declared_at
    end: contained_at
    within: 1bd
    timezone: America/New_York
frameworks:
  - id: fw
    name: F
    controls:
      - { id: C1, title: c, checks: [fix-1bd, fix-1bd-plain] }
";
    // Friday 2025-01-17 10:00 EST. Monday the 20th is a holiday in us-ops.
    let incidents = "\
id,declared_at,contained_at
ON-TIME,2025-01-17T15:00:00Z,2025-01-21T15:00:00Z
LATE,2025-01-17T15:00:00Z,2025-01-21T15:00:01Z
SATURDAY,2025-01-18T15:00:00Z,2025-01-22T05:00:00Z
";
    let f = Fixture::with(
        cat,
        "tables:\n  incidents:\n    file: incidents.csv\n",
        &[("incidents.csv", incidents)],
    );
    let r = f.run(&[]);
    r.assert_code(1);
    assert_eq!(r.verdicts("fix-1bd"), map(&[("LATE", "exception")]));
    let late = r.record("fix-1bd", "LATE");
    assert_eq!(late["values"]["deadline"], "2025-01-21T15:00:00Z");
    assert!(late["message"].as_str().unwrap().contains("late by 1 s"));
    // Without the holiday the deadline is Monday: all three are late.
    assert_eq!(
        r.verdicts("fix-1bd-plain"),
        map(&[
            ("LATE", "exception"),
            ("ON-TIME", "exception"),
            ("SATURDAY", "exception"),
        ])
    );
    assert_eq!(
        r.record("fix-1bd-plain", "ON-TIME")["values"]["deadline"],
        "2025-01-20T15:00:00Z"
    );
    let test = r.check("fix-1bd")["test"].as_str().unwrap();
    assert!(test.contains("calendar us-ops"), "{test}");
}

// ---------------------------------------------------------------------------
// Declared formats, dates, nanoseconds
// ---------------------------------------------------------------------------

#[test]
fn timestamp_format_pattern() {
    let sources = "\
tables:
  incidents:
    file: incidents.csv
    timezone: UTC
    timestamp_format: \"%d-%m-%Y %H:%M\"
";
    let r = show_fixture(
        sources,
        "id,declared_at,resolved_at\nI-1,15-01-2025 09:05,01-01-2000 00:00\n",
    )
    .run(&[]);
    r.assert_code(1);
    assert_eq!(read_as(&r, "I-1", "declared_at"), "2025-01-15T09:05:00Z");
    let r = show_fixture(
        sources,
        "id,declared_at,resolved_at\nI-1,2025-01-15T09:05:00Z,01-01-2000 00:00\n",
    )
    .run(&[]);
    r.assert_error(
        "unparseable-value",
        &[
            "incidents.csv:2",
            "column `declared_at`",
            "`2025-01-15T09:05:00Z` does not match the declared format `%d-%m-%Y %H:%M`",
        ],
    );
}

#[test]
fn invalid_timestamp_format_is_a_sources_error() {
    let sources =
        "tables:\n  incidents:\n    file: incidents.csv\n    timestamp_format: \"%Q-%d\"\n";
    let r = show_fixture(sources, "id,declared_at,resolved_at\n").run(&[]);
    r.assert_error(
        "bad-value",
        &[
            "sources.yaml:4:",
            "`%Q-%d` is not a valid chrono strftime pattern",
        ],
    );
}

#[test]
fn date_only_values_need_declared_semantics() {
    let rows = "id,declared_at,resolved_at\nI-1,2025-01-15,2000-01-01T00:00:00Z\n";
    let r = show_fixture(
        "tables:\n  incidents:\n    file: incidents.csv\n    timezone: UTC\n",
        rows,
    )
    .run(&[]);
    r.assert_error(
        "unparseable-value",
        &[
            "incidents.csv:2",
            "`2025-01-15`",
            "declares no `dates` semantics",
        ],
    );
    let r = show_fixture(
        "tables:\n  incidents:\n    file: incidents.csv\n    timezone: UTC\n    dates: start-of-day\n",
        rows,
    )
    .run(&[]);
    r.assert_code(1);
    assert_eq!(read_as(&r, "I-1", "declared_at"), "2025-01-15T00:00:00Z");
    let r = show_fixture(
        "tables:\n  incidents:\n    file: incidents.csv\n    timezone: America/New_York\n    dates: end-of-day\n",
        rows,
    )
    .run(&[]);
    r.assert_code(1);
    assert_eq!(
        read_as(&r, "I-1", "declared_at"),
        "2025-01-16T04:59:59.999999999Z"
    );
    // Date semantics without a zone is still a guess: refused.
    let r = show_fixture(
        "tables:\n  incidents:\n    file: incidents.csv\n    dates: start-of-day\n",
        rows,
    )
    .run(&[]);
    r.assert_error("naive-timestamp", &["incidents.csv:2", "`2025-01-15`"]);
}

#[test]
fn rfc3339_nanoseconds_are_exact() {
    let checks = "  - id: fix-72h
    title: Resolved within 72 hours
    rule: deadline
    population: { table: incidents }
    start: declared_at
    end: resolved_at
    within: 72h
";
    let incidents = "\
id,declared_at,resolved_at
ON-TIME,2025-01-01T00:00:00.000000001Z,2025-01-04T00:00:00.000000001Z
ONE-NS,2025-01-01T00:00:00Z,2025-01-04T00:00:00.000000001Z
MICROS,2025-01-01T00:00:00Z,2025-01-04T02:00:00.000001+02:00
";
    let f = Fixture::with(
        &catalog_with(checks, &["fix-72h"]),
        "tables:\n  incidents:\n    file: incidents.csv\n",
        &[("incidents.csv", incidents)],
    );
    let r = f.run(&[]);
    r.assert_code(1);
    assert_eq!(
        r.verdicts("fix-72h"),
        map(&[("MICROS", "exception"), ("ONE-NS", "exception")])
    );
    let one = r.record("fix-72h", "ONE-NS");
    assert_eq!(one["values"]["end"], "2025-01-04T00:00:00.000000001Z");
    assert!(
        one["message"].as_str().unwrap().contains("late by 1 ns"),
        "{one}"
    );
    assert_eq!(
        r.record("fix-72h", "MICROS")["values"]["end"],
        "2025-01-04T00:00:00.000001Z"
    );
}

// ---------------------------------------------------------------------------
// JSON and NDJSON
// ---------------------------------------------------------------------------

const JSON_CHECKS: &str = "  - id: titled
    title: Titles recorded
    rule: required
    population: { table: incidents, where: { customer_impacting: true } }
    fields: [title]
";

#[test]
fn json_records_under_a_pointer_with_nested_columns() {
    let f = Fixture::new();
    f.catalog(&catalog_with(JSON_CHECKS, &["titled"]));
    f.sources(
        "\
tables:
  incidents:
    file: export.json
    records: /incidents
    columns:
      id: key
      title: /fields/summary
      customer_impacting: /fields/impact/customers
",
    );
    f.export(
        "export.json",
        r#"{
  "meta": {"exported": "2025-07-01"},
  "incidents": [
    {"key": "J-1", "fields": {"summary": "a", "impact": {"customers": true}}},
    {"key": "J-2", "fields": {"summary": "", "impact": {"customers": true}}},
    {"key": "J-3", "fields": {"impact": {"customers": false}}},
    {"key": "J-4", "fields": {"summary": null, "impact": {"customers": true}}}
  ]
}"#,
    );
    let r = f.run(&[]);
    r.assert_code(1);
    assert_eq!(
        r.verdicts("titled"),
        map(&[("J-2", "exception"), ("J-4", "exception")])
    );
    let j2 = r.record("titled", "J-2");
    assert_eq!(j2["pointer"], "/incidents/1");
    assert_eq!(j2["line"], serde_json::Value::Null);
    let inc = r.input("export.json");
    assert_eq!(inc["rows_read"], 4);
    r.assert_inputs_reconcile();
}

#[test]
fn ndjson_records_and_errors_carry_line_numbers() {
    let f = Fixture::new();
    f.catalog(&catalog_with(JSON_CHECKS, &["titled"]));
    f.sources("tables:\n  incidents:\n    file: incidents.ndjson\n");
    let good = "{\"id\":\"N-1\",\"title\":\"a\",\"customer_impacting\":true}\r\n\n{\"id\":\"N-2\",\"title\":\" \",\"customer_impacting\":true}\n";
    f.export("incidents.ndjson", good);
    let r = f.run(&[]);
    r.assert_code(1);
    assert_eq!(r.verdicts("titled"), map(&[("N-2", "exception")]));
    assert_eq!(r.record("titled", "N-2")["line"], 3);
    assert_eq!(r.input("incidents.ndjson")["rows_read"], 2);
    // The same export with a bad value on line 4.
    f.export(
        "incidents.ndjson",
        &format!("{good}{{\"id\":\"N-3\",\"title\":\"c\",\"customer_impacting\":\"often\"}}\n"),
    );
    let r = f.run(&[]);
    r.assert_error(
        "unparseable-value",
        &[
            "incidents.ndjson:4",
            "column `customer_impacting`",
            "`often`",
        ],
    );
}

#[test]
fn jsonl_extension_and_explicit_format() {
    let f = Fixture::new();
    f.catalog(&catalog_with(JSON_CHECKS, &["titled"]));
    f.sources("tables:\n  incidents:\n    file: dump.txt\n    format: ndjson\n");
    f.export(
        "dump.txt",
        "{\"id\":\"N-1\",\"title\":\"\",\"customer_impacting\":true}\n",
    );
    let r = f.run(&[]);
    r.assert_code(1);
    assert_eq!(r.verdicts("titled"), map(&[("N-1", "exception")]));
}

// ---------------------------------------------------------------------------
// Derived tables
// ---------------------------------------------------------------------------

#[test]
fn derived_notifications_from_incident_columns() {
    let checks = "  - id: notice-72h
    title: Customers notified within 72 hours
    rule: deadline
    population: { table: incidents, where: { data_breach: true } }
    start: declared_at
    end: { table: notifications, via: incident_id, where: { audience: customers }, field: sent_at }
    within: 72h
  - id: notice-content
    title: Notices describe the breach
    rule: required
    population: { table: notifications }
    fields: [nature]
";
    let sources = "\
tables:
  incidents:
    file: incidents.csv
    columns:
      data_breach: personal_data_breach
  notifications:
    from: incidents
    skip_unless: sent_at
    columns:
      incident_id: id
      sent_at: customers_notified_at
      audience: { const: customers }
      nature: notification_summary
";
    let incidents = "\
id,declared_at,personal_data_breach,customers_notified_at,notification_summary
I-OK,2025-01-01T00:00:00Z,true,2025-01-02T00:00:00Z,what happened
I-LATE,2025-01-01T00:00:00Z,true,2025-01-05T00:00:00Z,
I-NEVER,2025-01-01T00:00:00Z,true,,
I-NOTBREACH,2025-01-01T00:00:00Z,false,,
";
    let f = Fixture::with(
        &catalog_with(checks, &["notice-72h", "notice-content"]),
        sources,
        &[("incidents.csv", incidents)],
    );
    let r = f.run(&[]);
    r.assert_code(1);
    assert_eq!(
        r.verdicts("notice-72h"),
        map(&[("I-LATE", "exception"), ("I-NEVER", "exception")])
    );
    // Only rows with a sent_at became notifications; they carry the incident's id
    // and line.
    assert_eq!(r.count("notice-content", "population"), 2);
    assert_eq!(
        r.verdicts("notice-content"),
        map(&[("I-LATE", "exception")])
    );
    let n = r.record("notice-content", "I-LATE");
    assert_eq!(n["table"], "notifications");
    assert_eq!(n["line"], 3);
    // One file read once, feeding both tables.
    let inputs = r.report()["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 1);
    assert_eq!(
        inputs[0]["tables"],
        serde_json::json!(["incidents", "notifications"])
    );
    assert_eq!(inputs[0]["rows_read"], 4);
    r.assert_inputs_reconcile();
}

#[test]
fn derived_table_errors() {
    let base = "tables:\n  incidents:\n    file: incidents.csv\n";
    let cat = catalog_with(SHOW_DECLARED, &["show"]);
    let f = Fixture::with(
        &cat,
        &format!("{base}  notifications:\n    from: tickets\n"),
        &[("incidents.csv", "id,declared_at,resolved_at\n")],
    );
    f.run(&[])
        .assert_error("unknown-table", &["sources.yaml:5:", "`from: tickets`"]);
    let f = Fixture::with(
        &cat,
        &format!("{base}  notifications:\n    from: incidents\n    skip_unless: sent\n"),
        &[("incidents.csv", "id,declared_at,resolved_at\n")],
    );
    f.run(&[]).assert_error(
        "unknown-field",
        &[
            "sources.yaml:6:",
            "table `notifications` has no field `sent`",
        ],
    );
}
