//! `evidentia evidence inspect`: what an export gives, before any check is judged.
//! Reads the exports through the sources file (or a preset) with every canonical field
//! materialised and reports, per table: records read, kept, superseded and rejected
//! (with the reasons), each field with where it comes from, how many records have it,
//! its date range or most common values, the export's columns no field uses, and the
//! fields each check of the catalog reads that the export does not provide. The first
//! command to run on a new export. Library side: `inspect` returns data, `render_*`
//! format it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value as J;

use crate::diag::{Diagnostic, Diags, Level};
use crate::evidence::presets::PresetUse;
use crate::evidence::read::Needs;
use crate::evidence::sources::{ColumnSpec, Format, TableSource};
use crate::evidence::{Evidence, Input, Kind, Value};

/// What to inspect.
#[derive(Debug, Clone, Default)]
pub struct InspectOptions {
    /// Folder of catalog files; `None` or absent: the check section is left out.
    pub controls: Option<PathBuf>,
    /// The sources file (ignored with a preset).
    pub sources: PathBuf,
    /// Folder the export paths are relative to.
    pub data: Option<PathBuf>,
    /// A preset instead of the sources file.
    pub preset: Option<PresetUse>,
    /// Only the checks of these frameworks (empty: all).
    pub frameworks: Vec<String>,
}

/// One field of a table.
#[derive(Debug, Clone, Serialize)]
pub struct FieldReport {
    /// Canonical field.
    pub field: String,
    /// Its type.
    pub kind: Kind,
    /// Where it comes from: a column, key or pointer, `const: v`, a `pick`.
    pub source: String,
    /// Records with a value.
    pub present: u64,
    /// Records without one.
    pub missing: u64,
    /// Time fields: earliest and latest instant.
    pub earliest: Option<String>,
    /// Time fields: latest instant.
    pub latest: Option<String>,
    /// Text fields with few distinct values: the most common, with counts.
    pub values: Vec<(String, u64)>,
}

/// Rejected records of a table with one reason code.
#[derive(Debug, Clone, Serialize)]
pub struct Rejections {
    /// Diagnostic code.
    pub code: String,
    /// How many records.
    pub count: u64,
    /// The first few, as printed.
    pub examples: Vec<String>,
}

/// One canonical table.
#[derive(Debug, Clone, Serialize)]
pub struct TableReport {
    /// Table.
    pub table: String,
    /// Derived from this table's records.
    pub derived_from: Option<String>,
    /// Export files.
    pub files: Vec<String>,
    /// Records kept (evaluable).
    pub records: u64,
    /// Rows replaced by a later update of the same record (`latest_by`).
    pub superseded: u64,
    /// Records rejected.
    pub rejected: u64,
    /// Why, by code.
    pub rejections: Vec<Rejections>,
    /// Fields the export provides.
    pub fields: Vec<FieldReport>,
    /// Fields it does not provide.
    pub not_provided: Vec<String>,
    /// Columns (CSV) or record keys (JSON) of the export that no field reads.
    pub unmapped_columns: Vec<String>,
}

/// A check that reads fields the export lacks.
#[derive(Debug, Clone, Serialize)]
pub struct CheckNeeds {
    /// Check id.
    pub check: String,
    /// Its population table.
    pub table: String,
    /// `table.field` (or `table` when the whole table is absent) it reads and lacks.
    pub lacks: Vec<String>,
    /// Controls it tests (`framework/control`).
    pub controls: Vec<String>,
}

/// The whole inspection.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    /// The sources file or `preset:NAME`.
    pub sources: String,
    /// Export files with hashes and counts.
    pub inputs: Vec<Input>,
    /// Per table.
    pub tables: Vec<TableReport>,
    /// Checks reading fields the export lacks (`None`: no catalog was read).
    pub checks: Option<Vec<CheckNeeds>>,
    /// Checks of the catalog considered.
    pub checks_selected: u64,
    /// Input errors (records or files that could not be read).
    pub errors: u64,
    /// Diagnostics as printed (at most 1000 are kept).
    pub diagnostics: Vec<String>,
}

impl Inspection {
    /// Exit code: 0 the export reads cleanly, 1 it has input errors.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.errors > 0)
    }
}

/// Read and describe. `Err`: the catalog or sources could not be loaded (exit 2).
pub fn inspect(o: &InspectOptions) -> Result<Inspection, Vec<Diagnostic>> {
    let mut diags = Diags::default();
    let cat = match &o.controls {
        Some(c) if c.exists() => {
            let cat = crate::catalog::load_dir(c, &mut diags);
            if diags.has_errors() {
                return Err(diags.finish());
            }
            Some(cat)
        }
        _ => None,
    };
    let (sources, label) = match &o.preset {
        Some(p) => (
            crate::evidence::presets::load(p, o.data.as_deref(), &mut diags),
            format!("preset:{}", p.name),
        ),
        None => (
            crate::evidence::sources::load(&o.sources, o.data.as_deref(), &mut diags),
            o.sources.display().to_string(),
        ),
    };
    if diags.has_errors() {
        return Err(diags.finish());
    }
    // Every field of every table, so each can be described.
    let mut needs = Needs::new();
    for s in &sources {
        needs
            .entry(s.def.name)
            .or_default()
            .extend(0..s.def.fields.len());
    }
    let mut ev = crate::evidence::read::load(&sources, &needs);
    crate::assess::apply_period(
        &mut ev,
        crate::assess::Period {
            start: None,
            end: None,
        },
    );
    let ev_diags = std::mem::take(&mut ev.diags);
    let errors = ev_diags.error_count();
    let diagnostics: Vec<String> = ev_diags.finish().iter().map(|d| d.to_string()).collect();
    let tables: Vec<TableReport> = sources
        .iter()
        .map(|s| table_report(s, &sources, &ev))
        .collect();
    let (checks, checks_selected) = match &cat {
        Some(cat) => {
            let sel = crate::assess::selected_checks(cat, &o.frameworks);
            (Some(check_needs(cat, &sel, &ev, &tables)), sel.len() as u64)
        }
        None => (None, 0),
    };
    Ok(Inspection {
        sources: label,
        inputs: ev.inputs.clone(),
        tables,
        checks,
        checks_selected,
        errors,
        diagnostics,
    })
}

fn describe(spec: &ColumnSpec) -> String {
    match spec {
        ColumnSpec::Column { name, .. } => name.clone(),
        ColumnSpec::Const(v) => format!("const: {v}"),
        ColumnSpec::Pick(p) => format!("pick {}", p.shown()),
    }
}

fn table_report(s: &TableSource, all: &[TableSource], ev: &Evidence) -> TableReport {
    let def = s.def;
    let parent = s
        .from
        .as_deref()
        .and_then(|p| all.iter().find(|x| x.def.name == p));
    let files: Vec<String> = match parent {
        Some(p) => p.files.iter().map(|f| f.0.display().to_string()).collect(),
        None => s.files.iter().map(|f| f.0.display().to_string()).collect(),
    };
    let mut report = TableReport {
        table: def.name.to_string(),
        derived_from: s.from.clone(),
        files: files.clone(),
        records: 0,
        superseded: 0,
        rejected: 0,
        rejections: Vec::new(),
        fields: Vec::new(),
        not_provided: Vec::new(),
        unmapped_columns: Vec::new(),
    };
    let mut by_code: BTreeMap<String, Rejections> = BTreeMap::new();
    for r in ev.rejected.iter().filter(|r| r.table == def.name) {
        report.rejected += 1;
        let code = r.diagnostic.code.as_str().to_string();
        let e = by_code.entry(code.clone()).or_insert(Rejections {
            code,
            count: 0,
            examples: Vec::new(),
        });
        e.count += 1;
        if e.examples.len() < 5 {
            e.examples.push(r.diagnostic.to_string());
        }
    }
    report.rejections = by_code.into_values().collect();
    if s.from.is_none() {
        report.superseded = ev
            .inputs
            .iter()
            .filter(|i| i.tables.first().map(String::as_str) == Some(def.name))
            .map(|i| i.rows_superseded)
            .sum();
        report.unmapped_columns = unmapped(s, all);
    }
    let Some(t) = ev.table(def.name) else {
        return report;
    };
    let live: Vec<u32> = (0..t.len() as u32).filter(|&r| t.live(r)).collect();
    report.records = live.len() as u64;
    for (idx, fd) in def.fields.iter().enumerate() {
        let provided = t.provided.get(idx).copied().unwrap_or(false);
        if !provided {
            report.not_provided.push(fd.name.to_string());
            continue;
        }
        let spec = s.columns.get(&idx).or_else(|| {
            (idx == 0)
                .then(|| parent.and_then(|p| p.columns.get(&0)))
                .flatten()
        });
        // JSON records are looked up by key: a field found by its canonical name counts
        // as provided only when some record has it.
        if spec.is_none() && idx != 0 && live.iter().all(|&r| t.get(r, idx).is_blank()) {
            report.not_provided.push(fd.name.to_string());
            continue;
        }
        let source = spec.map(describe).unwrap_or_else(|| fd.name.to_string());
        let mut f = FieldReport {
            field: fd.name.to_string(),
            kind: fd.kind,
            source,
            present: 0,
            missing: 0,
            earliest: None,
            latest: None,
            values: Vec::new(),
        };
        let mut range: Option<(i64, i64)> = None;
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for &row in &live {
            let v = t.get(row, idx);
            if v.is_blank() {
                f.missing += 1;
                continue;
            }
            f.present += 1;
            match v {
                Value::Time(ts) => {
                    range = Some(match range {
                        None => (ts.0, ts.0),
                        Some((a, b)) => (a.min(ts.0), b.max(ts.0)),
                    });
                }
                Value::Text(x) if idx != 0 && counts.len() <= 50 => {
                    *counts.entry(x.to_string()).or_default() += 1;
                }
                Value::Bool(b) => *counts.entry(b.to_string()).or_default() += 1,
                _ => {}
            }
        }
        if let Some((a, b)) = range {
            f.earliest = Some(crate::time::Ts(a).to_string());
            f.latest = Some(crate::time::Ts(b).to_string());
        }
        if counts.len() <= 50 && !counts.is_empty() {
            let mut v: Vec<(String, u64)> = counts.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            v.truncate(8);
            f.values = v;
        }
        report.fields.push(f);
    }
    report
}

/// The first segment of a key or pointer (the record key it starts from).
fn first_key(name: &str) -> String {
    let n = name.strip_prefix('/').unwrap_or(name);
    n.split('/')
        .next()
        .unwrap_or("")
        .replace("~1", "/")
        .replace("~0", "~")
}

/// Columns or record keys of a primary table's files that no table bound to them reads.
fn unmapped(s: &TableSource, all: &[TableSource]) -> Vec<String> {
    let bound: Vec<&TableSource> = all
        .iter()
        .filter(|t| {
            (t.from.is_none() && std::ptr::eq(*t, s)) || t.from.as_deref() == Some(s.def.name)
        })
        .collect();
    let mut used: BTreeSet<String> = BTreeSet::new();
    let csv = s.format == Format::Csv;
    let norm = |x: &str| {
        if csv {
            x.trim().to_ascii_lowercase()
        } else {
            x.to_string()
        }
    };
    for t in &bound {
        for (idx, fd) in t.def.fields.iter().enumerate() {
            match t.columns.get(&idx) {
                Some(ColumnSpec::Column { name, .. }) => {
                    used.insert(norm(&if csv { name.clone() } else { first_key(name) }));
                }
                Some(ColumnSpec::Pick(p)) => {
                    used.insert(first_key(&p.array));
                }
                Some(ColumnSpec::Const(_)) => {}
                None => {
                    used.insert(norm(fd.name));
                }
            }
        }
        if let Some(l) = &t.latest_by {
            used.insert(norm(&if csv { l.clone() } else { first_key(l) }));
        }
    }
    let mut cols: BTreeSet<String> = BTreeSet::new();
    for (path, _) in &s.files {
        for c in columns_of(s, path) {
            if !used.contains(&norm(&c)) {
                cols.insert(c);
            }
        }
    }
    cols.into_iter().collect()
}

/// The header (CSV) or the union of record keys (JSON, NDJSON) of one export.
fn columns_of(s: &TableSource, path: &std::path::Path) -> Vec<String> {
    let Ok(bytes) = std::fs::read(path) else {
        return vec![];
    };
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut keys: BTreeSet<String> = BTreeSet::new();
    let mut add = |v: &J| {
        if let Some(m) = v.as_object() {
            keys.extend(m.keys().cloned());
        }
    };
    match s.format {
        Format::Csv => {
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .delimiter(s.delimiter)
                .from_reader(body);
            let mut rec = csv::StringRecord::new();
            if let Ok(true) = r.read_record(&mut rec) {
                return rec
                    .iter()
                    .map(|h| h.trim_end_matches('\r').to_string())
                    .collect();
            }
            return vec![];
        }
        Format::Json => {
            if let Ok(doc) = serde_json::from_slice::<J>(body)
                && let Some(J::Array(a)) = doc.pointer(s.records.as_deref().unwrap_or(""))
            {
                a.iter().for_each(&mut add);
            }
        }
        Format::Ndjson => {
            for line in body.split(|&b| b == b'\n') {
                if let Ok(v) = serde_json::from_slice::<J>(line) {
                    add(&v);
                }
            }
        }
    }
    keys.into_iter().collect()
}

fn check_needs(
    cat: &crate::catalog::Catalog,
    sel: &[&crate::catalog::Check],
    ev: &Evidence,
    tables: &[TableReport],
) -> Vec<CheckNeeds> {
    let mut out = Vec::new();
    for c in sel {
        let mut n = Needs::new();
        c.rule.needs(c.table, &mut n);
        n.entry(c.table.name).or_default();
        if let Some(f) = &c.filter {
            let mut v = Vec::new();
            f.fields(&mut v);
            n.entry(c.table.name).or_default().extend(v);
        }
        let mut lacks = Vec::new();
        for (tn, fields) in &n {
            let Some(t) = ev.table(tn) else {
                lacks.push(format!("{tn} (table not in the sources)"));
                continue;
            };
            let missing = tables
                .iter()
                .find(|r| r.table == *tn)
                .map(|r| &r.not_provided);
            for &f in fields {
                let name = t.def.fields.get(f).map(|x| x.name).unwrap_or("?");
                if missing.is_some_and(|m| m.iter().any(|x| x == name)) {
                    lacks.push(format!("{tn}.{name}"));
                }
            }
        }
        if lacks.is_empty() {
            continue;
        }
        let controls = cat
            .frameworks
            .iter()
            .flat_map(|f| {
                f.controls
                    .iter()
                    .filter(|x| x.checks.contains(&c.id))
                    .map(move |x| format!("{}/{}", f.id, x.id))
            })
            .collect();
        out.push(CheckNeeds {
            check: c.id.clone(),
            table: c.table.name.to_string(),
            lacks,
            controls,
        });
    }
    out
}

/// Pretty JSON with a trailing newline.
pub fn render_json(x: &Inspection) -> String {
    let mut s = serde_json::to_string_pretty(x).unwrap_or_default();
    s.push('\n');
    s
}

/// The text report.
pub fn render_text(x: &Inspection) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Sources: {}", x.sources);
    let _ = writeln!(s, "\nInputs:");
    for i in &x.inputs {
        let _ = writeln!(
            s,
            "  {}  {} read, {} rejected{}  [{}]  sha256 {}",
            i.path,
            i.rows_read,
            i.rows_rejected,
            if i.rows_superseded > 0 {
                format!(", {} superseded by later updates", i.rows_superseded)
            } else {
                String::new()
            },
            i.tables.join(", "),
            i.sha256
        );
    }
    for t in &x.tables {
        let _ = writeln!(
            s,
            "\nTable {}{}: {} record(s) kept, {} rejected{}",
            t.table,
            t.derived_from
                .as_ref()
                .map(|p| format!(" (derived from {p})"))
                .unwrap_or_default(),
            t.records,
            t.rejected,
            if t.superseded > 0 {
                format!(", {} row(s) superseded", t.superseded)
            } else {
                String::new()
            }
        );
        for r in &t.rejections {
            let _ = writeln!(s, "  rejected [{}]: {}", r.code, r.count);
            for e in &r.examples {
                let _ = writeln!(s, "    {e}");
            }
        }
        if !t.fields.is_empty() {
            let _ = writeln!(
                s,
                "  {:<28} {:<5} {:<44} {:>9}  values",
                "field", "type", "from", "present"
            );
        }
        for f in &t.fields {
            let kind = serde_json::to_value(f.kind)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            let detail = match (&f.earliest, &f.latest) {
                (Some(a), Some(b)) => format!("{a} .. {b}"),
                _ => f
                    .values
                    .iter()
                    .map(|(v, n)| {
                        let short: String = v.chars().take(40).collect();
                        let cut = if short.len() < v.len() { "..." } else { "" };
                        format!("{short}{cut} ({n})")
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            let _ = writeln!(
                s,
                "  {:<28} {:<5} {:<44} {:>9}  {detail}",
                f.field,
                kind,
                f.source,
                format!("{}/{}", f.present, f.present + f.missing)
            );
        }
        if !t.not_provided.is_empty() {
            let _ = writeln!(s, "  not provided: {}", t.not_provided.join(", "));
        }
        if !t.unmapped_columns.is_empty() {
            let _ = writeln!(
                s,
                "  columns no field reads: {}",
                t.unmapped_columns.join(", ")
            );
        }
    }
    match &x.checks {
        None => {
            let _ = writeln!(
                s,
                "\nChecks: no catalog read (give --controls DIR to list the fields each check needs)"
            );
        }
        Some(c) if c.is_empty() => {
            let _ = writeln!(
                s,
                "\nChecks: the export provides every field the {} selected check(s) read.",
                x.checks_selected
            );
        }
        Some(c) => {
            let _ = writeln!(
                s,
                "\nChecks that read what the export lacks ({} of {} selected; their records are not evaluable, or miss the population):",
                c.len(),
                x.checks_selected
            );
            // Whole tables first, each with the checks that need it; then fields.
            let mut by_table: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for n in c {
                for l in n
                    .lacks
                    .iter()
                    .filter(|l| l.ends_with("(table not in the sources)"))
                {
                    let t = l.split(' ').next().unwrap_or("");
                    by_table.entry(t).or_default().push(&n.check);
                }
            }
            for (t, ids) in &by_table {
                let shown: Vec<&str> = ids.iter().take(6).copied().collect();
                let _ = writeln!(
                    s,
                    "  table {t} is not in the sources: {} check(s) ({}{})",
                    ids.len(),
                    shown.join(", "),
                    if ids.len() > 6 { ", ..." } else { "" }
                );
            }
            for n in c {
                let fields: Vec<&str> = n
                    .lacks
                    .iter()
                    .filter(|l| !l.ends_with("(table not in the sources)"))
                    .map(String::as_str)
                    .collect();
                if !fields.is_empty() {
                    let _ = writeln!(s, "  {:<40} lacks {}", n.check, fields.join(", "));
                }
            }
        }
    }
    if !x.diagnostics.is_empty() {
        let _ = writeln!(s, "\nInput errors and warnings:");
        for d in x.diagnostics.iter().take(50) {
            let _ = writeln!(s, "  {d}");
        }
        if x.diagnostics.len() > 50 {
            let _ = writeln!(
                s,
                "  ... and {} more (--format json lists them all)",
                x.diagnostics.len() - 50
            );
        }
    }
    let _ = writeln!(
        s,
        "\n{}",
        if x.errors == 0 {
            "The export reads without input errors.".to_string()
        } else {
            format!(
                "{} input error(s): `check` stops on them (exit 2) unless --keep-going, which counts each rejected record as an exception.",
                x.errors
            )
        }
    );
    s
}

/// Errors among diagnostics (for callers printing them).
pub fn error_count(d: &[Diagnostic]) -> usize {
    d.iter().filter(|x| x.level == Level::Error).count()
}
