//! CSV, JSON and NDJSON records read through a mapping (sources.yaml) into the
//! canonical tables, every field typed. The first byte picks one of the mappings
//! below; the rest is the export. Checks that nothing is lost: every input
//! reconciles (read = evaluated + out of period + rejected), rejected records are
//! counted once, and every error about the export says where in it. The export is
//! also read in parallel blocks of a size taken from the input (as files of 8 MiB or
//! more are): the tables, rejections and diagnostics must be the same.
#![no_main]

use evidentia::assess::{Period, apply_period};
use evidentia::diag::Diags;
use evidentia::evidence::{read, sources};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// (file name, sources.yaml). Paths are relative to the scratch folder.
const MAPPINGS: &[(&str, &str)] = &[
    // 0: the demo incident tracker: renamed columns, value maps, missing markers, a
    // zone for naive times, dates at start of day; notifications derived per row.
    (
        "data.csv",
        r#"
tables:
  incidents:
    file: data.csv
    timezone: America/New_York
    dates: start-of-day
    missing: ["", "N/A"]
    columns:
      id: Incident ID
      title: Title
      severity: Severity
      classification: Type
      detected_at: Detected At
      declared_at: Declared At
      contained_at: Contained At
      resolved_at: Resolved At
      customer_impacting: Customer Impact
      data_breach: Personal Data Breach
      users_affected: Users
    values:
      severity: { SEV1: sev1, SEV2: sev2 }
      customer_impacting: { "Yes": true, "No": false }
      data_breach: { "Yes": true, "No": false, "": null }
  notifications:
    from: incidents
    skip_unless: sent_at
    columns:
      incident_id: Incident ID
      sent_at: Notified At
      audience: { const: customers }
"#,
    ),
    // 1: canonical column names, `;` delimiter, a strftime pattern in Berlin time,
    // repeated local times resolved to the earliest.
    (
        "data.csv",
        r#"
tables:
  incidents:
    file: data.csv
    delimiter: ";"
    timestamp_format: "%d/%m/%Y %H:%M"
    timezone: Europe/Berlin
    ambiguous: earliest
"#,
    ),
    // 2: a JSON object with the records under /data, fields by JSON pointer.
    (
        "data.json",
        r#"
tables:
  incidents:
    file: data.json
    records: /data
    timezone: UTC
    columns:
      id: /key
      title: /fields/summary
      declared_at: /fields/created
      resolved_at: /fields/resolutiondate
      severity: /fields/priority/name
      data_breach: /fields/breach
      users_affected: /fields/users
"#,
    ),
    // 3: a top-level JSON array, canonical names.
    ("data.json", "tables:\n  incidents:\n    file: data.json\n"),
    // 4: NDJSON in Lord Howe time (half-hour DST), dates at end of day, `latest`.
    (
        "data.ndjson",
        r#"
tables:
  incidents:
    file: data.ndjson
    timezone: Australia/Lord_Howe
    dates: end-of-day
    ambiguous: latest
"#,
    ),
    // 5: incidents and notifications from the same CSV: references between rows
    // (dangling ones are rejected after reading), lists split on `|`.
    (
        "data.csv",
        r#"
tables:
  incidents:
    file: data.csv
    timezone: UTC
  notifications:
    file: data.csv
    list_separator: "|"
    columns:
      incident_id: parent
  postmortems:
    file: data.csv
    list_separator: "|"
    columns:
      incident_id: parent
"#,
    ),
    // 6: NDJSON findings through postmortems through incidents, all from one file.
    (
        "data.ndjson",
        r#"
tables:
  incidents:
    file: data.ndjson
  postmortems:
    file: data.ndjson
    columns:
      incident_id: /parent
  findings:
    file: data.ndjson
    timezone: Europe/Berlin
    dates: end-of-day
    columns:
      postmortem_id: /parent
"#,
    ),
];

/// Everything a read produced, as text: every table's rows (id, location, every field,
/// liveness), the inputs' counts and hashes, the rejected records and the diagnostics.
fn fingerprint(ev: &evidentia::evidence::Evidence) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    for (name, t) in &ev.tables {
        let _ = writeln!(s, "table {name} {}", t.len());
        for r in 0..t.len() as u32 {
            let _ = write!(s, "{:?} {:?} {}", t.id(r), t.loc(r), t.live(r));
            for f in 0..t.def.fields.len() {
                let _ = write!(s, " {}", t.get(r, f).display());
            }
            s.push('\n');
        }
    }
    for i in &ev.inputs {
        let _ = writeln!(
            s,
            "input {} {} {} {} {}",
            i.path, i.sha256, i.rows_read, i.rows_rejected, i.rows_superseded
        );
    }
    for r in &ev.rejected {
        let _ = writeln!(s, "rejected {r:?}");
    }
    // Diagnostics are sorted when reported (`Diags::finish`): compare them sorted.
    let mut diags = ev.diags.items.clone();
    diags.sort();
    let _ = writeln!(s, "diags {diags:?} {} {}", ev.diags.dropped, ev.diags.dropped_warnings);
    s
}

/// The mappings, compiled once (schema validation is the slow part).
fn compiled() -> &'static [Vec<sources::TableSource>] {
    static C: OnceLock<Vec<Vec<sources::TableSource>>> = OnceLock::new();
    C.get_or_init(|| {
        let dir = fuzz_support::scratch("records");
        MAPPINGS
            .iter()
            .enumerate()
            .map(|(i, (_, yaml))| {
                let mut diags = Diags::default();
                let s = sources::compile_text(yaml, "sources.yaml", &dir, &mut diags);
                assert!(
                    !diags.has_errors(),
                    "mapping {i} does not compile: {:?}",
                    diags.finish()
                );
                s
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let Some(&(file, yaml)) = MAPPINGS.get(usize::from(sel) % MAPPINGS.len()) else {
        return;
    };
    let dir = fuzz_support::scratch("records");
    let path = dir.join(file);
    if std::fs::write(&path, body).is_err() {
        return;
    }
    let _ = yaml;
    let Some(srcs) = compiled().get(usize::from(sel) % MAPPINGS.len()) else {
        return;
    };
    // The parallel reader (blocks of 1..=64 bytes) must read exactly what the
    // sequential one reads.
    read::tune(0, body.len() % 64 + 1);
    let par = read::load(srcs, &fuzz_support::all_needs());
    read::tune(u64::MAX, 1 << 21);
    let mut ev = read::load(srcs, &fuzz_support::all_needs());
    assert_eq!(
        fingerprint(&par),
        fingerprint(&ev),
        "parallel and sequential reads differ"
    );
    apply_period(
        &mut ev,
        Period {
            start: None,
            end: None,
        },
    );
    fuzz_support::check_reconcile(&ev);
    // Rows kept from the file + rows rejected = rows read, for the table that owns
    // the file (derived tables add rows, never records).
    for (i, input) in ev.inputs.iter().enumerate() {
        let Some(owner) = input.tables.first() else {
            continue;
        };
        let Some(t) = ev.table(owner) else { continue };
        let live = (0..t.len() as u32)
            .filter(|&r| t.live(r) && t.loc(r).is_some_and(|l| l.file as usize == i))
            .count() as u64;
        assert!(
            live + input.rows_rejected >= input.rows_read && live <= input.rows_read,
            "{}: {live} kept + {} rejected vs {} read",
            input.path,
            input.rows_rejected,
            input.rows_read
        );
    }
    let diags = std::mem::take(&mut ev.diags).finish();
    fuzz_support::check_diagnostics(&diags, &[file]);
});
