//! Streaming the population table (src/stream.rs) must never change an outcome: these
//! tests run the reference checks R1-R4 on exports with the quirks that reach every
//! branch of it, once streamed and once with the whole evidence loaded, and require the
//! same report, diagnostics and exit code, and that streaming did happen (or, for the
//! one input it cannot judge alone, that the run fell back to a whole load).
#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use evidentia::assess::Period;
use evidentia::report::FailOn;
use evidentia::{CheckOptions, parse_instant, parse_period, run_check};

/// The knobs are global: one test at a time.
static LOCK: Mutex<()> = Mutex::new(());

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[derive(Clone, Copy, Default)]
struct Quirks {
    /// Incidents naming a postmortem that does not exist (rejected as they stream).
    dangling_postmortem: bool,
    /// Postmortems naming an incident that does not exist (rejected at the end).
    dangling_incident: bool,
    /// Incidents with an unparseable timestamp and a customer notice (the notice,
    /// a derived row, survives its rejected record: it must link to nothing).
    rejected_with_notice: bool,
    /// A later duplicate of an id whose row has a customer notice: a whole load links
    /// the notice to the first record of the id; streaming links a derived row only
    /// to its own record.
    duplicate_with_notice: bool,
    /// Incidents whose notice time is unreadable (the notice, a derived row, is
    /// rejected: its record is then counted as rejected, not as out of the period).
    bad_notice: bool,
    /// A quote inside an unquoted field halfway: the rest of the file is read
    /// sequentially, into one part.
    literal_quote: bool,
    /// Titles holding doubled quotes (`"t, ""7"""` reads `t, "7"`).
    quoted_titles: bool,
    /// Two more customer-impacting incidents whose ids have the same 32-bit hash
    /// (`hash_twins`), the first with a complete postmortem, the second with a draft:
    /// the id indexes and the index of postmortems by incident id must tell them
    /// apart by their text.
    hash_twins: bool,
}

/// Two incident ids of one 32-bit hash, as evidentia's id indexes hash them (FxHash,
/// its halves xored: `evidence::fx32`), found by a birthday search (about 80k tries).
fn hash_twins() -> (String, String) {
    use std::hash::{BuildHasher, Hasher};
    let fx32 = |s: &str| {
        let mut h = rustc_hash::FxBuildHasher.build_hasher();
        h.write(s.as_bytes());
        let x = h.finish();
        (x ^ (x >> 32)) as u32
    };
    let mut seen = std::collections::HashMap::new();
    for i in 0u32.. {
        let id = format!("INC-H{i}");
        if let Some(first) = seen.insert(fx32(&id), id.clone()) {
            return (first, id);
        }
    }
    unreachable!()
}

fn ts(day: i64, sec: i64) -> String {
    let t = day * 86_400 + sec;
    let (d, s) = (t / 86_400, t % 86_400);
    format!(
        "2025-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        1 + (d / 28) % 12,
        1 + d % 28,
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

fn write_exports(dir: &Path, n: usize, q: Quirks) {
    let mut inc = String::from(
        "id,title,severity,detected_at,declared_at,contained_at,resolved_at,customer_impacting,personal_data_breach,customers_notified_at,notification_summary,user_impact,mitigation,postmortem_id\n",
    );
    let mut pm = String::from(
        "id,incident_id,status,completed_at,sequence_of_events,technical_summary,lapse_categories\n",
    );
    let mut fnd = String::from("id,postmortem_id,description,kind,owner,due_at,status,closed_at\n");
    let mut fns = 0;
    for i in 0..n {
        let day = (i as i64 * 7) % 330;
        let id = if q.duplicate_with_notice && i == n - 3 {
            "INC-00007".to_string()
        } else {
            format!("INC-{i:05}")
        };
        let breach = i % 3 == 0 || (q.duplicate_with_notice && i == n - 3);
        let notified = match i % 5 {
            0 => ts(day, 3600 * 80),
            1 => ts(day, 3600 * 10),
            _ => String::new(),
        };
        let notified = if q.duplicate_with_notice && i == n - 3 {
            ts(day, 3600)
        } else if q.bad_notice && i % 13 == 0 {
            "soon".to_string()
        } else {
            notified
        };
        let title = if q.literal_quote && i == n / 2 {
            "5\" screen".to_string()
        } else if q.quoted_titles {
            format!("\"t, \"\"{i}\"\"\"")
        } else {
            format!("\"t, {i}\"")
        };
        let declared = if q.rejected_with_notice && i % 17 == 0 {
            "yesterday".to_string()
        } else {
            ts(day, 600)
        };
        let postmortem = match i % 4 {
            0 => format!("PM-{i:05}"),
            1 if q.dangling_postmortem && i % 8 == 1 => format!("PM-9{i:05}"),
            _ => String::new(),
        };
        let _ = writeln!(
            inc,
            "{id},{title},sev{},{},{declared},{},{},{},{breach},{notified},notice,users,fixed,{postmortem}",
            1 + i % 4,
            ts(day, if i % 11 == 0 { 900 } else { 0 }),
            ts(day, 7200),
            ts(day, 86_400),
            i % 2 == 0,
        );
        if i % 4 == 0 {
            let parent = if q.dangling_incident && i % 12 == 0 {
                format!("INC-9{i:05}")
            } else {
                format!("INC-{i:05}")
            };
            let _ = writeln!(
                pm,
                "PM-{i:05},{parent},{},{},seq,tech,a;b",
                if i % 8 == 0 { "complete" } else { "draft" },
                ts(day, 200_000)
            );
            for k in 0..(i % 3) {
                let _ = writeln!(
                    fnd,
                    "FND-{fns:06},PM-{i:05},finding {k},bug,{},{},{},",
                    ["team-a", "", "bob@example.com"][(i + k) % 3],
                    ts(day + 30 * k as i64, 0),
                    if (i + k) % 2 == 0 { "closed" } else { "open" },
                );
                fns += 1;
            }
        }
    }
    if q.hash_twins {
        let (a, b) = hash_twins();
        for (k, (id, status)) in [(a, "complete"), (b, "draft")].into_iter().enumerate() {
            let _ = writeln!(
                inc,
                "{id},twin,sev1,{},{},{},{},true,false,,notice,users,fixed,",
                ts(3, 0),
                ts(3, 600),
                ts(3, 7200),
                ts(3, 86_400),
            );
            let _ = writeln!(pm, "PM-T{k},{id},{status},{},seq,tech,a", ts(4, 0));
            let _ = writeln!(
                fnd,
                "FND-T{k},PM-T{k},twin finding,bug,team-a,{},closed,",
                ts(40, 0)
            );
        }
    }
    std::fs::write(dir.join("incidents.csv"), inc).unwrap();
    std::fs::write(dir.join("postmortems.csv"), pm).unwrap();
    std::fs::write(dir.join("findings.csv"), fnd).unwrap();
}

fn options(data: &Path, period: Period) -> CheckOptions {
    CheckOptions {
        progress: None,
        controls: root().join("benches/reference/controls"),
        sources: root().join("benches/reference/sources.yaml"),
        data: Some(data.to_path_buf()),
        as_of: parse_instant("2025-07-01T00:00:00Z").unwrap(),
        period,
        frameworks: Vec::new(),
        keep_going: true,
        fail_on: FailOn::Exception,
        allow_empty: false,
        entity: None,
        waivers: None,
        sample: None,
        preset: None,
        severity: Vec::new(),
        max_exceptions: None,
        remediations: false,
        open_findings: false,
    }
}

/// No period: every record counts.
fn all_time() -> Period {
    Period {
        start: None,
        end: None,
    }
}

/// The JSON report in an outcome (`outcome`'s text).
fn report(outcome: &str) -> serde_json::Value {
    let json = outcome.find("\n{").map_or("", |i| &outcome[i + 1..]);
    serde_json::from_str(json).unwrap()
}

/// The rows of incidents.csv left out of the period, from an outcome's report.
fn incidents_out_of_period(outcome: &str) -> u64 {
    report(outcome)["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"].as_str().unwrap().ends_with("incidents.csv"))
        .unwrap()["rows_out_of_period"]
        .as_u64()
        .unwrap()
}

/// What a run produced, as bytes to compare, and the table it streamed.
fn outcome(o: &CheckOptions, stream: bool) -> (String, Option<&'static str>) {
    evidentia::stream::set_enabled(stream);
    let out = run_check(o).unwrap();
    evidentia::stream::set_enabled(true);
    let report =
        String::from_utf8(evidentia::report::json::render(&out.assessment, &out.gate)).unwrap();
    let diags: Vec<String> = out.diagnostics.iter().map(|d| d.to_string()).collect();
    (
        format!("{}\n{}\n{report}", out.exit_code(), diags.join("\n")),
        out.streamed,
    )
}

/// Streamed (in `block`-byte parts) and whole, the same outcome; `streams(block)`:
/// whether the streamed run is expected to have stayed streamed.
fn same_outcome(q: Quirks, period: Period, streams: impl Fn(usize) -> bool) -> String {
    let tmp = tempfile::tempdir().unwrap();
    write_exports(tmp.path(), 240, q);
    let o = options(tmp.path(), period);
    let (whole, none) = outcome(&o, false);
    assert_eq!(none, None);
    for block in [64usize, 1000, 1 << 20] {
        evidentia::evidence::read::tune(0, block);
        let (streamed, table) = outcome(&o, true);
        evidentia::evidence::read::tune_defaults();
        assert_eq!(
            table,
            streams(block).then_some("incidents"),
            "streamed table, block {block}"
        );
        assert!(
            streamed == whole,
            "block {block}:\n{streamed}\n---\n{whole}"
        );
    }
    whole
}

#[test]
fn streamed_and_whole_loads_agree() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let all = all_time();
    let clean = same_outcome(Quirks::default(), all, |_| true);
    assert!(clean.contains("\"r1-breach-notice-72h\""), "{clean}");
    // Rows outside the period are counted as they stream.
    let part = parse_period("2025-03-01..2025-09-30").unwrap();
    let r = same_outcome(Quirks::default(), part, |_| true);
    assert!(incidents_out_of_period(&r) > 0, "{r}");
    assert_eq!(incidents_out_of_period(&clean), 0);
    let r = same_outcome(
        Quirks {
            dangling_postmortem: true,
            dangling_incident: true,
            rejected_with_notice: true,
            ..Quirks::default()
        },
        part,
        |_| true,
    );
    assert!(r.contains("names no record of `postmortems`"), "{r}");
    assert!(r.contains("names no record of `incidents`"), "{r}");
    assert!(r.contains("`yesterday`"), "{r}");
    // Rejected notices, out-of-period records and the sequential read after a
    // literal quote together.
    let r = same_outcome(
        Quirks {
            bad_notice: true,
            literal_quote: true,
            ..Quirks::default()
        },
        part,
        |_| true,
    );
    assert!(r.contains("`soon`"), "{r}");
}

#[test]
fn a_notice_a_whole_load_would_link_elsewhere_makes_the_run_load_whole() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let all = all_time();
    let r = same_outcome(
        Quirks {
            duplicate_with_notice: true,
            ..Quirks::default()
        },
        all,
        |_| false,
    );
    assert!(r.contains("id `INC-00007` is already used"), "{r}");
}

#[test]
fn small_files_are_not_streamed() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    write_exports(tmp.path(), 50, Quirks::default());
    let o = options(tmp.path(), all_time());
    assert_eq!(outcome(&o, true).1, None);
}

#[test]
fn the_demo_streams_its_incidents_and_agrees() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let o = CheckOptions {
        controls: root().join("controls"),
        sources: root().join("evidence/sources.yaml"),
        data: None,
        period: parse_period("2025-01-01..2025-12-31").unwrap(),
        remediations: true,
        open_findings: true,
        ..options(&root().join("evidence"), all_time())
    };
    let (whole, _) = outcome(&o, false);
    evidentia::evidence::read::tune(0, 512);
    let (streamed, table) = outcome(&o, true);
    evidentia::evidence::read::tune_defaults();
    assert_eq!(table, Some("incidents"));
    assert!(streamed == whole, "{streamed}\n---\n{whole}");
}

/// The reference checks with their catalog edited by `edit`, streamed (in 777-byte
/// parts) and whole: the same outcome, the incidents streamed. The outcome.
fn agree_with_catalog(edit: impl Fn(&str) -> String) -> String {
    agree_with_catalog_on(Quirks::default(), edit)
}

/// `agree_with_catalog` on exports with quirks `q`.
fn agree_with_catalog_on(q: Quirks, edit: impl Fn(&str) -> String) -> String {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    write_exports(tmp.path(), 240, q);
    let controls = tmp.path().join("controls");
    std::fs::create_dir(&controls).unwrap();
    let reference =
        std::fs::read_to_string(root().join("benches/reference/controls/reference.yaml")).unwrap();
    let edited = edit(&reference);
    assert_ne!(edited, reference);
    std::fs::write(controls.join("reference.yaml"), edited).unwrap();
    let o = CheckOptions {
        controls,
        ..options(tmp.path(), all_time())
    };
    let (whole, _) = outcome(&o, false);
    evidentia::evidence::read::tune(0, 777);
    let (streamed, table) = outcome(&o, true);
    evidentia::evidence::read::tune_defaults();
    assert_eq!(table, Some("incidents"));
    assert!(streamed == whole, "{streamed}\n---\n{whole}");
    whole
}

/// Check `id` of the JSON report in an outcome.
fn report_check(outcome: &str, id: &str) -> serde_json::Value {
    report(outcome)["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}"))
        .clone()
}

#[test]
fn a_followed_reference_a_filter_reads_is_kept() {
    // Streaming frees the text of a reference its checks only follow (here
    // findings.postmortem_id) once the relation index is built; a check whose filter
    // reads that reference as a value must still see it.
    let whole = agree_with_catalog(|r| {
        r.replace(
            "      - { table: findings, via: postmortem_id }",
            "      - { table: findings, via: postmortem_id, where: { postmortem_id: { matches: \"^PM-000[0-4]\" } } }",
        )
    });
    // The filter did select: some findings of the population were left out.
    assert!(whole.contains("postmortem_id matches"), "{whole}");
}

#[test]
fn a_step_a_later_check_follows_keeps_its_resolved_rows() {
    // Streaming frees the rows a reference resolved to (findings -> postmortems) when
    // only the streamed checks follow it; a check judged after reading (its population,
    // postmortems, is not streamed) that follows the same step must still find them.
    let later = "  - id: pm-findings-owned
    title: Findings of postmortems are owned
    rule: each-linked
    population: { table: postmortems }
    related:
      - { table: findings, via: postmortem_id }
    require: { owner: { set: true } }

frameworks:";
    let whole = agree_with_catalog(|r| r.replacen("frameworks:", later, 1));
    // The later check did reach findings through the step.
    let check = report_check(&whole, "pm-findings-owned");
    assert!(check["population"].as_u64().unwrap() > 0, "{check}");
}

#[test]
fn a_read_field_with_doubled_quotes_reads_the_same_in_parts() {
    // The scanner leaves doubled quotes as written in the columns no binding reads;
    // the titles are read here (R4 scopes by them), in parts and whole alike.
    let q = Quirks {
        quoted_titles: true,
        ..Quirks::default()
    };
    let out = agree_with_catalog_on(q, |c| {
        c.replace(
            "population: { table: incidents }",
            "population: { table: incidents, where: { title: { matches: '^t, \"[0-9]*7\"$' } } }",
        )
    });
    let r4 = report_check(&out, "r4-lifecycle-order");
    assert_eq!(r4["population"].as_u64(), Some(24), "{r4}");
}

#[test]
fn a_step_several_checks_share_is_found_for_every_population() {
    // R2 and R3 have the same population (here the breaches) and both find an
    // incident's postmortems by id: a streamed part evaluates their filter once and
    // finds the postmortems once, for the rows of their population
    // (`Streamer::shared`). A third check following the same step from another
    // population (its own filter, the sev1 incidents: those with a postmortem, most of
    // them no breach) must find them for its rows too.
    let sev1 = "  - id: sev1-postmortem
    title: Sev1 incidents have a postmortem
    rule: linked
    population: { table: incidents, where: { severity: sev1 } }
    related: { table: postmortems, via: incident_id }

frameworks:";
    let scope = "where: { any: [ { customer_impacting: true }, { data_breach: true } ] }";
    let whole = agree_with_catalog(|r| {
        assert_eq!(r.matches(scope).count(), 2);
        r.replace(scope, "where: { data_breach: true }")
            .replacen("frameworks:", sev1, 1)
    });
    // Every sev1 incident has its postmortem; R2 and R3 judged the breaches.
    let sev1 = report_check(&whole, "sev1-postmortem");
    assert!(sev1["passed"].as_u64().unwrap() > 0, "{sev1}");
    assert_eq!(sev1["exceptions"].as_array().unwrap().len(), 0, "{sev1}");
    let r2 = report_check(&whole, "r2-postmortem-complete");
    assert!(r2["population"].as_u64().unwrap() > 0, "{r2}");
}

#[test]
fn records_whose_ids_share_a_hash_are_told_apart() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let (a, b) = hash_twins();
    let q = Quirks {
        hash_twins: true,
        ..Quirks::default()
    };
    let out = same_outcome(q, all_time(), |_| true);
    // The draft's incident is an exception of R2; the other twin, whose postmortem is
    // complete, is not an exception of any check.
    let ids = |check: &str| -> Vec<String> {
        report_check(&out, check)["exceptions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["record_id"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(ids("r2-postmortem-complete").contains(&b), "{out}");
    assert!(!out.contains(&format!("\"{a}\"")), "{out}");
}

#[test]
fn the_poam_and_the_aging_chart_read_the_findings_a_streamed_check_judged() {
    // Streaming judges R3's requirement on every finding before the incidents are
    // read, and frees the fields only it reads; the POA&M's owners and due dates and
    // the aging chart's open findings read them after the assessment, so with those
    // asked for they stay.
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    write_exports(tmp.path(), 240, Quirks::default());
    let o = CheckOptions {
        remediations: true,
        open_findings: true,
        ..options(tmp.path(), all_time())
    };
    let run = |stream: bool| {
        evidentia::stream::set_enabled(stream);
        let out = run_check(&o).unwrap();
        evidentia::stream::set_enabled(true);
        (
            out.streamed,
            format!("{:?}", out.remediations),
            format!("{:?}", out.assessment.open_findings),
            out.remediations.len(),
            out.assessment.open_findings.len(),
        )
    };
    let whole = run(false);
    evidentia::evidence::read::tune(0, 777);
    let streamed = run(true);
    evidentia::evidence::read::tune_defaults();
    assert_eq!(streamed.0, Some("incidents"));
    assert!(whole.3 > 0 && whole.4 > 0, "{whole:?}");
    assert!(
        streamed.1 == whole.1 && streamed.2 == whole.2,
        "{streamed:?}\n---\n{whole:?}"
    );
}

/// The evidence after a streamed load of `o`'s catalog and data (`stream::load`, as
/// `check` calls it), the id indexes not kept, the values kept or not.
fn streamed_evidence(o: &CheckOptions, keep_values: bool) -> evidentia::evidence::Evidence {
    use evidentia::assess::{Scope, needs, selected_checks};
    let mut diags = evidentia::diag::Diags::default();
    let cat = evidentia::catalog::load_dir(&o.controls, &mut diags);
    let sources = evidentia::load_sources(o, &mut diags);
    let scope = Scope {
        as_of: o.as_of,
        period: o.period,
        frameworks: Vec::new(),
        sample: None,
    };
    let checks = selected_checks(&cat, &scope.frameworks);
    let (ev, streamed) = evidentia::stream::load(
        &checks,
        &sources,
        &needs(&checks),
        &scope,
        &cat.calendars,
        None,
        evidentia::stream::Keep {
            ids: false,
            values: keep_values,
        },
    );
    assert_eq!(streamed.table, Some("incidents"));
    ev
}

#[test]
fn a_requirement_judged_before_the_stream_frees_the_fields_only_it_reads() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    write_exports(tmp.path(), 240, Quirks::default());
    let o = options(tmp.path(), all_time());
    evidentia::evidence::read::tune(0, 777);
    // Values of findings' requirement fields (owner, status, due_at) still held.
    let held = |keep_values: bool| {
        let ev = streamed_evidence(&o, keep_values);
        let f = ev.table("findings").unwrap();
        assert!(f.len() > 50, "{}", f.len());
        ["owner", "status", "due_at", "postmortem_id"].map(|name| {
            let i = f.field_index(name).unwrap();
            (0..f.len() as u32)
                .filter(|&r| !f.get(r, i).is_blank())
                .count()
        })
    };
    let freed = held(false);
    let kept = held(true);
    evidentia::evidence::read::tune_defaults();
    assert_eq!(freed[..3], [0, 0, 0], "{freed:?}");
    assert!(kept[..3].iter().all(|&n| n > 20), "{kept:?}");
    // The reference R3 follows is freed either way once its index is built.
    assert_eq!((freed[3], kept[3]), (0, 0));
}

/// The findings' ids are read again only for the findings that fail R3's requirement
/// (judged before the stream): the other ids are blanked, unless the POA&M or the
/// aging chart reads the findings after the assessment, or another check judges or
/// reaches them.
#[test]
fn only_the_ids_a_prejudged_requirement_reports_are_kept() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    write_exports(&data, 240, Quirks::default());
    // The reference catalog, and the same with a check that judges every finding.
    let more = tmp.path().join("controls");
    std::fs::create_dir(&more).unwrap();
    for e in std::fs::read_dir(root().join("benches/reference/controls")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, more.join(p.file_name().unwrap())).unwrap();
    }
    std::fs::write(
        more.join("findings.yaml"),
        "checks:\n  - id: r5-findings-have-a-kind\n    title: Findings have a kind\n    rule: required\n    population: { table: findings }\n    fields: [kind]\n",
    )
    .unwrap();
    let as_of = parse_instant("2025-07-01T00:00:00Z").unwrap();
    // The findings' ids after a streamed load, and whether R3's requirement holds.
    let load = |controls: &Path, keep_values: bool| {
        let mut o = options(&data, all_time());
        o.controls = controls.to_path_buf();
        let ev = streamed_evidence(&o, keep_values);
        let f = ev.table("findings").unwrap();
        let [owner, status, due] = ["owner", "status", "due_at"].map(|n| f.field_index(n).unwrap());
        (0..f.len() as u32)
            .map(|r| {
                let met = !f.get(r, owner).is_blank()
                    && (f.get(r, status).text() == Some("closed")
                        || f.get(r, due).time().is_some_and(|d| d > as_of));
                (f.id(r).to_string(), met, f.live(r))
            })
            .collect::<Vec<_>>()
    };
    // Small files are streamed only when read in parallel.
    evidentia::evidence::read::tune(0, 777);
    let whole = load(&root().join("benches/reference/controls"), true);
    let lean = load(&root().join("benches/reference/controls"), false);
    let judged = load(&more, false);
    evidentia::evidence::read::tune_defaults();
    assert_eq!(whole.len(), lean.len());
    assert!(whole.iter().all(|(id, _, _)| !id.is_empty()));
    let (mut kept, mut blanked) = (0, 0);
    for ((id, met, live), (lean_id, _, _)) in whole.iter().zip(&lean) {
        if *met && *live {
            assert_eq!(lean_id, "", "{id} meets the requirement");
            blanked += 1;
        } else {
            assert_eq!(lean_id, id);
            kept += 1;
        }
    }
    assert!(kept > 10 && blanked > 10, "{kept} kept, {blanked} blanked");
    // Another check judges every finding: every id stays.
    assert!(judged.iter().all(|(id, _, _)| !id.is_empty()));
}
