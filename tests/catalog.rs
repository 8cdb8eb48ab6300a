//! The seed catalogs and the catalog commands (issue 3): every control the audits name
//! is listed with checks or a manual declaration; crosswalks; catalog validation errors
//! with file:line; and the rule kinds the catalogs need beyond the core (periodic,
//! coverage, attested).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::{Fixture, catalog_with};
use serde_json::Value;

fn evidentia(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_evidentia"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run evidentia");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

fn shipped_listing() -> Value {
    let (code, out, err) = evidentia(&["catalog", "list", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).expect("catalog list json")
}

/// (framework id, control id) of every control the issue names.
const REQUIRED: &[(&str, &[&str])] = &[
    (
        "iso27001-2013",
        &[
            "A.16.1.1", "A.16.1.2", "A.16.1.3", "A.16.1.4", "A.16.1.5", "A.16.1.6", "A.16.1.7",
        ],
    ),
    (
        "iso27001-2022",
        &["A.5.24", "A.5.25", "A.5.26", "A.5.27", "A.5.28", "A.6.8"],
    ),
    ("iso27018-2014", &["A.9.1"]),
    ("iso27018-2019", &["A.10.1"]),
    (
        "soc2-cloud",
        &[
            "IM-1", "IM-2", "IM-3", "IM-4", "IM-5", "IM-6", "OA-7", "CCM-9", "CUEC", "SOC2-6",
            "SOC2-9", "CA-12", "CA-13", "CA-15", "CA-26", "CA-29", "CA-47", "CUEC-08",
        ],
    ),
    ("tsc-2017", &["CC7.3", "CC7.4", "CC7.5"]),
    ("fedramp-rev5", &["IR-4", "IR-6", "IR-8"]),
];

#[test]
fn every_named_control_is_listed_with_checks_or_a_manual_declaration() {
    let l = shipped_listing();
    let fws = l["frameworks"].as_array().unwrap();
    let checks: BTreeSet<&str> = l["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    for (fw, ids) in REQUIRED {
        let f = fws
            .iter()
            .find(|f| f["id"] == *fw)
            .unwrap_or_else(|| panic!("framework {fw} missing"));
        for id in *ids {
            let c = f["controls"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["id"] == *id)
                .unwrap_or_else(|| panic!("control {fw}/{id} missing"));
            let cs = c["checks"].as_array().unwrap();
            assert!(
                !cs.is_empty() || c["manual"].is_string(),
                "{fw}/{id} has neither checks nor a manual declaration"
            );
            for ch in cs {
                assert!(checks.contains(ch.as_str().unwrap()), "{fw}/{id}: {ch}");
            }
        }
    }
    // ISO/IEC 27017 covers the A.16.1 family.
    let iso27017 = fws
        .iter()
        .find(|f| f["id"] == "iso27017-2015")
        .expect("27017");
    assert!(iso27017["controls"].as_array().unwrap().len() >= 7);
}

#[test]
fn every_control_of_every_framework_has_checks_or_is_manual() {
    // The loader refuses such a control (next test); this guards the shipped files.
    let l = shipped_listing();
    for f in l["frameworks"].as_array().unwrap() {
        for c in f["controls"].as_array().unwrap() {
            assert!(
                !c["checks"].as_array().unwrap().is_empty() || c["manual"].is_string(),
                "{}/{}",
                f["id"],
                c["id"]
            );
        }
    }
}

#[test]
fn a_control_without_checks_or_manual_is_an_error_with_file_and_line() {
    let f = Fixture::new();
    f.catalog(
        "frameworks:\n  - id: fw\n    name: F\n    controls:\n      - id: C-1\n        title: Nothing tests me\n",
    );
    let err = f.validate_fails();
    assert!(err.contains("catalog.yaml:5:"), "{err}");
    assert!(
        err.contains("neither `checks` nor a `manual` declaration"),
        "{err}"
    );
}

#[test]
fn catalog_validation_errors_point_at_file_line_and_column() {
    let f = Fixture::new();
    f.catalog(&catalog_with(
        "  - id: late-notice\n    title: T\n    rule: deadline\n    population: { table: incidents }\n    start: declared_at\n    end: resolved_at\n    within: 72 hours\n",
        &["late-notice", "missing-check"],
    ));
    let err = f.validate_fails();
    // The schema names the bad duration at its own line.
    assert!(err.contains("error[schema-violation]"), "{err}");
    assert!(err.contains("catalog.yaml:8:"), "{err}");
    assert!(err.contains("/checks/0/within"), "{err}");
}

#[test]
fn iso_crosswalk_maps_2013_to_2022_with_relations() {
    let (code, out, err) = evidentia(&["catalog", "crosswalk", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let maps = v["mappings"].as_array().unwrap();
    let want = [
        ("A.16.1.1", "A.5.24"),
        ("A.16.1.2", "A.6.8"),
        ("A.16.1.3", "A.6.8"),
        ("A.16.1.4", "A.5.25"),
        ("A.16.1.5", "A.5.26"),
        ("A.16.1.6", "A.5.27"),
        ("A.16.1.7", "A.5.28"),
    ];
    for (from, to) in want {
        let m = maps
            .iter()
            .find(|m| {
                m["from_framework"] == "iso27001-2013"
                    && m["from"] == from
                    && m["to_framework"] == "iso27001-2022"
                    && m["to"] == to
            })
            .unwrap_or_else(|| panic!("{from} -> {to} missing"));
        assert!(
            ["equal", "subset", "superset", "intersect"].contains(&m["relation"].as_str().unwrap())
        );
    }
    // SOC controls map to the Trust Services Criteria.
    assert!(
        maps.iter()
            .any(|m| m["from_framework"] == "soc2-cloud" && m["to"] == "CC7.4")
    );
}

#[test]
fn crosswalk_with_an_unknown_control_is_an_error() {
    let f = Fixture::new();
    f.catalog(&format!(
        "{}  - id: fw2\n    name: G\n    controls:\n      - {{ id: D-1, title: D, checks: [t] }}\ncrosswalks:\n  - from: fw\n    to: fw2\n    mappings:\n      - {{ from: C-t, to: D-9, relation: equal }}\n",
        catalog_with(
            "  - id: t\n    title: T\n    rule: required\n    population: { table: incidents }\n    fields: [title]\n",
            &["t"]
        )
    ));
    let err = f.validate_fails();
    assert!(err.contains("error[unknown-control]"), "{err}");
    assert!(err.contains("no control `D-9`"), "{err}");
}

#[test]
fn the_demo_gives_every_control_a_status() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = evidentia(&[
        "check",
        "--format",
        "json",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    let r: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    let listed: usize = shipped_listing()["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["controls"].as_array().unwrap().len())
        .sum();
    let controls = r["controls"].as_array().unwrap();
    assert_eq!(controls.len(), listed);
    for c in controls {
        let s = c["status"].as_str().unwrap();
        assert!(
            s != "error",
            "{}/{} could not be concluded: {}",
            c["framework"],
            c["id"],
            c["result"]
        );
    }
}

const OPS_SOURCES: &str = "tables:
  incidents: { file: incidents.csv }
  exercises: { file: exercises.csv }
  oncall: { file: oncall.csv }
  attestations: { file: attestations.csv }
";

fn ops_fixture(checks: &str, ids: &[&str]) -> Fixture {
    Fixture::with(
        &catalog_with(checks, ids),
        OPS_SOURCES,
        &[
            ("incidents.csv", "id,title\nINC-1,t\n"),
            (
                "exercises.csv",
                "id,kind,performed_at\nEX-0,tabletop,2024-02-01T00:00:00Z\nEX-1,tabletop,2024-11-01T00:00:00Z\nEX-2,simulation,2025-06-20T00:00:00Z\n",
            ),
            (
                "oncall.csv",
                "id,team,engineer,start_at,end_at\nS-1,sec,a,2025-01-01T00:00:00Z,2025-03-01T00:00:00Z\nS-2,sec,b,2025-03-01T00:00:00Z,2025-04-01T00:00:00Z\nS-3,sec,c,2025-04-01T03:00:00Z,2025-08-01T00:00:00Z\n",
            ),
            (
                "attestations.csv",
                "id,subject,attested_by,attested_at,evidence_link,expires_at\nA-1,access,ciso,2024-06-01T00:00:00Z,https://x/1,2025-06-01T00:00:00Z\nA-2,access,ciso,2025-06-02T00:00:00Z,https://x/2,2026-06-01T00:00:00Z\nA-3,plan,,2025-05-01T00:00:00Z,https://x/3,2026-05-01T00:00:00Z\nA-4,expired,ciso,2024-01-01T00:00:00Z,https://x/4,2025-01-01T00:00:00Z\n",
            ),
        ],
    )
}

#[test]
fn periodic_measures_every_stretch_including_from_before_the_period() {
    let f = ops_fixture(
        "  - id: exercised-yearly\n    title: Response tested yearly\n    rule: periodic\n    population: { table: exercises }\n    field: performed_at\n    every: 1y\n    warn_before: 720h\n",
        &["exercised-yearly"],
    );
    // Period 2025: EX-1 (2024-11) anchors the first stretch, EX-0 is superseded.
    let r = f.run(&["--period", "2025-01-01..2025-12-31"]);
    r.assert_code(0);
    assert_eq!(r.count("exercised-yearly", "population"), 2, "{}", r.dump());
    assert_eq!(r.count("exercised-yearly", "exceptions_count"), 0);
    // Without a period EX-0 -> EX-1 is 9 months, EX-1 -> EX-2 under 8: all pass.
    let r = f.run(&[]);
    r.assert_code(0);
    assert_eq!(r.count("exercised-yearly", "population"), 3);
    // As of 2026-07-01 the next exercise after EX-2 was due 2026-06-20: an exception.
    let r = f.run(&["--as-of", "2026-07-01T00:00:00Z"]);
    r.assert_code(1);
    let v = r.verdicts("exercised-yearly");
    assert_eq!(
        v.get("EX-2").map(String::as_str),
        Some("exception"),
        "{v:?}"
    );
    // As of 2026-06-01 it is due in 19 days, inside warn_before: at risk.
    let r = f.run(&["--as-of", "2026-06-01T00:00:00Z"]);
    let v = r.verdicts("exercised-yearly");
    assert_eq!(v.get("EX-2").map(String::as_str), Some("at-risk"), "{v:?}");
}

#[test]
fn periodic_with_nothing_in_the_window_is_an_exception() {
    let f = ops_fixture(
        "  - id: exercised-yearly\n    title: T\n    rule: periodic\n    population: { table: exercises, where: { kind: red-team } }\n    field: performed_at\n    every: 1y\n",
        &["exercised-yearly"],
    );
    let r = f.run(&[]);
    r.assert_code(1);
    let v = r.verdicts("exercised-yearly");
    assert_eq!(
        v.get("(no records)").map(String::as_str),
        Some("exception"),
        "{v:?}"
    );
}

#[test]
fn coverage_finds_the_gap_between_shifts() {
    let f = ops_fixture(
        "  - id: oncall-24x7\n    title: On-call 24x7\n    rule: coverage\n    population: { table: oncall }\n    start: start_at\n    end: end_at\n",
        &["oncall-24x7"],
    );
    let r = f.run(&["--period", "2025-01-01..2025-06-30"]);
    r.assert_code(1);
    let v = r.verdicts("oncall-24x7");
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v.get("S-2").map(String::as_str), Some("exception"));
    let rec = r.record("oncall-24x7", "S-2");
    let msg = rec["message"].as_str().unwrap();
    assert!(
        msg.contains("2025-04-01T00:00:00Z to 2025-04-01T03:00:00Z") && msg.contains("3 h 00 min"),
        "{msg}"
    );
    // A 3-hour tolerance accepts the gap.
    let f = ops_fixture(
        "  - id: oncall-24x7\n    title: On-call 24x7\n    rule: coverage\n    population: { table: oncall }\n    start: start_at\n    end: end_at\n    tolerance: 3h\n",
        &["oncall-24x7"],
    );
    f.run(&["--period", "2025-01-01..2025-06-30"])
        .assert_code(0);
    // Cover must reach as-of: after the last shift ends, nothing is covered.
    let r = f.run(&[
        "--period",
        "2025-01-01..",
        "--as-of",
        "2025-09-01T00:00:00Z",
    ]);
    r.assert_code(1);
    let v = r.verdicts("oncall-24x7");
    assert_eq!(v.get("S-3").map(String::as_str), Some("exception"), "{v:?}");
}

#[test]
fn attested_judges_the_latest_attestation() {
    let checks = "  - id: access-attested\n    title: T\n    rule: attested\n    population: { table: attestations, where: { subject: access } }\n    warn_before: 2400h\n  - id: plan-attested\n    title: T\n    rule: attested\n    population: { table: attestations, where: { subject: plan } }\n  - id: expired-attested\n    title: T\n    rule: attested\n    population: { table: attestations, where: { subject: expired } }\n  - id: none-attested\n    title: T\n    rule: attested\n    population: { table: attestations, where: { subject: nobody } }\n";
    let f = ops_fixture(
        checks,
        &[
            "access-attested",
            "plan-attested",
            "expired-attested",
            "none-attested",
        ],
    );
    let r = f.run(&[]);
    r.assert_code(1);
    // A-2 supersedes the expired A-1 and is valid at as-of.
    assert_eq!(
        r.count("access-attested", "exceptions_count"),
        0,
        "{}",
        r.dump()
    );
    assert_eq!(r.count("access-attested", "passed"), 1);
    // A-3 has no attester.
    let v = r.verdicts("plan-attested");
    assert_eq!(v.get("A-3").map(String::as_str), Some("exception"), "{v:?}");
    assert!(
        r.record("plan-attested", "A-3")["message"]
            .as_str()
            .unwrap()
            .contains("attested_by")
    );
    // A-4 expired before as-of.
    let v = r.verdicts("expired-attested");
    assert_eq!(v.get("A-4").map(String::as_str), Some("exception"), "{v:?}");
    // Nothing attested at all.
    let v = r.verdicts("none-attested");
    assert_eq!(
        v.get("(no attestation)").map(String::as_str),
        Some("exception"),
        "{v:?}"
    );
    // Near its expiry A-2 is at risk.
    let r = f.run(&["--as-of", "2026-04-01T00:00:00Z"]);
    let v = r.verdicts("access-attested");
    assert_eq!(v.get("A-2").map(String::as_str), Some("at-risk"), "{v:?}");
}

#[test]
fn show_of_a_bare_control_id_names_its_frameworks() {
    let (code, _, err) = evidentia(&["catalog", "show", "a.16.1.5"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("did you mean `iso27001-2013/A.16.1.5` or `iso27017-2015/A.16.1.5`?"),
        "{err}"
    );
    let (code, _, err) = evidentia(&["catalog", "show", "no-such-thing"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`evidentia catalog list` lists them"), "{err}");
}
