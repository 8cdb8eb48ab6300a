//! `sources.yaml`: where each canonical table comes from and how to read it.
//!
//! Parsed with locations (see `yaml`), validated against `schemas/sources.schema.json`,
//! then compiled into one `TableSource` per table. Every problem names
//! `sources.yaml:line:col`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value as J;

use super::tables::{self, TableDef};
use crate::diag::{Code, Diagnostic, Diags};
use crate::time::{AmbiguousPolicy, DateSemantics, TsFormat, parse_zone};
use crate::yaml::{Doc, escape_token};

/// The JSON Schema of sources.yaml, shipped in the binary.
pub const SCHEMA: &str = include_str!("../../schemas/sources.schema.json");

/// sources.yaml as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSources {
    /// Optional editor hint, ignored.
    #[serde(default, rename = "$schema")]
    pub schema: Option<String>,
    /// Default zone for timestamps without an offset, for every table.
    #[serde(default)]
    pub timezone: Option<String>,
    /// One entry per canonical table.
    pub tables: BTreeMap<String, RawTable>,
}

/// How one canonical table is read.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawTable {
    /// One export file (relative to sources.yaml).
    #[serde(default)]
    pub file: Option<String>,
    /// Several export files with the same layout.
    #[serde(default)]
    pub files: Vec<String>,
    /// Derived table: read from the records of another table's files.
    #[serde(default)]
    pub from: Option<String>,
    /// Derived table: a row exists only where this canonical field has a value.
    #[serde(default)]
    pub skip_unless: Option<String>,
    /// csv, json or ndjson (default: from the file extension).
    #[serde(default)]
    pub format: Option<String>,
    /// JSON: pointer to the array of records (e.g. `/incidents`); default: the top level.
    #[serde(default)]
    pub records: Option<String>,
    /// CSV delimiter (one character; default `,`).
    #[serde(default)]
    pub delimiter: Option<String>,
    /// Zone for timestamps without an offset (IANA name).
    #[serde(default)]
    pub timezone: Option<String>,
    /// chrono strftime pattern for timestamps (default: RFC 3339).
    #[serde(default)]
    pub timestamp_format: Option<String>,
    /// Meaning of date-only values: start-of-day or end-of-day.
    #[serde(default)]
    pub dates: Option<DateSemantics>,
    /// Local times repeated by a DST change: error (default), earliest, latest.
    #[serde(default)]
    pub ambiguous: Option<AmbiguousPolicy>,
    /// Values that mean "missing" (default: the empty string).
    #[serde(default)]
    pub missing: Option<Vec<String>>,
    /// Separator of list values in one cell (default `;`).
    #[serde(default)]
    pub list_separator: Option<String>,
    /// canonical field -> column name (CSV), key or JSON pointer (JSON), `{const: v}`,
    /// or (JSON) `{pick: /array, where: {/key: value}, value: /pointer}`.
    #[serde(default)]
    pub columns: BTreeMap<String, J>,
    /// Several rows per id (an event log): keep the row with the highest value of this
    /// column (a whole number or a timestamp; the later row on a tie) instead of
    /// rejecting the others as duplicates.
    #[serde(default)]
    pub latest_by: Option<String>,
    /// canonical field -> { value as exported: canonical value }.
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, J>>,
}

/// Export file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// A JSON array of objects (or one under `records`).
    Json,
    /// One JSON object per line.
    Ndjson,
}

/// Where a canonical field's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnSpec {
    /// A column (CSV), a key or a JSON pointer (JSON); `explicit` when named in
    /// sources.yaml rather than found by the canonical name.
    Column {
        /// Name or pointer as written.
        name: String,
        /// Named in sources.yaml?
        explicit: bool,
    },
    /// The same value for every record.
    Const(String),
    /// JSON: a value from the element of an array that matches a condition.
    Pick(super::select::Pick),
}

/// A compiled table source.
#[derive(Debug, Clone)]
pub struct TableSource {
    /// Canonical table.
    pub def: &'static TableDef,
    /// Files to read (resolved paths and as-written paths).
    pub files: Vec<(PathBuf, String)>,
    /// Derived from this table's files.
    pub from: Option<String>,
    /// Derived rows need this field (canonical index).
    pub skip_unless: Option<usize>,
    /// Format.
    pub format: Format,
    /// JSON records pointer.
    pub records: Option<String>,
    /// CSV delimiter.
    pub delimiter: u8,
    /// Timestamp reading.
    pub ts: TsFormat,
    /// Missing markers.
    pub missing: Vec<String>,
    /// List separator.
    pub list_separator: String,
    /// canonical index -> where it comes from (only mapped fields).
    pub columns: BTreeMap<usize, ColumnSpec>,
    /// canonical index -> value mapping (exported text -> canonical text).
    pub values: BTreeMap<usize, BTreeMap<String, String>>,
    /// Column whose highest value picks the row kept per id (`latest_by`).
    pub latest_by: Option<String>,
    /// Where this table is declared in sources.yaml (for messages).
    pub declared_at: (u64, u64),
}

/// Load and compile sources.yaml; every problem is collected. Export paths are
/// relative to `data` when given, else to the folder of sources.yaml.
pub fn load(path: &Path, data: Option<&Path>, diags: &mut Diags) -> Vec<TableSource> {
    let file = path.display().to_string();
    let text = match std::fs::read(path) {
        Ok(b) => match String::from_utf8(b) {
            Ok(t) => t,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let (line, col) = crate::diag::byte_position(e.as_bytes(), at);
                diags.push(
                    Diagnostic::error(
                        Code::InvalidUtf8,
                        &file,
                        format!("not valid UTF-8 at byte {at}"),
                    )
                    .at(line, col),
                );
                return vec![];
            }
        },
        Err(e) => {
            diags.push(Diagnostic::error(
                Code::Io,
                &file,
                format!("cannot read sources file: {e}"),
            ));
            return vec![];
        }
    };
    let base = match data {
        Some(d) => d.to_path_buf(),
        None => path.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    compile_text(&text, &file, &base, diags)
}

/// Compile sources.yaml text (`file` names it in messages; `base` resolves paths).
pub fn compile_text(text: &str, file: &str, base: &Path, diags: &mut Diags) -> Vec<TableSource> {
    let doc = match Doc::parse(text) {
        Ok(d) => d,
        Err(e) => {
            diags
                .push(Diagnostic::error(Code::YamlSyntax, file, e.message).at(e.at.line, e.at.col));
            return vec![];
        }
    };
    if !crate::schema::validate(SCHEMA, &doc, file, diags) {
        return vec![];
    }
    let raw: RawSources = match crate::schema::typed(&doc, file, diags) {
        Some(r) => r,
        None => return vec![],
    };
    let at = |p: &str| {
        let l = doc.locate(p);
        (l.line, l.col)
    };
    let mut err = |code: Code, p: &str, msg: String| {
        let (l, c) = at(p);
        diags.push(Diagnostic::error(code, file, msg).at(l, c));
    };
    let default_zone = raw.timezone.as_deref();
    let mut out = Vec::new();
    for (name, t) in &raw.tables {
        let tp = format!("/tables/{}", escape_token(name));
        let Some(def) = tables::table(name) else {
            err(
                Code::UnknownTable,
                &tp,
                format!("unknown table `{name}` (tables: {})", tables::table_names()),
            );
            continue;
        };
        let mut files: Vec<(PathBuf, String)> = Vec::new();
        for f in t.file.iter().chain(t.files.iter()) {
            files.push((base.join(f), f.clone()));
        }
        if files.is_empty() && t.from.is_none() {
            err(
                Code::BadValue,
                &tp,
                format!("table `{name}` needs `file`, `files` or `from`"),
            );
            continue;
        }
        if !files.is_empty() && t.from.is_some() {
            err(
                Code::BadValue,
                &tp,
                format!(
                    "table `{name}` has both files and `from`; a derived table reads its parent's files"
                ),
            );
        }
        if let Some(parent) = &t.from {
            match raw.tables.get(parent) {
                Some(p) if p.from.is_none() => {}
                Some(_) => err(
                    Code::BadValue,
                    &format!("{tp}/from"),
                    format!("`{parent}` is itself derived; derive from a table with files"),
                ),
                None => err(
                    Code::UnknownTable,
                    &format!("{tp}/from"),
                    format!("`from: {parent}` names no table of this sources file"),
                ),
            }
        }
        // The derived table inherits its parent's reading options.
        let parent = t.from.as_ref().and_then(|p| raw.tables.get(p));
        let pick = |own: &Option<String>, par: Option<&Option<String>>| -> Option<String> {
            own.clone().or_else(|| par.and_then(|p| p.clone()))
        };
        let fmt_name = pick(&t.format, parent.map(|p| &p.format));
        let first_file = files
            .first()
            .map(|f| f.1.clone())
            .or_else(|| parent.and_then(|p| p.file.clone().or_else(|| p.files.first().cloned())));
        let format = match fmt_name.as_deref() {
            Some("csv") => Format::Csv,
            Some("json") => Format::Json,
            Some("ndjson") | Some("jsonl") => Format::Ndjson,
            Some(other) => {
                err(
                    Code::BadValue,
                    &format!("{tp}/format"),
                    format!("unknown format `{other}` (csv, json, ndjson)"),
                );
                continue;
            }
            None => match first_file.as_deref().and_then(|f| f.rsplit('.').next()) {
                Some(e) if e.eq_ignore_ascii_case("json") => Format::Json,
                Some(e) if e.eq_ignore_ascii_case("ndjson") || e.eq_ignore_ascii_case("jsonl") => {
                    Format::Ndjson
                }
                _ => Format::Csv,
            },
        };
        let zone_name =
            pick(&t.timezone, parent.map(|p| &p.timezone)).or(default_zone.map(String::from));
        let zone = match zone_name.as_deref().map(parse_zone) {
            Some(Ok(z)) => Some(z),
            Some(Err(m)) => {
                err(Code::BadValue, &format!("{tp}/timezone"), m);
                None
            }
            None => None,
        };
        let pattern = pick(&t.timestamp_format, parent.map(|p| &p.timestamp_format));
        if let Some(p) = &pattern
            && let Err(m) = check_pattern(p)
        {
            err(Code::BadValue, &format!("{tp}/timestamp_format"), m);
        }
        let ts = TsFormat {
            pattern,
            zone,
            dates: t.dates.or(parent.and_then(|p| p.dates)),
            ambiguous: t
                .ambiguous
                .or(parent.and_then(|p| p.ambiguous))
                .unwrap_or_default(),
        };
        let delimiter = match pick(&t.delimiter, parent.map(|p| &p.delimiter)).as_deref() {
            None => b',',
            Some(d) if d.len() == 1 => d.as_bytes().first().copied().unwrap_or(b','),
            Some("\\t") | Some("tab") => b'\t',
            Some(d) => {
                err(
                    Code::BadValue,
                    &format!("{tp}/delimiter"),
                    format!("delimiter `{d}` must be one ASCII character"),
                );
                b','
            }
        };
        let mut columns = BTreeMap::new();
        for (field, spec) in &t.columns {
            let fp = format!("{tp}/columns/{}", escape_token(field));
            let Some(idx) = def.fields.iter().position(|f| f.name == field) else {
                err(
                    Code::UnknownField,
                    &fp,
                    format!(
                        "table `{name}` has no field `{field}` (fields: {})",
                        tables::field_names(def)
                    ),
                );
                continue;
            };
            let c = match spec {
                J::String(s) => ColumnSpec::Column {
                    name: s.clone(),
                    explicit: true,
                },
                J::Object(m) if m.len() == 1 && m.contains_key("const") => match m.get("const") {
                    Some(J::String(s)) => ColumnSpec::Const(s.clone()),
                    Some(J::Bool(b)) => ColumnSpec::Const(b.to_string()),
                    Some(J::Number(n)) => ColumnSpec::Const(n.to_string()),
                    _ => {
                        err(
                            Code::BadValue,
                            &fp,
                            "`const` takes a string, number or boolean".into(),
                        );
                        continue;
                    }
                },
                J::Object(m) if m.contains_key("pick") => match super::select::Pick::compile(m) {
                    Ok(_) if format == Format::Csv => {
                        err(
                            Code::BadValue,
                            &fp,
                            "`pick` selects inside JSON records; this table is read as CSV".into(),
                        );
                        continue;
                    }
                    Ok(p) => ColumnSpec::Pick(p),
                    Err(m) => {
                        err(Code::BadValue, &fp, m);
                        continue;
                    }
                },
                _ => {
                    err(
                        Code::BadValue,
                        &fp,
                        "a column is a name (or JSON pointer), `{ const: value }` or `{ pick: /array, where: {...}, value: /pointer }`".into(),
                    );
                    continue;
                }
            };
            columns.insert(idx, c);
        }
        let mut values = BTreeMap::new();
        for (field, map) in &t.values {
            let fp = format!("{tp}/values/{}", escape_token(field));
            let Some(idx) = def.fields.iter().position(|f| f.name == field) else {
                err(
                    Code::UnknownField,
                    &fp,
                    format!("table `{name}` has no field `{field}`"),
                );
                continue;
            };
            let mut m = BTreeMap::new();
            for (from, to) in map {
                let to = match to {
                    J::String(s) => s.clone(),
                    J::Bool(b) => b.to_string(),
                    J::Number(n) => n.to_string(),
                    J::Null => String::new(),
                    _ => {
                        err(
                            Code::BadValue,
                            &format!("{fp}/{}", escape_token(from)),
                            "a mapped value is a string, number, boolean or null".into(),
                        );
                        continue;
                    }
                };
                m.insert(from.clone(), to);
            }
            values.insert(idx, m);
        }
        let skip_unless = match &t.skip_unless {
            Some(f) => match def.fields.iter().position(|x| x.name == f) {
                Some(i) => Some(i),
                None => {
                    err(
                        Code::UnknownField,
                        &format!("{tp}/skip_unless"),
                        format!("table `{name}` has no field `{f}`"),
                    );
                    None
                }
            },
            None => None,
        };
        out.push(TableSource {
            def,
            files,
            from: t.from.clone(),
            skip_unless,
            format,
            records: pick(&t.records, parent.map(|p| &p.records)),
            delimiter,
            ts,
            missing: t
                .missing
                .clone()
                .or_else(|| parent.and_then(|p| p.missing.clone()))
                .unwrap_or_else(|| vec![String::new()]),
            list_separator: pick(&t.list_separator, parent.map(|p| &p.list_separator))
                .unwrap_or_else(|| ";".into()),
            columns,
            values,
            latest_by: pick(&t.latest_by, parent.map(|p| &p.latest_by)),
            declared_at: at(&tp),
        });
    }
    if !raw.tables.contains_key("incidents") {
        err(
            Code::BadValue,
            "/tables",
            "sources must provide the `incidents` table".into(),
        );
    }
    out
}

/// Reject strftime patterns chrono cannot use, before any file is read.
fn check_pattern(p: &str) -> Result<(), String> {
    use chrono::format::{Item, StrftimeItems};
    if StrftimeItems::new(p).any(|i| matches!(i, Item::Error)) {
        return Err(format!("`{p}` is not a valid chrono strftime pattern"));
    }
    Ok(())
}
