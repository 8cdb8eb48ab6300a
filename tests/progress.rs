//! Reading progress (issue 6): on an interactive terminal `evidentia check` shows the
//! records read per file, the rate and the elapsed time on stderr; never on a pipe,
//! never when `CI` is set. The terminal is a pseudo-terminal made by util-linux's
//! `script`; without it the terminal cases are skipped, and say so (but in CI).

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

/// The reference checks' sources, with `n` incidents (and no postmortems or findings).
fn write_exports(dir: &Path, n: usize) {
    let mut inc = String::from(
        "id,title,severity,detected_at,declared_at,contained_at,resolved_at,customer_impacting,personal_data_breach,customers_notified_at,notification_summary,user_impact,mitigation,postmortem_id\n",
    );
    for i in 0..n {
        let _ = writeln!(
            inc,
            "INC-{i:07},t,sev3,2025-01-01T00:00:00Z,2025-01-01T01:00:00Z,2025-01-01T02:00:00Z,2025-01-01T03:00:00Z,false,false,,,,,"
        );
    }
    std::fs::write(dir.join("incidents.csv"), inc).unwrap();
    std::fs::write(
        dir.join("postmortems.csv"),
        "id,incident_id,status,completed_at,sequence_of_events,technical_summary,lapse_categories\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("findings.csv"),
        "id,postmortem_id,description,kind,owner,due_at,status,closed_at\n",
    )
    .unwrap();
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `evidentia check` arguments for `data`, writing into `out`.
fn check_args(data: &Path, out: &Path) -> Vec<String> {
    let r = root().join("benches/reference");
    [
        "check",
        "--config",
        &r.join("evidentia.yaml").display().to_string(),
        "--controls",
        &r.join("controls").display().to_string(),
        "--sources",
        &r.join("sources.yaml").display().to_string(),
        "--data",
        &data.display().to_string(),
        "--as-of",
        "2025-07-01T00:00:00Z",
        "--format",
        "ids",
        "--out",
        &out.display().to_string(),
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect()
}

/// What a run on a pseudo-terminal printed (stdout and stderr together), with `CI` set
/// or not; `None` when `script` cannot run.
fn on_terminal(args: &[String], ci: bool) -> Option<String> {
    let quoted: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_evidentia").to_string())
        .chain(args.iter().cloned())
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect();
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &quoted.join(" "), "/dev/null"]);
    if ci {
        cmd.env("CI", "true");
    } else {
        cmd.env_remove("CI");
    }
    let o = cmd.output().ok()?;
    // 0: no exception, 1: exceptions (the gate); `script` passes the status on.
    let code = o.status.code();
    if !matches!(code, Some(0 | 1)) {
        eprintln!(
            "script failed ({code:?}): {}",
            String::from_utf8_lossy(&o.stderr)
        );
        return None;
    }
    Some(String::from_utf8_lossy(&o.stdout).into_owned())
}

fn has_script() -> bool {
    let ok = Command::new("script")
        .args(["-qec", "true", "/dev/null"])
        .output()
        .is_ok_and(|o| o.status.success());
    // In CI (`.ci/run` sets `CI`) the terminal cases must run: `script` comes with
    // Debian's essential `bsdutils`.
    assert!(
        ok || std::env::var_os("CI").is_none(),
        "`script` (util-linux, for a pseudo-terminal) is needed in CI"
    );
    if !ok {
        eprintln!("SKIPPED: util-linux `script` (a pseudo-terminal) is not available");
    }
    ok
}

#[test]
fn progress_shows_on_a_terminal_and_never_on_a_pipe_or_in_ci() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    // More than one report's worth of records (one every 65,536), so that the line is
    // rewritten as the file is read before its final count.
    let n = 70_000;
    write_exports(&data, n);

    // A pipe: nothing but the gate's lines.
    let piped = Command::new(env!("CARGO_BIN_EXE_evidentia"))
        .args(check_args(&data, &tmp.path().join("piped")))
        .env_remove("CI")
        .output()
        .unwrap();
    assert_eq!(piped.status.code(), Some(0));
    let err = String::from_utf8_lossy(&piped.stderr);
    assert!(!err.contains("reading") && !err.contains('\x1b'), "{err}");

    if !has_script() {
        return;
    }
    let shown = on_terminal(&check_args(&data, &tmp.path().join("tty")), false).unwrap();
    let incidents = data.join("incidents.csv").display().to_string();
    // Each update clears the line and ends with a carriage return; the last one, the
    // file's count, ends the line (a terminal shows `\r\n`): `N records, R/s, E s`.
    let head = format!("\x1b[2K  reading {incidents}: ");
    let updates: Vec<&str> = shown
        .split('\x1b')
        .filter_map(|s| s.strip_prefix(&head[1..]))
        .collect();
    assert!(updates.len() >= 2, "{shown:?}");
    let mut counts = Vec::new();
    for (k, u) in updates.iter().enumerate() {
        let (count, rest) = u.split_once(" records, ").unwrap();
        let (rate, elapsed) = rest.split_once("/s, ").unwrap();
        counts.push(count.parse::<usize>().unwrap());
        assert!(rate.parse::<f64>().unwrap() > 0.0, "{u:?}");
        let end = if k + 1 == updates.len() {
            " s\r\n"
        } else {
            " s\r"
        };
        let secs = elapsed.strip_suffix(end).unwrap_or_else(|| panic!("{u:?}"));
        assert!(secs.parse::<f64>().unwrap() >= 0.0, "{u:?}");
    }
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    assert!(
        counts.first().is_some_and(|&c| c >= 65_536 && c < n),
        "{counts:?}"
    );
    assert_eq!(counts.last(), Some(&n));
    for f in ["postmortems.csv", "findings.csv"] {
        let p = data.join(f).display().to_string();
        assert!(
            shown.contains(&format!("reading {p}: 0 records")),
            "{f}: {shown:?}"
        );
    }

    // In CI, even on a terminal: none.
    let ci = on_terminal(&check_args(&data, &tmp.path().join("ci")), true).unwrap();
    assert!(!ci.contains("reading"), "{ci:?}");
    assert!(!ci.contains('\x1b'), "{ci:?}");
}
