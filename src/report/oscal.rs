//! OSCAL outputs: `assessment-results.json` (NIST OSCAL assessment-results model,
//! 1.1.x) and `poam.json` (plan of action and milestones for the open exceptions).
//! Part of the report stage: rendered from the `Assessment` alone (plus, for the
//! POA&M, the owner and due date of exception records that are findings).
//!
//! Mapping (see docs/auditor-workflow.md):
//! - one `result` per run; `start`/`end` are the audit period, the as-of instant
//!   standing in for an open side;
//! - `reviewed-controls`: one control selection per framework, every control tested
//!   by a check (manual controls are named in the result's remarks, not reviewed);
//! - one `finding` per control: `target.status.state` is `satisfied` for an effective
//!   control and `not-satisfied` otherwise (exceptions, not tested, error), with the
//!   evidentia status in a property; a control with official text (`control_text`)
//!   names its official title and source in properties and links to the source's
//!   resource;
//! - one `observation` per check (method TEST, the population's input files as
//!   subjects) and one per exception (the record as subject, `relevant-evidence`
//!   naming the export file and line or JSON pointer);
//! - `back-matter`: one resource per export file and catalog file with its SHA-256,
//!   one per record named as a subject, one per OSCAL source of official control
//!   text, and the catalog as the assessment plan that `import-ap` points to.
//!
//! Determinism: every UUID is a version-5 UUID (RFC 4122, SHA-1 name-based) in the
//! namespace [`namespace`] over a stable name (`kind` and identifying strings joined
//! by U+001F); every timestamp is the as-of instant or a period bound, never the wall
//! clock. The same inputs and as-of give the same bytes.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::Gate;
use crate::assess::{Assessment, CheckResult, ControlStatus, RecordResult};
use crate::rules::Verdict;

/// The OSCAL version written in `metadata.oscal-version`.
pub const OSCAL_VERSION: &str = "1.1.2";

/// Namespace of evidentia's own OSCAL properties (`props[].ns`).
pub const NS: &str = "urn:evidentia:oscal";

/// File name of the assessment results in `--out`.
pub const AR_FILE: &str = "assessment-results.json";

/// File name of the POA&M in `--out`.
pub const POAM_FILE: &str = "poam.json";

/// The UUID namespace of every evidentia UUID: `uuid5(NAMESPACE_URL, "urn:evidentia:oscal")`.
pub fn namespace() -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, NS.as_bytes())
}

/// A version-5 UUID over `parts` joined by U+001F.
pub fn uuid_of(parts: &[&str]) -> String {
    Uuid::new_v5(&namespace(), parts.join("\u{1f}").as_bytes()).to_string()
}

/// Owner and due date of an exception record taken from the findings table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Remediation {
    /// `findings.owner`.
    pub owner: Option<String>,
    /// `findings.due_at`, RFC 3339.
    pub due: Option<String>,
}

/// Owner and due date per finding id (records of the `findings` table).
pub type Remediations = BTreeMap<String, Remediation>;

/// Collect owner and due date of every finding that is an exception record.
pub fn remediations(a: &Assessment, ev: &crate::evidence::Evidence) -> Remediations {
    let mut out = Remediations::new();
    let Some(t) = ev.table("findings") else {
        return out;
    };
    let owner = t.field_index("owner");
    let due = t.field_index("due_at");
    for c in &a.checks {
        for r in c.records.iter().filter(|r| r.table == "findings") {
            if out.contains_key(r.record_id()) {
                continue;
            }
            let Some(row) = t.row_of(r.record_id()) else {
                continue;
            };
            let text = |f: Option<usize>| {
                f.map(|f| t.get(row, f))
                    .filter(|v| !v.is_blank())
                    .map(|v| v.display())
            };
            out.insert(
                r.record_id().to_string(),
                Remediation {
                    owner: text(owner),
                    due: text(due),
                },
            );
        }
    }
    out
}

/// Fields of the findings table the POA&M reads.
pub const POAM_FIELDS: &[&str] = &["owner", "due_at"];

/// Add the fields the POA&M reads to the projection, when some check reads the
/// findings table at all.
pub fn extend_needs(needs: &mut crate::evidence::read::Needs) {
    let Some(def) = crate::evidence::tables::table("findings") else {
        return;
    };
    if let Some(set) = needs.get_mut(def.name) {
        for f in POAM_FIELDS {
            if let Some(i) = def.fields.iter().position(|x| x.name == *f) {
                set.insert(i);
            }
        }
    }
}

/// Hands out UUIDs, making a repeated name unique by a counter (deterministic).
#[derive(Default)]
struct Ids {
    seen: BTreeSet<String>,
}

impl Ids {
    fn get(&mut self, parts: &[&str]) -> String {
        let mut id = uuid_of(parts);
        let mut n = 1u32;
        while !self.seen.insert(id.clone()) {
            n += 1;
            let extra = n.to_string();
            let mut p: Vec<&str> = parts.to_vec();
            p.push(&extra);
            id = uuid_of(&p);
        }
        id
    }
}

/// A single-line, trimmed string (OSCAL `StringDatatype`), or None when empty.
fn line(s: &str) -> Option<String> {
    let one: String = s
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim()
        .to_string();
    (!one.is_empty()).then_some(one)
}

/// An OSCAL token (`control-id`, `target-id`, property names): letters, digits,
/// `.`, `-`, `_`, starting with a letter or `_`.
pub fn token(s: &str) -> String {
    let mut t: String = s
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !t
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
    {
        t.insert(0, '_');
    }
    t
}

/// The OSCAL control id of one of our controls: NIST SP 800-53 style ids
/// (`IR-6`, `IR-6(1)`) become NIST's OSCAL ids (`ir-6`, `ir-6.1`); anything else is
/// made a token.
pub fn control_id(id: &str) -> String {
    let re = id.trim();
    let (base, enh) = match re.split_once('(') {
        Some((b, rest)) => (b, rest.strip_suffix(')')),
        None => (re, None),
    };
    let nist_base = base.split_once('-').is_some_and(|(fam, num)| {
        fam.len() == 2
            && fam.chars().all(|c| c.is_ascii_alphabetic())
            && !num.is_empty()
            && num.chars().all(|c| c.is_ascii_digit())
    });
    match enh {
        Some(e) if nist_base && !e.is_empty() && e.chars().all(|c| c.is_ascii_digit()) => {
            format!("{}.{e}", base.to_ascii_lowercase())
        }
        None if nist_base => base.to_ascii_lowercase(),
        _ => token(re),
    }
}

/// A path as a URI reference: `\` becomes `/`, bytes outside the unreserved set and
/// `/` `:` are percent-encoded.
pub fn uri_path(p: &str) -> String {
    let mut s = String::new();
    for b in p.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/' | b':') {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    // A relative path whose first segment holds a colon would read as a scheme.
    if let Some(first) = s.split('/').next()
        && first.contains(':')
        && !s.starts_with('/')
    {
        s.insert_str(0, "./");
    }
    s
}

fn prop(name: &str, value: &str) -> Option<Value> {
    line(value).map(|v| json!({ "name": token(name), "ns": NS, "value": v }))
}

fn props(pairs: &[(&str, String)]) -> Vec<Value> {
    pairs.iter().filter_map(|(k, v)| prop(k, v)).collect()
}

/// Insert `key: value` unless the value is an empty array (OSCAL arrays have at
/// least one item) or null.
fn put(m: &mut Map<String, Value>, key: &str, value: Value) {
    match &value {
        Value::Null => {}
        Value::Array(a) if a.is_empty() => {}
        _ => {
            m.insert(key.to_string(), value);
        }
    }
}

fn obj(pairs: Vec<(&str, Value)>) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        put(&mut m, k, v);
    }
    Value::Object(m)
}

/// A document whose large arrays (one element per exception) are rendered element by
/// element as they are made: a run with a hundred thousand exceptions would otherwise
/// hold gigabytes of JSON values. Maps keep their keys sorted, so the bytes are those
/// of the one JSON value the document stands for (tests/oscal.rs checks it).
enum Doc {
    Val(Value),
    Obj(BTreeMap<String, Doc>),
    Arr(Vec<Doc>),
    Items(Items),
}

impl Serialize for Doc {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Doc::Val(v) => v.serialize(s),
            Doc::Obj(m) => s.collect_map(m),
            Doc::Arr(a) => s.collect_seq(a),
            Doc::Items(i) => s.collect_seq(&i.done),
        }
    }
}

impl Doc {
    /// An object value with more entries; an empty array of items is left out, as
    /// `put` leaves out empty arrays.
    fn with(v: Value, entries: Vec<(&str, Doc)>) -> Doc {
        let mut m: BTreeMap<String, Doc> = match v {
            Value::Object(m) => m.into_iter().map(|(k, v)| (k, Doc::Val(v))).collect(),
            other => return Doc::Val(other),
        };
        for (k, d) in entries {
            if !matches!(&d, Doc::Items(i) if i.done.is_empty()) {
                m.insert(k.to_string(), d);
            }
        }
        Doc::Obj(m)
    }

    /// Pretty JSON bytes with a trailing newline.
    fn render(&self) -> Vec<u8> {
        let mut v = Vec::new();
        // Writing into memory fails only on a value JSON cannot hold (none here).
        let _ = self.write(&mut v);
        v
    }

    /// The same bytes, written as they are made.
    fn write(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *w, self).map_err(std::io::Error::from)?;
        w.write_all(b"\n")
    }
}

/// Array elements rendered as pretty JSON for their place in the document: `depth`
/// is the number of objects and arrays around each element.
struct Items {
    depth: usize,
    done: Vec<Box<RawValue>>,
}

impl Items {
    fn new(depth: usize) -> Items {
        Items {
            depth,
            done: Vec::new(),
        }
    }

    /// Render an element: its pretty JSON, each line after the first indented by the
    /// enclosing levels (JSON text has no raw line break inside a string).
    fn push(&mut self, v: &Value) {
        let text = serde_json::to_string_pretty(v).unwrap_or_default();
        let text = text.replace('\n', &format!("\n{}", "  ".repeat(self.depth)));
        // Pretty JSON with added indentation is JSON: this cannot fail.
        if let Ok(raw) = RawValue::from_string(text) {
            self.done.push(raw);
        }
    }

    fn is_empty(&self) -> bool {
        self.done.is_empty()
    }
}

/// Start and end of the result: the period, the as-of instant for an open side.
fn bounds(a: &Assessment) -> (String, String) {
    let end = a.period.end.unwrap_or(a.as_of);
    let start = a
        .period
        .start
        .unwrap_or(if end < a.as_of { end } else { a.as_of });
    (start.to_string(), end.to_string())
}

fn period_text(a: &Assessment) -> String {
    let side = |t: Option<crate::time::Ts>| t.map(|t| t.to_string()).unwrap_or("open".into());
    format!(
        "[{}, {}) (start included, end excluded)",
        side(a.period.start),
        side(a.period.end)
    )
}

/// Shared pieces of the two documents: resources, tool component, observations.
struct Builder<'a> {
    a: &'a Assessment,
    ids: Ids,
    as_of: String,
    /// Per input path: resource UUID.
    input_res: BTreeMap<String, String>,
    /// Per (table, record id): resource UUID, and the resource itself (rendered for
    /// the back-matter of either document).
    record_res: BTreeMap<(String, String), (String, Box<RawValue>)>,
    /// Per control-text source (file, SHA-256): resource UUID.
    text_res: BTreeMap<(String, String), String>,
    resources: Vec<Value>,
    tool_uuid: String,
}

impl<'a> Builder<'a> {
    fn new(a: &'a Assessment) -> Builder<'a> {
        let mut b = Builder {
            a,
            ids: Ids::default(),
            as_of: a.as_of.to_string(),
            input_res: BTreeMap::new(),
            record_res: BTreeMap::new(),
            text_res: BTreeMap::new(),
            resources: Vec::new(),
            tool_uuid: String::new(),
        };
        b.tool_uuid = b.ids.get(&["component", "evidentia"]);
        for i in &a.inputs {
            let u = b.ids.get(&["input", &i.path, &i.sha256]);
            b.input_res.insert(i.path.clone(), u.clone());
            let mut link = json!({ "href": uri_path(&i.path) });
            if !i.sha256.is_empty() {
                link["hashes"] = json!([{ "algorithm": "SHA-256", "value": i.sha256 }]);
            }
            b.resources.push(obj(vec![
                ("uuid", json!(u)),
                ("title", json!(format!("Export {}", i.path))),
                (
                    "description",
                    json!(format!(
                        "Evidence export filling table(s) {}: {} record(s) read, {} evaluated, {} outside the period, {} rejected.",
                        i.tables.join(", "),
                        i.rows_read,
                        i.rows_evaluated,
                        i.rows_out_of_period,
                        i.rows_rejected
                    )),
                ),
                (
                    "props",
                    Value::Array(props(&[
                        ("resource-kind", "evidence-export".into()),
                        ("tables", i.tables.join(" ")),
                        ("rows-read", i.rows_read.to_string()),
                        ("rows-evaluated", i.rows_evaluated.to_string()),
                        ("rows-out-of-period", i.rows_out_of_period.to_string()),
                        ("rows-rejected", i.rows_rejected.to_string()),
                    ])),
                ),
                ("rlinks", json!([link])),
            ]));
        }
        b
    }

    /// Resources for the catalog files, and the assessment-plan resource pointing to
    /// them; returns the plan resource's UUID.
    fn catalog_resources(&mut self) -> String {
        let plan = self.ids.get(&["assessment-plan", "catalog"]);
        let mut file_props = Vec::new();
        for (path, sha) in &self.a.catalog_files {
            let u = self.ids.get(&["catalog-file", path, sha]);
            file_props.push(("catalog-file", path.clone()));
            self.resources.push(obj(vec![
                ("uuid", json!(u)),
                ("title", json!(format!("Catalog file {path}"))),
                (
                    "props",
                    Value::Array(props(&[("resource-kind", "catalog-file".into())])),
                ),
                (
                    "rlinks",
                    json!([{ "href": uri_path(path), "hashes": [{ "algorithm": "SHA-256", "value": sha }] }]),
                ),
            ]));
        }
        let mut p = props(&[("resource-kind", "assessment-plan".into())]);
        p.extend(props(&file_props));
        self.resources.push(obj(vec![
            ("uuid", json!(plan)),
            ("title", json!("Assessment plan: the evidentia catalog")),
            (
                "description",
                json!(
                    "There is no separate OSCAL assessment plan. The tests performed are the checks of the evidentia catalog (population, rule and parameters of each check, and the controls each check tests), in the catalog files named by the catalog-file properties; each file is a back-matter resource with its SHA-256."
                ),
            ),
            ("props", json!(p)),
        ]));
        plan
    }

    /// The back-matter resource of the OSCAL source a control's official text comes
    /// from (one per source file and SHA-256).
    fn text_source(&mut self, o: &crate::catalog::Official) -> String {
        let src = &o.source;
        let key = (src.file.clone(), src.sha256.clone());
        if let Some(u) = self.text_res.get(&key) {
            return u.clone();
        }
        let u = self
            .ids
            .get(&["control-text-source", &src.file, &src.sha256]);
        self.resources.push(obj(vec![
            ("uuid", json!(u)),
            ("title", json!(format!("Control text source: {}", o.source_label()))),
            (
                "description",
                json!(format!(
                    "The OSCAL catalog the official title, statement and parameters of the controls were taken from (evidentia catalog import-oscal), imported into the catalog file {}.",
                    o.origin.file
                )),
            ),
            (
                "props",
                Value::Array(props(&[
                    ("resource-kind", "control-text-source".into()),
                    ("source-uuid", src.uuid.clone()),
                    ("version", src.version.clone()),
                    ("oscal-version", src.oscal_version.clone()),
                    ("last-modified", src.last_modified.clone()),
                    ("published", src.published.clone().unwrap_or_default()),
                ])),
            ),
            (
                "rlinks",
                json!([{ "href": uri_path(&src.file), "hashes": [{ "algorithm": "SHA-256", "value": src.sha256 }] }]),
            ),
        ]));
        self.text_res.insert(key, u.clone());
        u
    }

    /// The back-matter resource of a record named as a subject.
    fn record_resource(&mut self, r: &RecordResult) -> String {
        let key = (r.table.to_string(), r.record_id().to_string());
        if let Some((u, _)) = self.record_res.get(&key) {
            return u.clone();
        }
        let u = self.ids.get(&["record", r.table, r.record_id()]);
        let res = obj(vec![
            ("uuid", json!(u)),
            (
                "title",
                json!(format!("Record {} of table {}", r.record_id(), r.table)),
            ),
            (
                "props",
                Value::Array(props(&[
                    ("resource-kind", "evidence-record".into()),
                    ("record-id", r.record_id().to_string()),
                    ("table", r.table.to_string()),
                ])),
            ),
            (
                "rlinks",
                if r.file.is_empty() {
                    json!([])
                } else {
                    json!([{ "href": evidence_href(r) }])
                },
            ),
        ]);
        let mut one = Items::new(BACK_MATTER_DEPTH);
        one.push(&res);
        if let Some(raw) = one.done.pop() {
            self.record_res.insert(key, (u.clone(), raw));
        }
        u
    }

    fn tool_origin(&self) -> Value {
        json!([{ "actors": [{ "type": "tool", "actor-uuid": self.tool_uuid }] }])
    }

    fn tool_component(&self) -> Value {
        json!({
            "uuid": self.tool_uuid,
            "type": "software",
            "title": "evidentia",
            "description": "Compliance-as-code tool that tested the exported incident records against the catalog's checks.",
            "props": [{ "name": "version", "value": env!("CARGO_PKG_VERSION") }],
            "status": { "state": "operational" },
        })
    }

    /// The observation of one check: the test and its tallies.
    fn check_observation(&mut self, c: &CheckResult) -> Value {
        let u = self.ids.get(&["observation", &self.as_of, "check", &c.id]);
        let mut subjects = Vec::new();
        let mut evidence = Vec::new();
        for i in &self.a.inputs {
            if i.tables
                .iter()
                .any(|t| t == &c.table || Some(t) == c.via.as_ref())
                && let Some(ru) = self.input_res.get(&i.path)
            {
                subjects.push(json!({
                    "subject-uuid": ru,
                    "type": "resource",
                    "title": format!("Export {}", i.path),
                }));
                evidence.push(json!({
                    "href": uri_path(&i.path),
                    "description": format!("Export {} (SHA-256 {})", i.path, if i.sha256.is_empty() { "unknown" } else { &i.sha256 }),
                }));
            }
        }
        let population = match (&c.via, &c.filter) {
            (Some(via), Some(f)) => format!("{} records reached from {via} where {f}", c.table),
            (Some(via), None) => format!("{} records reached from {via}", c.table),
            (None, Some(f)) => format!("{} records where {f}", c.table),
            (None, None) => format!("all {} records", c.table),
        };
        let sample = c
            .sample
            .as_ref()
            .map(|s| format!(" {}", s.sentence()))
            .unwrap_or_default();
        let description = format!(
            "{} Population: {population} in the period {}: {} judged; {} passed, {} exception(s) ({} not evaluable, {} rejected input record(s)), {} waived, {} pending, {} at risk.{sample}{}",
            c.test,
            period_text(self.a),
            c.population,
            c.passed,
            c.exceptions_count,
            c.not_evaluable,
            c.rejected,
            c.waived,
            c.pending,
            c.at_risk,
            c.error
                .as_ref()
                .map(|e| format!(" The check could not run: {e}."))
                .unwrap_or_default()
        );
        let mut p = vec![
            ("check-id", c.id.clone()),
            ("rule", c.rule.clone()),
            ("table", c.table.clone()),
            ("population", c.population.to_string()),
            ("passed", c.passed.to_string()),
            ("exceptions", c.exceptions_count.to_string()),
            ("not-evaluable", c.not_evaluable.to_string()),
            ("rejected", c.rejected.to_string()),
            ("waived", c.waived.to_string()),
            ("pending", c.pending.to_string()),
            ("at-risk", c.at_risk.to_string()),
            ("severity", format!("{:?}", c.severity).to_ascii_lowercase()),
        ];
        if let Some(f) = &c.filter {
            p.push(("population-filter", f.clone()));
        }
        if let Some(s) = &c.sample {
            p.push(("sample-size", s.size.to_string()));
            p.push(("sample-population", s.population.to_string()));
            p.push(("sample-seed", s.seed.to_string()));
        }
        obj(vec![
            ("uuid", json!(u)),
            ("title", json!(format!("{}: {}", c.id, c.title))),
            ("description", json!(description)),
            ("props", Value::Array(props(&p))),
            ("methods", json!(["TEST"])),
            ("types", json!(["control-objective"])),
            ("origins", self.tool_origin()),
            ("subjects", json!(subjects)),
            ("relevant-evidence", json!(evidence)),
            ("collected", json!(self.as_of)),
        ])
    }

    /// The observation of one exception (or waived exception) record.
    fn record_observation(&mut self, c: &CheckResult, r: &RecordResult) -> (String, Value) {
        let line_s = r.line().map(|l| l.to_string()).unwrap_or_default();
        let ptr = r.pointer().unwrap_or_default();
        let u = self.ids.get(&[
            "observation",
            &self.as_of,
            "record",
            &c.id,
            r.table,
            r.record_id(),
            &r.file,
            &line_s,
            ptr,
        ]);
        let ru = self.record_resource(r);
        let mut p = vec![
            ("check-id", c.id.clone()),
            ("record-id", r.record_id().to_string()),
            ("table", r.table.to_string()),
            ("verdict", r.verdict.as_str().to_string()),
        ];
        if let Some(raw) = r.raw_verdict {
            p.push(("raw-verdict", raw.as_str().to_string()));
        }
        if let Some(w) = &r.waiver {
            p.push(("waiver-id", w.id.clone()));
            p.push(("waiver-expires", w.expires_at.clone()));
        }
        if let Some(d) = &r.due() {
            p.push(("due", d.to_string()));
        }
        let mut ps = props(&p);
        for (k, v) in r.values.iter() {
            if let Some(line) = line(v) {
                ps.push(json!({ "name": token(k), "ns": NS, "class": "value", "value": line }));
            }
        }
        let title = format!("{}: {} {}", c.id, r.table, r.record_id());
        let message = r.message();
        let description = if message.trim().is_empty() {
            format!("Exception noted on {} {}.", r.table, r.record_id())
        } else {
            message.into_owned()
        };
        let v = obj(vec![
            ("uuid", json!(u)),
            ("title", json!(title)),
            ("description", json!(description)),
            ("props", Value::Array(ps)),
            ("methods", json!(["TEST"])),
            ("types", json!(["finding"])),
            ("origins", self.tool_origin()),
            (
                "subjects",
                json!([{
                    "subject-uuid": ru,
                    "type": "resource",
                    "title": format!("{} {}", r.table, r.record_id()),
                }]),
            ),
            ("relevant-evidence", Value::Array(vec![evidence(r)])),
            ("collected", json!(self.as_of)),
            (
                "remarks",
                r.waiver
                    .as_ref()
                    .map(|w| {
                        json!(format!(
                            "Waived under {} (approved by {} on {}, expires {}): {}. Management response: {}",
                            w.id, w.approver, w.approved_at, w.expires_at, w.reason, w.response
                        ))
                    })
                    .unwrap_or(Value::Null),
            ),
        ]);
        (u, v)
    }

    /// The back-matter, taking the resources gathered (called once, at the end).
    fn back_matter(&mut self) -> Doc {
        let mut res = Items::new(BACK_MATTER_DEPTH);
        for v in std::mem::take(&mut self.resources) {
            res.push(&v);
        }
        res.done.extend(
            std::mem::take(&mut self.record_res)
                .into_values()
                .map(|(_, v)| v),
        );
        Doc::Obj(BTreeMap::from([("resources".to_string(), Doc::Items(res))]))
    }
}

/// Objects and arrays around a back-matter resource: the root, the document, its
/// back-matter and the resources array.
const BACK_MATTER_DEPTH: usize = 4;

/// `href` of a record's evidence: the file, with the JSON pointer as fragment for JSON
/// records.
fn evidence_href(r: &RecordResult) -> String {
    let mut h = uri_path(&r.file);
    if let Some(p) = &r.pointer() {
        h.push('#');
        h.push_str(&uri_path(p));
    }
    h
}

fn evidence(r: &RecordResult) -> Value {
    let at = match (r.line(), &r.pointer()) {
        (Some(l), _) => format!(", line {l}"),
        (None, Some(p)) => format!(", JSON pointer {p}"),
        _ => String::new(),
    };
    let mut p = vec![("record-id", r.record_id().to_string())];
    if let Some(l) = r.line() {
        p.push(("line", l.to_string()));
    }
    if let Some(ptr) = &r.pointer() {
        p.push(("pointer", ptr.to_string()));
    }
    if r.file.is_empty() {
        return obj(vec![
            (
                "description",
                json!(format!(
                    "{} {} (no single source record)",
                    r.table,
                    r.record_id()
                )),
            ),
            ("props", Value::Array(props(&p))),
        ]);
    }
    obj(vec![
        ("href", json!(evidence_href(r))),
        (
            "description",
            json!(format!(
                "{}{at}: {} record {}",
                r.file,
                r.table,
                r.record_id()
            )),
        ),
        ("props", Value::Array(props(&p))),
    ])
}

/// Is this record reported as an exception observation?
fn observed(r: &RecordResult) -> bool {
    r.counts_as_exception || r.verdict == Verdict::Waived
}

/// The assessment results document as a JSON value.
fn assessment_results(a: &Assessment, gate: &Gate) -> Doc {
    let mut b = Builder::new(a);
    let plan = b.catalog_resources();
    let (start, end) = bounds(a);
    let fw_ids: Vec<&str> = a.frameworks.iter().map(|(id, _, _)| id.as_str()).collect();
    let scope_key = fw_ids.join(",");
    let doc_uuid = b.ids.get(&[
        "assessment-results",
        a.entity.as_deref().unwrap_or(""),
        &scope_key,
        &start,
        &end,
    ]);
    let result_uuid = b
        .ids
        .get(&["result", &scope_key, &start, &end, &b.as_of.clone()]);

    // Observations: one per check, then one per exception of it. Inside the root, the
    // document, its results array, the result and the observations array: depth 5.
    let mut observations = Items::new(5);
    let mut obs_of_check: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for c in &a.checks {
        let o = b.check_observation(c);
        let ou = o["uuid"].as_str().unwrap_or_default().to_string();
        observations.push(&o);
        let list = obs_of_check.entry(c.id.as_str()).or_default();
        list.push(ou);
        for r in c.records.iter().filter(|r| observed(r)) {
            let (u, v) = b.record_observation(c, r);
            observations.push(&v);
            list.push(u);
        }
    }

    // Activities: one per check, with the controls it tests.
    let mut activities = Vec::new();
    for c in &a.checks {
        let u = b.ids.get(&["activity", &c.id]);
        let ctl: Vec<Value> = a
            .controls
            .iter()
            .filter(|x| x.checks.contains(&c.id))
            .map(|x| json!({ "control-id": control_id(&x.id) }))
            .collect();
        let mut act = obj(vec![
            ("uuid", json!(u)),
            ("title", json!(format!("{}: {}", c.id, c.title))),
            ("description", json!(c.test)),
            (
                "props",
                Value::Array(props(&[
                    ("check-id", c.id.clone()),
                    ("rule", c.rule.clone()),
                    ("method", "TEST".into()),
                ])),
            ),
        ]);
        if !ctl.is_empty()
            && let Value::Object(m) = &mut act
        {
            m.insert(
                "related-controls".into(),
                json!({ "control-selections": [{ "include-controls": ctl }] }),
            );
        }
        activities.push(act);
    }

    // Reviewed controls and findings, per framework.
    let mut selections = Vec::new();
    let mut findings = Vec::new();
    let mut manual = Vec::new();
    for (fid, name, version) in &a.frameworks {
        let mut include = Vec::new();
        let mut seen = BTreeSet::new();
        for c in a.controls.iter().filter(|c| &c.framework == fid) {
            if c.status == ControlStatus::Manual {
                manual.push(format!("{fid}/{} ({})", c.id, c.title));
                continue;
            }
            let cid = control_id(&c.id);
            if seen.insert(cid.clone()) {
                include.push(json!({ "control-id": cid }));
            }
            let (state, reason) = match c.status {
                ControlStatus::Effective => ("satisfied", "pass"),
                ControlStatus::Exceptions => ("not-satisfied", "fail"),
                _ => ("not-satisfied", "other"),
            };
            let related: Vec<Value> = c
                .checks
                .iter()
                .flat_map(|ch| obs_of_check.get(ch.as_str()).cloned().unwrap_or_default())
                .map(|u| json!({ "observation-uuid": u }))
                .collect();
            let fu = b
                .ids
                .get(&["finding", &scope_key, &start, &end, fid, &c.id]);
            // The official text's source: a property and a link to its resource.
            let (official_title, text_source, links) = match &c.official {
                Some(o) => (
                    o.title.clone(),
                    o.source_label(),
                    vec![json!({
                        "href": format!("#{}", b.text_source(o)),
                        "rel": "reference",
                        "text": format!("Official text of {}: {}", o.oscal_id, o.source_label()),
                    })],
                ),
                None => Default::default(),
            };
            findings.push(obj(vec![
                ("uuid", json!(fu)),
                ("title", json!(format!("{fid} {}: {}", c.id, c.title))),
                ("description", json!(c.result)),
                (
                    "props",
                    Value::Array(props(&[
                        ("framework", fid.clone()),
                        ("control", c.id.clone()),
                        ("control-status", c.status.as_str().to_string()),
                        ("checks", c.checks.join(" ")),
                        ("population", c.population.to_string()),
                        ("exceptions", c.exceptions.to_string()),
                        ("waived", c.waived.to_string()),
                        ("official-title", official_title),
                        ("control-text-source", text_source),
                    ])),
                ),
                ("links", Value::Array(links)),
                ("origins", b.tool_origin()),
                (
                    "target",
                    json!({
                        "type": "objective-id",
                        "target-id": format!("{cid}_obj"),
                        "title": c.title,
                        "description": c.result,
                        "status": { "state": state, "reason": reason },
                    }),
                ),
                ("related-observations", Value::Array(related)),
                (
                    "remarks",
                    match c.status {
                        ControlStatus::NotTested => json!(
                            "Not tested: the population of every check of this control was empty for the period. This is not a pass."
                        ),
                        ControlStatus::Error => {
                            json!("Not concluded: a check of this control could not run.")
                        }
                        _ => c
                            .waiver
                            .as_ref()
                            .map(|w| json!(format!("Exceptions waived under {}: {}", w.id, w.reason)))
                            .unwrap_or(Value::Null),
                    },
                ),
            ]));
        }
        if !include.is_empty() {
            selections.push(obj(vec![
                (
                    "description",
                    json!(format!(
                        "{name}{}: controls tested by evidentia checks.",
                        version
                            .as_ref()
                            .map(|v| format!(", version {v}"))
                            .unwrap_or_default()
                    )),
                ),
                ("props", Value::Array(props(&[("framework", fid.clone())]))),
                ("include-controls", Value::Array(include)),
            ]));
        }
    }
    if selections.is_empty() {
        // reviewed-controls needs one selection; say that none was tested.
        selections.push(json!({
            "description": "No control was tested by a check in this run.",
            "exclude-controls": [{ "control-id": "none" }],
        }));
    }

    let mut remarks = vec![format!(
        "Generated by evidentia {} as of {}; period {}. Gate {} (fail on {}).",
        env!("CARGO_PKG_VERSION"),
        b.as_of,
        period_text(a),
        if gate.passed { "passed" } else { "failed" },
        serde_json::to_value(gate.fail_on)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    )];
    if !manual.is_empty() {
        remarks.push(format!(
            "Manual controls, not tested by evidentia (management attestation required): {}.",
            manual.join("; ")
        ));
    }
    if !a.rejected.is_empty() {
        remarks.push(format!(
            "{} input record(s) were rejected and are counted as exceptions of every check whose population they could have entered (fail closed).",
            a.rejected.len()
        ));
    }
    for w in &a.warnings {
        remarks.push(format!("Warning: {w}"));
    }

    let result = obj(vec![
        ("uuid", json!(result_uuid)),
        (
            "title",
            json!(format!(
                "Tests of controls and results, {} to {}",
                start, end
            )),
        ),
        (
            "description",
            json!(format!(
                "Automated tests of operating effectiveness over the exported incident records of the period {}, assessed as of {}. Each check's population, rule and result is an observation; each exception is an observation with the record as subject; each control tested is a finding.",
                period_text(a),
                b.as_of
            )),
        ),
        ("start", json!(start)),
        ("end", json!(end)),
        (
            "props",
            Value::Array(props(&[
                ("as-of", b.as_of.clone()),
                ("gate", if gate.passed { "passed" } else { "failed" }.into()),
                ("records-judged", gate.records_evaluated.to_string()),
            ])),
        ),
        (
            "local-definitions",
            json!({ "components": [b.tool_component()] }),
        ),
        (
            "reviewed-controls",
            json!({ "control-selections": selections }),
        ),
        ("findings", Value::Array(findings)),
        ("remarks", json!(remarks.join("\n\n"))),
    ]);
    let result = Doc::with(result, vec![("observations", Doc::Items(observations))]);

    let title = match &a.entity {
        Some(e) => format!("{e}: assessment results as of {}", b.as_of),
        None => format!("Assessment results as of {}", b.as_of),
    };
    let mut local = Map::new();
    put(&mut local, "activities", Value::Array(activities));
    let mut doc = obj(vec![
        ("uuid", json!(doc_uuid)),
        ("metadata", metadata(a, &title, &mut b.ids, None)),
        (
            "import-ap",
            json!({
                "href": format!("#{plan}"),
                "remarks": "No OSCAL assessment plan: the plan is the evidentia catalog, a back-matter resource.",
            }),
        ),
    ]);
    if !local.is_empty()
        && let Value::Object(m) = &mut doc
    {
        m.insert("local-definitions".into(), Value::Object(local));
    }
    let doc = Doc::with(
        doc,
        vec![
            ("results", Doc::Arr(vec![result])),
            ("back-matter", b.back_matter()),
        ],
    );
    Doc::Obj(BTreeMap::from([("assessment-results".to_string(), doc)]))
}

/// Document metadata; `owners` adds the parties of a POA&M.
fn metadata(
    a: &Assessment,
    title: &str,
    ids: &mut Ids,
    owners: Option<&BTreeMap<String, String>>,
) -> Value {
    let as_of = a.as_of.to_string();
    let mut parties = Vec::new();
    let mut roles = vec![json!({ "id": "assessor", "title": "Assessor (automated tests)" })];
    let mut responsible = Vec::new();
    if let Some(e) = a.entity.as_ref().and_then(|e| line(e)) {
        let u = ids.get(&["party", "organization", &e]);
        parties.push(json!({ "uuid": u, "type": "organization", "name": e }));
        roles.push(json!({ "id": "system-owner", "title": "Audited entity" }));
        responsible.push(json!({ "role-id": "system-owner", "party-uuids": [u] }));
    }
    if let Some(o) = owners
        && !o.is_empty()
    {
        roles.push(json!({ "id": "remediation-owner", "title": "Owner of a remediation (the finding's assignee)" }));
        for (name, u) in o {
            parties.push(json!({ "uuid": u, "type": "person", "name": name }));
        }
    }
    obj(vec![
        ("title", json!(title)),
        ("last-modified", json!(as_of)),
        ("version", json!(as_of)),
        ("oscal-version", json!(OSCAL_VERSION)),
        (
            "props",
            Value::Array(props(&[(
                "tool",
                format!("evidentia {}", env!("CARGO_PKG_VERSION")),
            )])),
        ),
        ("roles", json!(roles)),
        ("parties", json!(parties)),
        ("responsible-parties", json!(responsible)),
    ])
}

/// `assessment-results.json` bytes: pretty JSON, keys sorted, trailing newline.
pub fn render(a: &Assessment, gate: &Gate) -> Vec<u8> {
    assessment_results(a, gate).render()
}

/// `assessment-results.json`, written to `w` as it is made (the same bytes as `render`).
pub fn write(a: &Assessment, gate: &Gate, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    assessment_results(a, gate).write(w)
}

/// The POA&M: one item per open exception (status `open`) and per waived exception
/// (status `deviation-approved`), each with a risk whose deadline and owner come from
/// the findings table when the record is a finding, and otherwise from the check's
/// deadline.
fn poam(a: &Assessment, rem: &Remediations) -> Doc {
    let mut b = Builder::new(a);
    let fw_ids: Vec<&str> = a.frameworks.iter().map(|(id, _, _)| id.as_str()).collect();
    let scope_key = fw_ids.join(",");
    let doc_uuid = b
        .ids
        .get(&["poam", a.entity.as_deref().unwrap_or(""), &scope_key]);

    // Owners as parties (UUID per name).
    let mut owners: BTreeMap<String, String> = BTreeMap::new();
    for r in rem.values() {
        // One UUID per owner (asking again would make a new, numbered one each time).
        if let Some(o) = r.owner.as_ref().and_then(|o| line(o))
            && !owners.contains_key(&o)
        {
            let u = b.ids.get(&["party", "person", &o]);
            owners.insert(o, u);
        }
    }

    // Inside the root, the document and the array: depth 3.
    let mut observations = Items::new(3);
    let mut risks = Items::new(3);
    let mut items = Items::new(3);
    for c in &a.checks {
        let controls: Vec<String> = a
            .controls
            .iter()
            .filter(|x| x.checks.contains(&c.id))
            .map(|x| format!("{}/{}", x.framework, x.id))
            .collect();
        for r in c.records.iter().filter(|r| observed(r)) {
            let (ou, o) = b.record_observation(c, r);
            observations.push(&o);
            let from_finding = (r.table == "findings")
                .then(|| rem.get(r.record_id()))
                .flatten();
            let (deadline, source) = match from_finding.and_then(|f| f.due.clone()) {
                Some(d) => (Some(d), "findings.due_at"),
                None => match r
                    .values
                    .get("deadline")
                    .map(str::to_string)
                    .or_else(|| r.due().map(str::to_string))
                {
                    Some(d) => (Some(d), "check deadline"),
                    None => (None, "none"),
                },
            };
            let owner = from_finding
                .and_then(|f| f.owner.as_ref())
                .and_then(|o| line(o));
            let waived = r.verdict == Verdict::Waived;
            let risk_uuid = b.ids.get(&["risk", &c.id, r.table, r.record_id()]);
            let item_uuid = b.ids.get(&["poam-item", &c.id, r.table, r.record_id()]);
            let rem_uuid = b.ids.get(&["remediation", &c.id, r.table, r.record_id()]);
            let task_uuid = b.ids.get(&["milestone", &c.id, r.table, r.record_id()]);
            let mut task = obj(vec![
                ("uuid", json!(task_uuid)),
                ("type", json!("milestone")),
                (
                    "title",
                    json!(match &deadline {
                        Some(d) => format!("Remediated by {d}"),
                        None => "Remediation date to be set".to_string(),
                    }),
                ),
                (
                    "description",
                    json!(format!(
                        "Deadline source: {source}.{}",
                        match (&owner, r.table == "findings") {
                            (Some(o), _) => format!(" Owner: {o} (findings.owner)."),
                            (None, true) => " The finding has no owner recorded.".to_string(),
                            (None, false) => String::new(),
                        }
                    )),
                ),
            ]);
            if let (Some(d), Value::Object(m)) = (&deadline, &mut task) {
                m.insert("timing".into(), json!({ "on-date": { "date": d } }));
            }
            if let (Some(o), Value::Object(m)) = (&owner, &mut task)
                && let Some(pu) = owners.get(o)
            {
                m.insert(
                    "responsible-roles".into(),
                    json!([{ "role-id": "remediation-owner", "party-uuids": [pu] }]),
                );
            }
            let mut p = vec![
                ("check-id", c.id.clone()),
                ("record-id", r.record_id().to_string()),
                ("table", r.table.to_string()),
                ("deadline-source", source.to_string()),
            ];
            if let Some(o) = &owner {
                p.push(("owner", o.clone()));
            }
            for x in &controls {
                p.push(("impacted-control", x.clone()));
            }
            let mut risk = obj(vec![
                ("uuid", json!(risk_uuid)),
                (
                    "title",
                    json!(format!("{}: {} {}", c.id, r.table, r.record_id())),
                ),
                ("description", json!(r.message())),
                (
                    "statement",
                    json!(format!(
                        "The record does not meet the check \"{}\", which tests {}.",
                        c.title,
                        if controls.is_empty() {
                            "no control of the assessed frameworks".to_string()
                        } else {
                            controls.join(", ")
                        }
                    )),
                ),
                ("props", Value::Array(props(&p))),
                (
                    "status",
                    json!(if waived { "deviation-approved" } else { "open" }),
                ),
                ("origins", b.tool_origin()),
                (
                    "remediations",
                    json!([{
                        "uuid": rem_uuid,
                        "lifecycle": "planned",
                        "title": format!("Remediate {} {}", r.table, r.record_id()),
                        "description": match &r.waiver {
                            Some(w) => format!("Waived under {} until {}: {}. Management response: {}", w.id, w.expires_at, w.reason, w.response),
                            None => format!("Correct the record or the process so that it meets: {}", c.title),
                        },
                        "tasks": [task],
                    }]),
                ),
                ("related-observations", json!([{ "observation-uuid": ou }])),
            ]);
            if let (Some(d), Value::Object(m)) = (&deadline, &mut risk) {
                m.insert("deadline".into(), json!(d));
            }
            risks.push(&risk);
            items.push(&obj(vec![
                ("uuid", json!(item_uuid)),
                (
                    "title",
                    json!(format!("{}: {} {}", c.title, r.table, r.record_id())),
                ),
                ("description", json!(r.message())),
                ("props", Value::Array(props(&p))),
                ("origins", b.tool_origin()),
                ("related-observations", json!([{ "observation-uuid": ou }])),
                ("related-risks", json!([{ "risk-uuid": risk_uuid }])),
            ]));
        }
    }
    let title = match &a.entity {
        Some(e) => format!("{e}: plan of action and milestones as of {}", a.as_of),
        None => format!("Plan of action and milestones as of {}", a.as_of),
    };
    let meta = metadata(a, &title, &mut b.ids, Some(&owners));
    let mut local = Map::new();
    put(&mut local, "components", json!([b.tool_component()]));
    let doc = obj(vec![
        ("uuid", json!(doc_uuid)),
        ("metadata", meta),
        ("local-definitions", Value::Object(local)),
    ]);
    // poam-items is required and has at least one item: say so when nothing is open.
    if items.is_empty() {
        items.push(&json!({
            "uuid": b.ids.get(&["poam-item", "none"]),
            "title": "No open exceptions",
            "description": format!("No exception was open as of {}.", a.as_of),
        }));
    }
    let doc = Doc::with(
        doc,
        vec![
            ("observations", Doc::Items(observations)),
            ("risks", Doc::Items(risks)),
            ("back-matter", b.back_matter()),
            ("poam-items", Doc::Items(items)),
        ],
    );
    Doc::Obj(BTreeMap::from([(
        "plan-of-action-and-milestones".to_string(),
        doc,
    )]))
}

/// `poam.json` bytes.
pub fn render_poam(a: &Assessment, rem: &Remediations) -> Vec<u8> {
    poam(a, rem).render()
}

/// `poam.json`, written to `w` as it is made (the same bytes as `render_poam`).
pub fn write_poam(
    a: &Assessment,
    rem: &Remediations,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    poam(a, rem).write(w)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_rfc4122_v5_and_stable() {
        let u = uuid_of(&["record", "incidents", "INC-1"]);
        assert_eq!(u, uuid_of(&["record", "incidents", "INC-1"]));
        assert_ne!(u, uuid_of(&["record", "incidents", "INC-2"]));
        let parsed = Uuid::parse_str(&u).unwrap();
        assert_eq!(parsed.get_version_num(), 5);
        // The namespace itself is fixed forever.
        assert_eq!(
            namespace().to_string(),
            Uuid::new_v5(&Uuid::NAMESPACE_URL, b"urn:evidentia:oscal").to_string()
        );
    }

    #[test]
    fn control_ids() {
        assert_eq!(control_id("IR-6"), "ir-6");
        assert_eq!(control_id("IR-6(1)"), "ir-6.1");
        assert_eq!(control_id("A.16.1.5"), "A.16.1.5");
        assert_eq!(control_id("CC7.3"), "CC7.3");
        assert_eq!(control_id("IR-NOTIFY"), "IR-NOTIFY");
        assert_eq!(control_id("164.308(a)(6)"), "_164.308_a__6_");
    }

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri_path("evidence/a b.csv"), "evidence/a%20b.csv");
        assert_eq!(uri_path("C:\\x\\y.csv"), "./C:/x/y.csv");
        assert_eq!(uri_path("/tmp/x.csv"), "/tmp/x.csv");
    }

    #[test]
    fn lines_are_single_and_trimmed() {
        assert_eq!(line("  a\n b  ").as_deref(), Some("a b"));
        assert_eq!(line(" \n "), None);
    }
}
