//! The reference checks R1-R4 (benches/reference) on the hand-made edge case of
//! ../shared/bench/edge, compared byte for byte with its independent oracle
//! `expected_violations.csv`, building the `rule,id` file the way
//! benches/reference/run.sh does; and run.sh itself, which the benchmark times, on the
//! same case and with a stand-in binary. Skipped (with a note on stderr) when ../shared
//! or bash is not there.

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

/// ../shared/bench/edge; `None` (after a note) when it is not there.
fn edge() -> Option<PathBuf> {
    let edge = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/edge");
    if !edge.is_dir() {
        eprintln!("skipped: ../shared/bench/edge not found");
        return None;
    }
    Some(edge)
}

#[test]
fn reference_checks_match_the_edge_oracle() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let Some(edge) = edge() else { return };
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

/// Run benches/reference/run.sh on `data` with `bin` as the evidentia binary; `None`
/// (after a note) when bash is not there.
fn run_sh(
    bin: &std::path::Path,
    data: &std::path::Path,
    envs: &[(&str, &str)],
) -> Option<(i32, String)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("rule-id.csv");
    // Run from a folder whose settings would leave every record out of the period:
    // run.sh must not read them.
    std::fs::write(
        tmp.path().join("evidentia.yaml"),
        "period: \"2099-01-01..\"\n",
    )
    .unwrap();
    let output = match Command::new("bash")
        .arg(root.join("benches/reference/run.sh"))
        .arg(data)
        .arg(&out)
        .current_dir(tmp.path())
        .env("EVIDENTIA_BIN", bin)
        .envs(envs.iter().copied())
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            eprintln!("skipped: bash could not be run ({e})");
            return None;
        }
    };
    let code = output.status.code().unwrap_or(-1);
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "rule-id.csv" && n != "evidentia.yaml")
        .collect();
    assert!(left.is_empty(), "run.sh left {left:?} behind");
    Some((code, std::fs::read_to_string(&out).unwrap_or_default()))
}

#[test]
fn run_sh_gives_the_edge_oracle() {
    let Some(edge) = edge() else { return };
    let expected = std::fs::read_to_string(edge.join("expected_violations.csv")).unwrap();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_evidentia"));
    if let Some((code, got)) = run_sh(&bin, &edge, &[]) {
        assert_eq!(code, 0);
        assert_eq!(got, expected);
    }
}

/// run.sh sorts only when evidentia's order is not already bytewise: an unsorted file
/// (a stand-in binary writes it) comes out sorted, with the header first; an error of
/// the binary (exit 2) is passed on.
#[test]
fn run_sh_sorts_ids_that_come_unsorted_and_passes_errors_on() {
    let tmp = tempfile::tempdir().unwrap();
    let fake = tmp.path().join("fake-evidentia");
    std::fs::write(
        &fake,
        "#!/bin/sh\nwhile [ \"$1\" != --out ]; do shift; done\nmkdir -p \"$2\"\n\
         printf 'check_id,record_id\\nr2-x,INC-2\\nr1-y,INC-9\\nr2-x,INC-1\\n' > \"$2/exception-ids.csv\"\n\
         exit ${FAKE_EXIT:-1}\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    if let Some((code, got)) = run_sh(&fake, tmp.path(), &[]) {
        assert_eq!(code, 0);
        assert_eq!(got, "rule,id\nR1,INC-9\nR2,INC-1\nR2,INC-2\n");
    }
    if let Some((code, _)) = run_sh(&fake, tmp.path(), &[("FAKE_EXIT", "2")]) {
        assert_eq!(code, 2);
    }
}
