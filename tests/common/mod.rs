//! Shared helpers for the integration tests: build a fixture (catalog folder,
//! sources.yaml and exports from inline strings) in a temporary folder, run the real
//! `evidentia` binary on it and read back what it wrote.
//!
//! Layout of a fixture (the binary refuses an `--out` inside the controls or evidence
//! folder, so the three are siblings):
//!
//! ```text
//! <tmp>/controls/catalog.yaml   catalog files
//! <tmp>/evidence/sources.yaml   sources file and exports
//! <tmp>/out/                    --out
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The as-of instant every run uses unless a test says otherwise.
pub const AS_OF: &str = "2025-07-01T00:00:00Z";

/// A temporary folder with a catalog, a sources file and exports.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

impl Fixture {
    /// An empty fixture: `controls/` and `evidence/` exist, nothing in them.
    pub fn new() -> Fixture {
        let dir = tempfile::Builder::new()
            .prefix("evidentia-test-")
            .tempdir()
            .expect("temp dir");
        std::fs::create_dir_all(dir.path().join("controls")).unwrap();
        std::fs::create_dir_all(dir.path().join("evidence")).unwrap();
        Fixture { dir }
    }

    /// A fixture with one catalog file, a sources file and exports.
    pub fn with(catalog: &str, sources: &str, exports: &[(&str, &str)]) -> Fixture {
        let f = Fixture::new();
        f.catalog(catalog);
        f.sources(sources);
        for (name, text) in exports {
            f.export(name, text);
        }
        f
    }

    /// The fixture's root folder.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `<tmp>/controls`.
    pub fn controls_dir(&self) -> PathBuf {
        self.root().join("controls")
    }

    /// `<tmp>/evidence`.
    pub fn evidence_dir(&self) -> PathBuf {
        self.root().join("evidence")
    }

    /// `<tmp>/evidence/sources.yaml`.
    pub fn sources_path(&self) -> PathBuf {
        self.evidence_dir().join("sources.yaml")
    }

    /// `<tmp>/out`.
    pub fn out_dir(&self) -> PathBuf {
        self.root().join("out")
    }

    /// Write `controls/catalog.yaml`.
    pub fn catalog(&self, text: &str) -> &Fixture {
        self.catalog_file("catalog.yaml", text.as_bytes())
    }

    /// Write a file under `controls/`.
    pub fn catalog_file(&self, name: &str, bytes: &[u8]) -> &Fixture {
        let p = self.controls_dir().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, bytes).unwrap();
        self
    }

    /// `evidentia catalog validate` on the fixture's controls: it must fail (exit 2,
    /// no panic); its stderr.
    pub fn validate_fails(&self) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_evidentia"))
            .args(["catalog", "validate", "--controls"])
            .arg(self.controls_dir())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        err
    }

    /// Write `evidence/sources.yaml`.
    pub fn sources(&self, text: &str) -> &Fixture {
        self.export_bytes("sources.yaml", text.as_bytes())
    }

    /// Write an export under `evidence/`.
    pub fn export(&self, name: &str, text: &str) -> &Fixture {
        self.export_bytes(name, text.as_bytes())
    }

    /// Write an export under `evidence/` from raw bytes (BOM, invalid UTF-8, CRLF).
    pub fn export_bytes(&self, name: &str, bytes: &[u8]) -> &Fixture {
        let p = self.evidence_dir().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, bytes).unwrap();
        self
    }

    /// Run `evidentia check --controls <tmp>/controls --sources <tmp>/evidence/sources.yaml
    /// --as-of 2025-07-01T00:00:00Z --out <tmp>/out` plus `extra`.
    pub fn run(&self, extra: &[&str]) -> Run {
        let controls = self.controls_dir();
        let sources = self.sources_path();
        let out = self.out_dir();
        let mut args: Vec<String> = vec![
            "check".into(),
            "--controls".into(),
            controls.display().to_string(),
            "--sources".into(),
            sources.display().to_string(),
            "--out".into(),
            out.display().to_string(),
        ];
        if !extra.contains(&"--as-of") {
            args.push("--as-of".into());
            args.push(AS_OF.into());
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        self.run_raw(&args)
    }

    /// Run the binary with exactly these arguments (working directory: the fixture).
    pub fn run_raw(&self, args: &[String]) -> Run {
        // A stale report from an earlier run in the same fixture must not be read back.
        let out = self.out_dir();
        for name in ["report.json", "exceptions.csv", "exception-ids.csv"] {
            let _ = std::fs::remove_file(out.join(name));
        }
        let output = Command::new(env!("CARGO_BIN_EXE_evidentia"))
            .args(args)
            .current_dir(self.root())
            .env_remove("RUST_BACKTRACE")
            .output()
            .expect("run evidentia");
        let code = output.status.code().unwrap_or(-1);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let report_bytes = std::fs::read(out.join("report.json")).ok();
        let report = report_bytes.as_ref().map(|b| {
            serde_json::from_slice(b)
                .unwrap_or_else(|e| panic!("report.json is not JSON: {e}\nstderr:\n{stderr}"))
        });
        let exceptions_csv = std::fs::read(out.join("exceptions.csv")).ok();
        let ids_csv = std::fs::read(out.join("exception-ids.csv")).ok();
        let run = Run {
            code,
            stdout,
            stderr,
            report,
            report_bytes,
            exceptions_csv,
            ids_csv,
        };
        run.assert_no_panic();
        run
    }
}

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output (the text summary).
    pub stdout: String,
    /// Standard error (diagnostics).
    pub stderr: String,
    /// report.json, parsed, when written.
    pub report: Option<Value>,
    /// report.json bytes, when written.
    pub report_bytes: Option<Vec<u8>>,
    /// exceptions.csv bytes, when written.
    pub exceptions_csv: Option<Vec<u8>>,
    /// exception-ids.csv bytes, when written.
    pub ids_csv: Option<Vec<u8>>,
}

impl Run {
    /// Everything a failing assertion should show.
    pub fn dump(&self) -> String {
        format!(
            "exit code {}\n--- stderr ---\n{}\n--- stdout ---\n{}",
            self.code, self.stderr, self.stdout
        )
    }

    /// The binary never panics, whatever the input.
    pub fn assert_no_panic(&self) {
        assert!(
            !self.stderr.contains("panicked") && !self.stdout.contains("panicked"),
            "evidentia panicked:\n{}",
            self.dump()
        );
    }

    /// Assert the exit code.
    pub fn assert_code(&self, want: i32) -> &Run {
        assert_eq!(self.code, want, "unexpected exit code\n{}", self.dump());
        self
    }

    /// Assert stderr contains every fragment.
    pub fn assert_stderr(&self, fragments: &[&str]) -> &Run {
        for f in fragments {
            assert!(
                self.stderr.contains(f),
                "stderr lacks {f:?}\n{}",
                self.dump()
            );
        }
        self
    }

    /// The stderr lines carrying `error[<code>]`.
    pub fn error_lines(&self, code: &str) -> Vec<&str> {
        let tag = format!("error[{code}]");
        self.stderr.lines().filter(|l| l.contains(&tag)).collect()
    }

    /// Assert exit code 2 and one `error[<code>]` line holding every fragment; returns
    /// that line.
    pub fn assert_error(&self, code: &str, fragments: &[&str]) -> String {
        self.assert_code(2);
        let lines = self.error_lines(code);
        assert!(
            !lines.is_empty(),
            "no error[{code}] in stderr\n{}",
            self.dump()
        );
        let hit = lines
            .iter()
            .find(|l| fragments.iter().all(|f| l.contains(f)));
        match hit {
            Some(l) => l.to_string(),
            None => panic!(
                "no error[{code}] line contains all of {fragments:?}\n{}",
                self.dump()
            ),
        }
    }

    /// report.json (panics when it was not written).
    pub fn report(&self) -> &Value {
        self.report
            .as_ref()
            .unwrap_or_else(|| panic!("report.json was not written\n{}", self.dump()))
    }

    /// One check of report.json by id.
    pub fn check(&self, id: &str) -> &Value {
        self.report()["checks"]
            .as_array()
            .expect("checks[]")
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no check `{id}` in report.json\n{}", self.dump()))
    }

    /// A numeric field of a check.
    pub fn count(&self, check: &str, key: &str) -> u64 {
        self.check(check)[key]
            .as_u64()
            .unwrap_or_else(|| panic!("check `{check}` has no number `{key}`"))
    }

    /// Every non-pass record of a check: record id -> verdict, from `exceptions`,
    /// `pending_items` and `not_counted`. A record judged twice (each-linked through
    /// two paths) would show once; tests use unique records.
    pub fn verdicts(&self, check: &str) -> BTreeMap<String, String> {
        let c = self.check(check);
        let mut m = BTreeMap::new();
        for list in ["exceptions", "pending_items", "not_counted"] {
            for r in c[list].as_array().expect("record list") {
                let id = r["record_id"].as_str().unwrap().to_string();
                let v = r["verdict"].as_str().unwrap().to_string();
                let prev = m.insert(id.clone(), v);
                assert!(prev.is_none(), "record {id} listed twice in {check}");
            }
        }
        m
    }

    /// The report entry of a non-pass record of a check.
    pub fn record(&self, check: &str, record_id: &str) -> &Value {
        let c = self.check(check);
        for list in ["exceptions", "pending_items", "not_counted"] {
            if let Some(r) = c[list]
                .as_array()
                .expect("record list")
                .iter()
                .find(|r| r["record_id"] == record_id)
            {
                return r;
            }
        }
        panic!(
            "record {record_id} not listed in check {check}\n{}",
            self.dump()
        )
    }

    /// Status of a control of report.json.
    pub fn control_status(&self, framework: &str, id: &str) -> String {
        self.report()["controls"]
            .as_array()
            .expect("controls[]")
            .iter()
            .find(|c| c["framework"] == framework && c["id"] == id)
            .unwrap_or_else(|| panic!("no control {framework}/{id}\n{}", self.dump()))["status"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The input of report.json whose path ends with `name`.
    pub fn input(&self, name: &str) -> &Value {
        self.report()["inputs"]
            .as_array()
            .expect("inputs[]")
            .iter()
            .find(|i| i["path"].as_str().is_some_and(|p| p.ends_with(name)))
            .unwrap_or_else(|| panic!("no input {name}\n{}", self.dump()))
    }

    /// Every input reconciles: read = evaluated + out of period + rejected.
    pub fn assert_inputs_reconcile(&self) {
        for i in self.report()["inputs"].as_array().expect("inputs[]") {
            let n = |k: &str| i[k].as_u64().unwrap_or_else(|| panic!("input {k}: {i}"));
            assert_eq!(
                n("rows_read"),
                n("rows_evaluated") + n("rows_out_of_period") + n("rows_rejected"),
                "input does not reconcile: {i}"
            );
        }
    }
}

/// A catalog with one framework `fw` whose control `C-<id>` is tested by each check.
/// `checks` is the YAML list body (items starting with `  - id: ...`).
pub fn catalog_with(checks: &str, ids: &[&str]) -> String {
    let mut s = String::from("checks:\n");
    s.push_str(checks);
    if !checks.ends_with('\n') {
        s.push('\n');
    }
    s.push_str("frameworks:\n  - id: fw\n    name: Test framework\n    controls:\n");
    for id in ids {
        s.push_str(&format!(
            "      - {{ id: C-{id}, title: Control {id}, checks: [{id}] }}\n"
        ));
    }
    s
}
