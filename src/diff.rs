//! `evidentia diff OLD.json NEW.json`: what changed between two report.json files
//! (e.g. last quarter's and this quarter's): exceptions new, resolved and changed
//! (by check id and record id), controls whose status changed, catalog changes
//! (checks added, removed or redefined; control membership), and inputs changed
//! (SHA-256). Rendered as text, JSON or Markdown. Reads only the report.json contract.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::Serialize;
use serde_json::Value;

/// The report.json layouts this diff reads.
pub const SUPPORTED_SCHEMA: u64 = 1;

/// One side of the comparison.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Side {
    /// The file compared.
    pub path: String,
    /// Its as-of.
    pub as_of: String,
    /// Period start (null: open).
    pub period_start: Option<String>,
    /// Period end (null: open).
    pub period_end: Option<String>,
    /// evidentia version that wrote it.
    pub tool_version: String,
}

/// An exception of one record for one check.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Exception {
    /// Check id.
    pub check: String,
    /// Record id.
    pub record_id: String,
    /// Table.
    pub table: String,
    /// Verdict.
    pub verdict: String,
    /// Why.
    pub message: String,
    /// Source file.
    pub file: String,
    /// Source line.
    pub line: Option<u64>,
}

/// An exception no longer counted in the new report.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Resolved {
    /// The exception as it was.
    pub was: Exception,
    /// What the new report says of it.
    pub now: String,
}

/// One field that changed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldChange {
    /// Field name.
    pub field: String,
    /// Old value.
    pub old: String,
    /// New value.
    pub new: String,
}

/// An exception present in both reports whose content changed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Changed {
    /// Check id.
    pub check: String,
    /// Record id.
    pub record_id: String,
    /// What changed (verdict, message, values).
    pub changes: Vec<FieldChange>,
}

/// A control whose status changed (or that appeared or disappeared).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ControlChange {
    /// Framework id.
    pub framework: String,
    /// Control id.
    pub id: String,
    /// Old status (null: not in the old report).
    pub old: Option<String>,
    /// New status (null: not in the new report).
    pub new: Option<String>,
    /// Old result sentence.
    pub old_result: Option<String>,
    /// New result sentence.
    pub new_result: Option<String>,
}

/// A control whose checks changed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Membership {
    /// Framework id.
    pub framework: String,
    /// Control id.
    pub id: String,
    /// Checks added to it.
    pub added: Vec<String>,
    /// Checks removed from it.
    pub removed: Vec<String>,
}

/// A check whose definition changed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CheckChange {
    /// Check id.
    pub id: String,
    /// What changed (title, rule, table, filter, test, severity).
    pub changes: Vec<FieldChange>,
}

/// Catalog changes.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct CatalogDiff {
    /// Checks only in the new report.
    pub checks_added: Vec<String>,
    /// Checks only in the old report.
    pub checks_removed: Vec<String>,
    /// Checks redefined.
    pub checks_changed: Vec<CheckChange>,
    /// Controls only in the new report (`framework/id`).
    pub controls_added: Vec<String>,
    /// Controls only in the old report.
    pub controls_removed: Vec<String>,
    /// Controls whose checks changed.
    pub membership: Vec<Membership>,
    /// Catalog files whose SHA-256 changed, or that were added or removed.
    pub files: Vec<InputChange>,
}

/// An input (or catalog file) that changed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InputChange {
    /// Path in the old report (null: added).
    pub old_path: Option<String>,
    /// Path in the new report (null: removed).
    pub new_path: Option<String>,
    /// Old SHA-256.
    pub old_sha256: Option<String>,
    /// New SHA-256.
    pub new_sha256: Option<String>,
    /// Records read, old and new (inputs only).
    pub rows_read: Option<(u64, u64)>,
}

/// Everything that changed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Diff {
    /// The old report.
    pub old: Side,
    /// The new report.
    pub new: Side,
    /// Exceptions only in the new report.
    pub exceptions_new: Vec<Exception>,
    /// Exceptions only in the old report.
    pub exceptions_resolved: Vec<Resolved>,
    /// Exceptions in both whose verdict, message or values changed.
    pub exceptions_changed: Vec<Changed>,
    /// Controls whose status changed.
    pub controls_changed: Vec<ControlChange>,
    /// Catalog changes.
    pub catalog: CatalogDiff,
    /// Inputs whose SHA-256 changed, added or removed.
    pub inputs: Vec<InputChange>,
}

impl Diff {
    /// Nothing changed?
    pub fn is_empty(&self) -> bool {
        self.exceptions_new.is_empty()
            && self.exceptions_resolved.is_empty()
            && self.exceptions_changed.is_empty()
            && self.controls_changed.is_empty()
            && self.catalog == CatalogDiff::default()
            && self.inputs.is_empty()
    }
}

fn s(v: &Value) -> String {
    match v {
        Value::String(x) => x.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// Check that a value is a report.json this diff reads.
pub fn check_report(v: &Value, path: &str) -> Result<(), String> {
    if v.get("checks").is_none_or(|c| !c.is_array()) || v.get("controls").is_none() {
        return Err(format!(
            "{path}: not an evidentia report.json (no checks[] and controls[])"
        ));
    }
    match v.get("schema_version").and_then(Value::as_u64) {
        Some(SUPPORTED_SCHEMA) => Ok(()),
        Some(n) => Err(format!(
            "{path}: report.json layout {n} is not supported (this evidentia reads {SUPPORTED_SCHEMA})"
        )),
        None => Err(format!("{path}: report.json has no schema_version")),
    }
}

fn side(v: &Value, path: &str) -> Side {
    let opt = |x: &Value| x.as_str().map(String::from);
    Side {
        path: path.to_string(),
        as_of: s(&v["as_of"]),
        period_start: opt(&v["period"]["start"]),
        period_end: opt(&v["period"]["end"]),
        tool_version: s(&v["tool"]["version"]),
    }
}

type Key = (String, String);

fn exception_of(check: &str, r: &Value) -> Exception {
    Exception {
        check: check.to_string(),
        record_id: s(&r["record_id"]),
        table: s(&r["table"]),
        verdict: s(&r["verdict"]),
        message: s(&r["message"]),
        file: s(&r["file"]),
        line: r["line"].as_u64(),
    }
}

/// Counted exceptions by (check, record); a record listed twice keeps the first.
fn exceptions(v: &Value) -> BTreeMap<Key, (Exception, Value)> {
    let mut m = BTreeMap::new();
    for c in arr(&v["checks"]) {
        let id = s(&c["id"]);
        for r in arr(&c["exceptions"]) {
            let e = exception_of(&id, r);
            m.entry((id.clone(), e.record_id.clone()))
                .or_insert((e, r.clone()));
        }
    }
    m
}

/// Where a (check, record) is in a report other than among the exceptions.
fn whereabouts(v: &Value, key: &Key) -> String {
    let Some(c) = arr(&v["checks"]).iter().find(|c| s(&c["id"]) == key.0) else {
        return "the check is not in the new report".into();
    };
    for (list, what) in [
        ("waived_items", "waived"),
        ("pending_items", "pending"),
        ("not_counted", "not counted"),
    ] {
        if let Some(r) = arr(&c[list]).iter().find(|r| s(&r["record_id"]) == key.1) {
            let w = r["waiver"]["id"]
                .as_str()
                .map(|w| format!(" by {w}"))
                .unwrap_or_default();
            return format!("{what}{w} ({})", s(&r["verdict"]));
        }
    }
    "passes, or is no longer in the population".into()
}

/// Computed values that differ, as `values.<name>` changes.
fn value_changes(old: &Value, new: &Value) -> Vec<FieldChange> {
    let empty = serde_json::Map::new();
    let o = old.as_object().unwrap_or(&empty);
    let n = new.as_object().unwrap_or(&empty);
    let keys: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let a = o.get(k).map(s).unwrap_or_default();
            let b = n.get(k).map(s).unwrap_or_default();
            (a != b).then(|| FieldChange {
                field: format!("values.{k}"),
                old: a,
                new: b,
            })
        })
        .collect()
}

fn changes(pairs: &[(&str, String, String)]) -> Vec<FieldChange> {
    pairs
        .iter()
        .filter(|(_, a, b)| a != b)
        .map(|(f, a, b)| FieldChange {
            field: f.to_string(),
            old: a.clone(),
            new: b.clone(),
        })
        .collect()
}

/// Pair files by path, then the unpaired ones by the tables they fill (or, for
/// catalog files, by file name).
fn file_changes(
    old: &[(String, String, String, Option<u64>)],
    new: &[(String, String, String, Option<u64>)],
) -> Vec<InputChange> {
    let mut out = Vec::new();
    let mut used_new = BTreeSet::new();
    let mut unpaired_old = Vec::new();
    for (i, o) in old.iter().enumerate() {
        match new.iter().position(|n| n.0 == o.0) {
            Some(j) => {
                used_new.insert(j);
                pair(&mut out, o, &new[j]);
            }
            None => unpaired_old.push(i),
        }
    }
    for i in unpaired_old {
        let o = &old[i];
        let j = new
            .iter()
            .enumerate()
            .find(|(j, n)| !used_new.contains(j) && n.2 == o.2)
            .map(|(j, _)| j);
        match j {
            Some(j) => {
                used_new.insert(j);
                pair(&mut out, o, &new[j]);
            }
            None => out.push(InputChange {
                old_path: Some(o.0.clone()),
                new_path: None,
                old_sha256: Some(o.1.clone()),
                new_sha256: None,
                rows_read: None,
            }),
        }
    }
    for (j, n) in new.iter().enumerate() {
        if !used_new.contains(&j) {
            out.push(InputChange {
                old_path: None,
                new_path: Some(n.0.clone()),
                old_sha256: None,
                new_sha256: Some(n.1.clone()),
                rows_read: None,
            });
        }
    }
    out
}

fn pair(
    out: &mut Vec<InputChange>,
    o: &(String, String, String, Option<u64>),
    n: &(String, String, String, Option<u64>),
) {
    if o.1 != n.1 || o.0 != n.0 {
        out.push(InputChange {
            old_path: Some(o.0.clone()),
            new_path: Some(n.0.clone()),
            old_sha256: Some(o.1.clone()),
            new_sha256: Some(n.1.clone()),
            rows_read: match (o.3, n.3) {
                (Some(a), Some(b)) => Some((a, b)),
                _ => None,
            },
        });
    }
}

/// Compare two parsed report.json values.
pub fn diff(old: &Value, old_path: &str, new: &Value, new_path: &str) -> Diff {
    let eo = exceptions(old);
    let en = exceptions(new);
    let mut exceptions_new = Vec::new();
    let mut exceptions_resolved = Vec::new();
    let mut exceptions_changed = Vec::new();
    for (k, (e, raw)) in &en {
        match eo.get(k) {
            None => exceptions_new.push(e.clone()),
            Some((oe, oraw)) => {
                let mut ch = changes(&[("verdict", oe.verdict.clone(), e.verdict.clone())]);
                let vals = value_changes(&oraw["values"], &raw["values"]);
                // The message is derived from the values: shown only when they did
                // not change.
                if vals.is_empty() {
                    ch.extend(changes(&[(
                        "message",
                        oe.message.clone(),
                        e.message.clone(),
                    )]));
                }
                ch.extend(vals);
                if !ch.is_empty() {
                    exceptions_changed.push(Changed {
                        check: k.0.clone(),
                        record_id: k.1.clone(),
                        changes: ch,
                    });
                }
            }
        }
    }
    for (k, (e, _)) in &eo {
        if !en.contains_key(k) {
            exceptions_resolved.push(Resolved {
                was: e.clone(),
                now: whereabouts(new, k),
            });
        }
    }

    // Controls.
    let controls = |v: &Value| -> BTreeMap<Key, Value> {
        arr(&v["controls"])
            .iter()
            .map(|c| ((s(&c["framework"]), s(&c["id"])), c.clone()))
            .collect()
    };
    let (co, cn) = (controls(old), controls(new));
    let mut controls_changed = Vec::new();
    let mut cat = CatalogDiff::default();
    for (k, c) in &cn {
        match co.get(k) {
            Some(o) => {
                if o["status"] != c["status"] {
                    controls_changed.push(ControlChange {
                        framework: k.0.clone(),
                        id: k.1.clone(),
                        old: Some(s(&o["status"])),
                        new: Some(s(&c["status"])),
                        old_result: Some(s(&o["result"])),
                        new_result: Some(s(&c["result"])),
                    });
                }
                let set = |v: &Value| -> BTreeSet<String> { arr(v).iter().map(s).collect() };
                let (a, b) = (set(&o["checks"]), set(&c["checks"]));
                if a != b {
                    cat.membership.push(Membership {
                        framework: k.0.clone(),
                        id: k.1.clone(),
                        added: b.difference(&a).cloned().collect(),
                        removed: a.difference(&b).cloned().collect(),
                    });
                }
            }
            None => cat.controls_added.push(format!("{}/{}", k.0, k.1)),
        }
    }
    for k in co.keys() {
        if !cn.contains_key(k) {
            cat.controls_removed.push(format!("{}/{}", k.0, k.1));
        }
    }

    // Checks.
    let checks = |v: &Value| -> BTreeMap<String, Value> {
        arr(&v["checks"])
            .iter()
            .map(|c| (s(&c["id"]), c.clone()))
            .collect()
    };
    let (ko, kn) = (checks(old), checks(new));
    for (id, c) in &kn {
        match ko.get(id) {
            None => cat.checks_added.push(id.clone()),
            Some(o) => {
                let fields = [
                    "title", "rule", "table", "via", "filter", "test", "severity",
                ];
                let pairs: Vec<(&str, String, String)> =
                    fields.iter().map(|f| (*f, s(&o[*f]), s(&c[*f]))).collect();
                let ch = changes(&pairs);
                if !ch.is_empty() {
                    cat.checks_changed.push(CheckChange {
                        id: id.clone(),
                        changes: ch,
                    });
                }
            }
        }
    }
    cat.checks_removed = ko
        .keys()
        .filter(|k| !kn.contains_key(*k))
        .cloned()
        .collect();

    // Catalog files: paired by path, then by file name.
    let cfiles = |v: &Value| -> Vec<(String, String, String, Option<u64>)> {
        arr(&v["catalog"])
            .iter()
            .map(|f| {
                let p = s(&f["path"]);
                let name = p.rsplit(['/', '\\']).next().unwrap_or(&p).to_string();
                (p, s(&f["sha256"]), name, None)
            })
            .collect()
    };
    cat.files = file_changes(&cfiles(old), &cfiles(new));

    // Inputs: paired by path, then by the tables they fill.
    let inputs = |v: &Value| -> Vec<(String, String, String, Option<u64>)> {
        arr(&v["inputs"])
            .iter()
            .map(|i| {
                let tables: Vec<String> = arr(&i["tables"]).iter().map(s).collect();
                (
                    s(&i["path"]),
                    s(&i["sha256"]),
                    tables.join(","),
                    i["rows_read"].as_u64(),
                )
            })
            .collect()
    };
    let inputs = file_changes(&inputs(old), &inputs(new));

    Diff {
        old: side(old, old_path),
        new: side(new, new_path),
        exceptions_new,
        exceptions_resolved,
        exceptions_changed,
        controls_changed,
        catalog: cat,
        inputs,
    }
}

fn short(h: &Option<String>) -> String {
    match h {
        Some(h) if h.len() > 12 => format!("{}…", &h[..12]),
        Some(h) => h.clone(),
        None => "-".into(),
    }
}

fn at(e: &Exception) -> String {
    match e.line {
        Some(l) => format!("{}:{l}", e.file),
        None => e.file.clone(),
    }
}

fn period(sd: &Side) -> String {
    format!(
        "[{}, {})",
        sd.period_start.as_deref().unwrap_or("open"),
        sd.period_end.as_deref().unwrap_or("open")
    )
}

fn input_line(i: &InputChange) -> String {
    match (&i.old_path, &i.new_path) {
        (Some(o), Some(n)) => {
            let path = if o == n {
                o.clone()
            } else {
                format!("{o} -> {n}")
            };
            let rows = match i.rows_read {
                Some((a, b)) if a != b => format!("; rows read {a} -> {b}"),
                Some((a, _)) => format!("; {a} rows read"),
                None => String::new(),
            };
            format!(
                "changed  {path}: sha256 {} -> {}{rows}",
                short(&i.old_sha256),
                short(&i.new_sha256)
            )
        }
        (None, Some(n)) => format!("added    {n}: sha256 {}", short(&i.new_sha256)),
        (Some(o), None) => format!("removed  {o}: sha256 {}", short(&i.old_sha256)),
        (None, None) => String::new(),
    }
}

fn change_text(c: &[FieldChange]) -> String {
    c.iter()
        .map(|f| format!("{}: \"{}\" -> \"{}\"", f.field, f.old, f.new))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The diff as text.
pub fn render_text(d: &Diff) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "old: {} (as of {}, period {})\nnew: {} (as of {}, period {})",
        d.old.path,
        d.old.as_of,
        period(&d.old),
        d.new.path,
        d.new.as_of,
        period(&d.new)
    );
    if d.is_empty() {
        let _ = writeln!(o, "\nNo differences.");
        return o;
    }
    let _ = writeln!(
        o,
        "\nExceptions: {} new, {} resolved, {} changed",
        d.exceptions_new.len(),
        d.exceptions_resolved.len(),
        d.exceptions_changed.len()
    );
    for e in &d.exceptions_new {
        let _ = writeln!(
            o,
            "  new       {} {} [{}] at {}: {}",
            e.check,
            e.record_id,
            e.verdict,
            at(e),
            e.message
        );
    }
    for r in &d.exceptions_resolved {
        let _ = writeln!(
            o,
            "  resolved  {} {} [{}]: now {}",
            r.was.check, r.was.record_id, r.was.verdict, r.now
        );
    }
    for c in &d.exceptions_changed {
        let _ = writeln!(
            o,
            "  changed   {} {}: {}",
            c.check,
            c.record_id,
            change_text(&c.changes)
        );
    }
    let _ = writeln!(
        o,
        "\nControls whose status changed: {}",
        d.controls_changed.len()
    );
    for c in &d.controls_changed {
        let _ = writeln!(
            o,
            "  {}/{}: {} -> {}\n    was: {}\n    now: {}",
            c.framework,
            c.id,
            c.old.as_deref().unwrap_or("-"),
            c.new.as_deref().unwrap_or("-"),
            c.old_result.as_deref().unwrap_or("-"),
            c.new_result.as_deref().unwrap_or("-")
        );
    }
    let k = &d.catalog;
    let _ = writeln!(o, "\nCatalog:");
    if *k == CatalogDiff::default() {
        let _ = writeln!(o, "  no changes");
    }
    for id in &k.checks_added {
        let _ = writeln!(o, "  check added    {id}");
    }
    for id in &k.checks_removed {
        let _ = writeln!(o, "  check removed  {id}");
    }
    for c in &k.checks_changed {
        let _ = writeln!(o, "  check changed  {}: {}", c.id, change_text(&c.changes));
    }
    for c in &k.controls_added {
        let _ = writeln!(o, "  control added    {c}");
    }
    for c in &k.controls_removed {
        let _ = writeln!(o, "  control removed  {c}");
    }
    for m in &k.membership {
        let mut parts = Vec::new();
        parts.extend(m.added.iter().map(|x| format!("+{x}")));
        parts.extend(m.removed.iter().map(|x| format!("-{x}")));
        let _ = writeln!(
            o,
            "  control checks {}/{}: {}",
            m.framework,
            m.id,
            parts.join(" ")
        );
    }
    for f in &k.files {
        let _ = writeln!(o, "  file {}", input_line(f));
    }
    let _ = writeln!(o, "\nInputs changed: {}", d.inputs.len());
    for i in &d.inputs {
        let _ = writeln!(o, "  {}", input_line(i));
    }
    o
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The diff as Markdown (for a pull-request comment or a quarterly memo).
pub fn render_md(d: &Diff) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "## What changed\n");
    let _ = writeln!(o, "| | report | as of | period |\n|---|---|---|---|");
    for (n, sd) in [("old", &d.old), ("new", &d.new)] {
        let _ = writeln!(
            o,
            "| {n} | `{}` | {} | {} |",
            md_cell(&sd.path),
            sd.as_of,
            period(sd)
        );
    }
    if d.is_empty() {
        let _ = writeln!(o, "\nNo differences.");
        return o;
    }
    let _ = writeln!(
        o,
        "\n### Exceptions: {} new, {} resolved, {} changed\n",
        d.exceptions_new.len(),
        d.exceptions_resolved.len(),
        d.exceptions_changed.len()
    );
    if !(d.exceptions_new.is_empty()
        && d.exceptions_resolved.is_empty()
        && d.exceptions_changed.is_empty())
    {
        let _ = writeln!(o, "| change | check | record | detail |\n|---|---|---|---|");
        for e in &d.exceptions_new {
            let _ = writeln!(
                o,
                "| new | `{}` | `{}` | {} at `{}`: {} |",
                e.check,
                md_cell(&e.record_id),
                e.verdict,
                md_cell(&at(e)),
                md_cell(&e.message)
            );
        }
        for r in &d.exceptions_resolved {
            let _ = writeln!(
                o,
                "| resolved | `{}` | `{}` | was {}; now {} |",
                r.was.check,
                md_cell(&r.was.record_id),
                r.was.verdict,
                md_cell(&r.now)
            );
        }
        for c in &d.exceptions_changed {
            let _ = writeln!(
                o,
                "| changed | `{}` | `{}` | {} |",
                c.check,
                md_cell(&c.record_id),
                md_cell(&change_text(&c.changes))
            );
        }
    }
    let _ = writeln!(
        o,
        "\n### Controls whose status changed: {}\n",
        d.controls_changed.len()
    );
    if !d.controls_changed.is_empty() {
        let _ = writeln!(o, "| control | old | new | now |\n|---|---|---|---|");
        for c in &d.controls_changed {
            let _ = writeln!(
                o,
                "| `{}/{}` | {} | {} | {} |",
                c.framework,
                c.id,
                c.old.as_deref().unwrap_or("-"),
                c.new.as_deref().unwrap_or("-"),
                md_cell(c.new_result.as_deref().unwrap_or("-"))
            );
        }
    }
    let _ = writeln!(o, "\n### Catalog\n");
    let k = &d.catalog;
    if *k == CatalogDiff::default() {
        let _ = writeln!(o, "No changes.");
    }
    for id in &k.checks_added {
        let _ = writeln!(o, "- check added: `{id}`");
    }
    for id in &k.checks_removed {
        let _ = writeln!(o, "- check removed: `{id}`");
    }
    for c in &k.checks_changed {
        let _ = writeln!(
            o,
            "- check changed: `{}`: {}",
            c.id,
            md_cell(&change_text(&c.changes))
        );
    }
    for c in &k.controls_added {
        let _ = writeln!(o, "- control added: `{c}`");
    }
    for c in &k.controls_removed {
        let _ = writeln!(o, "- control removed: `{c}`");
    }
    for m in &k.membership {
        let mut parts = Vec::new();
        if !m.added.is_empty() {
            parts.push(format!("checks added: {}", m.added.join(", ")));
        }
        if !m.removed.is_empty() {
            parts.push(format!("checks removed: {}", m.removed.join(", ")));
        }
        let _ = writeln!(
            o,
            "- control `{}/{}`: {}",
            m.framework,
            m.id,
            parts.join("; ")
        );
    }
    for f in &k.files {
        let _ = writeln!(o, "- catalog file {}", md_cell(&input_line(f)));
    }
    let _ = writeln!(o, "\n### Inputs changed: {}\n", d.inputs.len());
    for i in &d.inputs {
        let _ = writeln!(o, "- {}", md_cell(&input_line(i)));
    }
    o
}

/// The diff as pretty JSON (keys sorted) with a trailing newline.
pub fn render_json(d: &Diff) -> String {
    let v = serde_json::to_value(d).unwrap_or_default();
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(exc: Value, status: &str, sha: &str) -> Value {
        json!({
            "schema_version": 1,
            "tool": {"version": "0"},
            "as_of": "2026-01-01T00:00:00Z",
            "period": {"start": null, "end": null},
            "inputs": [{"path": "e/i.csv", "sha256": sha, "tables": ["incidents"], "rows_read": 3}],
            "catalog": [],
            "checks": [{"id": "c", "title": "t", "rule": "required", "table": "incidents",
                        "exceptions": exc, "waived_items": [], "pending_items": [], "not_counted": []}],
            "controls": [{"framework": "f", "id": "C", "status": status, "result": "r", "checks": ["c"]}],
        })
    }

    #[test]
    fn new_resolved_changed() {
        let old = report(
            json!([
                {"record_id": "A", "verdict": "exception", "message": "m", "values": {}},
                {"record_id": "B", "verdict": "exception", "message": "m", "values": {}},
            ]),
            "exceptions",
            "aa",
        );
        let new = report(
            json!([
                {"record_id": "B", "verdict": "not-evaluable", "message": "m2", "values": {}},
                {"record_id": "C", "verdict": "exception", "message": "m", "values": {}},
            ]),
            "exceptions",
            "bb",
        );
        check_report(&old, "old").unwrap();
        let d = diff(&old, "old", &new, "new");
        assert_eq!(d.exceptions_new.len(), 1);
        assert_eq!(d.exceptions_new[0].record_id, "C");
        assert_eq!(d.exceptions_resolved[0].was.record_id, "A");
        assert_eq!(d.exceptions_changed[0].record_id, "B");
        assert_eq!(d.exceptions_changed[0].changes.len(), 2);
        assert!(d.controls_changed.is_empty());
        assert_eq!(d.inputs.len(), 1);
        let same = diff(&old, "old", &old, "old");
        assert!(same.is_empty());
    }
}
