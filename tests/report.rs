//! The auditor's outputs on a small fixed fixture: `report.html` section by section
//! and `summary.md` as insta snapshots (so a change to the report is a reviewed diff),
//! `manifest.json` and `SHA256SUMS`, byte-identical reruns, `evidentia verify`
//! (passes on a fresh bundle, fails on a changed input or output byte, exit 2 without
//! a valid manifest), and escaping: HTML in evidence stays text, formula cells are
//! neutralised in exceptions.csv.
//!
//! The fixture runs with relative paths from its own folder (settings in
//! `evidentia.yaml`), so paths in the outputs are stable across machines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Command, Output};

use common::Fixture;

const CATALOG: &str = r#"checks:
  - id: notice-72h
    title: Affected customers notified within 72 hours of declaration
    rule: deadline
    population: { table: incidents, where: { data_breach: true } }
    start: declared_at
    end: { table: notifications, via: incident_id, where: { audience: customers }, pick: earliest, field: sent_at }
    within: 72h
    warn_before: 24h
  - id: classified
    title: Every record is classified as a security incident or an event
    rule: allowed
    population: { table: incidents }
    field: classification
    values: [security-incident, event]
  - id: title-plain
    title: Incident titles are plain words
    rule: allowed
    population: { table: incidents }
    field: title
    pattern: "^[A-Za-z0-9 ,.-]+$"
  - id: events-reviewed
    title: Security events have a title
    rule: required
    population: { table: incidents, where: { classification: event } }
    fields: [title]
  - id: finding-owner
    title: Findings name an owner
    rule: allowed
    population: { table: findings }
    field: owner
    pattern: "^[a-z]+\\.[a-z]+$"
frameworks:
  - id: fw-a
    name: Framework A
    version: "2024"
    controls:
      - { id: A-1, title: Breaches are notified on time, checks: [notice-72h] }
      - { id: A-2, title: Incidents are classified and titled, checks: [classified, title-plain] }
      - { id: A-3, title: Findings are owned, checks: [finding-owner] }
      - { id: A-4, title: The response plan is approved, manual: { attest: The CISO approves the response plan every year } }
  - id: fw-b
    name: Framework B <i>beta</i>
    controls:
      - { id: B.1, title: Notification of a breach, checks: [notice-72h] }
      - { id: B.2, title: Events are reviewed, checks: [events-reviewed] }
crosswalks:
  - from: fw-a
    to: fw-b
    mappings:
      - { from: A-1, to: B.1, relation: equal, note: same objective }
      - { from: A-2, to: B.2, relation: intersect }
"#;

const SOURCES: &str = "tables:
  incidents:
    file: incidents.csv
  notifications:
    file: notifications.csv
  findings:
    file: findings.csv
";

/// INC-1 on time, INC-2 late (and an XSS title), INC-3 pending, INC-4 badly
/// classified, INC-5 at risk, INC-6 exactly at the limit, INC-7 before the period,
/// INC-8 without a declaration (not evaluable).
const INCIDENTS: &str = "id,title,classification,declared_at,data_breach
INC-1,Phishing of a finance clerk,security-incident,2025-02-03T10:00:00Z,true
INC-2,<script>alert(1)</script>,security-incident,2025-03-10T08:00:00Z,true
INC-3,Lost laptop,security-incident,2025-06-29T12:00:00Z,true
INC-4,Stolen badge,near-miss,2025-04-01T00:00:00Z,false
INC-5,Ransomware note,security-incident,2025-06-28T06:00:00Z,true
INC-6,Exposed bucket,security-incident,2025-05-01T00:00:00Z,true
INC-7,Old incident,security-incident,2024-11-01T00:00:00Z,true
INC-8,Unknown start,security-incident,,true
";

const NOTIFICATIONS: &str = "id,incident_id,audience,sent_at
N-1,INC-1,customers,2025-02-04T10:00:00Z
N-2,INC-2,customers,2025-03-14T09:30:00Z
N-3,INC-6,customers,2025-05-04T00:00:00Z
";

/// A finding owner and a finding id that a spreadsheet would run as formulas.
const FINDINGS: &str = "id,owner
F-1,a.khan
F-2,\"=HYPERLINK(\"\"x\"\")\"
\"=HYPERLINK(\"\"y\"\")\",Unknown Owner
";

/// Management's response to the XSS title (read from beside the sources file).
const WAIVERS: &str = "waivers:
  - id: W-1
    check: title-plain
    record: INC-2
    reason: The title was pasted from the attacker's payload.
    approver: CISO
    approved_at: 2025-06-01
    expires_at: 2025-12-31
    response: Titles are now entered by the incident lead only.
";

const SETTINGS: &str = "entity: Test Entity <b>&</b> Co
controls: controls
sources: evidence/sources.yaml
out: out
as_of: 2025-07-01T00:00:00Z
period: 2025-01-01..2025-06-30
";

/// Official text for two controls of fw-a (one tested, one manual), with HTML in it.
const CONTROL_TEXT: &str = r#"control_text:
  layout: 1
  framework: fw-a
  source:
    file: catalogs/source-catalog.json
    sha256: 5f0c1e5d2a8b9c7e6f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e
    uuid: 6a0e0a8e-1111-4222-8333-944455556666
    title: Source Catalog <b>bold</b>
    version: 5.1.1
    oscal_version: 1.1.2
    last_modified: "2024-02-13T17:43:49Z"
  controls:
    - id: A-1
      oscal_id: a-1
      title: Breach Notification
      statement: |-
        a. Notify affected customers within [Assignment: 72 hours]; and
        b. Record the notice.
          1. Keep <script>x</script> as text.
      parameters:
        - { id: a-1_odp.01, label: time period, value: "[Assignment: 72 hours]", value_source: constraint }
    - id: A-4
      oscal_id: a-4
      title: Response Plan
      statement: Approve the response plan.
"#;

fn fixture() -> Fixture {
    let f = Fixture::with(
        CATALOG,
        SOURCES,
        &[
            ("incidents.csv", INCIDENTS),
            ("notifications.csv", NOTIFICATIONS),
            ("findings.csv", FINDINGS),
            ("waivers.yaml", WAIVERS),
        ],
    );
    f.catalog_file("text/fw-a.yaml", CONTROL_TEXT.as_bytes());
    std::fs::write(f.root().join("evidentia.yaml"), SETTINGS).unwrap();
    f
}

/// Run the binary in the fixture's folder.
fn evidentia(f: &Fixture, args: &[&str]) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_evidentia"))
        .args(args)
        .current_dir(f.root())
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run evidentia");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!all.contains("panicked"), "evidentia panicked:\n{all}");
    o
}

fn check_all(f: &Fixture) {
    check_formats(f, "all");
}

fn check_formats(f: &Fixture, formats: &str) {
    let o = evidentia(f, &["check", "--format", formats]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "the fixture has exceptions: exit 1\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn read(f: &Fixture, name: &str) -> Vec<u8> {
    std::fs::read(f.out_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn text(f: &Fixture, name: &str) -> String {
    String::from_utf8(read(f, name)).unwrap()
}

/// The tool version is not part of what a snapshot reviews.
fn unversioned(s: &str) -> String {
    s.replace(env!("CARGO_PKG_VERSION"), "[version]")
}

/// `<head>` and each `<section id="...">` of report.html, in order.
fn sections(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let (Some(a), Some(b)) = (html.find("<head>"), html.find("</head>")) {
        out.push(("head".to_string(), html[a..b + 7].to_string()));
    }
    let mut rest = html;
    while let Some(start) = rest.find("<section id=\"") {
        let after = &rest[start + 13..];
        let id = after[..after.find('"').unwrap()].to_string();
        let end = rest[start..].find("</section>").unwrap() + start + 10;
        out.push((id, rest[start..end].to_string()));
        rest = &rest[end..];
    }
    out
}

#[test]
fn report_html_sections() {
    let f = fixture();
    check_all(&f);
    let html = unversioned(&text(&f, "report.html"));
    let parts = sections(&html);
    let ids: Vec<&str> = parts.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "head",
            "cover",
            "scope",
            "summary",
            "tests-fw-a",
            "tests-fw-b",
            "exceptions",
            "pending",
            "deadlines",
            "crosswalk",
            "method"
        ]
    );
    for (id, body) in &parts {
        insta::assert_snapshot!(format!("report_html_{id}"), body);
    }
}

#[test]
fn summary_md() {
    let f = fixture();
    check_all(&f);
    insta::assert_snapshot!("summary_md", unversioned(&text(&f, "summary.md")));
}

#[test]
fn manifest_and_sums_cover_every_file() {
    let f = fixture();
    // A fixed list, so that a new format does not change this snapshot.
    check_formats(&f, "json,csv,ids,html,md");
    let mut m: serde_json::Value = serde_json::from_slice(&read(&f, "manifest.json")).unwrap();
    // Every output hash is checked against the file, then masked for the snapshot
    // (they change with any change to any report, which other snapshots show).
    for o in m["outputs"].as_array_mut().unwrap() {
        let name = o["path"].as_str().unwrap().to_string();
        let bytes = read(&f, &name);
        assert_eq!(
            o["sha256"].as_str().unwrap(),
            evidentia::report::manifest::sha256_hex(&bytes),
            "{name}"
        );
        o["sha256"] = "[sha256]".into();
    }
    m["command_line"][0] = "[evidentia]".into();
    m["tool"]["version"] = "[version]".into();
    insta::assert_json_snapshot!("manifest_json", m);

    // `all`: SHA256SUMS lists every file written (all but itself), sorted.
    check_all(&f);
    let sums = text(&f, "SHA256SUMS");
    let names: Vec<&str> = sums.lines().map(|l| &l[66..]).collect();
    let mut files: Vec<String> = std::fs::read_dir(f.out_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "SHA256SUMS")
        .collect();
    files.sort();
    assert_eq!(names, files);
    for want in ["manifest.json", "report.html", "report.json", "summary.md"] {
        assert!(names.contains(&want), "{want} not in SHA256SUMS");
    }
    for l in sums.lines() {
        let (h, name) = l.split_once("  ").unwrap();
        assert_eq!(h, evidentia::report::manifest::sha256_hex(&read(&f, name)));
    }
}

#[test]
fn two_runs_give_identical_bytes() {
    let f = fixture();
    check_all(&f);
    let names = [
        "report.html",
        "report.json",
        "exceptions.csv",
        "summary.md",
        "manifest.json",
        "SHA256SUMS",
    ];
    let first: Vec<Vec<u8>> = names.iter().map(|n| read(&f, n)).collect();
    check_all(&f);
    for (n, a) in names.iter().zip(&first) {
        assert!(a == &read(&f, n), "{n} differs between two runs");
    }
}

#[test]
fn only_html_writes_the_bundle_files_too() {
    let f = fixture();
    let o = evidentia(&f, &["check", "--format", "html"]);
    assert_eq!(o.status.code(), Some(1));
    for n in ["report.html", "manifest.json", "SHA256SUMS"] {
        assert!(f.out_dir().join(n).exists(), "{n}");
    }
    assert!(!f.out_dir().join("report.json").exists());
    let m: serde_json::Value = serde_json::from_slice(&read(&f, "manifest.json")).unwrap();
    assert_eq!(m["outputs"].as_array().unwrap().len(), 1);
    // Text alone writes no file, so no bundle either.
    let g = fixture();
    evidentia(&g, &["check", "--format", "text"]);
    assert!(!g.out_dir().join("manifest.json").exists());
}

fn verify(f: &Fixture) -> (Option<i32>, String) {
    let o = evidentia(f, &["verify", "out"]);
    (
        o.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

#[test]
fn verify_passes_on_a_fresh_bundle() {
    let f = fixture();
    check_all(&f);
    let (code, out) = verify(&f);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("verified"), "{out}");
}

#[test]
fn verify_fails_when_an_output_byte_changes() {
    let f = fixture();
    check_all(&f);
    let p = f.out_dir().join("report.html");
    let mut b = std::fs::read(&p).unwrap();
    let i = b.len() / 2;
    b[i] ^= 0x20;
    std::fs::write(&p, b).unwrap();
    let (code, out) = verify(&f);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("output report.html: SHA-256"), "{out}");
    assert!(
        out.contains("output report.html: the re-run gives different bytes"),
        "{out}"
    );
}

#[test]
fn verify_fails_when_the_manifest_is_edited() {
    let f = fixture();
    check_all(&f);
    let p = f.out_dir().join("manifest.json");
    let s = std::fs::read_to_string(&p)
        .unwrap()
        .replace("Test Entity", "Other Entity");
    std::fs::write(&p, s).unwrap();
    let (code, out) = verify(&f);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("SHA256SUMS manifest.json"), "{out}");
}

#[test]
fn verify_fails_when_an_input_byte_changes() {
    let f = fixture();
    check_all(&f);
    let p = f.evidence_dir().join("incidents.csv");
    let s = std::fs::read_to_string(&p)
        .unwrap()
        .replace("Lost laptop", "Lost laptoP");
    std::fs::write(&p, s).unwrap();
    let (code, out) = verify(&f);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("input evidence/incidents.csv: SHA-256"),
        "{out}"
    );
    // The input's hash is in report.json and report.html, so the re-run differs too.
    assert!(out.contains("output report.json: the re-run"), "{out}");
}

#[test]
fn verify_fails_when_a_catalog_byte_changes() {
    let f = fixture();
    check_all(&f);
    let p = f.controls_dir().join("catalog.yaml");
    let s = std::fs::read_to_string(&p)
        .unwrap()
        .replace("within: 72h", "within: 96h");
    std::fs::write(&p, s).unwrap();
    let (code, out) = verify(&f);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("catalog file controls/catalog.yaml"), "{out}");
}

#[test]
fn verify_fails_when_the_waivers_file_changes() {
    let f = fixture();
    check_all(&f);
    let p = f.evidence_dir().join("waivers.yaml");
    let s = std::fs::read_to_string(&p)
        .unwrap()
        .replace("lead only", "lead");
    std::fs::write(&p, s).unwrap();
    let (code, out) = verify(&f);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("waivers file evidence/waivers.yaml"), "{out}");
    assert!(out.contains("output report.html: the re-run"), "{out}");
}

#[test]
fn verify_without_a_valid_manifest_is_exit_2() {
    let f = fixture();
    let (code, out) = verify(&f);
    assert_eq!(code, Some(2), "no out/ at all: {out}");
    assert!(out.contains("error[manifest]"), "{out}");
    check_all(&f);
    std::fs::write(f.out_dir().join("manifest.json"), "{ not json").unwrap();
    let (code, out) = verify(&f);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("not a valid manifest"), "{out}");
}

#[test]
fn evidence_html_is_escaped_in_report_html() {
    let f = fixture();
    check_all(&f);
    let html = text(&f, "report.html");
    // The title from the export, the entity from the settings and the framework name
    // from the catalog are all text, never markup.
    assert!(
        !html.contains("<script"),
        "a <script> tag reached report.html"
    );
    assert!(!html.contains("<b>&</b>") && !html.contains("<i>beta</i>"));
    assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
    assert!(html.contains("Test Entity &#60;b&#62;&#38;&#60;/b&#62; Co"));
    assert!(html.contains("Framework B &#60;i&#62;beta&#60;/i&#62;"));
    // Self-contained: nothing is fetched (the SVG namespace is a name, not a fetch).
    let lower = html.to_lowercase();
    for bad in [
        "src=", "@import", "url(", "<link", "<iframe", "<object", "<img",
    ] {
        assert!(!lower.contains(bad), "report.html contains {bad}");
    }
    let http = lower.matches("http").count();
    let ns = lower
        .matches("xmlns=\"http://www.w3.org/2000/svg\"")
        .count();
    assert_eq!(http, ns, "only SVG namespaces mention http");
}

#[test]
fn evidence_text_is_inert_in_summary_md() {
    let f = fixture();
    check_all(&f);
    let md = text(&f, "summary.md");
    assert!(!md.contains("<b>") && !md.contains("<i>"));
    assert!(md.contains("Test Entity &lt;b&gt;&amp;&lt;/b&gt; Co"));
    assert!(md.contains("Framework B &lt;i&gt;beta&lt;/i&gt;"));
}

#[test]
fn formula_cells_are_neutralised_in_exceptions_csv() {
    let f = fixture();
    check_all(&f);
    let bytes = read(&f, "exceptions.csv");
    let mut r = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
    let header = r.headers().unwrap().clone();
    let rid = header.iter().position(|h| h == "record_id").unwrap();
    let mut ids = Vec::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        for cell in rec.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "formula cell {cell:?} in exceptions.csv"
            );
        }
        ids.push(rec[rid].to_string());
    }
    assert!(ids.contains(&"'=HYPERLINK(\"y\")".to_string()), "{ids:?}");
    // The owner is quoted inside the message, where a spreadsheet reads it as text.
    let s = String::from_utf8(bytes).unwrap();
    assert!(s.contains("owner `=HYPERLINK(\"\"x\"\")`"), "{s}");
}

/// report.json is written straight from the assessment (not through a JSON value), so
/// nothing but this test keeps its keys in order: parsing it and writing it again with
/// sorted keys must give the same bytes. The shipped demo with its waivers covers
/// waived records, pending deadlines, rejected records and the gate.
#[test]
fn report_json_keys_are_sorted_everywhere() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_evidentia"))
        .current_dir(&root)
        .args([
            "check",
            "--format",
            "json",
            "--waivers",
            "evidence/waivers.yaml",
        ])
        .arg("--out")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(matches!(o.status.code(), Some(0 | 1)), "{o:?}");
    let bytes = std::fs::read(tmp.path().join("report.json")).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let mut again = serde_json::to_vec_pretty(&v).unwrap();
    again.push(b'\n');
    assert!(again == bytes, "report.json keys are not in sorted order");
    let text = String::from_utf8(bytes).unwrap();
    for key in ["\"waiver\": {", "\"pending_items\": [\n", "\"values\": {"] {
        assert!(text.contains(key), "the demo no longer covers {key}");
    }
}

/// The findings-aging chart's dates are kept only when report.html is written, but a
/// bad date rejects its finding whatever the outputs asked for: the same rejections
/// and exceptions with and without report.html, and the chart counts open findings.
#[test]
fn rejections_do_not_depend_on_the_outputs_asked_for() {
    let findings = "id,owner,status,created_at,due_at,closed_at
F-1,a.khan,open,2025-01-05T00:00:00Z,2025-03-01T00:00:00Z,
F-2,b.lee,open,not a date,,
F-3,c.diaz,closed,2025-01-02T00:00:00Z,,2025-02-01T00:00:00Z
F-4,d.ito,open,2025-02-01T00:00:00Z,,not a date either
";
    let f = Fixture::with(
        CATALOG,
        SOURCES,
        &[
            ("incidents.csv", INCIDENTS),
            ("notifications.csv", NOTIFICATIONS),
            ("findings.csv", findings),
        ],
    );
    std::fs::write(f.root().join("evidentia.yaml"), SETTINGS).unwrap();
    let mut rejected = Vec::new();
    for formats in ["json", "json,html"] {
        let o = evidentia(&f, &["check", "--keep-going", "--format", formats]);
        assert_eq!(o.status.code(), Some(1), "{o:?}");
        let v: serde_json::Value = serde_json::from_slice(&read(&f, "report.json")).unwrap();
        rejected.push((
            v["rejected"].clone(),
            v["summary"].clone(),
            v["inputs"].clone(),
        ));
    }
    assert_eq!(rejected[0], rejected[1]);
    let ids: Vec<&str> = rejected[0]
        .0
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["record_id"].as_str())
        .collect();
    assert_eq!(ids, ["F-2", "F-4"]);
    assert!(text(&f, "report.html").contains("1 finding(s) open at as-of"));
}
