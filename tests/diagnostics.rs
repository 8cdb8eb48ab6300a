//! One CLI case per diagnostic code (`src/diag.rs` `Code`): what the user wrote
//! wrong, and that evidentia says so with exit code 2, the code, the file, the line
//! (or JSON pointer), the field or column and the offending value, never panicking.
//! Then `--keep-going`: rejected records are listed, fail closed and reconcile.
//!
//! Every code of `Code` has a case here; none is unreachable from the CLI.
//! `csv-syntax` is only reachable through an I/O error while reading the header (the
//! `csv` crate reading `ByteRecord`s with `flexible(true)` accepts any bytes), which a
//! directory named like an export produces on Linux.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Fixture, catalog_with};

// ---------------------------------------------------------------------------
// Catalog side
// ---------------------------------------------------------------------------

const SOURCES_MIN: &str = "tables:\n  incidents:\n    file: incidents.csv\n";
const INCIDENTS_MIN: &str = "id,title\nINC-1,ok\n";

/// A fixture with a valid sources file and export, and the given catalog text.
fn catalog_case(catalog: &str) -> Fixture {
    Fixture::with(catalog, SOURCES_MIN, &[("incidents.csv", INCIDENTS_MIN)])
}

const REQ_TITLE: &str = "  - id: title-set
    title: Titles recorded
    rule: required
    population: { table: incidents }
    fields: [title]
";

#[test]
fn yaml_syntax_names_file_and_line() {
    let f = catalog_case("checks:\n  - id: a\n    title: \"never closed\n");
    let r = f.run(&[]);
    r.assert_error("yaml-syntax", &["catalog.yaml:3:", "unclosed quote"]);
    r.assert_stderr(&["nothing was evaluated"]);
    assert!(r.report.is_none(), "no report after a catalog error");
}

#[test]
fn yaml_duplicate_key_is_a_syntax_error() {
    let f = catalog_case("checks:\n  - id: a\n    title: x\n    title: y\n");
    f.run(&[])
        .assert_error("yaml-syntax", &["catalog.yaml:4:", "duplicate", "title"]);
}

#[test]
fn schema_violation_unknown_field_names_the_field_and_line() {
    let cat = catalog_with(
        "  - id: title-set
    title: Titles recorded
    rule: required
    population: { table: incidents }
    fields: [title]
    withinn: 3h
",
        &["title-set"],
    );
    let r = catalog_case(&cat).run(&[]);
    r.assert_error(
        "schema-violation",
        // Located at the check's mapping (line 2), the key is named in the message.
        &["catalog.yaml:2:", "/checks/0", "'withinn' was unexpected"],
    );
}

#[test]
fn schema_violation_bad_id_and_unknown_rule() {
    let cat = "\
checks:
  - id: Bad_Id
    title: x
    rule: requird
    population: { table: incidents }
";
    let r = catalog_case(cat).run(&[]);
    r.assert_error(
        "schema-violation",
        &["catalog.yaml:2:", "/checks/0/id", "Bad_Id"],
    );
    r.assert_error(
        "schema-violation",
        &["catalog.yaml:4:", "/checks/0/rule", "requird"],
    );
}

#[test]
fn schema_violation_in_sources_file() {
    let f = Fixture::with(
        &catalog_with(REQ_TITLE, &["title-set"]),
        "tables:\n  incidents:\n    file: incidents.csv\n    timezon: UTC\n",
        &[("incidents.csv", INCIDENTS_MIN)],
    );
    f.run(&[]).assert_error(
        "schema-violation",
        &[
            "sources.yaml:3:",
            "/tables/incidents",
            "'timezon' was unexpected",
        ],
    );
}

#[test]
fn duplicate_check_id_points_at_both_definitions() {
    let checks = format!("{REQ_TITLE}{REQ_TITLE}");
    let r = catalog_case(&catalog_with(&checks, &["title-set"])).run(&[]);
    // The second definition starts on line 7; the first on line 2.
    r.assert_error(
        "duplicate-id",
        &[
            "catalog.yaml:7:",
            "check id `title-set`",
            "already defined at",
            "catalog.yaml:2",
        ],
    );
}

#[test]
fn duplicate_control_id_in_a_framework() {
    let cat = format!(
        "checks:\n{REQ_TITLE}frameworks:\n  - id: fw\n    name: F\n    controls:\n      - {{ id: C1, title: a, checks: [title-set] }}\n      - {{ id: C1, title: b, checks: [title-set] }}\n"
    );
    catalog_case(&cat).run(&[]).assert_error(
        "duplicate-id",
        &["catalog.yaml:12:", "control `C1` appears twice", "`fw`"],
    );
}

#[test]
fn unknown_check_named_by_a_control() {
    let cat = format!(
        "checks:\n{REQ_TITLE}frameworks:\n  - id: fw\n    name: F\n    controls:\n      - {{ id: C1, title: a, checks: [title-set, no-such-check] }}\n"
    );
    catalog_case(&cat).run(&[]).assert_error(
        "unknown-check",
        &["catalog.yaml:11:", "`C1`", "`no-such-check`"],
    );
}

#[test]
fn unknown_table_in_a_population() {
    let cat = catalog_with(
        "  - id: title-set
    title: Titles recorded
    rule: required
    population: { table: widgets }
    fields: [title]
",
        &["title-set"],
    );
    catalog_case(&cat).run(&[]).assert_error(
        "unknown-table",
        &["catalog.yaml:5:", "`widgets`", "incidents, notifications"],
    );
}

#[test]
fn unknown_table_in_the_sources_file() {
    let f = Fixture::with(
        &catalog_with(REQ_TITLE, &["title-set"]),
        "tables:\n  incidents:\n    file: incidents.csv\n  widgets:\n    file: w.csv\n",
        &[("incidents.csv", INCIDENTS_MIN)],
    );
    f.run(&[])
        .assert_error("unknown-table", &["sources.yaml:5:", "`widgets`"]);
}

#[test]
fn unknown_field_in_a_rule() {
    let cat = catalog_with(
        "  - id: notice
    title: Notice
    rule: deadline
    population: { table: incidents }
    start: declaredat
    end: resolved_at
    within: 72h
",
        &["notice"],
    );
    catalog_case(&cat).run(&[]).assert_error(
        "unknown-field",
        &[
            "catalog.yaml:6:",
            "table `incidents` has no field `declaredat`",
            "declared_at",
        ],
    );
}

#[test]
fn unknown_field_in_a_population_filter() {
    let cat = catalog_with(
        "  - id: title-set
    title: Titles recorded
    rule: required
    population: { table: incidents, where: { breach: true } }
    fields: [title]
",
        &["title-set"],
    );
    catalog_case(&cat)
        .run(&[])
        .assert_error("unknown-field", &["catalog.yaml:5:", "no field `breach`"]);
}

#[test]
fn unknown_field_in_sources_columns() {
    let f = Fixture::with(
        &catalog_with(REQ_TITLE, &["title-set"]),
        "tables:\n  incidents:\n    file: incidents.csv\n    columns:\n      titel: Summary\n",
        &[("incidents.csv", INCIDENTS_MIN)],
    );
    f.run(&[]).assert_error(
        "unknown-field",
        &["sources.yaml:5:", "table `incidents` has no field `titel`"],
    );
}

#[test]
fn bad_duration_zero_and_non_exact_warning() {
    let cat = catalog_with(
        "  - id: zero
    title: Zero
    rule: deadline
    population: { table: incidents }
    start: declared_at
    end: resolved_at
    within: 0h
  - id: warn-days
    title: Warn in days
    rule: deadline
    population: { table: incidents }
    start: declared_at
    end: resolved_at
    within: 72h
    warn_before: 1d
",
        &["zero", "warn-days"],
    );
    let r = catalog_case(&cat).run(&[]);
    r.assert_error("bad-duration", &["catalog.yaml:8:", "`0h`"]);
    r.assert_error(
        "bad-duration",
        &["catalog.yaml:16:", "`warn_before` is an exact duration"],
    );
}

#[test]
fn bad_value_of_the_wrong_type_in_a_filter() {
    let cat = catalog_with(
        "  - id: title-set
    title: Titles recorded
    rule: required
    population: { table: incidents, where: { data_breach: \"yes\" } }
    fields: [title]
",
        &["title-set"],
    );
    catalog_case(&cat).run(&[]).assert_error(
        "bad-value",
        &[
            "catalog.yaml:5:",
            "`data_breach` is a true/false field",
            "\"yes\"",
        ],
    );
}

#[test]
fn bad_value_control_without_checks_or_manual() {
    let cat = format!(
        "checks:\n{REQ_TITLE}frameworks:\n  - id: fw\n    name: F\n    controls:\n      - {{ id: C1, title: a, checks: [title-set] }}\n      - {{ id: C2, title: b }}\n"
    );
    catalog_case(&cat).run(&[]).assert_error(
        "bad-value",
        &["catalog.yaml:12:", "control `C2` of `fw`", "neither"],
    );
}

#[test]
fn bad_value_time_zone_in_sources() {
    let f = Fixture::with(
        &catalog_with(REQ_TITLE, &["title-set"]),
        "tables:\n  incidents:\n    file: incidents.csv\n    timezone: Mars/Olympus\n",
        &[("incidents.csv", INCIDENTS_MIN)],
    );
    f.run(&[]).assert_error(
        "bad-value",
        &["sources.yaml:4:", "`Mars/Olympus` is not an IANA time zone"],
    );
}

#[test]
fn bad_value_sources_without_incidents() {
    let f = Fixture::with(
        &catalog_with(REQ_TITLE, &["title-set"]),
        "tables:\n  findings:\n    file: findings.csv\n",
        &[("findings.csv", "id\nF-1\n")],
    );
    f.run(&[])
        .assert_error("bad-value", &["sources.yaml", "`incidents` table"]);
}

#[test]
fn bad_pattern_in_an_allowed_check() {
    let cat = catalog_with(
        "  - id: sev-shape
    title: Severity shape
    rule: allowed
    population: { table: incidents }
    field: severity
    pattern: \"sev(\"
",
        &["sev-shape"],
    );
    catalog_case(&cat).run(&[]).assert_error(
        "bad-pattern",
        &["catalog.yaml:7:", "bad regular expression"],
    );
}

#[test]
fn unknown_framework_in_a_crosswalk() {
    let cat = format!(
        "{}crosswalks:\n  - from: fw\n    to: iso-9999\n    mappings: [ {{ from: C-title-set, to: A.1, relation: equal }} ]\n",
        catalog_with(REQ_TITLE, &["title-set"])
    );
    catalog_case(&cat).run(&[]).assert_error(
        "unknown-framework",
        &["catalog.yaml:14:", "unknown framework `iso-9999`"],
    );
}

#[test]
fn unknown_framework_on_the_command_line() {
    let r = catalog_case(&catalog_with(REQ_TITLE, &["title-set"])).run(&["--framework", "soc9"]);
    r.assert_error(
        "unknown-framework",
        &["controls", "--framework `soc9`", "frameworks: fw"],
    );
}

#[test]
fn unknown_control_in_a_crosswalk() {
    let cat = format!(
        "{}crosswalks:\n  - from: fw\n    to: fw\n    mappings:\n      - {{ from: C-title-set, to: C-nope, relation: subset }}\n",
        catalog_with(REQ_TITLE, &["title-set"])
    );
    catalog_case(&cat).run(&[]).assert_error(
        "unknown-control",
        &["catalog.yaml:16:", "framework `fw` has no control `C-nope`"],
    );
}

#[test]
fn unknown_calendar_in_a_deadline() {
    let cat = catalog_with(
        "  - id: notice
    title: Notice
    rule: deadline
    population: { table: incidents }
    start: declared_at
    end: resolved_at
    within: 2bd
    calendar: us-holidays
",
        &["notice"],
    );
    catalog_case(&cat).run(&[]).assert_error(
        "unknown-calendar",
        &["catalog.yaml:9:", "no calendar `us-holidays`"],
    );
}

#[test]
fn no_catalog_in_an_empty_controls_folder() {
    let f = Fixture::new();
    f.sources(SOURCES_MIN)
        .export("incidents.csv", INCIDENTS_MIN);
    f.catalog_file("README.md", b"not a catalog\n");
    let r = f.run(&[]);
    r.assert_error("no-catalog", &["controls", "no catalog files"]);
}

#[test]
fn io_controls_folder_missing() {
    let f = Fixture::new();
    f.sources(SOURCES_MIN)
        .export("incidents.csv", INCIDENTS_MIN);
    std::fs::remove_dir(f.controls_dir()).unwrap();
    let r = f.run(&[]);
    r.assert_error("io", &["controls", "cannot read the controls folder"]);
    assert!(r.error_lines("no-catalog").is_empty(), "{}", r.dump());
}

#[test]
fn io_sources_file_missing() {
    let f = Fixture::new();
    f.catalog(&catalog_with(REQ_TITLE, &["title-set"]));
    f.run(&[])
        .assert_error("io", &["sources.yaml", "cannot read sources file"]);
}

#[test]
fn invalid_utf8_catalog_file() {
    let f = catalog_case(&catalog_with(REQ_TITLE, &["title-set"]));
    f.catalog_file("more.yaml", b"checks: []\n# caf\xe9\n");
    f.run(&[])
        .assert_error("invalid-utf8", &["more.yaml", "not valid UTF-8 at byte 16"]);
}

#[test]
fn catalog_errors_are_collected_across_files() {
    let f = catalog_case(&catalog_with(REQ_TITLE, &["title-set"]));
    f.catalog_file(
        "second.yaml",
        b"checks:\n  - id: other\n    title: x\n    rule: allowed\n    population: { table: incidents }\n    field: sevrity\n    values: [a]\n",
    );
    f.catalog_file(
        "third.yaml",
        b"frameworks:\n  - id: fw\n    name: again\n    controls: []\n",
    );
    let r = f.run(&[]);
    r.assert_error("unknown-field", &["second.yaml:6:", "`sevrity`"]);
    r.assert_error("duplicate-id", &["third.yaml:2:", "framework id `fw`"]);
    r.assert_stderr(&["2 error(s)"]);
}

#[test]
fn keep_going_does_not_excuse_a_catalog_error() {
    let cat = catalog_with(
        "  - id: title-set
    title: Titles recorded
    rule: required
    population: { table: incidents }
    fields: [titel]
",
        &["title-set"],
    );
    let r = catalog_case(&cat).run(&["--keep-going"]);
    r.assert_error("unknown-field", &["catalog.yaml:6:", "`titel`"]);
    assert!(r.report.is_none());
}

// ---------------------------------------------------------------------------
// Input side
// ---------------------------------------------------------------------------

/// Reads data_breach (mapped from `Breach`), declared_at, users_affected, title, and
/// links notifications by incident_id.
const INPUT_CATALOG_CHECKS: &str = "  - id: breach-notice
    title: Breach notice within 72 hours
    rule: deadline
    population: { table: incidents, where: { data_breach: true } }
    start: declared_at
    end: { table: notifications, via: incident_id, field: sent_at }
    within: 72h
  - id: users-known
    title: Users affected recorded
    rule: required
    population: { table: incidents }
    fields: [title, users_affected]
";

fn input_catalog() -> String {
    catalog_with(INPUT_CATALOG_CHECKS, &["breach-notice", "users-known"])
}

const INPUT_SOURCES: &str = "\
tables:
  incidents:
    file: incidents.csv
    columns:
      data_breach: Breach
  notifications:
    file: notifications.csv
";

const INC_HEADER: &str = "id,title,declared_at,Breach,users_affected\n";
const INC_GOOD: &str = "INC-1,ok,2025-01-01T00:00:00Z,true,5\n";
const NOTES_GOOD: &str = "id,incident_id,sent_at\nN-1,INC-1,2025-01-02T00:00:00Z\n";

/// incidents.csv = header + one good row (line 2) + `rows` (line 3 on).
fn input_case(rows: &str) -> Fixture {
    Fixture::with(
        &input_catalog(),
        INPUT_SOURCES,
        &[
            ("incidents.csv", &format!("{INC_HEADER}{INC_GOOD}{rows}")),
            ("notifications.csv", NOTES_GOOD),
        ],
    )
}

#[test]
fn clean_input_passes() {
    let r = input_case("").run(&[]);
    r.assert_code(0);
    assert_eq!(r.count("breach-notice", "passed"), 1);
    assert_eq!(r.count("users-known", "passed"), 1);
}

#[test]
fn io_export_missing() {
    let f = Fixture::with(
        &input_catalog(),
        INPUT_SOURCES,
        &[("notifications.csv", NOTES_GOOD)],
    );
    f.run(&[])
        .assert_error("io", &["incidents.csv", "cannot open export"]);
}

#[test]
fn invalid_utf8_csv_value() {
    let f = Fixture::new();
    f.catalog(&input_catalog()).sources(INPUT_SOURCES);
    f.export("notifications.csv", NOTES_GOOD);
    let mut bytes = format!("{INC_HEADER}{INC_GOOD}").into_bytes();
    bytes.extend_from_slice(b"INC-2,caf\xe9,2025-01-01T00:00:00Z,false,1\n");
    f.export_bytes("incidents.csv", &bytes);
    f.run(&[]).assert_error(
        "invalid-utf8",
        &[
            "incidents.csv:3",
            "column `title`",
            "column 2",
            "not valid UTF-8",
        ],
    );
}

#[test]
fn invalid_utf8_csv_header() {
    let f = Fixture::new();
    f.catalog(&input_catalog()).sources(INPUT_SOURCES);
    f.export("notifications.csv", NOTES_GOOD);
    let mut bytes = b"id,title,declared_at,Breach,users_affected,caf\xe9\n".to_vec();
    bytes.extend_from_slice(b"INC-1,ok,2025-01-01T00:00:00Z,true,5,x\n");
    f.export_bytes("incidents.csv", &bytes);
    f.run(&[])
        .assert_error("invalid-utf8", &["incidents.csv:1", "header column 6"]);
}

#[test]
fn invalid_utf8_json_value() {
    let f = Fixture::new();
    f.catalog(&catalog_with(REQ_TITLE, &["title-set"]));
    f.sources("tables:\n  incidents:\n    file: incidents.json\n");
    f.export_bytes(
        "incidents.json",
        b"[{\"id\": \"INC-1\", \"title\": \"caf\xe9\"}]",
    );
    f.run(&[]).assert_error("invalid-utf8", &["incidents.json"]);
}

#[cfg(target_os = "linux")]
#[test]
fn csv_syntax_when_the_export_cannot_be_read() {
    // The only way to make the csv reader fail: an I/O error on the header.
    let f = input_case("");
    std::fs::remove_file(f.evidence_dir().join("incidents.csv")).unwrap();
    std::fs::create_dir(f.evidence_dir().join("incidents.csv")).unwrap();
    let r = f.run(&[]);
    r.assert_error("csv-syntax", &["incidents.csv:1", "cannot read the header"]);
}

#[test]
fn json_syntax_names_line_and_column() {
    let f = Fixture::new();
    f.catalog(&catalog_with(REQ_TITLE, &["title-set"]));
    f.sources("tables:\n  incidents:\n    file: incidents.json\n");
    f.export(
        "incidents.json",
        "[\n  {\"id\": \"INC-1\", \"title\": \"a\"},\n  {\"id\": \"INC-2\" \"title\": \"b\"}\n]\n",
    );
    f.run(&[])
        .assert_error("json-syntax", &["incidents.json:3:", "expected `,` or `}`"]);
}

#[test]
fn json_syntax_in_ndjson_names_the_line() {
    let f = Fixture::new();
    f.catalog(&catalog_with(REQ_TITLE, &["title-set"]));
    f.sources("tables:\n  incidents:\n    file: incidents.ndjson\n");
    f.export(
        "incidents.ndjson",
        "{\"id\":\"INC-1\",\"title\":\"a\"}\n\n{\"id\":\"INC-2\",\"title\":\"b\"\n[1, 2]\n",
    );
    let r = f.run(&[]);
    r.assert_error("json-syntax", &["incidents.ndjson:3:", "EOF while parsing"]);
    r.assert_error("json-syntax", &["incidents.ndjson:4", "not a JSON object"]);
}

#[test]
fn ndjson_syntax_message_does_not_contradict_its_line() {
    let f = Fixture::new();
    f.catalog(&catalog_with(REQ_TITLE, &["title-set"]));
    f.sources("tables:\n  incidents:\n    file: incidents.ndjson\n");
    f.export(
        "incidents.ndjson",
        "{\"id\":\"INC-1\",\"title\":\"a\"}\n\n{\"id\":\"INC-2\",\"title\":\"b\"\n",
    );
    let r = f.run(&[]);
    let line = r.assert_error("json-syntax", &["incidents.ndjson:3:"]);
    assert!(!line.contains("at line 1"), "{line}");
}

#[test]
fn records_path_that_is_not_an_array() {
    let f = Fixture::new();
    f.catalog(&catalog_with(REQ_TITLE, &["title-set"]));
    f.sources("tables:\n  incidents:\n    file: incidents.json\n    records: /incidents\n");
    f.export(
        "incidents.json",
        "{\"incidents\": {\"id\": \"INC-1\"}, \"data\": [{\"id\": \"INC-1\", \"title\": \"t\"}]}",
    );
    f.run(&[]).assert_error(
        "records-path",
        &[
            "incidents.json (at /incidents)",
            "not an array of records",
            "/data",
        ],
    );
}

#[test]
fn records_path_element_that_is_not_an_object() {
    let f = Fixture::new();
    f.catalog(&catalog_with(REQ_TITLE, &["title-set"]));
    f.sources("tables:\n  incidents:\n    file: incidents.json\n");
    f.export(
        "incidents.json",
        "[{\"id\": \"INC-1\", \"title\": \"t\"}, 42]",
    );
    f.run(&[]).assert_error(
        "records-path",
        &["incidents.json (at /1)", "not a JSON object"],
    );
}

#[test]
fn missing_column_mapped_in_sources() {
    let f = Fixture::with(
        &input_catalog(),
        INPUT_SOURCES,
        &[
            (
                "incidents.csv",
                "id,title,declared_at,users_affected\nINC-1,ok,2025-01-01T00:00:00Z,5\n",
            ),
            ("notifications.csv", NOTES_GOOD),
        ],
    );
    f.run(&[]).assert_error(
        "missing-column",
        &[
            "incidents.csv:1",
            "column `Breach`",
            "incidents.data_breach",
            "columns: id, title, declared_at, users_affected",
        ],
    );
}

#[test]
fn missing_id_column() {
    let f = Fixture::with(
        &input_catalog(),
        INPUT_SOURCES,
        &[
            (
                "incidents.csv",
                "key,title,declared_at,Breach,users_affected\nINC-1,ok,2025-01-01T00:00:00Z,true,5\n",
            ),
            ("notifications.csv", NOTES_GOOD),
        ],
    );
    f.run(&[]).assert_error(
        "missing-column",
        &["incidents.csv:1", "no `id` column", "columns: key, title"],
    );
}

#[test]
fn ragged_row() {
    let r = input_case("INC-2,short\n").run(&[]);
    r.assert_error(
        "ragged-row",
        &["incidents.csv:3", "row has 2 fields; the header has 5"],
    );
}

#[test]
fn missing_id() {
    let r = input_case(" ,no id,2025-01-01T00:00:00Z,false,1\n").run(&[]);
    r.assert_error("missing-id", &["incidents.csv:3", "column `id`", "no id"]);
}

#[test]
fn duplicate_record() {
    let r = input_case("INC-1,again,2025-01-01T00:00:00Z,false,1\n").run(&[]);
    r.assert_error(
        "duplicate-record",
        &["incidents.csv:3", "id `INC-1`", "already used at line 2"],
    );
}

#[test]
fn unparseable_bool() {
    let r = input_case("INC-2,t,2025-01-01T00:00:00Z,maybe,1\n").run(&[]);
    r.assert_error(
        "unparseable-value",
        &[
            "incidents.csv:3",
            "column `Breach`",
            "field `incidents.data_breach`",
            "`maybe`",
            "true/false",
        ],
    );
}

#[test]
fn unparseable_int() {
    let r = input_case("INC-2,t,2025-01-01T00:00:00Z,false,many\n").run(&[]);
    r.assert_error(
        "unparseable-value",
        &[
            "incidents.csv:3",
            "column `users_affected`",
            "`many`",
            "whole number",
        ],
    );
}

#[test]
fn unparseable_timestamp() {
    let r =
        input_case("INC-2,t,2025-13-01T00:00:00Z,false,1\nINC-3,t,yesterday,false,1\n").run(&[]);
    r.assert_error(
        "unparseable-value",
        &[
            "incidents.csv:3",
            "column `declared_at`",
            "2025-13-01T00:00:00Z",
            "impossible",
        ],
    );
    r.assert_error(
        "unparseable-value",
        &[
            "incidents.csv:4",
            "column `declared_at`",
            "`yesterday`",
            "not a timestamp",
        ],
    );
}

#[test]
fn unparseable_value_in_json_names_the_pointer() {
    let f = Fixture::new();
    f.catalog(&input_catalog());
    f.sources("tables:\n  incidents:\n    file: incidents.json\n    records: /items\n  notifications:\n    file: notifications.csv\n");
    f.export("notifications.csv", NOTES_GOOD);
    f.export(
        "incidents.json",
        r#"{"items": [
  {"id": "INC-1", "title": "ok", "declared_at": "2025-01-01T00:00:00Z", "data_breach": true, "users_affected": 5},
  {"id": "INC-2", "title": "t", "declared_at": "2025-01-01T00:00:00Z", "data_breach": "sometimes", "users_affected": 5}
]}"#,
    );
    f.run(&[]).assert_error(
        "unparseable-value",
        &["incidents.json (at /items/1)", "data_breach", "`sometimes`"],
    );
}

#[test]
fn naive_timestamp_without_a_zone() {
    let r = input_case("INC-2,t,2025-01-01T09:00:00,false,1\n").run(&[]);
    r.assert_error(
        "naive-timestamp",
        &[
            "incidents.csv:3",
            "column `declared_at`",
            "`2025-01-01T09:00:00`",
            "no UTC offset",
            "timezone",
        ],
    );
}

#[test]
fn dangling_reference() {
    let f = Fixture::with(
        &input_catalog(),
        INPUT_SOURCES,
        &[
            ("incidents.csv", &format!("{INC_HEADER}{INC_GOOD}")),
            (
                "notifications.csv",
                "id,incident_id,sent_at\nN-1,INC-1,2025-01-02T00:00:00Z\nN-2,INC-404,2025-01-02T00:00:00Z\n",
            ),
        ],
    );
    f.run(&[]).assert_error(
        "dangling-reference",
        &[
            "notifications.csv:3",
            "notifications.incident_id",
            "`INC-404`",
            "no record of `incidents`",
        ],
    );
}

#[test]
fn reference_to_a_rejected_record_is_not_dangling() {
    // INC-2 is rejected for its own bad value; N-2 names it and must not be reported
    // a second time as dangling.
    let f = Fixture::with(
        &input_catalog(),
        INPUT_SOURCES,
        &[
            (
                "incidents.csv",
                &format!("{INC_HEADER}{INC_GOOD}INC-2,t,2025-01-01T00:00:00Z,maybe,1\n"),
            ),
            (
                "notifications.csv",
                "id,incident_id,sent_at\nN-1,INC-1,2025-01-02T00:00:00Z\nN-2,INC-2,2025-01-02T00:00:00Z\n",
            ),
        ],
    );
    let r = f.run(&[]);
    r.assert_error("unparseable-value", &["incidents.csv:3", "`maybe`"]);
    assert!(
        r.error_lines("dangling-reference").is_empty(),
        "{}",
        r.dump()
    );
}

#[test]
fn empty_file() {
    let f = Fixture::with(
        &input_catalog(),
        INPUT_SOURCES,
        &[("incidents.csv", ""), ("notifications.csv", NOTES_GOOD)],
    );
    f.run(&[])
        .assert_error("empty-file", &["incidents.csv", "empty", "header row"]);
}

#[test]
fn too_many_errors_are_counted() {
    let mut rows = String::new();
    for i in 0..1005 {
        rows.push_str(&format!("INC-B{i},t,2025-01-01T00:00:00Z,maybe,1\n"));
    }
    let r = input_case(&rows).run(&[]);
    r.assert_code(2);
    assert_eq!(r.error_lines("unparseable-value").len(), 1000, "kept");
    r.assert_error("too-many-errors", &["5 more error(s)"]);
}

#[test]
fn too_many_errors_total_is_right() {
    let mut rows = String::new();
    for i in 0..1005 {
        rows.push_str(&format!("INC-B{i},t,2025-01-01T00:00:00Z,maybe,1\n"));
    }
    let r = input_case(&rows).run(&[]);
    r.assert_code(2);
    r.assert_stderr(&["evidentia: 1005 error(s)"]);
}

#[test]
fn all_input_errors_are_reported_together() {
    let rows = "\
INC-2,t,2025-01-01T00:00:00Z,maybe,1
INC-3,t,2025-01-01T00:00:00,false,1
INC-4,t,2025-01-01T00:00:00Z,false,many
INC-1,dup,2025-01-01T00:00:00Z,false,1
";
    let r = input_case(rows).run(&[]);
    r.assert_code(2);
    r.assert_error("unparseable-value", &["incidents.csv:3"]);
    r.assert_error("naive-timestamp", &["incidents.csv:4"]);
    r.assert_error("unparseable-value", &["incidents.csv:5"]);
    r.assert_error("duplicate-record", &["incidents.csv:6"]);
    r.assert_stderr(&["4 error(s)", "use --keep-going"]);
    assert!(r.report.is_none(), "nothing is written after input errors");
}

#[test]
fn unread_typed_columns_are_still_validated() {
    // `users_affected` is read by no check, but a mapped typed column is validated all
    // the same: which rows are rejected never depends on the checks selected.
    let f = Fixture::with(
        &catalog_with(REQ_TITLE, &["title-set"]),
        SOURCES_MIN,
        &[("incidents.csv", "id,title,users_affected\nINC-1,ok,lots\n")],
    );
    let r = f.run(&[]);
    r.assert_code(2);
    r.assert_stderr(&[
        "error[unparseable-value]",
        "incidents.csv:2",
        "users_affected",
        "`lots`",
    ]);
}

// ---------------------------------------------------------------------------
// --keep-going
// ---------------------------------------------------------------------------

#[test]
fn keep_going_rejects_fails_closed_and_reconciles() {
    let rows = "\
INC-2,t,2025-01-01T00:00:00Z,maybe,1
INC-3,t,2025-01-01T00:00:00Z,false,many
INC-4,short
";
    let f = input_case(rows);
    let r = f.run(&["--keep-going"]);
    r.assert_code(1);
    // The diagnostics are still printed.
    r.assert_stderr(&["error[unparseable-value]", "error[ragged-row]"]);
    let rep = r.report();
    let rejected = rep["rejected"].as_array().unwrap();
    let mut got: Vec<(String, u64, String)> = rejected
        .iter()
        .map(|x| {
            (
                x["record_id"].as_str().unwrap_or("(none)").to_string(),
                x["line"].as_u64().unwrap(),
                x["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("(none)".into(), 5, "ragged-row".into()),
            ("INC-2".into(), 3, "unparseable-value".into()),
            ("INC-3".into(), 4, "unparseable-value".into()),
        ]
    );
    for x in rejected {
        assert_eq!(x["table"], "incidents");
        assert!(x["file"].as_str().unwrap().ends_with("incidents.csv"));
    }
    // Fail closed: every rejected incident is an exception of both incident checks,
    // even breach-notice, whose filter INC-3 (data_breach false) would not pass.
    for check in ["breach-notice", "users-known"] {
        assert_eq!(r.count(check, "rejected"), 3, "{check}");
        assert_eq!(r.count(check, "exceptions_count"), 3, "{check}");
        assert_eq!(r.count(check, "passed"), 1, "{check}");
        assert_eq!(r.count(check, "population"), 4, "{check}");
        let v = r.verdicts(check);
        assert_eq!(v.get("INC-2").map(String::as_str), Some("not-evaluable"));
        assert_eq!(v.get("INC-3").map(String::as_str), Some("not-evaluable"));
        assert_eq!(v.get("(no id)").map(String::as_str), Some("not-evaluable"));
        let inc2 = r.record(check, "INC-2");
        assert_eq!(inc2["line"], 3);
        assert!(
            inc2["message"]
                .as_str()
                .unwrap()
                .starts_with("record rejected: column `Breach`"),
            "{inc2}"
        );
    }
    assert_eq!(r.control_status("fw", "C-users-known"), "exceptions");
    let inc = r.input("incidents.csv");
    assert_eq!(inc["rows_read"], 4);
    assert_eq!(inc["rows_rejected"], 3);
    assert_eq!(inc["rows_evaluated"], 1);
    assert_eq!(inc["rows_out_of_period"], 0);
    r.assert_inputs_reconcile();
    // The workpaper lists the rejected records too.
    let csv = String::from_utf8(r.exceptions_csv.clone().unwrap()).unwrap();
    assert!(csv.contains("users-known,INC-2,incidents,"), "{csv}");
    assert!(csv.contains("record rejected"), "{csv}");
}

#[test]
fn keep_going_with_a_clean_export_still_passes() {
    let r = input_case("").run(&["--keep-going"]);
    r.assert_code(0);
    assert!(r.report()["rejected"].as_array().unwrap().is_empty());
}

#[test]
fn keep_going_exits_1_even_when_fail_on_never() {
    let r = input_case("INC-2,t,2025-01-01T00:00:00Z,maybe,1\n").run(&[
        "--keep-going",
        "--fail-on",
        "never",
    ]);
    r.assert_code(1);
    assert_eq!(r.report()["gate"]["passed"], true);
}

#[test]
fn keep_going_dangling_reference_rejects_the_child_only() {
    let f = Fixture::with(
        &input_catalog(),
        INPUT_SOURCES,
        &[
            ("incidents.csv", &format!("{INC_HEADER}{INC_GOOD}")),
            (
                "notifications.csv",
                "id,incident_id,sent_at\nN-1,INC-1,2025-01-02T00:00:00Z\nN-2,INC-404,2025-01-02T00:00:00Z\n",
            ),
        ],
    );
    let r = f.run(&["--keep-going"]);
    r.assert_code(1);
    let rejected = r.report()["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["record_id"], "N-2");
    assert_eq!(rejected[0]["table"], "notifications");
    assert_eq!(rejected[0]["code"], "dangling-reference");
    assert_eq!(rejected[0]["line"], 3);
    // A rejected notification could not have entered the incident checks'
    // populations (a missing notice already fails closed), so they are untouched.
    assert_eq!(r.count("breach-notice", "rejected"), 0);
    assert_eq!(r.count("breach-notice", "passed"), 1);
    assert_eq!(r.count("users-known", "rejected"), 0);
    assert_eq!(r.count("users-known", "exceptions_count"), 0);
    let n = r.input("notifications.csv");
    assert_eq!(n["rows_read"], 2);
    assert_eq!(n["rows_rejected"], 1);
    assert_eq!(n["rows_evaluated"], 1);
    r.assert_inputs_reconcile();
}

#[test]
fn keep_going_json_rejects_by_pointer() {
    let f = Fixture::new();
    f.catalog(&catalog_with(
        "  - id: users-known
    title: Users affected recorded
    rule: required
    population: { table: incidents }
    fields: [title, users_affected]
",
        &["users-known"],
    ));
    f.sources("tables:\n  incidents:\n    file: incidents.json\n");
    f.export(
        "incidents.json",
        r#"[{"id": "INC-1", "title": "a", "users_affected": 1},
            {"id": "INC-2", "title": "b", "users_affected": "x"},
            7,
            {"id": "INC-4", "title": "d"}]"#,
    );
    let r = f.run(&["--keep-going"]);
    r.assert_code(1);
    let v = r.verdicts("users-known");
    assert_eq!(v.get("INC-2").map(String::as_str), Some("not-evaluable"));
    assert_eq!(v.get("INC-4").map(String::as_str), Some("exception"));
    assert_eq!(r.record("users-known", "INC-2")["pointer"], "/1");
    let inc = r.input("incidents.json");
    assert_eq!(inc["rows_read"], 4);
    assert_eq!(inc["rows_rejected"], 2);
    assert_eq!(inc["rows_evaluated"], 2);
    r.assert_inputs_reconcile();
}

#[test]
fn keep_going_unparseable_ndjson_line_fails_closed() {
    let f = Fixture::new();
    f.catalog(&catalog_with(REQ_TITLE, &["title-set"]));
    f.sources("tables:\n  incidents:\n    file: incidents.ndjson\n");
    f.export(
        "incidents.ndjson",
        "{\"id\":\"INC-1\",\"title\":\"a\"}\n{\"id\":\"INC-2\",\"title\":\"b\"\n",
    );
    let r = f.run(&["--keep-going"]);
    r.assert_code(1);
    r.assert_inputs_reconcile();
    assert_eq!(r.input("incidents.ndjson")["rows_rejected"], 1);
    let rejected = r.report()["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{}", r.report()["rejected"]);
    assert_eq!(rejected[0]["line"], 2);
    assert_eq!(r.count("title-set", "rejected"), 1);
    assert_eq!(r.count("title-set", "exceptions_count"), 1);
    assert_eq!(r.report()["gate"]["passed"], false);
}

#[test]
fn keep_going_missing_column_rejects_every_row() {
    let f = Fixture::with(
        &catalog_with(REQ_TITLE, &["title-set"]),
        "tables:\n  incidents:\n    file: incidents.csv\n    columns: { title: Summary }\n",
        &[("incidents.csv", "id,title\nINC-1,a\nINC-2,b\n")],
    );
    let r = f.run(&["--keep-going"]);
    r.assert_code(1);
    r.assert_stderr(&["error[missing-column]"]);
    let inc = r.input("incidents.csv");
    assert_eq!(inc["rows_read"], 2, "{inc}");
    assert_eq!(inc["rows_rejected"], 2, "{inc}");
    assert_eq!(r.count("title-set", "exceptions_count"), 2);
    assert_eq!(r.control_status("fw", "C-title-set"), "exceptions");
}

#[test]
fn keep_going_rejected_middle_record_fails_closed() {
    let cat = catalog_with(
        "  - id: findings-owned
    title: Findings owned
    rule: each-linked
    population: { table: incidents, where: { customer_impacting: true } }
    related:
      - { table: postmortems, via: incident_id }
      - { table: findings, via: postmortem_id }
    require: { owner: { set: true } }
",
        &["findings-owned"],
    );
    let f = Fixture::with(
        &cat,
        "tables:\n  incidents:\n    file: incidents.csv\n  postmortems:\n    file: postmortems.csv\n  findings:\n    file: findings.csv\n",
        &[
            (
                "incidents.csv",
                "id,customer_impacting\nE-1,true\nE-2,true\n",
            ),
            (
                "postmortems.csv",
                "id,incident_id,completed_at\nPM-1,E-1,garbage\nPM-2,E-2,2025-01-01T00:00:00Z\n",
            ),
            (
                "findings.csv",
                "id,postmortem_id,owner\nF-1,PM-1,\nF-2,PM-2,bob\n",
            ),
        ],
    );
    let r = f.run(&["--keep-going"]);
    r.assert_code(1);
    r.assert_stderr(&["error[unparseable-value]", "postmortems.csv:2"]);
    assert!(
        r.count("findings-owned", "exceptions_count") >= 1,
        "{}",
        r.check("findings-owned")
    );
    assert_eq!(r.control_status("fw", "C-findings-owned"), "exceptions");
}

/// A record with two bad fields, the first read only by an output (the aging chart of
/// `report.html` reads the findings' `created_at`), the second by a check (`due_at`):
/// it is rejected for the first in the field order, whatever the outputs asked for, so
/// `report.json` and stderr are the same with `--format json` and with `--format
/// all`. (Found by the `check_run` fuzz target: the fields a run reads were typed
/// first, then those only validated, and the first error found was reported.)
#[test]
fn the_reason_a_record_is_rejected_does_not_depend_on_the_outputs() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let catalog =
        std::fs::read_to_string(root.join("benches/reference/controls/reference.yaml")).unwrap();
    let sources = "tables:
  incidents: { file: incidents.csv }
  postmortems: { file: postmortems.csv }
  findings: { file: findings.csv }
";
    let incidents = "id,declared_at,customer_impacting,data_breach
INC-1,2025-01-01T00:00:00Z,true,false
";
    let postmortems = "id,incident_id,status,completed_at
PM-1,INC-1,complete,2025-01-10T00:00:00Z
";
    let findings = "id,postmortem_id,owner,created_at,due_at,status
F-1,PM-1,team-a,yesterday,2025-01-01T24:00:00Z,open
F-2,PM-1,team-a,2025-01-02T00:00:00Z,2025-01-01T25:00:00Z,open
F-3,PM-1,team-a,2025-01-02T00:00:00Z,2026-01-01T00:00:00Z,open
";
    let f = Fixture::with(
        &catalog,
        sources,
        &[
            ("incidents.csv", incidents),
            ("postmortems.csv", postmortems),
            ("findings.csv", findings),
        ],
    );
    let json = f.run(&["--keep-going", "--format", "json"]);
    let all = f.run(&["--keep-going", "--format", "all"]);
    json.assert_code(1);
    all.assert_code(1);
    let errors = |stderr: &str| -> Vec<String> {
        stderr
            .lines()
            .filter(|l| l.starts_with("error["))
            .map(String::from)
            .collect()
    };
    assert_eq!(errors(&json.stderr), errors(&all.stderr));
    assert_eq!(json.report_bytes, all.report_bytes);
    let rep = json.report();
    let reasons: Vec<(&str, &str)> = rep["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["record_id"].as_str().unwrap(),
                x["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(
        reasons[0].0 == "F-1" && reasons[0].1.contains("column `created_at`"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].0 == "F-2" && reasons[1].1.contains("column `due_at`"),
        "{reasons:?}"
    );
    // Both errors of F-1 are printed, in the order of the fields.
    let stderr = &json.stderr;
    let created = stderr.find("`yesterday`").unwrap();
    let due = stderr.find("2025-01-01T24:00:00Z").unwrap();
    assert!(created < due, "{stderr}");
}
