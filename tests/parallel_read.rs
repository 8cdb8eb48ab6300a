//! Large CSV exports are read on every core, in blocks cut at record ends by quote
//! parity (src/evidence/read/par.rs). The outcome must never depend on it: these tests
//! read tricky generated exports sequentially and in parallel with many block sizes
//! (through the `EVIDENTIA_PARALLEL_READ=MIN,BLOCK` knob) and require the same exit
//! code, the same diagnostics and byte-identical reports.
#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A small deterministic generator: the library's SplitMix64 (`evidentia::sample`).
struct Rng(evidentia::sample::SplitMix64);
impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(evidentia::sample::SplitMix64::new(seed))
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0.below(n)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Quirks to put into the exports.
#[derive(Clone, Copy, Default)]
struct Quirks {
    /// Bad rows: ragged, unparseable timestamps, invalid UTF-8, duplicate ids.
    bad_rows: bool,
    /// A quote inside an unquoted field (csv keeps it as text; parity cuts are unsafe).
    literal_quote: bool,
    /// The same, in the header (every cut after it is unsafe).
    header_quote: bool,
    /// A mapped column missing from the header (every row rejected).
    unmapped: bool,
}

fn text(r: &mut Rng) -> String {
    const WORDS: &[&str] = &[
        "outage",
        "db",
        "\"quoted\"",
        "a,b",
        "line\nbreak",
        "crlf\r\nbreak",
        "é",
        "x",
        "",
    ];
    let n = r.below(6);
    let mut s = String::new();
    for i in 0..n {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(WORDS[r.below(WORDS.len() as u64) as usize]);
    }
    s
}

fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn ts(r: &mut Rng, base: i64) -> String {
    let t = base + r.below(400_000) as i64;
    let (d, s) = (t / 86_400, t % 86_400);
    let offs = ["Z", "+02:00", "-05:00", "+05:30"];
    format!(
        "2025-{:02}-{:02}T{:02}:{:02}:{:02}{}",
        1 + (d / 28) % 12,
        1 + d % 28,
        s / 3600,
        (s / 60) % 60,
        s % 60,
        offs[r.below(4) as usize]
    )
}

fn eol(r: &mut Rng) -> &'static str {
    if r.chance(20) { "\r\n" } else { "\n" }
}

fn write_exports(dir: &Path, seed: u64, n: usize, q: Quirks) {
    let mut r = Rng::new(seed);
    // A quote in the header is read as text (csv and evidentia alike).
    let title_col = if q.header_quote { "ti\"tle" } else { "title" };
    let breach_col = if q.unmapped {
        "breach"
    } else {
        "personal_data_breach"
    };
    let mut inc = format!(
        "\u{feff}id,{title_col},severity,detected_at,declared_at,contained_at,resolved_at,customer_impacting,{breach_col},customers_notified_at,notification_summary,user_impact,mitigation,postmortem_id\n",
    );
    let mut pm = String::from(
        "id,incident_id,status,completed_at,sequence_of_events,technical_summary,lapse_categories\n",
    );
    let mut fnd = String::from("id,postmortem_id,description,kind,owner,due_at,status,closed_at\n");
    let mut pms = 0;
    let mut fns = 0;
    for i in 0..n {
        let base = (i as i64 % 300) * 86_400;
        let mut id = format!("INC-{i:05}");
        if q.bad_rows && r.chance(2) && i > 10 {
            // A duplicate of an earlier id, possibly far away (another block).
            id = format!("INC-{:05}", r.below(i as u64));
        }
        let bad_ts = q.bad_rows && r.chance(2);
        let literal = q.literal_quote && i == n / 2;
        let title = if literal {
            "5\" screen cracked".to_string()
        } else {
            field(&text(&mut r))
        };
        let _ = write!(
            inc,
            "{id},{title},sev{},{},{},{},{},{},{},{},{},{},{},",
            1 + r.below(4),
            ts(&mut r, base),
            if bad_ts {
                "yesterday".to_string()
            } else {
                ts(&mut r, base)
            },
            ts(&mut r, base + 100_000),
            ts(&mut r, base + 200_000),
            r.chance(40),
            r.chance(20),
            if r.chance(70) {
                ts(&mut r, base + 250_000)
            } else {
                String::new()
            },
            field(&text(&mut r)),
            field(&text(&mut r)),
            field(&text(&mut r)),
        );
        if q.bad_rows && r.chance(1) {
            inc.push_str(",extra");
        }
        if q.bad_rows && r.chance(1) {
            // Invalid UTF-8 cannot be in a String: a marker replaced with bytes below.
            inc.push_str("\u{1}BADUTF8\u{1}");
        }
        inc.push_str(eol(&mut r));
        if r.chance(3) {
            inc.push_str(eol(&mut r));
        }
        for _ in 0..r.below(3) {
            let pid = format!("PM-{pms:05}");
            pms += 1;
            let parent = if q.bad_rows && r.chance(2) {
                format!("INC-9{i:05}")
            } else {
                format!("INC-{i:05}")
            };
            let _ = write!(
                pm,
                "{pid},{parent},{},{},{},{},a;b{}",
                if r.chance(80) { "complete" } else { "draft" },
                ts(&mut r, base + 300_000),
                field(&text(&mut r)),
                field(&text(&mut r)),
                eol(&mut r)
            );
            for _ in 0..r.below(4) {
                let fid = format!("FND-{fns:06}");
                fns += 1;
                let _ = write!(
                    fnd,
                    "{fid},{pid},{},bug,{},{},{},{}{}",
                    field(&text(&mut r)),
                    ["team-a", "", " ", "bob@example.com"][r.below(4) as usize],
                    ts(&mut r, base + 350_000),
                    if r.chance(50) { "closed" } else { "open" },
                    if r.chance(50) {
                        ts(&mut r, base + 360_000)
                    } else {
                        String::new()
                    },
                    eol(&mut r)
                );
            }
        }
    }
    let bytes: Vec<u8> = inc
        .into_bytes()
        .split(|&b| b == 1)
        .enumerate()
        .flat_map(|(i, part)| {
            let mut v = part.to_vec();
            if i % 2 == 1 && part == b"BADUTF8" {
                v = b"\xff\xfe".to_vec();
            }
            v
        })
        .collect();
    std::fs::write(dir.join("incidents.csv"), bytes).unwrap();
    std::fs::write(dir.join("postmortems.csv"), pm).unwrap();
    std::fs::write(dir.join("findings.csv"), fnd).unwrap();
}

struct Run {
    code: Option<i32>,
    stderr: String,
    report: Vec<u8>,
    ids: Vec<u8>,
}

fn run(data: &Path, out: &Path, parallel: Option<(u64, usize)>, keep_going: bool) -> Run {
    let _ = std::fs::remove_dir_all(out);
    let mut c = Command::new(env!("CARGO_BIN_EXE_evidentia"));
    c.current_dir(data.parent().unwrap())
        .arg("check")
        .arg("--controls")
        .arg(root().join("benches/reference/controls"))
        .arg("--sources")
        .arg(root().join("benches/reference/sources.yaml"))
        .arg("--data")
        .arg(data)
        .args([
            "--as-of",
            "2025-07-01T00:00:00Z",
            "--format",
            "json,ids",
            "--out",
        ])
        .arg(out)
        .env_remove("EVIDENTIA_PARALLEL_READ");
    if keep_going {
        c.arg("--keep-going");
    }
    if let Some((min, block)) = parallel {
        c.env("EVIDENTIA_PARALLEL_READ", format!("{min},{block}"));
    }
    let o = c.output().unwrap();
    Run {
        code: o.status.code(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        report: std::fs::read(out.join("report.json")).unwrap_or_default(),
        ids: std::fs::read(out.join("exception-ids.csv")).unwrap_or_default(),
    }
}

fn same_everywhere(seed: u64, n: usize, q: Quirks, keep_going: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    write_exports(&data, seed, n, q);
    let out = tmp.path().join("out");
    let seq = run(&data, &out, None, keep_going);
    assert!(
        seq.code == Some(1) || seq.code == Some(2) || seq.code == Some(0),
        "{}",
        seq.stderr
    );
    if keep_going {
        assert!(!seq.report.is_empty(), "no report: {}", seq.stderr);
    }
    for block in [1usize, 7, 64, 333, 4096, 1 << 20] {
        let par = run(&data, &out, Some((0, block)), keep_going);
        assert_eq!(par.code, seq.code, "exit code, block {block}");
        assert_eq!(par.stderr, seq.stderr, "diagnostics, block {block}");
        assert!(
            par.report == seq.report,
            "report.json differs, block {block}"
        );
        assert!(par.ids == seq.ids, "exception ids differ, block {block}");
    }
}

#[test]
fn clean_exports_read_the_same_in_parallel() {
    same_everywhere(1, 400, Quirks::default(), false);
}

#[test]
fn bad_rows_are_rejected_the_same_in_parallel() {
    for seed in [2, 3] {
        same_everywhere(
            seed,
            400,
            Quirks {
                bad_rows: true,
                ..Quirks::default()
            },
            true,
        );
    }
    // Without --keep-going: the same errors, exit 2.
    same_everywhere(
        4,
        300,
        Quirks {
            bad_rows: true,
            ..Quirks::default()
        },
        false,
    );
}

#[test]
fn a_literal_quote_falls_back_to_a_sequential_read() {
    same_everywhere(
        5,
        400,
        Quirks {
            bad_rows: true,
            literal_quote: true,
            ..Quirks::default()
        },
        true,
    );
    same_everywhere(
        6,
        300,
        Quirks {
            header_quote: true,
            ..Quirks::default()
        },
        true,
    );
    // Every row rejected for a missing column: counted the same, at the same lines.
    same_everywhere(
        7,
        300,
        Quirks {
            bad_rows: true,
            literal_quote: true,
            unmapped: true,
            ..Quirks::default()
        },
        true,
    );
}

#[test]
fn lines_are_the_files_own_blank_lines_included() {
    // The `csv` crate reports the record after blank lines on the line after the previous
    // record; an auditor opening the file needs the line an editor shows.
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let header = "id,title,severity,detected_at,declared_at,contained_at,resolved_at,customer_impacting,personal_data_breach,customers_notified_at,notification_summary,user_impact,mitigation,postmortem_id\n";
    let good = ",t,sev1,2025-01-01T00:00:00Z,2025-01-01T00:00:00Z,2025-01-02T00:00:00Z,2025-01-03T00:00:00Z,false,false,,,,,\n";
    let csv = format!(
        "{header}INC-1{good}\n\n\"INC-2\",\"two\nlines\",sev1,2025-01-01T00:00:00Z,yesterday,,,false,false,,,,,\r\n\r\nINC-3{good}"
    );
    std::fs::write(data.join("incidents.csv"), csv).unwrap();
    std::fs::write(
        data.join("postmortems.csv"),
        "id,incident_id,status,completed_at,sequence_of_events,technical_summary,lapse_categories\n",
    )
    .unwrap();
    std::fs::write(
        data.join("findings.csv"),
        "id,postmortem_id,description,kind,owner,due_at,status,closed_at\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    for parallel in [None, Some((0, 16))] {
        let r = run(&data, &out, parallel, false);
        assert_eq!(r.code, Some(2), "{}", r.stderr);
        assert!(
            r.stderr.contains("incidents.csv:5: column `declared_at`"),
            "{}",
            r.stderr
        );
    }
}
