//! Official control text (issue 8, item 2): the `control_text` key of a catalog file,
//! as `catalog import-oscal` writes it. The shipped FedRAMP text attaches to its
//! controls (IR-6's statement and parameter values); an unknown framework or control,
//! or a second text for one control, is a located catalog error (exit 2); the schema
//! refuses a malformed entry; the hand-written title stays beside the official one;
//! and importing the real FedRAMP source gives the shipped file byte for byte (skipped,
//! with a note, when ../shared/realdata is not there).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::Fixture;
use serde_json::Value;

/// The shipped control-text file, and the source it was generated from (as recorded
/// in it, relative to the project folder).
const SHIPPED: &str = "controls/control-text/fedramp-rev5.yaml";
const SOURCE: &str =
    "../shared/realdata/fedramp-rev5/FedRAMP_rev5_LOW-baseline-resolved-profile_catalog-min.json";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run evidentia in the project folder: (exit code, stdout, stderr).
fn evidentia(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_evidentia"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run evidentia");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        err,
    )
}

/// A framework `fw` with controls C-1 ("Our title") and C-2.
const FRAMEWORK: &str = "checks:
  - id: t
    title: Titles
    rule: required
    population: { table: incidents }
    fields: [title]
frameworks:
  - id: fw
    name: F
    controls:
      - { id: C-1, title: Our title, checks: [t] }
      - { id: C-2, title: Second, checks: [t] }
";

/// A control_text entry for `framework` with one control `id` (its `id:` is on line 13).
fn text_file(framework: &str, id: &str) -> String {
    format!(
        "control_text:
  layout: 1
  framework: {framework}
  source:
    file: src.json
    sha256: {sha}
    uuid: u
    title: Source Catalog
    version: 1.2.3
    oscal_version: 1.1.2
    last_modified: 2024-01-01T00:00:00Z
  controls:
    - id: {id}
      oscal_id: c-1
      title: Official Title
      statement: |-
        a. Do the thing within {{time}};
        b. Tell someone.
      parameters:
        - {{ id: c-1_odp.01, label: time, value: one hour, value_source: values }}
",
        sha = "ab".repeat(32)
    )
}

fn show(f: &Fixture, id: &str, format: &str) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_evidentia"))
        .args(["catalog", "show", id, "--format", format, "--controls"])
        .arg(f.controls_dir())
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn the_shipped_text_gives_ir6_its_statement_and_parameter_values() {
    let (code, out, err) = evidentia(&["catalog", "show", "fedramp-rev5/IR-6", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let c: Value = serde_json::from_str(&out).unwrap();
    // The hand-written title stays; the official text is beside it.
    assert_eq!(c["title"], "Incident Reporting");
    let o = &c["official"];
    assert_eq!(o["oscal_id"], "ir-6");
    assert_eq!(o["title"], "Incident Reporting");
    let st = o["statement"].as_str().unwrap();
    assert!(
        st.starts_with("a. Require personnel to report suspected incidents to the organizational incident response capability within [Assignment: US-CERT incident reporting timelines as specified in NIST Special Publication 800-61 (as amended)]; and\nb. Report incident information to [Assignment: organization-defined authorities]."),
        "{st}"
    );
    assert!(
        st.contains("Requirement: Reports security incident information according to FedRAMP Incident Communications Procedure."),
        "{st}"
    );
    let params = o["parameters"].as_array().unwrap();
    let p = |id: &str| params.iter().find(|p| p["id"] == id).unwrap();
    assert_eq!(
        p("ir-06_odp.01")["value"],
        "[Assignment: US-CERT incident reporting timelines as specified in NIST Special Publication 800-61 (as amended)]"
    );
    assert_eq!(p("ir-06_odp.01")["value_source"], "constraint");
    assert_eq!(p("ir-06_odp.01")["label"], "time period");
    assert_eq!(p("ir-06_odp.02")["value_source"], "unassigned");
    assert_eq!(o["source"]["title"], "FedRAMP Rev 5 Low Baseline");
    assert_eq!(o["source"]["version"], "fedramp2.1.0-oscal1.0.4");
    assert_eq!(o["source"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(o["origin"]["file"], SHIPPED);
    // Every control of the framework has its text; IR-8 has FedRAMP's "at least annually".
    let (code, out, _) = evidentia(&["catalog", "show", "fedramp-rev5", "--format", "json"]);
    assert_eq!(code, 0);
    let f: Value = serde_json::from_str(&out).unwrap();
    for c in f["controls"].as_array().unwrap() {
        assert!(c["official"]["statement"].is_string(), "{}", c["id"]);
    }
    let ir8 = &f["controls"].as_array().unwrap()[2]["official"];
    assert!(
        ir8["statement"]
            .as_str()
            .unwrap()
            .contains("[Assignment: at least annually]")
    );
    // And as text.
    let (code, out, _) = evidentia(&["catalog", "show", "fedramp-rev5/IR-6"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("Official text (FedRAMP Rev 5 Low Baseline, version fedramp2.1.0-oscal1.0.4):\n  ir-6 Incident Reporting\n  a. Require personnel"),
        "{out}"
    );
    assert!(
        out.contains("ir-06_odp.01 (time period): [Assignment: US-CERT"),
        "{out}"
    );
}

#[test]
fn the_hand_written_title_stays_and_the_official_text_is_kept_beside_it() {
    let f = Fixture::new();
    f.catalog(FRAMEWORK);
    f.catalog_file("text/fw.yaml", text_file("fw", "C-1").as_bytes());
    let (code, out, err) = show(&f, "fw/C-1", "json");
    assert_eq!(code, 0, "{err}");
    let c: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(c["title"], "Our title");
    assert_eq!(c["official"]["title"], "Official Title");
    assert_eq!(
        c["official"]["statement"],
        "a. Do the thing within {time};\nb. Tell someone."
    );
    assert_eq!(c["official"]["parameters"][0]["value"], "one hour");
    assert_eq!(c["official"]["origin"]["line"], 13);
    // A control the text does not name has none.
    let (_, out, _) = show(&f, "fw/C-2", "json");
    let c: Value = serde_json::from_str(&out).unwrap();
    assert!(c["official"].is_null());
    let (_, out, _) = show(&f, "fw/C-2", "text");
    assert!(out.contains("No official text"), "{out}");
    // The text listing names the source.
    let (_, out, _) = show(&f, "fw", "text");
    assert!(
        out.contains("official text: Source Catalog, version 1.2.3 (1 of 2 controls)"),
        "{out}"
    );
}

#[test]
fn control_text_for_an_unknown_control_is_a_located_catalog_error() {
    let f = Fixture::new();
    f.catalog(FRAMEWORK);
    f.catalog_file("text/fw.yaml", text_file("fw", "C-9").as_bytes());
    let err = f.validate_fails();
    assert!(err.contains("error[unknown-control]"), "{err}");
    assert!(err.contains("fw.yaml:13:"), "{err}");
    assert!(err.contains("framework `fw` has no control `C-9`"), "{err}");
    // The same through `check`: exit 2, nothing evaluated.
    f.sources("tables:\n  incidents:\n    file: incidents.csv\n");
    f.export("incidents.csv", "id,title\nINC-1,A\n");
    let r = f.run(&[]);
    r.assert_code(2);
    r.assert_error("unknown-control", &["fw.yaml:13:", "`C-9`"]);
}

#[test]
fn control_text_for_an_unknown_framework_is_a_located_catalog_error() {
    let f = Fixture::new();
    f.catalog(FRAMEWORK);
    f.catalog_file("text/fw.yaml", text_file("nist-800-53", "C-1").as_bytes());
    let err = f.validate_fails();
    assert!(err.contains("error[unknown-framework]"), "{err}");
    assert!(err.contains("fw.yaml:3:"), "{err}");
    assert!(
        err.contains("unknown framework `nist-800-53` (frameworks: fw)"),
        "{err}"
    );
}

#[test]
fn two_texts_for_one_control_are_an_error() {
    let f = Fixture::new();
    f.catalog(FRAMEWORK);
    f.catalog_file("text/a.yaml", text_file("fw", "C-1").as_bytes());
    f.catalog_file("text/b.yaml", text_file("fw", "C-1").as_bytes());
    let err = f.validate_fails();
    assert!(err.contains("error[duplicate-id]"), "{err}");
    assert!(err.contains("b.yaml:13:"), "{err}");
    assert!(err.contains("already given at"), "{err}");
    assert!(err.contains("a.yaml:13"), "{err}");
}

#[test]
fn a_not_found_control_must_exist_and_have_no_text() {
    let f = Fixture::new();
    f.catalog(FRAMEWORK);
    let text = text_file("fw", "C-1") + "  not_found: [C-1, C-7]\n";
    f.catalog_file("text/fw.yaml", text.as_bytes());
    let err = f.validate_fails();
    assert!(err.contains("error[bad-value]"), "{err}");
    assert!(err.contains("`C-1` is listed under `not_found`"), "{err}");
    assert!(err.contains("error[unknown-control]"), "{err}");
    assert!(err.contains("no control `C-7`"), "{err}");
}

#[test]
fn the_schema_refuses_a_malformed_control_text() {
    // (what is wrong, text replaced, its replacement, the pointer named)
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "a statement that is a list",
            "statement: |-\n        a. Do the thing within {time};\n        b. Tell someone.\n",
            "statement: [a, b]\n",
            "/control_text/controls/0/statement",
        ),
        (
            "an unknown key",
            "oscal_id: c-1\n",
            "oscal_id: c-1\n      extra: 1\n",
            "/control_text/controls/0",
        ),
        (
            "a later layout",
            "layout: 1\n",
            "layout: 2\n",
            "/control_text/layout",
        ),
        (
            "a hash of 63 digits",
            "sha256: a",
            "sha256: ",
            "/control_text/source/sha256",
        ),
        (
            "an unknown value source",
            "value_source: values",
            "value_source: guessed",
            "/control_text/controls/0/parameters/0/value_source",
        ),
    ];
    for (what, from, to, pointer) in cases {
        let f = Fixture::new();
        f.catalog(FRAMEWORK);
        let text = text_file("fw", "C-1");
        assert!(text.contains(from), "{what}");
        let bad = text.replacen(from, to, 1);
        f.catalog_file("text/fw.yaml", bad.as_bytes());
        let err = f.validate_fails();
        assert!(err.contains("error[schema-violation]"), "{what}: {err}");
        assert!(err.contains("fw.yaml:"), "{what}: {err}");
        assert!(err.contains(pointer), "{what}: {err}");
    }
    // A required key missing.
    let f = Fixture::new();
    f.catalog(FRAMEWORK);
    let bad = text_file("fw", "C-1").replace("      title: Official Title\n", "");
    f.catalog_file("text/fw.yaml", bad.as_bytes());
    let err = f.validate_fails();
    assert!(err.contains("error[schema-violation]"), "{err}");
    assert!(err.contains("title"), "{err}");
}

#[test]
fn importing_the_fedramp_source_gives_the_shipped_file_byte_for_byte() {
    if !root().join(SOURCE).is_file() {
        eprintln!("skipped: {SOURCE} not found (../shared/realdata is not there)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("fedramp-rev5.yaml");
    let (code, _, err) = evidentia(&[
        "catalog",
        "import-oscal",
        SOURCE,
        "--framework",
        "fedramp-rev5",
        "--out",
        &out.display().to_string(),
    ]);
    assert_eq!(code, 0, "{err}");
    let fresh = std::fs::read_to_string(&out).unwrap();
    let shipped = std::fs::read_to_string(root().join(SHIPPED)).unwrap();
    assert!(
        fresh == shipped,
        "{SHIPPED} differs from a fresh import of {SOURCE}: refresh it (docs/auditor-workflow.md)\n--- fresh\n{fresh}"
    );
    // The header says where the text is from and under which terms.
    assert!(shipped.contains(SOURCE));
    assert!(shipped.contains("public domain"));
}
