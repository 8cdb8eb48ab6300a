//! The CI gate: exit codes for every threshold and override (`--fail-on`, `--deny`,
//! `--warn`, `--allow`, `--max-exceptions`, `--allow-empty`), the gate outputs
//! (junit.xml shape, results.sarif against the OASIS SARIF 2.1.0 schema, GitHub
//! annotations) and at-risk deadlines with the time left in every output.
//!
//! The fixture: as-of 2025-07-01T00:00:00Z; check `lifecycle` (deny) has 2
//! exceptions (I-2, I-3), check `titled` (severity warn in the catalog) has 1 (I-4),
//! check `resolve-5d` (deny) has I-5 at risk (due 2025-07-01T10:00:00Z, 10 h left) and
//! I-6 pending (due in 4 days).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

mod common;

use std::path::{Path, PathBuf};

use common::{Fixture, Run};
use serde_json::Value;

const CATALOG: &str = "checks:
  - id: lifecycle
    title: Detected before declared
    rule: sequence
    population: { table: incidents }
    fields: [detected_at, declared_at]
  - id: titled
    title: Titles recorded
    rule: required
    severity: warn
    population: { table: incidents }
    fields: [title]
  - id: resolve-5d
    title: Resolved within 5 days of declaration
    rule: deadline
    population: { table: incidents }
    start: declared_at
    end: resolved_at
    within: 120h
    warn_before: 24h
frameworks:
  - id: fw
    name: Test framework
    controls:
      - { id: C-1, title: Lifecycle in order, checks: [lifecycle] }
      - { id: C-2, title: Records complete, checks: [titled] }
      - { id: C-3, title: Resolution on time, checks: [resolve-5d] }
";

const INCIDENTS: &str = "id,title,detected_at,declared_at,resolved_at
I-1,ok,2025-06-01T00:00:00Z,2025-06-01T01:00:00Z,2025-06-02T00:00:00Z
I-2,late,2025-06-01T02:00:00Z,2025-06-01T01:00:00Z,2025-06-02T00:00:00Z
I-3,late,2025-06-01T03:00:00Z,2025-06-01T01:00:00Z,2025-06-02T00:00:00Z
I-4,,2025-06-01T00:00:00Z,2025-06-01T01:00:00Z,2025-06-02T00:00:00Z
I-5,open,2025-06-26T09:00:00Z,2025-06-26T10:00:00Z,
I-6,open,2025-06-29T23:00:00Z,2025-06-30T00:00:00Z,
";

fn fixture() -> Fixture {
    Fixture::with(
        CATALOG,
        "tables:\n  incidents:\n    file: incidents.csv\n",
        &[("incidents.csv", INCIDENTS)],
    )
}

fn run(f: &Fixture, extra: &[&str]) -> Run {
    f.run(extra)
}

// ---------------------------------------------------------------------------
// Exit codes
// ---------------------------------------------------------------------------

#[test]
fn default_gate_fails_on_exceptions_of_deny_checks() {
    let f = fixture();
    let r = run(&f, &[]);
    r.assert_code(1);
    let reasons = r.report()["gate"]["reasons"].to_string();
    assert!(
        reasons.contains("check `lifecycle`: 2 exception(s)"),
        "{reasons}"
    );
    assert!(reasons.contains("warning: check `titled`"), "{reasons}");
    assert!(!reasons.contains("resolve-5d"), "{reasons}");
}

#[test]
fn severity_overrides_change_the_gate() {
    let f = fixture();
    // The only deny check with exceptions made warn, or allow: the gate passes.
    run(&f, &["--warn", "lifecycle"]).assert_code(0);
    let r = run(&f, &["--allow", "lifecycle"]);
    r.assert_code(0);
    assert_eq!(r.check("lifecycle")["severity"], "allow");
    // A warn check made deny fails the gate, alone too.
    run(&f, &["--warn", "lifecycle", "--deny", "titled"]).assert_code(1);
    let r = run(&f, &["--allow", "lifecycle", "--deny", "titled"]);
    r.assert_code(1);
    assert!(
        r.report()["gate"]["reasons"]
            .to_string()
            .contains("check `titled`: 1 exception(s)")
    );
    // Repeatable.
    run(&f, &["--allow", "lifecycle", "--allow", "titled"]).assert_code(0);
}

#[test]
fn an_unknown_check_in_an_override_is_exit_2() {
    let f = fixture();
    for flag in ["--deny", "--warn", "--allow"] {
        let r = run(&f, &[flag, "lifecyle"]);
        let line = r.assert_error("unknown-check", &["lifecyle", flag]);
        assert!(line.contains("not a check of the catalog"), "{line}");
        assert!(r.report.is_none(), "nothing is written on exit 2");
    }
}

#[test]
fn a_check_given_two_severities_is_a_usage_error() {
    let f = fixture();
    let r = run(&f, &["--deny", "titled", "--warn", "titled"]);
    r.assert_code(2);
    r.assert_stderr(&[
        "error[usage]",
        "`titled` is given to both --deny and --warn",
    ]);
}

#[test]
fn max_exceptions_tolerates_up_to_n_in_deny_checks() {
    let f = fixture();
    // lifecycle has 2; titled (warn) does not count.
    let r = run(&f, &["--max-exceptions", "2"]);
    r.assert_code(0);
    assert_eq!(r.report()["gate"]["max_exceptions"], 2);
    assert!(
        r.report()["gate"]["reasons"]
            .to_string()
            .contains("2 exception(s) in deny checks, within --max-exceptions 2")
    );
    let r = run(&f, &["--max-exceptions", "1"]);
    r.assert_code(1);
    assert!(
        r.report()["gate"]["reasons"]
            .to_string()
            .contains("2 exception(s) in deny checks, more than --max-exceptions 1")
    );
    run(&f, &["--max-exceptions", "0"]).assert_code(1);
    // titled made deny: 3 in deny checks.
    run(&f, &["--max-exceptions", "2", "--deny", "titled"]).assert_code(1);
    run(&f, &["--max-exceptions", "3", "--deny", "titled"]).assert_code(0);
    // With --fail-on at-risk the at-risk deadline still fails the gate.
    run(&f, &["--max-exceptions", "5", "--fail-on", "at-risk"]).assert_code(1);
    // --fail-on never: never on exceptions.
    run(&f, &["--max-exceptions", "0", "--fail-on", "never"]).assert_code(0);
    // Not a number: clap refuses it.
    run(&f, &["--max-exceptions", "-1"]).assert_code(2);
}

#[test]
fn fail_on_at_risk_and_never() {
    let f = fixture();
    // Exceptions tolerated, at-risk not: only --fail-on at-risk fails.
    run(&f, &["--allow", "lifecycle"]).assert_code(0);
    let r = run(&f, &["--allow", "lifecycle", "--fail-on", "at-risk"]);
    r.assert_code(1);
    assert!(
        r.report()["gate"]["reasons"]
            .to_string()
            .contains("check `resolve-5d`: 1 at-risk deadline(s)")
    );
    // At risk in a warn check does not gate.
    run(
        &f,
        &[
            "--allow",
            "lifecycle",
            "--warn",
            "resolve-5d",
            "--fail-on",
            "at-risk",
        ],
    )
    .assert_code(0);
    run(&f, &["--fail-on", "never"]).assert_code(0);
    run(&f, &["--fail-on", "exception"]).assert_code(1);
}

#[test]
fn an_empty_run_fails_unless_allow_empty() {
    let f = fixture();
    // A period with no incident: every population is empty.
    let r = run(
        &f,
        &["--period", "2020-01-01..2020-12-31", "--fail-on", "never"],
    );
    r.assert_code(1);
    assert!(
        r.report()["gate"]["reasons"]
            .to_string()
            .contains("no record was evaluated")
    );
    run(&f, &["--period", "2020-01-01..2020-12-31", "--allow-empty"]).assert_code(0);
    // Overrides do not rescue an empty run.
    run(
        &f,
        &[
            "--period",
            "2020-01-01..2020-12-31",
            "--allow",
            "lifecycle",
            "--allow",
            "titled",
            "--allow",
            "resolve-5d",
        ],
    )
    .assert_code(1);
}

// ---------------------------------------------------------------------------
// At risk, with the time left, in every output
// ---------------------------------------------------------------------------

#[test]
fn at_risk_with_time_left_in_text_json_csv() {
    let f = fixture();
    let r = run(&f, &["--format", "text,json,csv"]);
    // Text: a section listing every at-risk deadline with the time left.
    let at = r
        .stdout
        .find("At risk")
        .unwrap_or_else(|| panic!("{}", r.dump()));
    let section = &r.stdout[at..];
    assert!(section.contains("due 2025-07-01T10:00:00Z"), "{section}");
    assert!(section.contains("10 h 00 min left"), "{section}");
    assert!(section.contains("I-5"), "{section}");
    assert!(
        !section.lines().take(3).any(|l| l.contains("I-6")),
        "{section}"
    );
    // JSON: due and the seconds left.
    let i5 = r.record("resolve-5d", "I-5");
    assert_eq!(i5["verdict"], "at-risk");
    assert_eq!(i5["due"], "2025-07-01T10:00:00Z");
    assert_eq!(i5["time_left_seconds"], 36000);
    assert_eq!(
        r.record("resolve-5d", "I-6")["time_left_seconds"],
        4 * 86400
    );
    assert!(r.record("lifecycle", "I-2")["time_left_seconds"].is_null());
    // CSV: due column and the time left in the message.
    let csv = String::from_utf8(r.exceptions_csv.clone().unwrap()).unwrap();
    let line = csv.lines().find(|l| l.contains("I-5")).unwrap();
    assert!(
        line.contains("at-risk") && line.contains("2025-07-01T10:00:00Z"),
        "{line}"
    );
    assert!(line.contains("10 h 00 min left"), "{line}");
}

// ---------------------------------------------------------------------------
// junit.xml
// ---------------------------------------------------------------------------

/// A parsed XML element: name, attributes, text, children.
#[derive(Debug, Default)]
struct El {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    kids: Vec<El>,
}

impl El {
    fn attr(&self, k: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.as_str())
    }
    fn kids(&self, name: &str) -> impl Iterator<Item = &El> {
        self.kids.iter().filter(move |k| k.name == name)
    }
}

/// Parse with quick-xml (well-formedness is checked: unbalanced tags are errors).
fn parse_xml(bytes: &[u8]) -> El {
    use quick_xml::Reader;
    use quick_xml::events::Event;
    let mut r = Reader::from_reader(bytes);
    r.config_mut().check_end_names = true;
    let mut stack: Vec<El> = vec![El::default()];
    let mut buf = Vec::new();
    let el = |e: &quick_xml::events::BytesStart<'_>| El {
        name: String::from(AsRef::<str>::as_ref(&e.name())),
        attrs: e
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                (
                    String::from(AsRef::<str>::as_ref(&a.key)),
                    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .unwrap()
                        .into_owned(),
                )
            })
            .collect(),
        ..El::default()
    };
    loop {
        match r.read_event_into(&mut buf).unwrap() {
            Event::Start(e) => stack.push(el(&e)),
            Event::Empty(e) => stack.last_mut().unwrap().kids.push(el(&e)),
            Event::End(_) => {
                let done = stack.pop().unwrap();
                stack.last_mut().unwrap().kids.push(done);
            }
            Event::Text(t) => {
                let s = t.xml10_content().into_owned();
                assert!(!s.contains('<') && !s.contains('&'), "unescaped text: {s}");
                stack.last_mut().unwrap().text.push_str(&s);
            }
            Event::GeneralRef(g) => {
                let name = g.into_inner().into_owned();
                let ch = match name.as_str() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    other => panic!("unexpected entity {other}"),
                };
                stack.last_mut().unwrap().text.push_str(ch);
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    assert_eq!(stack.len(), 1, "unclosed elements");
    let mut root = stack.pop().unwrap();
    assert_eq!(root.kids.len(), 1, "one root element");
    root.kids.pop().unwrap()
}

fn num(e: &El, k: &str) -> usize {
    e.attr(k)
        .unwrap_or_else(|| panic!("<{}> lacks {k}", e.name))
        .parse()
        .unwrap()
}

#[test]
fn junit_has_the_testsuites_testsuite_testcase_failure_shape() {
    let f = fixture();
    let r = run(&f, &["--format", "junit"]);
    r.assert_code(1);
    let bytes = std::fs::read(f.out_dir().join("junit.xml")).unwrap();
    assert!(bytes.starts_with(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    let root = parse_xml(&bytes);
    assert_eq!(root.name, "testsuites");
    let suites: Vec<&El> = root.kids("testsuite").collect();
    assert_eq!(suites.len(), 2, "checks, and one per framework");
    // Counts add up at both levels.
    let mut totals = [0usize; 4];
    for s in &suites {
        let cases: Vec<&El> = s.kids("testcase").collect();
        assert_eq!(num(s, "tests"), cases.len());
        for (i, (k, child)) in [
            ("failures", "failure"),
            ("errors", "error"),
            ("skipped", "skipped"),
        ]
        .iter()
        .enumerate()
        {
            let n = cases
                .iter()
                .filter(|c| c.kids(child).next().is_some())
                .count();
            assert_eq!(num(s, k), n, "{k} of {}", s.attr("name").unwrap());
            totals[i + 1] += n;
        }
        totals[0] += cases.len();
        for c in cases {
            assert!(c.attr("classname").is_some() && c.attr("name").is_some());
        }
    }
    assert_eq!(num(&root, "tests"), totals[0]);
    assert_eq!(num(&root, "failures"), totals[1]);
    assert_eq!(num(&root, "errors"), totals[2]);
    assert_eq!(num(&root, "skipped"), totals[3]);

    let case = |suite: usize, prefix: &str| -> &El {
        suites[suite]
            .kids("testcase")
            .find(|c| c.attr("name").unwrap().starts_with(prefix))
            .unwrap_or_else(|| panic!("no test case {prefix}"))
    };
    // A failing check: the failure lists each exception with file and line.
    let lc = case(0, "lifecycle:");
    let fail = lc.kids("failure").next().expect("lifecycle fails");
    assert_eq!(fail.attr("type"), Some("exception"));
    assert!(fail.attr("message").unwrap().contains("2 exception(s)"));
    assert!(
        fail.text.contains("I-2") && fail.text.contains("incidents.csv:3"),
        "{}",
        fail.text
    );
    assert!(
        fail.text.contains("I-3") && fail.text.contains("incidents.csv:4"),
        "{}",
        fail.text
    );
    // A warn check with an exception passes; the exception is in system-out.
    let t = case(0, "titled:");
    assert!(t.kids("failure").next().is_none());
    let out = &t.kids("system-out").next().expect("system-out").text;
    assert!(
        out.contains("I-4") && out.contains("not failing the gate"),
        "{out}"
    );
    // At risk: a non-failing note with the time left.
    let d = case(0, "resolve-5d:");
    assert!(d.kids("failure").next().is_none());
    let out = &d.kids("system-out").next().expect("system-out").text;
    assert!(
        out.contains("I-5") && out.contains("10 h 00 min left"),
        "{out}"
    );
    // Controls: C-1 fails (its check fails the gate), C-2 and C-3 pass.
    assert!(case(1, "C-1:").kids("failure").next().is_some());
    assert!(case(1, "C-2:").kids("failure").next().is_none());
    assert!(case(1, "C-3:").kids("failure").next().is_none());

    // With --fail-on at-risk the at-risk check fails, with the item in the failure.
    let r = run(
        &f,
        &[
            "--format",
            "junit",
            "--allow",
            "lifecycle",
            "--fail-on",
            "at-risk",
        ],
    );
    r.assert_code(1);
    let root = parse_xml(&std::fs::read(f.out_dir().join("junit.xml")).unwrap());
    let s0 = root.kids("testsuite").next().unwrap();
    let d = s0
        .kids("testcase")
        .find(|c| c.attr("name").unwrap().starts_with("resolve-5d:"))
        .unwrap();
    let fail = d.kids("failure").next().expect("at-risk fails");
    assert_eq!(fail.attr("type"), Some("at-risk"));
    assert!(fail.text.contains("I-5"), "{}", fail.text);
    // An allowed check never fails.
    let lc = s0
        .kids("testcase")
        .find(|c| c.attr("name").unwrap().starts_with("lifecycle:"))
        .unwrap();
    assert!(lc.kids("failure").next().is_none());
}

#[test]
fn junit_marks_empty_populations_skipped() {
    let f = fixture();
    run(
        &f,
        &["--format", "junit", "--period", "2020-01-01..2020-12-31"],
    )
    .assert_code(1);
    let root = parse_xml(&std::fs::read(f.out_dir().join("junit.xml")).unwrap());
    for s in root.kids("testsuite") {
        for c in s.kids("testcase") {
            assert!(c.kids("skipped").next().is_some(), "{:?}", c.attr("name"));
        }
    }
}

// ---------------------------------------------------------------------------
// results.sarif
// ---------------------------------------------------------------------------

fn realdata() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/realdata");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!(
            "skipped: {} is absent (the SARIF schema lives there)",
            p.display()
        );
        None
    }
}

/// The OASIS SARIF 2.1.0 schema (draft-04), compiled offline: its `$ref`s are all
/// inside the document, and the jsonschema crate is built without remote retrieval.
fn sarif_validator(rd: &Path) -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_slice(&std::fs::read(rd.join("sarif/sarif-schema-2.1.0.json")).unwrap())
            .unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(&schema)
        .unwrap_or_else(|e| panic!("SARIF schema does not compile: {e}"))
}

fn sarif_errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .take(20)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

#[test]
fn sarif_validates_and_locates_results_at_file_and_line() {
    let Some(rd) = realdata() else { return };
    let f = fixture();
    run(&f, &["--format", "sarif"]).assert_code(1);
    let doc: Value =
        serde_json::from_slice(&std::fs::read(f.out_dir().join("results.sarif")).unwrap()).unwrap();
    let v = sarif_validator(&rd);
    let errors = sarif_errors(&v, &doc);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert_eq!(doc["version"], "2.1.0");
    let run0 = &doc["runs"][0];
    let rules: Vec<&str> = run0["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(rules, vec!["lifecycle", "resolve-5d", "titled"]);
    let results = run0["results"].as_array().unwrap();
    let find = |rule: &str, rec: &str| {
        results
            .iter()
            .find(|r| r["ruleId"] == rule && r["properties"]["record_id"] == rec)
            .unwrap_or_else(|| panic!("no result {rule} {rec}"))
    };
    let i2 = find("lifecycle", "I-2");
    assert_eq!(i2["level"], "error");
    let loc = &i2["locations"][0]["physicalLocation"];
    assert!(
        loc["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("evidence/incidents.csv")
    );
    assert_eq!(loc["region"]["startLine"], 3);
    assert_eq!(
        rules[i2["ruleIndex"].as_u64().unwrap() as usize],
        "lifecycle"
    );
    // A warn check's exception: warning. At risk: warning, with the time left.
    assert_eq!(find("titled", "I-4")["level"], "warning");
    let i5 = find("resolve-5d", "I-5");
    assert_eq!(i5["level"], "warning");
    let text = i5["message"]["text"].as_str().unwrap();
    assert!(
        text.contains("at risk") && text.contains("10 h 00 min left"),
        "{text}"
    );
    assert_eq!(i5["properties"]["time_left_seconds"], 36000);
    // Pending (not at risk) is not a result.
    assert!(
        !results
            .iter()
            .any(|r| r["properties"]["record_id"] == "I-6")
    );

    // The validation is not vacuous.
    let mut bad = doc.clone();
    bad["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(!v.is_valid(&bad));
}

#[test]
fn sarif_of_a_json_export_points_at_the_record_line() {
    let Some(rd) = realdata() else { return };
    let f = Fixture::with(
        CATALOG,
        "tables:\n  incidents:\n    file: incidents.json\n    records: /data\n",
        &[(
            "incidents.json",
            "{\n  \"data\": [\n    {\"id\": \"J-1\", \"title\": \"t\",\n     \"detected_at\": \"2025-06-01T00:00:00Z\", \"declared_at\": \"2025-06-01T01:00:00Z\", \"resolved_at\": \"2025-06-01T02:00:00Z\"},\n    {\n      \"id\": \"J-2\", \"title\": \"t\",\n      \"detected_at\": \"2025-06-01T03:00:00Z\", \"declared_at\": \"2025-06-01T01:00:00Z\", \"resolved_at\": \"2025-06-01T02:00:00Z\"\n    }\n  ]\n}\n",
        )],
    );
    f.run(&["--format", "sarif"]).assert_code(1);
    let doc: Value =
        serde_json::from_slice(&std::fs::read(f.out_dir().join("results.sarif")).unwrap()).unwrap();
    assert!(sarif_errors(&sarif_validator(&rd), &doc).is_empty());
    let r = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["properties"]["record_id"] == "J-2")
        .unwrap();
    assert_eq!(
        r["locations"][0]["physicalLocation"]["region"]["startLine"],
        5
    );
    assert_eq!(r["properties"]["pointer"], "/data/1");
}

// ---------------------------------------------------------------------------
// GitHub annotations
// ---------------------------------------------------------------------------

fn run_env(f: &Fixture, extra: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_evidentia"));
    cmd.args([
        "check",
        "--controls",
        &f.controls_dir().display().to_string(),
        "--sources",
        &f.sources_path().display().to_string(),
        "--out",
        &f.out_dir().display().to_string(),
        "--as-of",
        common::AS_OF,
        "--format",
        "json",
    ])
    .args(extra)
    .current_dir(f.root())
    .env_remove("GITHUB_ACTIONS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

#[test]
fn github_annotations_on_actions_or_when_asked() {
    let f = fixture();
    let (code, out) = run_env(&f, &[], &[("GITHUB_ACTIONS", "true")]);
    assert_eq!(code, 1);
    let err = out
        .lines()
        .find(|l| l.starts_with("::error ") && l.contains("I-2"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        err.contains("incidents.csv,line=3,title=lifecycle%3A Detected before declared::"),
        "{err}"
    );
    let warn = out
        .lines()
        .find(|l| l.starts_with("::warning ") && l.contains("I-5"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        warn.contains("line=6") && warn.contains("10 h 00 min left"),
        "{warn}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("::warning ") && l.contains("I-4")),
        "{out}"
    );
    assert!(!out.contains("I-6"), "pending is not annotated: {out}");
    assert!(
        out.contains("::error title=evidentia gate::evidentia gate failed"),
        "{out}"
    );

    let (_, out) = run_env(&f, &["--annotations", "github"], &[]);
    assert!(out.contains("::error "), "{out}");
    let (_, out) = run_env(
        &f,
        &["--annotations", "none"],
        &[("GITHUB_ACTIONS", "true")],
    );
    assert!(!out.contains("::"), "{out}");
    let (_, out) = run_env(&f, &[], &[]);
    assert!(!out.contains("::"), "{out}");
    let (code, _) = run_env(&f, &["--annotations", "gitlab"], &[]);
    assert_eq!(code, 2);
    // A passing gate ends with a notice.
    let (code, out) = run_env(&f, &["--annotations", "github", "--fail-on", "never"], &[]);
    assert_eq!(code, 0);
    assert!(
        out.contains("::notice title=evidentia gate::evidentia gate passed"),
        "{out}"
    );
}

#[test]
fn all_writes_junit_and_sarif() {
    let f = fixture();
    run(&f, &["--format", "all"]).assert_code(1);
    for name in ["junit.xml", "results.sarif"] {
        assert!(f.out_dir().join(name).exists(), "{name}");
    }
    let sums = std::fs::read_to_string(f.out_dir().join("SHA256SUMS")).unwrap();
    assert!(
        sums.contains("  junit.xml\n") && sums.contains("  results.sarif\n"),
        "{sums}"
    );
}
