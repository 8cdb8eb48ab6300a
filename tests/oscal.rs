//! OSCAL outputs of the shipped demo: `assessment-results.json` validates against
//! NIST's OSCAL assessment-results schema 1.1.1 and the complete 1.1.2 schema,
//! `poam.json` against the complete 1.1.2 schema; both are byte-identical across two
//! runs; the structure follows NIST's example assessment results. The schemas and the
//! example are in ../shared/realdata; the schema tests are skipped (with a note on
//! stderr) when ../shared is not there.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn realdata() -> Option<PathBuf> {
    let p = root().join("../shared/realdata");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipped: ../shared/realdata not found (OSCAL schemas and examples)");
        None
    }
}

/// Run the demo (the project's evidentia.yaml, pinned as-of) into `out`.
fn run_demo(out: &Path) -> (Vec<u8>, Vec<u8>) {
    let o = Command::new(env!("CARGO_BIN_EXE_evidentia"))
        .current_dir(root())
        .args(["check", "--format", "oscal,poam,json", "--out"])
        .arg(out)
        .output()
        .expect("run evidentia");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        matches!(o.status.code(), Some(0) | Some(1)),
        "exit {:?}\n{stderr}",
        o.status.code()
    );
    (
        std::fs::read(out.join("assessment-results.json")).expect("assessment-results.json"),
        std::fs::read(out.join("poam.json")).expect("poam.json"),
    )
}

fn demo() -> (Value, Value, Value) {
    let tmp = tempfile::tempdir().unwrap();
    let (ar, poam) = run_demo(tmp.path());
    let report = std::fs::read(tmp.path().join("report.json")).unwrap();
    (
        serde_json::from_slice(&ar).unwrap(),
        serde_json::from_slice(&poam).unwrap(),
        serde_json::from_slice(&report).unwrap(),
    )
}

fn validate(schema_path: &Path, doc: &Value) {
    let schema: Value = serde_json::from_slice(&std::fs::read(schema_path).unwrap()).unwrap();
    let v = jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("{}: does not compile: {e}", schema_path.display()));
    let errors: Vec<String> = v
        .iter_errors(doc)
        .take(20)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{} violations of {}:\n{}",
        errors.len(),
        schema_path.display(),
        errors.join("\n")
    );
}

#[test]
fn two_runs_give_the_same_bytes() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let (ar1, poam1) = run_demo(a.path());
    let (ar2, poam2) = run_demo(b.path());
    assert!(ar1 == ar2, "assessment-results.json differs between runs");
    assert!(poam1 == poam2, "poam.json differs between runs");
}

#[test]
fn assessment_results_validate_against_nist_schemas() {
    let Some(rd) = realdata() else { return };
    let (ar, _, _) = demo();
    validate(
        &rd.join("oscal-schemas/oscal_assessment-results_schema-1.1.1.json"),
        &ar,
    );
    validate(
        &rd.join("oscal-schemas/oscal_complete_schema-1.1.2.json"),
        &ar,
    );
}

#[test]
fn poam_validates_against_nist_schema() {
    let Some(rd) = realdata() else { return };
    let (_, poam, _) = demo();
    validate(
        &rd.join("oscal-schemas/oscal_complete_schema-1.1.2.json"),
        &poam,
    );
    validate(
        &rd.join("oscal-schemas/oscal_poam_schema-1.0.6.json"),
        &poam,
    );
}

#[test]
fn a_schema_violation_is_caught() {
    // The validation above is not vacuous: a finding with an unknown state fails.
    let Some(rd) = realdata() else { return };
    let (mut ar, _, _) = demo();
    ar["assessment-results"]["results"][0]["findings"][0]["target"]["status"]["state"] =
        Value::from("pass");
    let schema: Value = serde_json::from_slice(
        &std::fs::read(rd.join("oscal-schemas/oscal_assessment-results_schema-1.1.1.json"))
            .unwrap(),
    )
    .unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    assert!(!v.is_valid(&ar));
}

#[test]
fn an_open_period_is_bounded_by_as_of() {
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_evidentia"))
        .current_dir(root())
        .args(["check", "--format", "oscal", "--period", "..", "--out"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(matches!(o.status.code(), Some(0) | Some(1)));
    let ar: Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("assessment-results.json")).unwrap())
            .unwrap();
    let res = &ar["assessment-results"]["results"][0];
    let as_of = &ar["assessment-results"]["metadata"]["last-modified"];
    assert_eq!(&res["start"], as_of);
    assert_eq!(&res["end"], as_of);
    if let Some(rd) = realdata() {
        validate(
            &rd.join("oscal-schemas/oscal_assessment-results_schema-1.1.1.json"),
            &ar,
        );
    }
}

/// Key paths of a JSON value: `a/b[]/c`.
fn paths(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{prefix}/{k}");
                out.insert(p.clone());
                paths(x, &p, out);
            }
        }
        Value::Array(a) => {
            for x in a {
                paths(x, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn structure_follows_nists_example() {
    let Some(rd) = realdata() else { return };
    let example: Value = serde_json::from_slice(
        &std::fs::read(rd.join("oscal-examples/ifa_assessment-results-example.json")).unwrap(),
    )
    .unwrap();
    let (ar, _, _) = demo();
    let mut theirs = BTreeSet::new();
    let mut ours = BTreeSet::new();
    paths(&example, "", &mut theirs);
    paths(&ar, "", &mut ours);
    // The skeleton of NIST's example that a results consumer reads.
    let skeleton = [
        "/assessment-results/uuid",
        "/assessment-results/metadata/title",
        "/assessment-results/metadata/last-modified",
        "/assessment-results/metadata/version",
        "/assessment-results/metadata/oscal-version",
        "/assessment-results/metadata/roles[]/id",
        "/assessment-results/metadata/parties[]/uuid",
        "/assessment-results/metadata/parties[]/name",
        "/assessment-results/import-ap/href",
        "/assessment-results/local-definitions/activities[]/uuid",
        "/assessment-results/local-definitions/activities[]/title",
        "/assessment-results/local-definitions/activities[]/description",
        "/assessment-results/local-definitions/activities[]/props[]/name",
        "/assessment-results/local-definitions/activities[]/related-controls/control-selections[]/include-controls[]/control-id",
        "/assessment-results/results[]/uuid",
        "/assessment-results/results[]/title",
        "/assessment-results/results[]/description",
        "/assessment-results/results[]/start",
        "/assessment-results/results[]/end",
        "/assessment-results/results[]/reviewed-controls/control-selections[]/include-controls[]/control-id",
        "/assessment-results/results[]/observations[]/uuid",
        "/assessment-results/results[]/observations[]/title",
        "/assessment-results/results[]/observations[]/description",
        "/assessment-results/results[]/observations[]/methods",
        "/assessment-results/results[]/observations[]/types",
        "/assessment-results/results[]/observations[]/subjects[]/subject-uuid",
        "/assessment-results/results[]/observations[]/subjects[]/type",
        "/assessment-results/results[]/observations[]/collected",
        "/assessment-results/results[]/findings[]/uuid",
        "/assessment-results/results[]/findings[]/title",
        "/assessment-results/results[]/findings[]/description",
        "/assessment-results/results[]/findings[]/target/type",
        "/assessment-results/results[]/findings[]/target/target-id",
        "/assessment-results/results[]/findings[]/target/description",
        "/assessment-results/results[]/findings[]/target/status/state",
        "/assessment-results/results[]/findings[]/related-observations[]/observation-uuid",
    ];
    for p in skeleton {
        assert!(theirs.contains(p), "not in NIST's example: {p}");
        assert!(
            ours.contains(p),
            "missing from assessment-results.json: {p}"
        );
    }
    // And ours adds the evidence trail.
    for p in [
        "/assessment-results/results[]/observations[]/relevant-evidence[]/href",
        "/assessment-results/back-matter/resources[]/rlinks[]/hashes[]/value",
    ] {
        assert!(ours.contains(p), "missing: {p}");
    }
}

#[test]
fn content_matches_the_report() {
    let (ar, _, report) = demo();
    let doc = &ar["assessment-results"];
    let res = &doc["results"][0];
    // The period as start/end; as-of as last-modified and collected.
    assert_eq!(res["start"], report["period"]["start"]);
    assert_eq!(res["end"], report["period"]["end"]);
    assert_eq!(doc["metadata"]["last-modified"], report["as_of"]);
    // One finding per control tested (manual controls are not reviewed).
    let tested: Vec<&Value> = report["controls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] != "manual")
        .collect();
    let findings = res["findings"].as_array().unwrap();
    assert_eq!(findings.len(), tested.len());
    for (f, c) in findings.iter().zip(&tested) {
        let want = if c["status"] == "effective" {
            "satisfied"
        } else {
            "not-satisfied"
        };
        assert_eq!(f["target"]["status"]["state"], want, "{}", f["title"]);
    }
    // One observation per check and per exception or waived exception.
    let checks = report["checks"].as_array().unwrap();
    let exceptions: usize = checks
        .iter()
        .map(|c| {
            c["exceptions"].as_array().unwrap().len() + c["waived_items"].as_array().unwrap().len()
        })
        .sum();
    assert_eq!(
        res["observations"].as_array().unwrap().len(),
        checks.len() + exceptions
    );
    // Every exception observation points at its record's file and line.
    let first = checks
        .iter()
        .find_map(|c| c["exceptions"].as_array().unwrap().first().map(|e| (c, e)))
        .expect("the demo has exceptions");
    let (c, e) = first;
    let obs = res["observations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| {
            o["title"]
                == format!(
                    "{}: {} {}",
                    c["id"].as_str().unwrap(),
                    e["table"].as_str().unwrap(),
                    e["record_id"].as_str().unwrap()
                )
        })
        .expect("observation of the first exception");
    let ev = &obs["relevant-evidence"][0];
    assert_eq!(ev["href"], e["file"]);
    if let Some(line) = e["line"].as_u64() {
        assert!(
            ev["props"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "line"
                    && p["value"].as_str().and_then(|v| v.parse::<u64>().ok()) == Some(line))
        );
    }
    // Every input is a back-matter resource with its SHA-256.
    let hashes: BTreeSet<String> = doc["back-matter"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["rlinks"].as_array().cloned().unwrap_or_default())
        .flat_map(|l| l["hashes"].as_array().cloned().unwrap_or_default())
        .map(|h| h["value"].as_str().unwrap().to_string())
        .collect();
    for i in report["inputs"].as_array().unwrap() {
        assert!(hashes.contains(i["sha256"].as_str().unwrap()), "{i}");
    }
    for f in report["catalog"].as_array().unwrap() {
        assert!(hashes.contains(f["sha256"].as_str().unwrap()), "{f}");
    }
    // import-ap points at a back-matter resource.
    let href = doc["import-ap"]["href"].as_str().unwrap();
    let plan = href.trim_start_matches('#');
    assert!(
        doc["back-matter"]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["uuid"] == plan)
    );
}

/// A control with official text (the shipped FedRAMP text) names its source in its
/// finding: properties and a link to a back-matter resource with the source's SHA-256.
#[test]
fn findings_name_the_source_of_the_official_text() {
    let (ar, _, _) = demo();
    let doc = &ar["assessment-results"];
    let findings = doc["results"][0]["findings"].as_array().unwrap();
    let ir6 = findings
        .iter()
        .find(|f| {
            f["title"]
                .as_str()
                .unwrap()
                .starts_with("fedramp-rev5 IR-6:")
        })
        .expect("finding of fedramp-rev5 IR-6");
    let prop = |name: &str| {
        ir6["props"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["value"].clone())
    };
    assert_eq!(prop("official-title").unwrap(), "Incident Reporting");
    assert_eq!(
        prop("control-text-source").unwrap(),
        "FedRAMP Rev 5 Low Baseline, version fedramp2.1.0-oscal1.0.4"
    );
    let href = ir6["links"][0]["href"].as_str().unwrap();
    let res = doc["back-matter"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| format!("#{}", r["uuid"].as_str().unwrap()) == href)
        .expect("the linked resource");
    let shipped =
        std::fs::read_to_string(root().join("controls/control-text/fedramp-rev5.yaml")).unwrap();
    let sha = res["rlinks"][0]["hashes"][0]["value"].as_str().unwrap();
    assert!(shipped.contains(&format!("sha256: {sha}")), "{res}");
    // A control without official text has neither.
    let other = findings
        .iter()
        .find(|f| f["title"].as_str().unwrap().starts_with("iso27001-2022 "))
        .unwrap();
    assert!(other.get("links").is_none(), "{other}");
}

#[test]
fn poam_takes_owner_and_deadline_from_findings() {
    let (_, poam, report) = demo();
    let doc = &poam["plan-of-action-and-milestones"];
    let risks = doc["risks"].as_array().unwrap();
    let prop = |r: &Value, n: &str| -> Option<String> {
        r["props"]
            .as_array()?
            .iter()
            .find(|p| p["name"] == n)
            .and_then(|p| p["value"].as_str().map(String::from))
    };
    // Every counted exception of the report is an open risk and a POA&M item.
    let open: usize = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["exceptions"].as_array().unwrap().len())
        .sum();
    assert_eq!(risks.iter().filter(|r| r["status"] == "open").count(), open);
    assert_eq!(doc["poam-items"].as_array().unwrap().len(), risks.len());
    // A finding with an owner and a due date: both taken from findings.csv.
    let owned = risks
        .iter()
        .find(|r| prop(r, "table").as_deref() == Some("findings") && prop(r, "owner").is_some())
        .expect("an exception on a finding with an owner");
    assert_eq!(
        prop(owned, "deadline-source").as_deref(),
        Some("findings.due_at")
    );
    assert!(owned["deadline"].is_string());
    let task = &owned["remediations"][0]["tasks"][0];
    assert_eq!(task["timing"]["on-date"]["date"], owned["deadline"]);
    let party = task["responsible-roles"][0]["party-uuids"][0]
        .as_str()
        .unwrap();
    let names: Vec<&Value> = doc["metadata"]["parties"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["uuid"] == party)
        .map(|p| &p["name"])
        .collect();
    assert_eq!(names.len(), 1);
    assert_eq!(names[0].as_str(), prop(owned, "owner").as_deref());
    // An exception of a deadline check takes the check's deadline.
    if let Some(r) = risks
        .iter()
        .find(|r| prop(r, "check-id").as_deref() == Some("customer-notice-72h"))
    {
        assert_eq!(
            prop(r, "deadline-source").as_deref(),
            Some("check deadline")
        );
        assert!(r["deadline"].is_string());
    }
}

// ---------------------------------------------------------------------------
// catalog import-oscal
// ---------------------------------------------------------------------------

/// A catalog folder with a FedRAMP framework of IR-4, IR-6, IR-8 (our own fixture,
/// independent of the shipped catalog).
fn fedramp_catalog(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("c.yaml"),
        "checks:
  - id: c
    title: Titles
    rule: required
    population: { table: incidents }
    fields: [title]
frameworks:
  - id: fedramp-rev5
    name: FedRAMP Rev 5
    controls:
      - { id: IR-4, title: Incident handling, checks: [c] }
      - { id: IR-6, title: Incident reporting, checks: [c] }
      - { id: IR-6(1), title: Automated reporting, checks: [c] }
      - { id: IR-8, title: Incident response plan, checks: [c] }
",
    )
    .unwrap();
}

fn import(file: &Path, controls: &Path, extra: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_evidentia"))
        .args(["catalog", "import-oscal"])
        .arg(file)
        .args(["--framework", "fedramp-rev5", "--controls"])
        .arg(controls)
        .args(extra)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn control<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no control {id} in {v}"))
}

fn param<'a>(c: &'a Value, id: &str) -> &'a Value {
    c["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("no parameter {id} in {c}"))
}

#[test]
fn import_oscal_from_nist_sp_800_53() {
    let Some(rd) = realdata() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let controls = tmp.path().join("controls");
    fedramp_catalog(&controls);
    let src = rd.join("oscal-nist-800-53/NIST_SP-800-53_rev5_HIGH-resolved_IR-family-extract.json");
    let (code, out, err) = import(&src, &controls, &["--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let v = &doc["control_text"];
    assert_eq!(v["source"]["version"], "5.1.1+u4");
    assert_eq!(v["source"]["oscal_version"], "1.1.2");
    assert_eq!(v["source"]["last_modified"], "2024-02-13T17:43:49.139028Z");
    assert_eq!(v["source"]["sha256"].as_str().unwrap().len(), 64);
    let ir6 = control(v, "IR-6");
    assert_eq!(ir6["oscal_id"], "ir-6");
    assert_eq!(ir6["title"], "Incident Reporting");
    assert_eq!(
        ir6["statement"],
        "a. Require personnel to report suspected incidents to the organizational incident response capability within [Assignment: organization-defined time period]; and\nb. Report incident information to [Assignment: organization-defined authorities]."
    );
    assert_eq!(param(ir6, "ir-06_odp.01")["label"], "time period");
    assert_eq!(param(ir6, "ir-06_odp.02")["label"], "authorities");
    assert_eq!(param(ir6, "ir-06_odp.01")["value_source"], "unassigned");
    assert_eq!(control(v, "IR-6(1)")["title"], "Automated Reporting");
    assert_eq!(control(v, "IR-8")["title"], "Incident Response Plan");
    assert!(v["not_found"].as_array().unwrap().is_empty());
}

#[test]
fn import_oscal_takes_fedramp_values() {
    let Some(rd) = realdata() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let controls = tmp.path().join("controls");
    fedramp_catalog(&controls);
    let src = rd.join("fedramp-rev5/FedRAMP_rev5_LOW-baseline-resolved-profile_catalog-min.json");
    let out = tmp.path().join("oscal/fedramp-rev5-text.yaml");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let (code, _, err) = import(&src, &controls, &["--out", &out.display().to_string()]);
    assert_eq!(code, 0, "{err}");
    // YAML, read back through JSON.
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("generated by `evidentia catalog import-oscal`"),
        "{text}"
    );
    assert!(text.contains("public domain"), "{text}");
    let (code, json, err) = import(&src, &controls, &["--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&json).unwrap();
    let v = &doc["control_text"];
    assert_eq!(v["source"]["title"], "FedRAMP Rev 5 Low Baseline");
    assert_eq!(v["source"]["version"], "fedramp2.1.0-oscal1.0.4");
    let ir6 = control(v, "IR-6");
    let p = param(ir6, "ir-06_odp.01");
    assert_eq!(p["value_source"], "constraint");
    assert_eq!(
        p["value"],
        "[Assignment: US-CERT incident reporting timelines as specified in NIST Special Publication 800-61 (as amended)]"
    );
    let st = ir6["statement"].as_str().unwrap();
    assert!(
        st.contains("Requirement: Reports security incident information according to FedRAMP Incident Communications Procedure."),
        "{st}"
    );
    // IR-6(1) is not in the LOW baseline: said so, not invented.
    assert_eq!(v["not_found"], serde_json::json!(["IR-6(1)"]));
    assert!(err.contains("IR-6(1)"), "{err}");
}

#[test]
fn import_oscal_refuses_what_it_cannot_read() {
    let tmp = tempfile::tempdir().unwrap();
    let controls = tmp.path().join("controls");
    fedramp_catalog(&controls);
    let prof = tmp.path().join("profile.json");
    std::fs::write(&prof, r#"{"profile": {"uuid": "x"}}"#).unwrap();
    let (code, _, err) = import(&prof, &controls, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("resolved-profile catalog"), "{err}");
    let xml = tmp.path().join("c.xml");
    std::fs::write(&xml, "<catalog/>").unwrap();
    let (code, _, err) = import(&xml, &controls, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("XML"), "{err}");
}

/// The generated file written into the controls folder is a catalog file: it loads,
/// and a re-run with the same source (refresh) leaves it byte for byte as it was,
/// even when the framework changed meanwhile so that the old file no longer loads.
#[test]
fn import_oscal_into_the_controls_folder_loads_and_refreshes_to_the_same_bytes() {
    let Some(rd) = realdata() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let controls = tmp.path().join("controls");
    fedramp_catalog(&controls);
    let src = rd.join("oscal-nist-800-53/NIST_SP-800-53_rev5_HIGH-resolved_IR-family-extract.json");
    let out = controls.join("text/fedramp-rev5.yaml");
    let out_arg = out.display().to_string();
    let (code, _, err) = import(&src, &controls, &["--out", &out_arg]);
    assert_eq!(code, 0, "{err}");
    let first = std::fs::read(&out).unwrap();
    let validate = |dir: &Path| {
        Command::new(env!("CARGO_BIN_EXE_evidentia"))
            .args([
                "catalog",
                "show",
                "fedramp-rev5/IR-6",
                "--format",
                "json",
                "--controls",
            ])
            .arg(dir)
            .output()
            .unwrap()
    };
    let o = validate(&controls);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let shown: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(shown["official"]["title"], "Incident Reporting");
    assert_eq!(shown["official"]["source"]["version"], "5.1.1+u4");
    // Refresh: the same bytes.
    let (code, _, err) = import(&src, &controls, &["--out", &out_arg]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), first);
    // A control renamed in the framework: the old text no longer loads, but its
    // refresh still runs (the --out file is left out while the catalog is read).
    let cat = std::fs::read_to_string(controls.join("c.yaml")).unwrap();
    std::fs::write(controls.join("c.yaml"), cat.replace("IR-6(1)", "IR-6(3)")).unwrap();
    assert_eq!(validate(&controls).status.code(), Some(2));
    let (code, _, err) = import(&src, &controls, &["--out", &out_arg]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(validate(&controls).status.code(), Some(0));
}

/// The OSCAL documents are written with their per-exception arrays rendered element by
/// element: the bytes must still be exactly the pretty JSON of the whole document with
/// sorted keys (parsing and writing again changes nothing), so the indentation of every
/// pre-rendered element is right.
#[test]
fn documents_are_canonical_pretty_json() {
    let tmp = tempfile::tempdir().unwrap();
    let (ar, poam) = run_demo(tmp.path());
    for (name, bytes) in [("assessment-results.json", ar), ("poam.json", poam)] {
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        let mut again = serde_json::to_vec_pretty(&v).unwrap();
        again.push(b'\n');
        assert!(again == bytes, "{name} is not canonical pretty JSON");
    }
}
