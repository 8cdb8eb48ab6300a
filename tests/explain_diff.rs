//! CLI snapshot tests of `evidentia explain` and `evidentia diff` on an inline
//! fixture (normalised: the temporary folder becomes `<tmp>`). Snapshots live in
//! tests/snapshots/; review changes with `cargo insta review` (or INSTA_UPDATE=always).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{AS_OF, Fixture};

const CATALOG: &str = "\
checks:
  - id: notice-72h
    title: Customers notified within 72 hours of declaration
    rule: deadline
    population: { table: incidents, where: { data_breach: true } }
    start: declared_at
    end: { table: notifications, via: incident_id, where: { audience: customers }, pick: earliest, field: sent_at }
    within: 72h
    warn_before: 24h
  - id: sev-known
    title: Severity recorded
    rule: allowed
    population: { table: incidents, where: { all: [ { classification: security-incident }, { any: [ { severity: sev1 }, { customer_impacting: true } ] } ] } }
    field: severity
    values: [sev1, sev2, sev3]
  - id: findings-owned
    title: Findings have an owner
    rule: each-linked
    population: { table: incidents, where: { data_breach: true } }
    related:
      - { table: postmortems, via: incident_id }
      - { table: findings, via: postmortem_id }
    require: { owner: { set: true } }
  - id: notice-content
    title: Notices state the nature
    rule: required
    population: { table: notifications, where: { audience: customers } }
    fields: [nature]
frameworks:
  - id: fw
    name: Test framework
    version: \"1\"
    controls:
      - { id: N-1, title: Notification, checks: [notice-72h, notice-content] }
      - { id: S-1, title: Severity, checks: [sev-known] }
      - { id: F-1, title: Findings, checks: [findings-owned] }
      - id: M-1
        title: Plan approved
        manual: { attest: The response plan was approved }
";

const INCIDENTS: &str = "\
id,title,severity,classification,customer_impacting,data_breach,declared_at
INC-1,Breach notified late,sev1,security-incident,true,true,2025-06-01T00:00:00Z
INC-2,Breach pending,sev2,security-incident,false,true,2025-06-29T12:00:00Z
INC-3,Event,sev9,event,false,false,2025-06-10T00:00:00Z
INC-4,Old breach,sev1,security-incident,true,true,2024-01-10T00:00:00Z
INC-5,Unknown severity,sev9,security-incident,true,false,2025-05-05T00:00:00Z
";

const NOTIFICATIONS: &str = "\
id,incident_id,audience,sent_at,nature
N-1,INC-1,customers,2025-06-05T06:00:00Z,Data exposed
N-2,INC-4,customers,2024-01-11T00:00:00Z,
";

const POSTMORTEMS: &str = "\
id,incident_id,status
PM-1,INC-1,complete
";

const FINDINGS: &str = "\
id,postmortem_id,title,owner
F-1,PM-1,Rotate keys,alice
F-2,PM-1,Fix alerting,
";

const SOURCES: &str = "\
tables:
  incidents:
    file: incidents.csv
  notifications:
    file: notifications.csv
  postmortems:
    file: postmortems.csv
  findings:
    file: findings.csv
";

fn fixture() -> Fixture {
    Fixture::with(
        CATALOG,
        SOURCES,
        &[
            ("incidents.csv", INCIDENTS),
            ("notifications.csv", NOTIFICATIONS),
            ("postmortems.csv", POSTMORTEMS),
            ("findings.csv", FINDINGS),
        ],
    )
}

/// Run the binary in the fixture with the catalog, sources, as-of and period.
fn run(f: &Fixture, args: &[&str]) -> (i32, String, String) {
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.extend([
        "--controls".into(),
        f.controls_dir().display().to_string(),
        "--sources".into(),
        f.sources_path().display().to_string(),
        "--as-of".into(),
        AS_OF.into(),
        "--period".into(),
        "2025-01-01..2025-12-31".into(),
    ]);
    run_plain(f, &all)
}

/// Run the binary in the fixture with exactly these arguments; output normalised.
fn run_plain<S: AsRef<std::ffi::OsStr>>(f: &Fixture, all: &[S]) -> (i32, String, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_evidentia"))
        .args(all)
        .current_dir(f.root())
        .output()
        .unwrap();
    let norm = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .replace(&f.root().display().to_string(), "<tmp>")
            .replace('\\', "/")
    };
    (
        o.status.code().unwrap_or(-1),
        norm(&o.stdout),
        norm(&o.stderr),
    )
}

#[test]
fn explain_a_late_breach_notice() {
    let f = fixture();
    let (code, out, err) = run(&f, &["explain", "INC-1"]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("explain_inc_1", out);
}

#[test]
fn explain_a_filtered_and_pending_record() {
    let f = fixture();
    let (code, out, err) = run(&f, &["explain", "INC-2"]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("explain_inc_2", out);
}

#[test]
fn explain_a_record_outside_the_period() {
    let f = fixture();
    let (code, out, err) = run(&f, &["explain", "INC-4"]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("explain_inc_4", out);
}

#[test]
fn explain_a_finding_reached_through_postmortems() {
    let f = fixture();
    let (code, out, err) = run(&f, &["explain", "F-2", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["record"]["table"], "findings");
    insta::assert_snapshot!("explain_f_2_json", out);
}

#[test]
fn explain_an_unknown_record_is_a_usage_error() {
    let f = fixture();
    let (code, _, err) = run(&f, &["explain", "NOPE-1"]);
    assert_eq!(code, 2);
    assert!(err.contains("record `NOPE-1` is in no table"), "{err}");
    // --table restricts the search.
    let (code, _, err) = run(&f, &["explain", "INC-1", "--table", "findings"]);
    assert_eq!(code, 2);
    assert!(err.contains("in no table read named `findings`"), "{err}");
}

/// Run `check` into `<tmp>/<name>` and return the report path.
fn check_into(f: &Fixture, name: &str) -> String {
    let out = f.root().join(name);
    let (code, _, err) = run(
        f,
        &[
            "check",
            "--format",
            "json",
            "--out",
            &out.display().to_string(),
        ],
    );
    assert!(code == 0 || code == 1, "{err}");
    out.join("report.json").display().to_string()
}

#[test]
fn diff_between_two_periods() {
    let f = fixture();
    let old = check_into(&f, "q1");
    // Next quarter: INC-1's notice is later still (changed), INC-5's severity fixed
    // and F-2 given an owner (resolved), a new breach without a notice (new), the
    // notice content check dropped from N-1 and a check added.
    f.export(
        "incidents.csv",
        &INCIDENTS
            .replace("INC-5,Unknown severity,sev9", "INC-5,Unknown severity,sev2")
            .replace(
                "INC-4,Old breach",
                "INC-6,New breach,sev1,security-incident,true,true,2025-06-01T00:00:00Z\nINC-4,Old breach",
            ),
    );
    f.export(
        "notifications.csv",
        &NOTIFICATIONS.replace("2025-06-05T06:00:00Z", "2025-06-06T06:00:00Z"),
    );
    f.export(
        "findings.csv",
        &FINDINGS.replace("Fix alerting,", "Fix alerting,bob"),
    );
    f.catalog(
        &CATALOG
            .replace(
                "checks: [notice-72h, notice-content] }",
                "checks: [notice-72h] }\n      - { id: T-1, title: Titles, checks: [titles] }",
            )
            .replace(
                "checks:\n  - id: notice-72h",
                "checks:\n  - id: titles\n    title: Titles recorded\n    rule: required\n    population: { table: incidents }\n    fields: [title]\n  - id: notice-72h",
            ),
    );
    let new = check_into(&f, "q2");
    for (fmt, name) in [
        ("text", "diff_text"),
        ("md", "diff_md"),
        ("json", "diff_json"),
    ] {
        let (code, out, err) = run_plain(&f, &["diff", &old, &new, "--format", fmt]);
        assert_eq!(code, 0, "{err}");
        insta::assert_snapshot!(name, out);
    }
    // Nothing changed: said so.
    let (code, out, _) = run_plain(&f, &["diff", &new, &new]);
    assert_eq!(code, 0);
    assert!(out.contains("No differences."), "{out}");
    // Not a report: exit 2.
    let sources = f.sources_path().display().to_string();
    let (code, _, err) = run_plain(&f, &["diff", &sources, &new]);
    assert_eq!(code, 2);
    assert!(err.contains("error[report]"), "{err}");
}
