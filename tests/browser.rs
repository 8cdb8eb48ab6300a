//! The demo report in a real browser: render the shipped demo (`evidentia check` in
//! the project folder, which reads `evidentia.yaml`), print `report.html` to PDF with
//! headless Chromium, extract the text with `pdftotext`, and check that the printed
//! report holds the cover, every framework of report.json and an exception record.
//!
//! Needs Debian's `chromium` and `poppler-utils`. Without them the test says so and
//! passes, except when the `CI` environment variable is set: in CI it must run.
//! `CHROMIUM` may name another Chromium binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SKIP: &str = "skipped: chromium not found (install Debian's chromium and poppler-utils)";

fn found(cmd: &str, arg: &str) -> bool {
    Command::new(cmd)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Run a command, killing it after `limit`.
fn run_with_limit(cmd: &mut Command, limit: Duration) -> std::process::ExitStatus {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start command");
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().expect("wait") {
            return st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whitespace collapsed, so a name broken across lines in the PDF still matches.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn demo_report_prints_to_pdf_with_cover_frameworks_and_exceptions() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".to_string());
    if !found(&chromium, "--version") || !found("pdftotext", "-v") {
        if std::env::var_os("CI").is_some() {
            panic!("{SKIP} -- and CI is set, so the browser test must run");
        }
        eprintln!("{SKIP}");
        return;
    }
    let project = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::Builder::new()
        .prefix("evidentia-browser-")
        .tempdir()
        .unwrap();
    let out = tmp.path().join("out");
    let profile = tmp.path().join("chromium-profile");
    std::fs::create_dir_all(&profile).unwrap();

    // The shipped demo, as a user runs it (report.json too, for the framework names).
    let o = Command::new(env!("CARGO_BIN_EXE_evidentia"))
        .args(["check", "--format", "html,json", "--out"])
        .arg(&out)
        .current_dir(project)
        .output()
        .expect("run evidentia");
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "the demo must evaluate (exit 0 or 1):\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let html = out.join("report.html");
    assert!(html.exists(), "report.html was not written");

    let pdf = tmp.path().join("report.pdf");
    let st = run_with_limit(
        Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-pdf-header-footer",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("--print-to-pdf={}", pdf.display()))
            .arg(format!("file://{}", html.display())),
        Duration::from_secs(180),
    );
    assert!(st.success(), "chromium failed: {st}");
    assert!(pdf.exists(), "chromium wrote no PDF");

    let txt = tmp.path().join("report.txt");
    let st = run_with_limit(
        Command::new("pdftotext").arg(&pdf).arg(&txt),
        Duration::from_secs(60),
    );
    assert!(st.success(), "pdftotext failed: {st}");
    let text = squash(&std::fs::read_to_string(&txt).unwrap());

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let as_of = report["as_of"].as_str().unwrap();
    for cover in [
        "Tests of controls and results of tests",
        "Example Cloud Services Ltd",
        as_of,
        concat!("evidentia ", env!("CARGO_PKG_VERSION")),
    ] {
        assert!(text.contains(cover), "the printed cover lacks {cover:?}");
    }
    for f in report["frameworks"].as_array().unwrap() {
        let name = squash(f["name"].as_str().unwrap());
        assert!(
            text.contains(&name),
            "the printed report lacks framework {name:?}"
        );
    }
    let exception = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["exceptions"].as_array().unwrap())
        .find_map(|e| e["record_id"].as_str())
        .expect("the demo has exceptions");
    assert!(
        text.contains(exception),
        "the printed report lacks exception record {exception}"
    );
    for section in [
        "Scope and inputs",
        "Exceptions and management responses",
        "Pending and at-risk items",
        "Method",
    ] {
        assert!(
            text.contains(section),
            "the printed report lacks {section:?}"
        );
    }
}
