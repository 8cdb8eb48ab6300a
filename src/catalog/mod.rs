//! Catalog stage: `controls/*.yaml` -> `Catalog` (checks, frameworks, crosswalks,
//! calendars, and the official text of controls).
//!
//! Each file is parsed with locations, validated against the shipped JSON Schema
//! (`schemas/catalog.schema.json`), deserialised into raw types, then validated as a
//! whole (ids unique, references resolved, durations, tables and fields known). All
//! problems are collected with `file:line:col`; only a clean catalog is returned.
//!
//! A `control_text` entry (written by `catalog import-oscal`, see [`oscal_import`])
//! attaches the official title, statement and parameters of a source such as NIST SP
//! 800-53 or a FedRAMP baseline to controls of a framework, as [`Control::official`].
//! The hand-written title, objective and reference stay as they are: the official text
//! is kept beside them, never in their place.

pub mod filter;
pub mod listing;
pub mod oscal_import;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value as J;

use crate::diag::{Code, Diagnostic, Diags};
use crate::evidence::tables::{self, TableDef};
use crate::rules::{self, Rule};
use crate::time::{Calendar, parse_zone};
use crate::yaml::Doc;
use filter::Cond;

/// The JSON Schema of catalog files, shipped in the binary.
pub const SCHEMA: &str = include_str!("../../schemas/catalog.schema.json");

/// How a failing check affects the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Exceptions fail the gate (default).
    #[default]
    Deny,
    /// Exceptions are reported as warnings; the gate passes.
    Warn,
    /// Evaluated and reported; never affects the gate.
    Allow,
}

/// What a not-evaluable record counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotEvaluable {
    /// An exception (default: fail closed).
    #[default]
    Exception,
    /// Reported, but not counted as an exception.
    Ignore,
}

/// A check as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCheck {
    /// Stable kebab-case id.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// Longer description.
    #[serde(default)]
    pub description: Option<String>,
    /// Rule kind.
    pub rule: String,
    /// deny (default), warn or allow.
    #[serde(default)]
    pub severity: Option<Severity>,
    /// exception (default) or ignore.
    #[serde(default)]
    pub not_evaluable: Option<NotEvaluable>,
    /// The records tested.
    pub population: RawPopulation,
    /// deadline/linked: the start field.
    #[serde(default)]
    pub start: Option<String>,
    /// deadline: the end (a field, or a related record's field).
    #[serde(default)]
    pub end: Option<J>,
    /// deadline/linked: the allowed time.
    #[serde(default)]
    pub within: Option<String>,
    /// deadline/linked: report "at risk" this long before the deadline.
    #[serde(default)]
    pub warn_before: Option<String>,
    /// deadline: zone of the wall clock for day-based spans.
    #[serde(default)]
    pub timezone: Option<String>,
    /// deadline: business-day calendar id.
    #[serde(default)]
    pub calendar: Option<String>,
    /// required/sequence: fields.
    #[serde(default)]
    pub fields: Option<Vec<String>>,
    /// required: only when this condition holds.
    #[serde(default)]
    pub when: Option<J>,
    /// required: further fields required under conditions.
    #[serde(default)]
    pub conditional: Option<Vec<RawConditional>>,
    /// allowed: the field.
    #[serde(default)]
    pub field: Option<String>,
    /// allowed: permitted values.
    #[serde(default)]
    pub values: Option<Vec<J>>,
    /// allowed: a pattern the value must match.
    #[serde(default)]
    pub pattern: Option<String>,
    /// sequence: missing timestamps are `not-evaluable` (default) or `skip`ped.
    #[serde(default)]
    pub missing: Option<String>,
    /// sequence: equal instants allowed (default true).
    #[serde(default)]
    pub allow_equal: Option<bool>,
    /// linked/each-linked: the path to related records.
    #[serde(default)]
    pub related: Option<J>,
    /// each-linked: what every related record must meet.
    #[serde(default)]
    pub require: Option<J>,
    /// linked: at least this many related records (default 1).
    #[serde(default)]
    pub min: Option<u32>,
    /// periodic: how often at least.
    #[serde(default)]
    pub every: Option<String>,
    /// periodic/coverage: judge each group of records (by this field) on its own.
    #[serde(default)]
    pub group_by: Option<String>,
    /// coverage: gaps up to this long are tolerated (default none).
    #[serde(default)]
    pub tolerance: Option<String>,
}

/// A conditional requirement.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConditional {
    /// Fields required.
    pub fields: Vec<String>,
    /// When they are required.
    pub when: J,
}

/// A population as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPopulation {
    /// Canonical table.
    pub table: String,
    /// Filter.
    #[serde(default, rename = "where")]
    pub filter: Option<J>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default, rename = "$schema")]
    _schema: Option<String>,
    #[serde(default)]
    checks: Vec<RawCheck>,
    #[serde(default)]
    frameworks: Vec<RawFramework>,
    #[serde(default)]
    crosswalks: Vec<RawCrosswalk>,
    #[serde(default)]
    calendars: Vec<RawCalendar>,
    #[serde(default)]
    control_text: Option<oscal_import::Imported>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFramework {
    id: String,
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    description: Option<String>,
    controls: Vec<RawControl>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawControl {
    id: String,
    title: String,
    #[serde(default)]
    objective: Option<String>,
    #[serde(default)]
    reference: Option<String>,
    #[serde(default)]
    checks: Vec<String>,
    #[serde(default)]
    manual: Option<RawManual>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManual {
    attest: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCrosswalk {
    from: String,
    to: String,
    #[serde(default)]
    source: Option<String>,
    mappings: Vec<RawMapping>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    from: String,
    to: String,
    relation: Relation,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    id: String,
    timezone: String,
    #[serde(default)]
    weekend: Option<Vec<String>>,
    #[serde(default)]
    holidays: Vec<String>,
}

/// A crosswalk relation (as in NIST OLIR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relation {
    /// Same objective.
    Equal,
    /// `from` is narrower than `to`.
    Subset,
    /// `from` is broader than `to`.
    Superset,
    /// They overlap.
    Intersect,
}

/// Where a catalog entry was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    /// Catalog file.
    pub file: String,
    /// Line.
    pub line: u64,
}

/// A validated check.
#[derive(Debug)]
pub struct Check {
    /// Stable id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Gate severity.
    pub severity: Severity,
    /// Policy for not-evaluable records.
    pub not_evaluable: NotEvaluable,
    /// Population table.
    pub table: &'static TableDef,
    /// Population filter.
    pub filter: Option<Cond>,
    /// The filter as written (for reports).
    pub filter_text: Option<String>,
    /// The rule.
    pub rule: Box<dyn Rule>,
    /// Where it is defined.
    pub origin: Origin,
}

/// A validated control.
#[derive(Debug, Clone, Serialize)]
pub struct Control {
    /// Control id within its framework.
    pub id: String,
    /// Title.
    pub title: String,
    /// Objective, paraphrased.
    pub objective: Option<String>,
    /// Reference in the source standard.
    pub reference: Option<String>,
    /// Checks that test it.
    pub checks: Vec<String>,
    /// What a person attests, for manual controls.
    pub manual: Option<String>,
    /// The official text, from a `control_text` entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub official: Option<Official>,
}

/// A control's official text (title, statement, parameters) and where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct Official {
    /// The control's id in the source (e.g. `ir-6`).
    pub oscal_id: String,
    /// Official title.
    pub title: String,
    /// Statement, parameters filled in.
    pub statement: String,
    /// Parameters with their values.
    pub parameters: Vec<oscal_import::Param>,
    /// The OSCAL source (file, SHA-256, title, version, dates).
    pub source: oscal_import::Source,
    /// The catalog file and line of the `control_text` entry.
    pub origin: Origin,
}

impl Official {
    /// "<source title>, version <version>", for report headings.
    pub fn source_label(&self) -> String {
        format!("{}, version {}", self.source.title, self.source.version)
    }
}

/// A validated framework.
#[derive(Debug, Clone, Serialize)]
pub struct Framework {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Version.
    pub version: Option<String>,
    /// Source of the control list.
    pub source: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Controls in catalog order.
    pub controls: Vec<Control>,
}

/// One crosswalk mapping.
#[derive(Debug, Clone, Serialize)]
pub struct Mapping {
    /// Framework of the left control.
    pub from_framework: String,
    /// Left control.
    pub from: String,
    /// Framework of the right control.
    pub to_framework: String,
    /// Right control.
    pub to: String,
    /// Relation.
    pub relation: Relation,
    /// Note.
    pub note: Option<String>,
}

/// The whole catalog.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Checks in id order.
    pub checks: Vec<Check>,
    /// Frameworks in id order.
    pub frameworks: Vec<Framework>,
    /// Crosswalk mappings.
    pub crosswalk: Vec<Mapping>,
    /// Calendars by id.
    pub calendars: BTreeMap<String, Calendar>,
    /// Catalog files read, with SHA-256.
    pub files: Vec<(String, String)>,
}

impl Catalog {
    /// A check by id.
    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }
}

/// Context handed to rule compilers: the check's file, document and diagnostics.
pub struct CompileCtx<'a> {
    /// Catalog file.
    pub file: &'a str,
    /// Parsed document (for locations).
    pub doc: &'a Doc,
    /// JSON pointer of the check.
    pub ptr: String,
    /// Population table.
    pub table: &'static TableDef,
    /// Diagnostics.
    pub diags: &'a mut Diags,
    /// Calendars known so far (ids).
    pub calendars: &'a BTreeSet<String>,
    /// Each calendar's zone.
    pub calendar_zones: &'a BTreeMap<String, chrono_tz::Tz>,
}

impl CompileCtx<'_> {
    /// Report a problem at `<check>/<rel>`.
    pub fn err(&mut self, code: Code, rel: &str, msg: impl Into<String>) {
        let p = format!("{}{rel}", self.ptr);
        let at = self.doc.locate(&p);
        self.diags
            .push(Diagnostic::error(code, self.file, msg).at(at.line, at.col));
    }

    /// Resolve a field of a table, reporting `unknown-field`.
    pub fn field(&mut self, table: &'static TableDef, name: &str, rel: &str) -> Option<usize> {
        match table.fields.iter().position(|f| f.name == name) {
            Some(i) => Some(i),
            None => {
                self.err(
                    Code::UnknownField,
                    rel,
                    format!(
                        "table `{}` has no field `{name}` (fields: {})",
                        table.name,
                        tables::field_names(table)
                    ),
                );
                None
            }
        }
    }

    /// Resolve a table, reporting `unknown-table`.
    pub fn table(&mut self, name: &str, rel: &str) -> Option<&'static TableDef> {
        let t = tables::table(name);
        if t.is_none() {
            self.err(
                Code::UnknownTable,
                rel,
                format!("unknown table `{name}` (tables: {})", tables::table_names()),
            );
        }
        t
    }

    /// Compile a condition at `rel`, reporting its problems.
    pub fn cond(&mut self, v: &J, table: &'static TableDef, rel: &str) -> Option<Cond> {
        let mut errs = Vec::new();
        let c = Cond::compile(v, table, &mut errs);
        let ok = errs.is_empty();
        for e in errs {
            let code = if e.unknown_field {
                Code::UnknownField
            } else {
                Code::BadValue
            };
            self.err(code, &format!("{rel}{}", e.rel), e.message);
        }
        ok.then_some(c)
    }

    /// Parse a span, reporting `bad-duration`.
    pub fn span(&mut self, s: &str, rel: &str) -> Option<crate::time::Span> {
        match crate::time::parse_span(s) {
            Ok(x) => Some(x),
            Err(m) => {
                self.err(Code::BadDuration, rel, m);
                None
            }
        }
    }
}

/// Load every `*.yaml` / `*.yml` file under `dir` (sorted, recursively).
pub fn load_dir(dir: &Path, diags: &mut Diags) -> Catalog {
    load_dir_except(dir, None, diags)
}

/// [`load_dir`] leaving out one file (`catalog import-oscal --out` refreshing a
/// control-text file that is inside the controls folder).
pub fn load_dir_except(dir: &Path, skip: Option<&Path>, diags: &mut Diags) -> Catalog {
    let mut files = Vec::new();
    collect_yaml(dir, &mut files, diags);
    if let Some(skip) = skip.and_then(|p| std::fs::canonicalize(p).ok()) {
        files.retain(|f| std::fs::canonicalize(f).ok().as_ref() != Some(&skip));
    }
    files.sort();
    if files.is_empty() && !diags.has_errors() {
        diags.push(Diagnostic::error(
            Code::NoCatalog,
            dir.display().to_string(),
            "no catalog files (*.yaml) in the controls folder",
        ));
    }
    let mut texts = Vec::new();
    for f in files {
        let shown = f.display().to_string();
        match std::fs::read(&f) {
            Ok(bytes) => {
                let sha =
                    crate::evidence::read::hex(&<sha2::Sha256 as sha2::Digest>::digest(&bytes)[..]);
                match String::from_utf8(bytes) {
                    Ok(t) => texts.push((shown, t, sha)),
                    Err(e) => {
                        let at = e.utf8_error().valid_up_to();
                        let (line, col) = crate::diag::byte_position(e.as_bytes(), at);
                        diags.push(
                            Diagnostic::error(
                                Code::InvalidUtf8,
                                shown,
                                format!("not valid UTF-8 at byte {at}"),
                            )
                            .at(line, col),
                        )
                    }
                }
            }
            Err(e) => diags.push(Diagnostic::error(
                Code::Io,
                shown,
                format!("cannot read: {e}"),
            )),
        }
    }
    load_texts(&texts, diags)
}

fn collect_yaml(dir: &Path, out: &mut Vec<std::path::PathBuf>, diags: &mut Diags) {
    collect_yaml_once(dir, out, diags, &mut BTreeSet::new());
}

/// Each folder is listed once, by its canonical path: a symlink back up the tree
/// (`controls/a -> .`) would otherwise read the catalog forty times over, and two
/// of them would take 2^40 folder listings.
fn collect_yaml_once(
    dir: &Path,
    out: &mut Vec<std::path::PathBuf>,
    diags: &mut Diags,
    seen: &mut BTreeSet<std::path::PathBuf>,
) {
    if let Ok(c) = std::fs::canonicalize(dir)
        && !seen.insert(c)
    {
        return;
    }
    let rd = match std::fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) => {
            diags.push(Diagnostic::error(
                Code::Io,
                dir.display().to_string(),
                format!("cannot read the controls folder: {e}"),
            ));
            return;
        }
    };
    for ent in rd.flatten() {
        let p = ent.path();
        if p.is_dir() {
            collect_yaml_once(&p, out, diags, seen);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
}

/// Load catalog texts: (file name, text, sha256).
pub fn load_texts(texts: &[(String, String, String)], diags: &mut Diags) -> Catalog {
    let validator = match crate::schema::compile(SCHEMA) {
        Ok(v) => v,
        Err(m) => {
            diags.push(Diagnostic::error(
                Code::SchemaViolation,
                "catalog.schema.json",
                m,
            ));
            return Catalog::default();
        }
    };
    let mut parsed = Vec::new();
    for (file, text, _) in texts {
        let doc = match Doc::parse(text) {
            Ok(d) => d,
            Err(e) => {
                diags.push(
                    Diagnostic::error(Code::YamlSyntax, file, e.message).at(e.at.line, e.at.col),
                );
                continue;
            }
        };
        if !crate::schema::validate_with(&validator, &doc, file, diags) {
            continue;
        }
        if let Some(raw) = crate::schema::typed::<RawFile>(&doc, file, diags) {
            parsed.push((file.as_str(), doc, raw));
        }
    }
    let mut cat = Catalog {
        files: texts
            .iter()
            .map(|(f, _, h)| (f.clone(), h.clone()))
            .collect(),
        ..Catalog::default()
    };
    // Calendars first: checks refer to them.
    let mut first_seen: BTreeMap<(&str, String), (String, u64)> = BTreeMap::new();
    let mut dup = |kind: &'static str,
                   id: &str,
                   file: &str,
                   doc: &Doc,
                   ptr: &str,
                   diags: &mut Diags|
     -> bool {
        let at = doc.locate(ptr);
        match first_seen.get(&(kind, id.to_string())) {
            Some((f, l)) => {
                diags.push(
                    Diagnostic::error(
                        Code::DuplicateId,
                        file,
                        format!("{kind} id `{id}` is already defined at {f}:{l}"),
                    )
                    .at(at.line, at.col),
                );
                true
            }
            None => {
                first_seen.insert((kind, id.to_string()), (file.to_string(), at.line));
                false
            }
        }
    };
    for (file, doc, raw) in &parsed {
        for (i, c) in raw.calendars.iter().enumerate() {
            let p = format!("/calendars/{i}");
            if dup("calendar", &c.id, file, doc, &format!("{p}/id"), diags) {
                continue;
            }
            let at = |rel: &str| doc.locate(&format!("{p}{rel}"));
            let zone = match parse_zone(&c.timezone) {
                Ok(z) => z,
                Err(m) => {
                    let a = at("/timezone");
                    diags.push(Diagnostic::error(Code::BadValue, *file, m).at(a.line, a.col));
                    continue;
                }
            };
            let mut cal = Calendar::plain(zone);
            cal.id = c.id.clone();
            if let Some(w) = &c.weekend {
                cal.weekend.clear();
                for (j, d) in w.iter().enumerate() {
                    match d.parse::<chrono::Weekday>() {
                        Ok(wd) => cal.weekend.push(wd),
                        Err(_) => {
                            let a = at(&format!("/weekend/{j}"));
                            diags.push(
                                Diagnostic::error(
                                    Code::BadValue,
                                    *file,
                                    format!("`{d}` is not a weekday name"),
                                )
                                .at(a.line, a.col),
                            );
                        }
                    }
                }
            }
            for (j, h) in c.holidays.iter().enumerate() {
                match chrono::NaiveDate::parse_from_str(h, "%Y-%m-%d") {
                    Ok(d) => {
                        cal.holidays.insert(d);
                    }
                    Err(_) => {
                        let a = at(&format!("/holidays/{j}"));
                        diags.push(
                            Diagnostic::error(
                                Code::BadValue,
                                *file,
                                format!("`{h}` is not a date (YYYY-MM-DD)"),
                            )
                            .at(a.line, a.col),
                        );
                    }
                }
            }
            cat.calendars.insert(c.id.clone(), cal);
        }
    }
    let cal_ids: BTreeSet<String> = cat.calendars.keys().cloned().collect();
    let cal_zones: BTreeMap<String, chrono_tz::Tz> = cat
        .calendars
        .iter()
        .map(|(k, c)| (k.clone(), c.zone))
        .collect();
    // Checks.
    for (file, doc, raw) in &parsed {
        for (i, rc) in raw.checks.iter().enumerate() {
            let ptr = format!("/checks/{i}");
            if dup("check", &rc.id, file, doc, &format!("{ptr}/id"), diags) {
                continue;
            }
            let line = doc.locate(&ptr).line;
            let Some(table) = tables::table(&rc.population.table) else {
                let at = doc.locate(&format!("{ptr}/population/table"));
                diags.push(
                    Diagnostic::error(
                        Code::UnknownTable,
                        *file,
                        format!(
                            "unknown table `{}` (tables: {})",
                            rc.population.table,
                            tables::table_names()
                        ),
                    )
                    .at(at.line, at.col),
                );
                continue;
            };
            let mut ctx = CompileCtx {
                file,
                doc,
                ptr: ptr.clone(),
                table,
                diags,
                calendars: &cal_ids,
                calendar_zones: &cal_zones,
            };
            let filter = match &rc.population.filter {
                Some(w) => match ctx.cond(w, table, "/population/where") {
                    Some(c) => Some(c),
                    None => continue,
                },
                None => None,
            };
            let Some(rule) = rules::compile(rc, &mut ctx) else {
                continue;
            };
            cat.checks.push(Check {
                id: rc.id.clone(),
                title: rc.title.clone(),
                description: rc.description.clone(),
                severity: rc.severity.unwrap_or_default(),
                not_evaluable: rc.not_evaluable.unwrap_or_default(),
                table,
                filter,
                filter_text: rc.population.filter.as_ref().map(crate::rules::cond_text),
                rule,
                origin: Origin {
                    file: file.to_string(),
                    line,
                },
            });
        }
    }
    cat.checks.sort_by(|a, b| a.id.cmp(&b.id));
    let check_ids: BTreeSet<&str> = parsed
        .iter()
        .flat_map(|(_, _, r)| r.checks.iter().map(|c| c.id.as_str()))
        .collect();
    // Frameworks.
    for (file, doc, raw) in &parsed {
        for (i, f) in raw.frameworks.iter().enumerate() {
            let fp = format!("/frameworks/{i}");
            if dup("framework", &f.id, file, doc, &format!("{fp}/id"), diags) {
                continue;
            }
            let mut controls = Vec::new();
            let mut seen = BTreeSet::new();
            for (j, c) in f.controls.iter().enumerate() {
                let cp = format!("{fp}/controls/{j}");
                let at = doc.locate(&format!("{cp}/id"));
                if !seen.insert(c.id.clone()) {
                    diags.push(
                        Diagnostic::error(
                            Code::DuplicateId,
                            *file,
                            format!("control `{}` appears twice in framework `{}`", c.id, f.id),
                        )
                        .at(at.line, at.col),
                    );
                    continue;
                }
                if c.checks.is_empty() && c.manual.is_none() {
                    diags.push(
                        Diagnostic::error(
                            Code::BadValue,
                            *file,
                            format!(
                                "control `{}` of `{}` has neither `checks` nor a `manual` declaration",
                                c.id, f.id
                            ),
                        )
                        .at(at.line, at.col),
                    );
                }
                for (k, ch) in c.checks.iter().enumerate() {
                    if !check_ids.contains(ch.as_str()) {
                        let a = doc.locate(&format!("{cp}/checks/{k}"));
                        diags.push(
                            Diagnostic::error(
                                Code::UnknownCheck,
                                *file,
                                format!("control `{}` names unknown check `{ch}`", c.id),
                            )
                            .at(a.line, a.col),
                        );
                    }
                }
                controls.push(Control {
                    id: c.id.clone(),
                    title: c.title.clone(),
                    objective: c.objective.clone(),
                    reference: c.reference.clone(),
                    checks: c.checks.clone(),
                    manual: c.manual.as_ref().map(|m| m.attest.clone()),
                    official: None,
                });
            }
            cat.frameworks.push(Framework {
                id: f.id.clone(),
                name: f.name.clone(),
                version: f.version.clone(),
                source: f.source.clone(),
                description: f.description.clone(),
                controls,
            });
        }
    }
    cat.frameworks.sort_by(|a, b| a.id.cmp(&b.id));
    for (file, doc, raw) in &parsed {
        if let Some(t) = &raw.control_text {
            attach_text(&mut cat.frameworks, t, file, doc, diags);
        }
    }
    // Crosswalks.
    for (file, doc, raw) in &parsed {
        for (i, x) in raw.crosswalks.iter().enumerate() {
            let xp = format!("/crosswalks/{i}");
            let fw = |id: &str| cat.frameworks.iter().find(|f| f.id == id);
            let (Some(from), Some(to)) = (fw(&x.from), fw(&x.to)) else {
                for (side, id) in [("from", &x.from), ("to", &x.to)] {
                    if fw(id).is_none() {
                        let a = doc.locate(&format!("{xp}/{side}"));
                        diags.push(
                            Diagnostic::error(
                                Code::UnknownFramework,
                                *file,
                                format!("crosswalk names unknown framework `{id}`"),
                            )
                            .at(a.line, a.col),
                        );
                    }
                }
                continue;
            };
            for (j, m) in x.mappings.iter().enumerate() {
                let mp = format!("{xp}/mappings/{j}");
                let mut ok = true;
                for (side, fwk, id) in [("from", from, &m.from), ("to", to, &m.to)] {
                    if !fwk.controls.iter().any(|c| &c.id == id) {
                        ok = false;
                        let a = doc.locate(&format!("{mp}/{side}"));
                        diags.push(
                            Diagnostic::error(
                                Code::UnknownControl,
                                *file,
                                format!("framework `{}` has no control `{id}`", fwk.id),
                            )
                            .at(a.line, a.col),
                        );
                    }
                }
                if ok {
                    cat.crosswalk.push(Mapping {
                        from_framework: from.id.clone(),
                        from: m.from.clone(),
                        to_framework: to.id.clone(),
                        to: m.to.clone(),
                        relation: m.relation,
                        note: m.note.clone().or_else(|| x.source.clone()),
                    });
                }
            }
        }
    }
    cat
}

/// Attach a `control_text` entry to the controls of its framework: an unknown
/// framework or control, or a second text for one control, is an error at the entry.
fn attach_text(
    frameworks: &mut [Framework],
    t: &oscal_import::Imported,
    file: &str,
    doc: &Doc,
    diags: &mut Diags,
) {
    let mut err = |code: Code, ptr: &str, msg: String| {
        let at = doc.locate(ptr);
        diags.push(Diagnostic::error(code, file, msg).at(at.line, at.col));
    };
    let Some(fw) = frameworks.iter_mut().find(|f| f.id == t.framework) else {
        let known: Vec<&str> = frameworks.iter().map(|f| f.id.as_str()).collect();
        err(
            Code::UnknownFramework,
            "/control_text/framework",
            format!(
                "control text names unknown framework `{}` (frameworks: {})",
                t.framework,
                known.join(", ")
            ),
        );
        return;
    };
    let texted: BTreeSet<&str> = t.controls.iter().map(|c| c.id.as_str()).collect();
    for (j, id) in t.not_found.iter().enumerate() {
        let ptr = format!("/control_text/not_found/{j}");
        if !fw.controls.iter().any(|c| &c.id == id) {
            err(
                Code::UnknownControl,
                &ptr,
                format!("framework `{}` has no control `{id}`", fw.id),
            );
        } else if texted.contains(id.as_str()) {
            err(
                Code::BadValue,
                &ptr,
                format!("control `{id}` is listed under `not_found` and has text under `controls`"),
            );
        }
    }
    for (j, ct) in t.controls.iter().enumerate() {
        let ptr = format!("/control_text/controls/{j}/id");
        let Some(ctl) = fw.controls.iter_mut().find(|c| c.id == ct.id) else {
            err(
                Code::UnknownControl,
                &ptr,
                format!(
                    "framework `{}` has no control `{}` (official text from {} {})",
                    fw.id, ct.id, t.source.title, t.source.version
                ),
            );
            continue;
        };
        if let Some(o) = &ctl.official {
            err(
                Code::DuplicateId,
                &ptr,
                format!(
                    "official text of `{}/{}` is already given at {}:{}",
                    fw.id, ct.id, o.origin.file, o.origin.line
                ),
            );
            continue;
        }
        ctl.official = Some(Official {
            oscal_id: ct.oscal_id.clone(),
            title: ct.title.clone(),
            statement: ct.statement.clone(),
            parameters: ct.parameters.clone(),
            source: t.source.clone(),
            origin: Origin {
                file: file.to_string(),
                line: doc.locate(&format!("/control_text/controls/{j}")).line,
            },
        });
    }
}
