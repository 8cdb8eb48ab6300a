//! The reference checks R1-R4 (benches/reference) on the hand-made edge case of
//! ../shared/bench/edge, compared byte for byte with its independent oracle
//! `expected_violations.csv`, building the `rule,id` file the way
//! benches/reference/run.sh does. Skipped (with a note on stderr) when ../shared is
//! not there.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::Command;

/// `benches/reference/run.sh`: header `rule,id`, the check id prefixes r1-..r4-
/// mapped to R1..R4, lines sorted bytewise (`LC_ALL=C sort`).
fn rule_id_csv(exception_ids: &str) -> String {
    let mut lines: Vec<String> = exception_ids
        .lines()
        .skip(1)
        .map(|l| {
            let l = l.trim_end_matches('\r');
            for (prefix, rule) in [("r1-", "R1"), ("r2-", "R2"), ("r3-", "R3"), ("r4-", "R4")] {
                if let Some(rest) = l.strip_prefix(prefix)
                    && let Some((_, id)) = rest.split_once(',')
                {
                    return format!("{rule},{id}");
                }
            }
            l.to_string()
        })
        .collect();
    lines.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let mut out = String::from("rule,id\n");
    for l in lines {
        out.push_str(&l);
        out.push('\n');
    }
    out
}

#[test]
fn rule_id_csv_matches_run_sh() {
    let ids = "check_id,record_id\nr4-lifecycle-order,INC-1\nr1-breach-notice-72h,INC-6\nr1-breach-notice-72h,INC-1\n";
    assert_eq!(rule_id_csv(ids), "rule,id\nR1,INC-1\nR1,INC-6\nR4,INC-1\n");
}

#[test]
fn reference_checks_match_the_edge_oracle() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let edge = root.join("../shared/bench/edge");
    if !edge.is_dir() {
        eprintln!("skipped: ../shared/bench/edge not found");
        return;
    }
    let expected =
        std::fs::read(edge.join("expected_violations.csv")).expect("edge/expected_violations.csv");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    // Run from the temporary folder, as run.sh does, so that no evidentia.yaml applies.
    let output = Command::new(env!("CARGO_BIN_EXE_evidentia"))
        .current_dir(tmp.path())
        .arg("check")
        .arg("--controls")
        .arg(root.join("benches/reference/controls"))
        .arg("--sources")
        .arg(root.join("benches/reference/sources.yaml"))
        .arg("--data")
        .arg(&edge)
        .args([
            "--as-of",
            "2025-07-01T00:00:00Z",
            "--format",
            "ids",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("run evidentia");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    // 1: the gate failed on the expected exceptions.
    assert_eq!(output.status.code(), Some(1), "stderr:\n{stderr}");
    let ids = std::fs::read_to_string(out.join("exception-ids.csv")).expect("exception-ids.csv");
    assert!(ids.starts_with("check_id,record_id"), "{ids}");
    let got = rule_id_csv(&ids);
    assert_eq!(
        got,
        String::from_utf8_lossy(&expected),
        "exception-ids.csv was:\n{ids}"
    );
    assert_eq!(got.as_bytes(), &expected[..], "byte-for-byte");
}
