//! Presets against the real material in ../shared/realdata (skipped, with a message,
//! where it is absent). What each test reads, honestly:
//!
//! - pagerduty, pagerduty-analytics, incidentio: the API schemas' embedded response
//!   examples (real, verbatim), extracted into export files of the shape the API
//!   returns (e.g. `examples["GET /incidents -> 200"].response.value`).
//! - servicenow: the real event-log export (5,998 rows), as is.
//! - firehydrant, opsgenie: their schemas have no examples; the tests check that every
//!   property the preset reads exists in the schema, then read a record built from
//!   those property names with values written here.
//! - jira: nothing real was available; a CSV written here with the header conventions
//!   observed in real exports (repeated `Labels`, `Custom field (...)`, `dd/MMM/yy
//!   h:mm a` dates).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

fn realdata() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/realdata");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!(
            "skipped: {} is absent; the preset tests read the real exports there",
            p.display()
        );
        None
    }
}

fn controls() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("controls")
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn evidentia(dir: &Path, args: &[&str]) -> Out {
    let o = Command::new(env!("CARGO_BIN_EXE_evidentia"))
        .args(args)
        .current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    let out = Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    };
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    out
}

/// `evidence inspect --format json` with the shipped catalog; the parsed report.
fn inspect(dir: &Path, preset: &[&str]) -> (i32, Value) {
    let c = controls().display().to_string();
    let mut args = vec!["evidence", "inspect", "--format", "json", "--controls", &c];
    args.extend_from_slice(preset);
    let o = evidentia(dir, &args);
    assert!(
        o.code == 0 || o.code == 1,
        "exit {}\n{}\n{}",
        o.code,
        o.stderr,
        o.stdout
    );
    (o.code, serde_json::from_str(&o.stdout).unwrap())
}

fn table<'a>(x: &'a Value, name: &str) -> &'a Value {
    x["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == name)
        .unwrap_or_else(|| panic!("no table {name}: {x}"))
}

fn field<'a>(t: &'a Value, name: &str) -> &'a Value {
    t["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == name)
        .unwrap_or_else(|| panic!("field {name} not provided: {t}"))
}

/// The single value of a field over all records: its only instant, or its only value.
fn only(t: &Value, name: &str) -> String {
    let f = field(t, name);
    if let Some(e) = f["earliest"].as_str() {
        assert_eq!(f["earliest"], f["latest"], "{name}: {f}");
        return e.to_string();
    }
    let v = f["values"].as_array().unwrap();
    assert_eq!(v.len(), 1, "{name}: {f}");
    v[0][0].as_str().unwrap().to_string()
}

fn write_json(dir: &Path, name: &str, v: &Value) -> String {
    std::fs::write(dir.join(name), serde_json::to_vec_pretty(v).unwrap()).unwrap();
    name.to_string()
}

fn tmp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("evidentia-presets-")
        .tempdir()
        .unwrap()
}

fn pagerduty_examples(rd: &Path) -> Value {
    serde_json::from_slice(
        &std::fs::read(rd.join("pagerduty-api/pagerduty_openapi_incident_response_examples.json"))
            .unwrap(),
    )
    .unwrap()
}

// ---------------------------------------------------------------------------
// PagerDuty
// ---------------------------------------------------------------------------

#[test]
fn pagerduty_rest_incidents_list() {
    let Some(rd) = realdata() else { return };
    let d = tmp();
    let ex = pagerduty_examples(&rd);
    let f = write_json(
        d.path(),
        "incidents.json",
        &ex["examples"]["GET /incidents -> 200"]["response"]["value"],
    );
    let (code, x) = inspect(d.path(), &["--preset", "pagerduty", "--export", &f]);
    assert_eq!(code, 0, "{x}");
    let t = table(&x, "incidents");
    assert_eq!(t["records"], 1);
    assert_eq!(t["rejected"], 0);
    assert_eq!(field(t, "id")["present"], 1);
    assert_eq!(only(t, "title"), "The server is on fire.");
    assert_eq!(only(t, "severity"), "P2");
    assert_eq!(only(t, "status"), "resolved");
    assert_eq!(only(t, "service"), "My Mail Service");
    assert_eq!(only(t, "detected_at"), "2015-10-06T21:30:42Z");
    assert_eq!(only(t, "resolved_at"), "2015-10-06T21:38:23Z");
    // What PagerDuty lacks is said, per check.
    let lacks: Vec<String> = x["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == "escalation-before-declaration")
        .flat_map(|c| c["lacks"].as_array().unwrap().iter().map(|v| v.to_string()))
        .collect();
    assert_eq!(lacks, vec!["\"incidents.escalated_at\""]);
    assert!(
        t["unmapped_columns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "incident_key")
    );
}

#[test]
fn pagerduty_analytics_needs_the_account_zone() {
    let Some(rd) = realdata() else { return };
    let d = tmp();
    let ex = pagerduty_examples(&rd);
    let f = write_json(
        d.path(),
        "incidents.json",
        &ex["examples"]["POST /analytics/raw/incidents -> 200"]["Example Response"]["value"],
    );
    // Without --timezone: an explicit error telling to pass it, nothing read.
    let c = controls().display().to_string();
    for cmd in [
        vec![
            "evidence",
            "inspect",
            "--preset",
            "pagerduty-analytics",
            "--export",
            &f,
        ],
        vec![
            "check",
            "--controls",
            &c,
            "--preset",
            "pagerduty-analytics",
            "--export",
            &f,
        ],
    ] {
        let o = evidentia(d.path(), &cmd);
        assert_eq!(o.code, 2, "{}", o.stderr);
        assert!(
            o.stderr
                .contains("preset `pagerduty-analytics` needs the time zone")
                && o.stderr.contains("--timezone"),
            "{}",
            o.stderr
        );
    }
    // With the zone the response names (`time_zone`), both records read.
    let zone = ex["examples"]["POST /analytics/raw/incidents -> 200"]["Example Response"]["value"]
        ["time_zone"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(zone, "Etc/UTC");
    let (code, x) = inspect(
        d.path(),
        &[
            "--preset",
            "pagerduty-analytics",
            "--export",
            &f,
            "--timezone",
            &zone,
        ],
    );
    assert_eq!(code, 0, "{x}");
    let t = table(&x, "incidents");
    assert_eq!(t["records"], 2);
    assert_eq!(field(t, "detected_at")["earliest"], "2023-05-31T10:00:00Z");
    assert_eq!(field(t, "detected_at")["latest"], "2023-05-31T10:05:00Z");
    // Incident 929 is resolved the day before it was created.
    assert_eq!(field(t, "resolved_at")["earliest"], "2023-05-30T10:00:05Z");
    assert_eq!(only(t, "severity"), "SEV-2");
    assert_eq!(field(t, "severity")["missing"], 1);
    // The stray key `total_interruptions"` of the real example is an unmapped column.
    assert!(
        t["unmapped_columns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "total_interruptions\"")
    );
}

#[test]
fn pagerduty_analytics_incident_929_is_a_lifecycle_exception() {
    let Some(rd) = realdata() else { return };
    let d = tmp();
    let ex = pagerduty_examples(&rd);
    let f = write_json(
        d.path(),
        "incidents.json",
        &ex["examples"]["POST /analytics/raw/incidents -> 200"]["Example Response"]["value"],
    );
    let c = controls().display().to_string();
    let o = evidentia(
        d.path(),
        &[
            "check",
            "--controls",
            &c,
            "--preset",
            "pagerduty-analytics",
            "--export",
            &f,
            "--timezone",
            "Etc/UTC",
            "--as-of",
            "2023-07-01T00:00:00Z",
            "--format",
            "json",
            "--out",
            "out",
        ],
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    let r: Value =
        serde_json::from_slice(&std::fs::read(d.path().join("out/report.json")).unwrap()).unwrap();
    let lo = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "lifecycle-order")
        .unwrap();
    assert_eq!(lo["population"], 2);
    assert_eq!(lo["exceptions_count"], 1);
    let e = &lo["exceptions"][0];
    assert_eq!(e["record_id"], "PCOOHCY"); // incident_number 929
    assert_eq!(e["pointer"], "/data/1");
    let m = e["message"].as_str().unwrap();
    assert!(
        m.contains("declared_at 2023-05-31T10:00:00Z is after recovered_at 2023-05-30T10:00:05Z"),
        "{m}"
    );
    // The preset's sources are in the evidence bundle, as the run's sources file.
    let man: Value =
        serde_json::from_slice(&std::fs::read(d.path().join("out/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(man["sources"]["path"], "out/preset-sources.yaml");
    assert!(man["sources"]["sha256"].is_string());
    let text = std::fs::read_to_string(d.path().join("out/preset-sources.yaml")).unwrap();
    assert!(text.contains("timezone: Etc/UTC"), "{text}");
    // And `verify` re-derives the same bytes.
    let v = evidentia(d.path(), &["verify", "out"]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
}

// ---------------------------------------------------------------------------
// incident.io
// ---------------------------------------------------------------------------

#[test]
fn incidentio_incidents_with_named_timestamps_and_follow_ups() {
    let Some(rd) = realdata() else { return };
    let d = tmp();
    let spec: Value = serde_json::from_slice(
        &std::fs::read(
            rd.join("incidentio-api/incidentio_openapi_v2_incident_followup_subset.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let ex = &spec["list_response_examples"];
    let inc = write_json(
        d.path(),
        "incidents.json",
        &ex["GET /v2/incidents"]["example"],
    );
    let fu = write_json(
        d.path(),
        "follow_ups.json",
        &ex["GET /v2/follow_ups"]["example"],
    );
    let fu_arg = format!("findings={fu}");
    let (code, x) = inspect(
        d.path(),
        &[
            "--preset",
            "incidentio",
            "--export",
            &inc,
            "--export",
            &fu_arg,
        ],
    );
    let t = table(&x, "incidents");
    assert_eq!(t["records"], 1);
    assert_eq!(only(t, "title"), "Our database is sad");
    assert_eq!(only(t, "severity"), "Minor");
    assert_eq!(only(t, "status"), "Closed");
    assert_eq!(only(t, "declared_at"), "2021-08-17T13:28:57.801578Z");
    // "Impact started", picked by name from incident_timestamp_values.
    assert_eq!(only(t, "detected_at"), "2021-08-17T13:28:57.801578Z");
    assert!(
        field(t, "detected_at")["source"]
            .as_str()
            .unwrap()
            .contains("/incident_timestamp_values[/incident_timestamp/name=Impact started]")
    );
    assert_eq!(table(&x, "postmortems")["records"], 1);
    // The real example's follow-up names an incident (01FCNDV6P870EA6S7TK1DSYDG0) that
    // is not the example incident (01FDAG4SAP5TYPT98WGR2N7W91): a dangling reference.
    assert_eq!(code, 1);
    let f = table(&x, "findings");
    assert_eq!(f["rejected"], 1);
    assert_eq!(f["rejections"][0]["code"], "dangling-reference");
    let why = f["rejections"][0]["examples"][0].as_str().unwrap();
    assert!(
        why.contains("follow_ups.json") && why.contains("/follow_ups/0"),
        "{why}"
    );
    assert!(
        why.contains("`01FCNDV6P870EA6S7TK1DSYDG0` names no record of `postmortems`"),
        "{why}"
    );

    // `check` stops on it (exit 2), or with --keep-going counts it as an exception.
    let c = controls().display().to_string();
    let base = [
        "check",
        "--controls",
        &c,
        "--preset",
        "incidentio",
        "--export",
        &inc,
        "--export",
        &fu_arg,
        "--as-of",
        "2021-09-01T00:00:00Z",
        "--format",
        "json",
        "--out",
        "out",
    ];
    let o = evidentia(d.path(), &base);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("error[dangling-reference]"),
        "{}",
        o.stderr
    );
    let mut kg = base.to_vec();
    kg.push("--keep-going");
    let o = evidentia(d.path(), &kg);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let r: Value =
        serde_json::from_slice(&std::fs::read(d.path().join("out/report.json")).unwrap()).unwrap();
    assert_eq!(r["rejected"].as_array().unwrap().len(), 1);
    assert_eq!(r["rejected"][0]["record_id"], "01FCNDV6P870EA6S7TK1DSYDG0");

    // Only the incidents: follow-ups are not read, nothing dangles.
    let (code, x) = inspect(d.path(), &["--preset", "incidentio", "--export", &inc]);
    assert_eq!(code, 0);
    assert!(
        x["tables"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["table"] != "findings")
    );
}

// ---------------------------------------------------------------------------
// FireHydrant (schema only)
// ---------------------------------------------------------------------------

#[test]
fn firehydrant_milestones_retrospective_and_tasks() {
    let Some(rd) = realdata() else { return };
    let spec: Value = serde_json::from_slice(
        &std::fs::read(
            rd.join("firehydrant-api/firehydrant_openapi_incident_retro_task_subset.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let s = &spec["schemas"];
    // Every property the preset reads exists in the real schema.
    for (entity, props) in [
        (
            "IncidentEntity",
            &[
                "id",
                "name",
                "description",
                "severity",
                "current_milestone",
                "created_at",
                "milestones",
                "customers_impacted",
                "lifecycle_phases",
            ][..],
        ),
        ("Incidents_MilestoneEntity", &["type", "occurred_at"][..]),
        (
            "Incidents_LifecycleMilestoneEntity",
            &["slug", "occurred_at"][..],
        ),
        (
            "TaskEntity",
            &["id", "title", "state", "assignee", "created_at", "due_at"][..],
        ),
    ] {
        for p in props {
            assert!(
                s[entity]["properties"].get(*p).is_some(),
                "{entity}.{p} is not in the FireHydrant schema"
            );
        }
    }
    // A record of that shape (values written here: the schema has no examples).
    let d = tmp();
    let ms =
        |t: &str, at: &str| json!({ "id": t, "type": t, "occurred_at": at, "duration": "PT1H" });
    write_json(
        d.path(),
        "incidents.json",
        &json!({ "data": [{
            "id": "fh-1", "name": "Checkout down", "severity": "SEV1",
            "current_milestone": "postmortem_completed",
            "created_at": "2025-03-01T10:05:00Z", "customers_impacted": 12,
            "milestones": [
                ms("started", "2025-03-01T09:50:00Z"),
                ms("detected", "2025-03-01T10:00:00Z"),
                ms("mitigated", "2025-03-01T11:00:00Z"),
                ms("resolved", "2025-03-01T12:00:00Z"),
                ms("postmortem_completed", "2025-03-05T12:00:00Z"),
            ]
        }, {
            "id": "fh-2", "name": "Slow search", "severity": "SEV3",
            "created_at": "2025-03-02T10:00:00Z", "milestones": []
        }], "pagination": {} }),
    );
    write_json(
        d.path(),
        "tasks.json",
        &json!([
            { "id": "t-1", "incident_id": "fh-1", "title": "Add alert", "state": "done",
              "assignee": { "name": "Ada" }, "created_at": "2025-03-05T12:00:00Z", "due_at": "2025-04-01T00:00:00Z" },
            { "id": "t-2", "incident_id": "fh-1", "title": "Runbook", "state": "in_progress",
              "created_at": "2025-03-05T12:00:00Z" }
        ]),
    );
    let (code, x) = inspect(d.path(), &["--preset", "firehydrant", "--data", "."]);
    assert_eq!(code, 0, "{x}");
    let t = table(&x, "incidents");
    assert_eq!(t["records"], 2);
    assert_eq!(only(t, "detected_at"), "2025-03-01T10:00:00Z");
    assert_eq!(only(t, "contained_at"), "2025-03-01T11:00:00Z");
    assert_eq!(only(t, "resolved_at"), "2025-03-01T12:00:00Z");
    assert_eq!(field(t, "detected_at")["missing"], 1);
    let pm = table(&x, "postmortems");
    assert_eq!(pm["records"], 2);
    assert_eq!(only(pm, "status"), "complete");
    assert_eq!(only(pm, "completed_at"), "2025-03-05T12:00:00Z");
    let f = table(&x, "findings");
    assert_eq!(f["records"], 2);
    let st: Vec<&str> = field(f, "status")["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v[0].as_str().unwrap())
        .collect();
    assert_eq!(st, vec!["closed", "in-progress"]);
    assert_eq!(only(f, "owner"), "Ada");
}

// ---------------------------------------------------------------------------
// Opsgenie (schema only)
// ---------------------------------------------------------------------------

fn yaml(p: &Path) -> Value {
    serde_saphyr::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn opsgenie_incidents_and_alerts() {
    let Some(rd) = realdata() else { return };
    let inc = yaml(&rd.join("opsgenie-api/definitions_incident.yaml"));
    let alert = yaml(&rd.join("opsgenie-api/definitions_alert.yaml"));
    for p in ["id", "message", "status", "priority", "createdAt"] {
        assert!(
            inc["BaseIncident"]["properties"].get(p).is_some(),
            "BaseIncident.{p}"
        );
    }
    // The list responses put the records under `data`.
    assert!(
        inc["ListIncidentsResponse"]["allOf"][1]["properties"]
            .get("data")
            .is_some()
    );
    let alert_props = alert["BaseAlert"]["properties"].clone();
    let alert_props = if alert_props.is_null() {
        alert["Alert"]["properties"].clone()
    } else {
        alert_props
    };
    for p in ["id", "message", "status", "priority", "createdAt"] {
        assert!(
            alert_props.get(p).is_some(),
            "alert property {p}: {alert_props}"
        );
    }
    let d = tmp();
    let rec = |id: &str, at: &str| {
        json!({ "id": id, "tinyId": "7", "message": "Disk full", "status": "resolved",
                "priority": "P2", "createdAt": at, "updatedAt": at, "tags": ["security"] })
    };
    let f = write_json(
        d.path(),
        "incidents.json",
        &json!({ "data": [rec("og-1", "2025-02-01T10:00:00.123Z"), rec("og-2", "2025-02-02T10:00:00+01:00")],
                 "took": 0.1, "requestId": "r" }),
    );
    let (code, x) = inspect(d.path(), &["--preset", "opsgenie", "--export", &f]);
    assert_eq!(code, 0, "{x}");
    let t = table(&x, "incidents");
    assert_eq!(t["records"], 2);
    assert_eq!(
        field(t, "detected_at")["earliest"],
        "2025-02-01T10:00:00.123Z"
    );
    assert_eq!(field(t, "detected_at")["latest"], "2025-02-02T09:00:00Z");
    assert_eq!(only(t, "severity"), "P2");
    let (code, x) = inspect(d.path(), &["--preset", "opsgenie-alerts", "--export", &f]);
    assert_eq!(code, 0);
    assert_eq!(table(&x, "incidents")["records"], 2);
}

// ---------------------------------------------------------------------------
// Jira (no real export available: conventions of real ones)
// ---------------------------------------------------------------------------

const JIRA: &str = "Summary,Issue key,Issue id,Issue Type,Status,Project key,Priority,Resolution,Assignee,Reporter,Created,Updated,Resolved,Due date,Labels,Labels,Watchers,Watchers,Custom field (Request Type),Custom field (Time to resolution),Comment,Comment,Status Category,Status Category Changed\r\n\
Phishing wave,SEC-12,10012,Incident,Done,SEC,High,Done,ada,bob,25/Feb/26 10:17 PM,26/Feb/26 9:00 AM,26/Feb/26 8:05 AM,,phishing,email,ada,bob,Report a security incident,,\"25/Feb/26 10:20 PM;acc1;on it\",,Done,26/Feb/26 8:05 AM\r\n\
\"Lost laptop, no disk encryption\",SEC-13,10013,Incident,In Progress,SEC,Highest,,ada,cy,01/Mar/26 12:05 AM,01/Mar/26 1:00 AM,,,,,,,Report a security incident,,,,In Progress,01/Mar/26 1:00 AM\r\n";

#[test]
fn jira_csv_with_repeated_columns_custom_fields_and_local_dates() {
    let d = tmp();
    std::fs::write(d.path().join("incidents.csv"), JIRA).unwrap();
    let o = evidentia(
        d.path(),
        &[
            "evidence",
            "inspect",
            "--preset",
            "jira",
            "--export",
            "incidents.csv",
        ],
    );
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("needs the time zone") && o.stderr.contains("Jira"),
        "{}",
        o.stderr
    );
    let (code, x) = inspect(
        d.path(),
        &[
            "--preset",
            "jira",
            "--export",
            "incidents.csv",
            "--timezone",
            "Europe/Berlin",
        ],
    );
    assert_eq!(code, 0, "{x}");
    let t = table(&x, "incidents");
    assert_eq!(t["records"], 2);
    // 25/Feb/26 10:17 PM in Berlin (CET, +01:00).
    assert_eq!(field(t, "declared_at")["earliest"], "2026-02-25T21:17:00Z");
    assert_eq!(field(t, "declared_at")["latest"], "2026-02-28T23:05:00Z");
    assert_eq!(only(t, "resolved_at"), "2026-02-26T07:05:00Z");
    let unmapped: Vec<&str> = t["unmapped_columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for c in [
        "Labels",
        "Watchers",
        "Custom field (Request Type)",
        "Comment",
    ] {
        assert!(unmapped.contains(&c), "{c}: {unmapped:?}");
    }
}

// ---------------------------------------------------------------------------
// ServiceNow (the real event log)
// ---------------------------------------------------------------------------

#[test]
fn servicenow_event_log_reduced_to_the_latest_state() {
    let Some(rd) = realdata() else { return };
    let file = rd.join("servicenow-incident-eventlog/incident_event_log_head5998.csv");
    let file = file.display().to_string();
    let d = tmp();
    // The dataset is anonymised and names no zone: UTC is assumed for the test.
    let (code, x) = inspect(
        d.path(),
        &[
            "--preset",
            "servicenow",
            "--export",
            &file,
            "--timezone",
            "UTC",
        ],
    );
    assert_eq!(code, 0, "{x}");
    let i = &x["inputs"][0];
    assert_eq!(i["rows_read"], 5998);
    assert_eq!(i["rows_rejected"], 0);
    assert_eq!(i["rows_superseded"], 5998 - 890);
    let t = table(&x, "incidents");
    assert_eq!(t["records"], 890);
    assert_eq!(t["superseded"], 5108);
    // The latest state of every incident in this extract is Closed, including the five
    // whose first row repeats a later `sys_mod_count` (INC0000130, 134, 135, 137, 164):
    // on a tie the later row wins.
    assert_eq!(field(t, "status")["values"], json!([["Closed", 890]]));
    // `?` is missing: 29 closed incidents have no resolved_at.
    assert_eq!(field(t, "resolved_at")["present"], 861);
    assert_eq!(field(t, "resolved_at")["missing"], 29);
    assert_eq!(field(t, "declared_at")["earliest"], "2016-02-29T01:16:00Z");
    assert_eq!(field(t, "declared_at")["latest"], "2016-03-02T15:33:00Z");
    assert_eq!(
        field(t, "severity")["values"][0],
        json!(["3 - Moderate", 757])
    );

    // Without latest_by the same file is 5,108 duplicate records.
    let sources = "tables:\n  incidents:\n    file: log.csv\n    missing: [\"\", \"?\"]\n    timezone: UTC\n    timestamp_format: \"%d-%m-%Y %H:%M\"\n    columns: { id: number, declared_at: opened_at }\n";
    std::fs::write(d.path().join("sources.yaml"), sources).unwrap();
    std::fs::copy(
        rd.join("servicenow-incident-eventlog/incident_event_log_head5998.csv"),
        d.path().join("log.csv"),
    )
    .unwrap();
    let (code, x) = inspect(d.path(), &["--sources", "sources.yaml"]);
    assert_eq!(code, 1);
    let t = table(&x, "incidents");
    assert_eq!(t["rejected"], 5108);
    assert_eq!(t["rejections"][0]["code"], "duplicate-record");

    // check: the reconciliation counts the superseded rows.
    let c = controls().display().to_string();
    let o = evidentia(
        d.path(),
        &[
            "check",
            "--controls",
            &c,
            "--preset",
            "servicenow",
            "--export",
            &file,
            "--timezone",
            "UTC",
            "--as-of",
            "2016-04-01T00:00:00Z",
            "--format",
            "json",
            "--out",
            "out",
        ],
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    let r: Value =
        serde_json::from_slice(&std::fs::read(d.path().join("out/report.json")).unwrap()).unwrap();
    let i = &r["inputs"][0];
    let n = |k: &str| i[k].as_u64().unwrap();
    assert_eq!(n("rows_evaluated"), 890);
    assert_eq!(
        n("rows_read"),
        n("rows_evaluated") + n("rows_out_of_period") + n("rows_rejected") + n("rows_superseded")
    );
    let lo = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "lifecycle-order")
        .unwrap();
    assert_eq!(lo["population"], 890);
    assert_eq!(lo["exceptions_count"], 0);
}

// ---------------------------------------------------------------------------
// init
// ---------------------------------------------------------------------------

#[test]
fn init_writes_a_commented_sources_file() {
    let d = tmp();
    let o = evidentia(d.path(), &["init", "--list"]);
    assert_eq!(o.code, 0);
    for p in [
        "pagerduty",
        "pagerduty-analytics",
        "incidentio",
        "firehydrant",
        "opsgenie",
        "jira",
        "servicenow",
    ] {
        assert!(o.stdout.contains(p), "{p}: {}", o.stdout);
    }
    let o = evidentia(d.path(), &["init", "--preset", "servicenow"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("--timezone"), "{}", o.stderr);
    let o = evidentia(
        d.path(),
        &[
            "init",
            "--preset",
            "servicenow",
            "--timezone",
            "America/New_York",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let text = std::fs::read_to_string(d.path().join("evidence/sources.yaml")).unwrap();
    assert!(
        text.starts_with("# evidentia preset `servicenow`"),
        "{text}"
    );
    assert!(
        text.contains("timezone: America/New_York\ntables:"),
        "{text}"
    );
    assert!(text.contains("latest_by: sys_mod_count"));
    assert!(
        o.stdout.contains("evidence inspect --sources"),
        "{}",
        o.stdout
    );
    // Not overwritten without --force.
    let o = evidentia(d.path(), &["init", "--preset", "pagerduty"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("--force"));
    let o = evidentia(
        d.path(),
        &["init", "--preset", "pagerduty", "--dir", "pd", "--force"],
    );
    assert_eq!(o.code, 0);
    // The written file is a valid sources file: inspect reads an export through it.
    std::fs::write(
        d.path().join("pd/incidents.json"),
        r#"{"incidents": [{"id": "P1", "title": "t", "created_at": "2025-01-01T00:00:00Z", "resolved_at": null}]}"#,
    )
    .unwrap();
    let (code, x) = inspect(d.path(), &["--sources", "pd/sources.yaml"]);
    assert_eq!(code, 0, "{x}");
    assert_eq!(table(&x, "incidents")["records"], 1);
    let o = evidentia(d.path(), &["init", "--preset", "nope"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("no preset `nope`"), "{}", o.stderr);
}

#[test]
fn preset_usage_errors() {
    let d = tmp();
    // --export needs --preset; --preset excludes --sources.
    assert_eq!(
        evidentia(d.path(), &["check", "--export", "x.json"]).code,
        2
    );
    assert_eq!(
        evidentia(
            d.path(),
            &["check", "--preset", "pagerduty", "--sources", "s.yaml"]
        )
        .code,
        2
    );
    let c = controls().display().to_string();
    // Neither --export nor --data.
    let o = evidentia(
        d.path(),
        &["check", "--controls", &c, "--preset", "pagerduty"],
    );
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("--export FILE"), "{}", o.stderr);
    // A table the preset does not read.
    let o = evidentia(
        d.path(),
        &[
            "check",
            "--controls",
            &c,
            "--preset",
            "pagerduty",
            "--export",
            "a.json",
            "--export",
            "findings=b.json",
        ],
    );
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("reads no export into table `findings`"),
        "{}",
        o.stderr
    );
}
