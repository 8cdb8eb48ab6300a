//! Assessment stage: Catalog + Evidence + Scope -> Assessment.
//!
//! Selects each check's population (table, period, filter), runs its rule on every
//! record, tallies verdicts, and derives each control's result from its checks.
//! Rejected records (with `--keep-going`) count as exceptions of every check whose
//! population table they belong to: fail closed.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use crate::catalog::{Catalog, Check, NotEvaluable, Severity};
use crate::diag::{Code, Diagnostic};
use crate::evidence::read::Needs;
use crate::evidence::tables::Kind;
use crate::evidence::{Evidence, Input, Rejected};
use crate::rules::{EvalCtx, Outcome, RelIndex, Requirement, Verdict};
use crate::time::Ts;

/// The audit period: records whose period instant lies in `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First instant inside.
    pub start: Option<Ts>,
    /// First instant after.
    pub end: Option<Ts>,
}

impl Period {
    /// Does an instant fall inside?
    pub fn contains(&self, t: Ts) -> bool {
        self.start.is_none_or(|s| t >= s) && self.end.is_none_or(|e| t < e)
    }
}

/// What is assessed and as of when.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The instant the assessment is made at.
    pub as_of: Ts,
    /// The audit period.
    pub period: Period,
    /// Frameworks selected (empty: all).
    pub frameworks: Vec<String>,
    /// An auditor's sample: its check evaluates only the sampled records.
    pub sample: Option<crate::sample::Sample>,
}

/// One judged record, as reported (non-pass verdicts are kept). A large run holds one
/// per exception (88k at 1M incidents of the reference data, 438k at 5M), so it is
/// kept small: its id, and the id of the record it was reached from, are packed with
/// its values (`Values`), and its line takes 8 bytes (`line`).
#[derive(Debug, Clone)]
pub struct RecordResult {
    /// Its table.
    pub table: &'static str,
    /// Source file (shared by the records of one file).
    pub file: Arc<str>,
    /// Source line (`NO_LINE`: none); read with `line`.
    line: u64,
    /// Verdict.
    pub verdict: Verdict,
    /// Counted as an exception?
    pub counts_as_exception: bool,
    /// Why (in words: `RecordResult::message`).
    pub message: Message,
    /// Values used (and, before them, the record's id and the id of the record it was
    /// reached from: `record_id`, `Message::Requirement`).
    pub values: Values,
    /// The JSON pointer in the source and the deadline (pending and at-risk records),
    /// which most records have not: boxed together (`pointer`, `due`).
    pub more: Option<Box<More>>,
    /// The verdict before a waiver applied (`verdict` is then `waived`).
    pub raw_verdict: Option<Verdict>,
    /// The waiver that covers this exception (boxed: most records have none).
    pub waiver: Option<Box<crate::waivers::WaiverRef>>,
}

/// What few records have: a JSON pointer, a deadline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct More {
    /// JSON pointer in the source.
    pub pointer: Option<Box<str>>,
    /// Deadline for pending and at-risk records.
    pub due: Option<Box<str>>,
}

impl More {
    /// `None` when there is neither.
    pub fn boxed(pointer: Option<String>, due: Option<String>) -> Option<Box<More>> {
        (pointer.is_some() || due.is_some()).then(|| {
            Box::new(More {
                pointer: pointer.map(String::into_boxed_str),
                due: due.map(String::into_boxed_str),
            })
        })
    }
}

/// Why a record did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// In words (shared by the records of a check with the same message).
    Text(Arc<str>),
    /// A requirement's (shared), rendered when written from the record's values and
    /// the id of the record it was reached from (kept with the values).
    Requirement(Arc<Requirement>),
}

/// `RecordResult::line` of a record without a line.
const NO_LINE: u64 = u64::MAX;

impl RecordResult {
    /// A record's result; `via_id`: the id of the record it was reached from, for a
    /// requirement's message.
    #[allow(clippy::too_many_arguments)]
    fn new(
        record_id: &str,
        table: &'static str,
        file: Arc<str>,
        line: Option<u64>,
        verdict: Verdict,
        counts_as_exception: bool,
        message: Message,
        via_id: Option<&str>,
        values: Vec<(&'static str, String)>,
        names: &mut Option<Arc<Names>>,
        more: Option<Box<More>>,
    ) -> RecordResult {
        let lead: &[&str] = match via_id {
            Some(v) => &[record_id, v],
            None => &[record_id],
        };
        RecordResult {
            table,
            file,
            // Lines count from 1: a real line is never `NO_LINE`.
            line: line.unwrap_or(NO_LINE),
            verdict,
            counts_as_exception,
            message,
            values: Values::pack(lead, values, names),
            more,
            raw_verdict: None,
            waiver: None,
        }
    }

    /// Record id.
    pub fn record_id(&self) -> &str {
        self.values.lead(0).unwrap_or("")
    }

    /// Source line.
    pub fn line(&self) -> Option<u64> {
        (self.line != NO_LINE).then_some(self.line)
    }

    /// JSON pointer in the source.
    pub fn pointer(&self) -> Option<&str> {
        self.more.as_ref().and_then(|m| m.pointer.as_deref())
    }

    /// Deadline for pending and at-risk records.
    pub fn due(&self) -> Option<&str> {
        self.more.as_ref().and_then(|m| m.due.as_deref())
    }

    /// Why, in words.
    pub fn message(&self) -> Cow<'_, str> {
        match &self.message {
            Message::Text(s) => Cow::Borrowed(s),
            Message::Requirement(r) => Cow::Owned(r.render(
                self.values.lead(1).unwrap_or(""),
                self.table,
                self.values.iter().map(|(k, v)| -> (&str, &str) { (k, v) }),
            )),
        }
    }
}

impl Serialize for RecordResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("RecordResult", 12)?;
        m.serialize_field("record_id", self.record_id())?;
        m.serialize_field("table", self.table)?;
        m.serialize_field("file", &self.file)?;
        m.serialize_field("line", &self.line())?;
        m.serialize_field("pointer", &self.pointer())?;
        m.serialize_field("verdict", &self.verdict)?;
        m.serialize_field("counts_as_exception", &self.counts_as_exception)?;
        m.serialize_field("message", &self.message())?;
        m.serialize_field("values", &self.values)?;
        m.serialize_field("due", &self.due())?;
        m.serialize_field("raw_verdict", &self.raw_verdict)?;
        m.serialize_field("waiver", &self.waiver)?;
        m.end()
    }
}

/// The sorted names of a record's values, shared by the records that name the same.
type Names = Box<[&'static str]>;

/// The values a verdict was reached on, by name: a map in JSON. A large run holds
/// tens of thousands of them, so they are packed: the names (sorted) are shared by
/// the records of a check that name the same values, and the values are stored in one
/// allocation, each as its length (LEB128) then its bytes. (A vector of named strings
/// took three times the memory: a header per string and the vector's.) A record's
/// result keeps its own id and the id of the record it was reached from in the same
/// allocation, before the values (`lead`): they are no values, and neither `iter`,
/// `get` nor the JSON shows them (equality compares them too).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values {
    /// (Behind a thin pointer: 8 bytes a record, not 16.)
    names: Option<Arc<Names>>,
    /// Empty, or: the number of lead strings (one byte), the lead strings, then the
    /// values in the order of `names`; each string as its length then its bytes.
    packed: Box<[u8]>,
}

/// Append `v` as its length (LEB128) then its bytes.
fn pack_str(packed: &mut Vec<u8>, v: &str) {
    let mut n = v.len();
    while n >= 0x80 {
        packed.push((n & 0x7f) as u8 | 0x80);
        n >>= 7;
    }
    packed.push(n as u8);
    packed.extend_from_slice(v.as_bytes());
}

/// The first string of `rest` (as `pack_str` wrote it), and what follows it.
fn unpack_str(rest: &[u8]) -> (&str, &[u8]) {
    let (v, tail) = unpack(rest);
    // Packed from whole strings: always UTF-8.
    (std::str::from_utf8(v).unwrap_or(""), tail)
}

/// The bytes of the first string of `rest`, and what follows it.
fn unpack(rest: &[u8]) -> (&[u8], &[u8]) {
    let mut rest = rest;
    let mut n = 0usize;
    let mut shift = 0;
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        n |= usize::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
        shift += 7;
        if b & 0x80 == 0 {
            break;
        }
    }
    rest.split_at(n.min(rest.len()))
}

impl Values {
    /// From the pairs of an outcome; for a name given twice the last value is kept.
    pub fn new(pairs: Vec<(&'static str, String)>) -> Values {
        Values::sharing(pairs, &mut None)
    }

    /// As `new`, sharing the names with the values made before when they name the
    /// same (`last` holds the names last made).
    pub fn sharing(pairs: Vec<(&'static str, String)>, last: &mut Option<Arc<Names>>) -> Values {
        Values::pack(&[], pairs, last)
    }

    /// As `sharing`, with the `lead` strings (at most 255) before the values.
    fn pack(
        lead: &[&str],
        mut pairs: Vec<(&'static str, String)>,
        last: &mut Option<Arc<Names>>,
    ) -> Values {
        if pairs.is_empty() && lead.is_empty() {
            return Values::default();
        }
        pairs.reverse();
        // Stable: of equal names, the last given comes first after the reverse.
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        pairs.dedup_by(|later, first| later.0 == first.0);
        let names = match last {
            _ if pairs.is_empty() => None,
            Some(n) if n.iter().copied().eq(pairs.iter().map(|(k, _)| *k)) => Some(n.clone()),
            _ => Some(
                last.insert(Arc::new(pairs.iter().map(|(k, _)| *k).collect()))
                    .clone(),
            ),
        };
        let lead = lead.get(..255).unwrap_or(lead);
        let len: usize = 1
            + lead.iter().map(|v| v.len() + 5).sum::<usize>()
            + pairs.iter().map(|(_, v)| v.len() + 5).sum::<usize>();
        let mut packed = Vec::with_capacity(len);
        packed.push(lead.len() as u8);
        for v in lead {
            pack_str(&mut packed, v);
        }
        for (_, v) in &pairs {
            pack_str(&mut packed, v);
        }
        Values {
            names,
            packed: packed.into_boxed_slice(),
        }
    }

    /// The lead strings and the packed values after them.
    fn split_lead(&self) -> (usize, &[u8]) {
        match self.packed.split_first() {
            Some((&n, rest)) => (usize::from(n), rest),
            None => (0, &[]),
        }
    }

    /// Lead string `i` (`pack`).
    fn lead(&self, i: usize) -> Option<&str> {
        self.lead_bytes(i)
            .map(|v| std::str::from_utf8(v).unwrap_or(""))
    }

    /// The bytes of lead string `i`.
    fn lead_bytes(&self, i: usize) -> Option<&[u8]> {
        let (n, mut rest) = self.split_lead();
        for k in 0..n {
            let (v, tail) = unpack(rest);
            if k == i {
                return Some(v);
            }
            rest = tail;
        }
        None
    }

    /// The value of a name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// Name and value, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let names: &[&'static str] = self.names.as_deref().map_or(&[], |n| &n[..]);
        let (lead, mut rest) = self.split_lead();
        for _ in 0..lead {
            rest = unpack(rest).1;
        }
        names.iter().map(move |&k| {
            let (v, tail) = unpack_str(rest);
            rest = tail;
            (k, v)
        })
    }
}

impl Serialize for Values {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

/// Result of one check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// Check id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Rule kind.
    pub rule: String,
    /// Gate severity.
    pub severity: Severity,
    /// Table whose records are judged.
    pub table: String,
    /// For checks that judge related records: the population table they are reached
    /// from (the filter applies to it).
    pub via: Option<String>,
    /// Population filter as text.
    pub filter: Option<String>,
    /// The test performed, in words.
    pub test: String,
    /// Records judged.
    pub population: u64,
    /// Verdict counts.
    pub passed: u64,
    /// Exceptions (including not-evaluable that count, and rejected records).
    pub exceptions_count: u64,
    /// Of which not evaluable.
    pub not_evaluable: u64,
    /// Of which rejected input records.
    pub rejected: u64,
    /// Exceptions covered by a valid waiver (not counted in `exceptions_count`).
    pub waived: u64,
    /// Pending deadlines.
    pub pending: u64,
    /// At-risk deadlines.
    pub at_risk: u64,
    /// Could not run (e.g. table not provided).
    pub error: Option<String>,
    /// Every non-pass record, ordered by record id.
    pub records: Vec<RecordResult>,
    /// Elapsed start -> end per judged record (deadline checks), nanoseconds.
    #[serde(skip)]
    pub elapsed: Vec<(i64, Verdict)>,
    /// Limit of a deadline check, as text.
    #[serde(skip)]
    pub limit: Option<String>,
    /// The auditor's sample this check was restricted to (`check --sample`).
    pub sample: Option<crate::sample::SampleInfo>,
}

/// A finding open at as-of: not closed and no closing date.
#[derive(Debug, Clone)]
pub struct OpenFinding {
    /// Finding id.
    pub id: String,
    /// When it was filed.
    pub created_at: Option<Ts>,
    /// When it is due.
    pub due_at: Option<Ts>,
}

/// Fields of `findings` read to list open findings.
pub const FINDING_AGE_FIELDS: &[&str] = &["status", "created_at", "due_at", "closed_at"];

/// Add the findings fields the aging chart needs, when findings are read at all.
/// Without the chart (`chart: false`) only its text fields are added: a typed field
/// that is not kept is still validated, but a text field's UTF-8 is checked only when
/// it is kept, and which rows are rejected must not depend on the outputs asked for.
pub fn extend_needs_for_aging(needs: &mut Needs, sources_have_findings: bool, chart: bool) {
    let Some(def) = crate::evidence::tables::table("findings") else {
        return;
    };
    if !sources_have_findings {
        return;
    }
    let set = needs.entry(def.name).or_default();
    for f in FINDING_AGE_FIELDS {
        if let Some(i) = def.fields.iter().position(|x| x.name == *f)
            && (chart
                || def
                    .fields
                    .get(i)
                    .is_some_and(|x| matches!(x.kind, Kind::Text | Kind::List)))
        {
            set.insert(i);
        }
    }
}

/// Findings open at as-of, in id order.
pub fn open_findings(ev: &Evidence, as_of: Ts) -> Vec<OpenFinding> {
    let Some(t) = ev.table("findings") else {
        return Vec::new();
    };
    let idx = |n: &str| t.field_index(n).unwrap_or(usize::MAX);
    let (status, created, due, closed) = (
        idx("status"),
        idx("created_at"),
        idx("due_at"),
        idx("closed_at"),
    );
    let mut out = Vec::new();
    for row in 0..t.len() as u32 {
        if !t.live(row) {
            continue;
        }
        let is_closed = t.get(row, status).text() == Some("closed")
            || t.get(row, closed).time().is_some_and(|c| c <= as_of);
        let created_at = t.get(row, created).time();
        if is_closed || created_at.is_some_and(|c| c > as_of) {
            continue;
        }
        out.push(OpenFinding {
            id: t.id(row).to_string(),
            created_at,
            due_at: t.get(row, due).time(),
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// A control's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControlStatus {
    /// No exceptions noted.
    Effective,
    /// Exceptions noted.
    Exceptions,
    /// Empty population: not tested.
    NotTested,
    /// Attested by a person, not tested by evidentia.
    Manual,
    /// A check could not run.
    Error,
}

impl ControlStatus {
    /// kebab-case.
    pub fn as_str(self) -> &'static str {
        match self {
            ControlStatus::Effective => "effective",
            ControlStatus::Exceptions => "exceptions",
            ControlStatus::NotTested => "not-tested",
            ControlStatus::Manual => "manual",
            ControlStatus::Error => "error",
        }
    }
}

/// One control's result.
#[derive(Debug, Clone, Serialize)]
pub struct ControlResult {
    /// Framework id.
    pub framework: String,
    /// Control id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Status.
    pub status: ControlStatus,
    /// Checks testing it.
    pub checks: Vec<String>,
    /// Exceptions across its checks.
    pub exceptions: u64,
    /// Records judged across its checks.
    pub population: u64,
    /// The SOC-style result sentence.
    pub result: String,
    /// What a person attests (manual controls).
    pub manual: Option<String>,
    /// Exceptions waived (per record, or all of them by a control waiver).
    pub waived: u64,
    /// The control waiver applied, if any.
    pub waiver: Option<crate::waivers::WaiverRef>,
    /// The control's official text, when the catalog has it (`control_text`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub official: Option<crate::catalog::Official>,
}

/// The whole assessment.
#[derive(Debug)]
pub struct Assessment {
    /// As-of instant.
    pub as_of: Ts,
    /// Period.
    pub period: Period,
    /// Inputs with counts.
    pub inputs: Vec<Input>,
    /// Catalog files with SHA-256.
    pub catalog_files: Vec<(String, String)>,
    /// Check results in id order.
    pub checks: Vec<CheckResult>,
    /// Control results, by framework then catalog order.
    pub controls: Vec<ControlResult>,
    /// Frameworks assessed: (id, name, version).
    pub frameworks: Vec<(String, String, Option<String>)>,
    /// Rejected input records.
    pub rejected: Vec<Rejected>,
    /// Crosswalk mappings between the assessed frameworks.
    pub crosswalk: Vec<crate::catalog::Mapping>,
    /// Name of the audited entity (from the settings file), for report covers.
    pub entity: Option<String>,
    /// Findings still open at as-of (for the findings-aging chart; listed by
    /// `run_check` only when `CheckOptions::open_findings`).
    pub open_findings: Vec<OpenFinding>,
    /// Warnings (e.g. fields no source provides).
    pub warnings: Vec<Diagnostic>,
}

impl Assessment {
    /// Records judged across all checks.
    pub fn total_population(&self) -> u64 {
        self.checks.iter().map(|c| c.population).sum()
    }
}

/// Checks selected by the scope's frameworks (all when none named).
pub fn selected_checks<'c>(cat: &'c Catalog, frameworks: &[String]) -> Vec<&'c Check> {
    if frameworks.is_empty() {
        return cat.checks.iter().collect();
    }
    let ids: BTreeSet<&str> = cat
        .frameworks
        .iter()
        .filter(|f| frameworks.contains(&f.id))
        .flat_map(|f| {
            f.controls
                .iter()
                .flat_map(|c| c.checks.iter().map(String::as_str))
        })
        .collect();
    cat.checks
        .iter()
        .filter(|c| ids.contains(c.id.as_str()))
        .collect()
}

/// The fields every selected check reads.
pub fn needs(checks: &[&Check]) -> Needs {
    needs_of(checks, false)
}

/// The fields the selected checks read as values (`needs` without the references
/// they only follow).
pub fn value_needs(checks: &[&Check]) -> Needs {
    needs_of(checks, true)
}

/// `value_needs`, but for the checks `prejudged` names (by index) without the fields
/// only their requirement reads (`Rule::value_needs_besides_requirement`).
pub(crate) fn value_needs_besides_requirements(checks: &[&Check], prejudged: &[usize]) -> Needs {
    needs_with(checks, |i, c, n| {
        if prejudged.contains(&i) {
            c.rule.value_needs_besides_requirement(c.table, n);
        } else {
            c.rule.value_needs(c.table, n);
        }
    })
}

fn needs_of(checks: &[&Check], values_only: bool) -> Needs {
    needs_with(checks, |_, c, n| {
        if values_only {
            c.rule.value_needs(c.table, n);
        } else {
            c.rule.needs(c.table, n);
        }
    })
}

/// The fields of each check's rule (`rule_needs`) and population filter.
fn needs_with(checks: &[&Check], rule_needs: impl Fn(usize, &Check, &mut Needs)) -> Needs {
    let mut n = Needs::new();
    for (i, c) in checks.iter().enumerate() {
        rule_needs(i, c, &mut n);
        if let Some(f) = &c.filter {
            let mut v = Vec::new();
            f.fields(&mut v);
            n.entry(c.table.name).or_default().extend(v);
        }
    }
    n
}

/// Mark the rows of a table inside the period (the first period field with a value
/// decides; none: inside, failing closed). Gives the locations of the live rows
/// outside it.
pub(crate) fn mark_period(
    t: &mut crate::evidence::Table,
    period: Period,
) -> Vec<crate::evidence::Loc> {
    let pf: Vec<usize> = t
        .def
        .period_fields
        .iter()
        .filter_map(|f| t.field_index(f))
        .collect();
    let mut outside = Vec::new();
    if pf.is_empty() {
        t.in_period.fill(true);
        return outside;
    }
    for row in 0..t.len() as u32 {
        let inside = match pf.iter().find_map(|&f| t.get(row, f).time()) {
            Some(ts) => period.contains(ts),
            None => true,
        };
        t.in_period.set(row as usize, inside);
        if !inside
            && t.live(row)
            && let Some(loc) = t.loc(row)
        {
            outside.push(loc);
        }
    }
    outside
}

/// Mark records inside the period and reconcile per input file. A streamed table was
/// marked part by part as it was read (`crate::stream`), its rows outside the period
/// counted then.
pub fn apply_period(ev: &mut Evidence, period: Period) {
    let mut out_of_period = ev.streamed_out_of_period.clone();
    out_of_period.resize(ev.inputs.len(), 0);
    for (name, t) in ev.tables.iter_mut().filter(|(_, t)| !t.streamed) {
        for loc in mark_period(t, period) {
            let rejected = ev
                .rejected_keys
                .get(loc.file as usize)
                .is_some_and(|k| k.contains(&loc.line));
            if !rejected
                && ev.primary.get(loc.file as usize).copied().flatten() == Some(*name)
                && let Some(c) = out_of_period.get_mut(loc.file as usize)
            {
                *c += 1;
            }
        }
    }
    for (inp, oop) in ev.inputs.iter_mut().zip(out_of_period) {
        inp.rows_out_of_period = oop;
        inp.rows_evaluated = inp
            .rows_read
            .saturating_sub(inp.rows_rejected + oop + inp.rows_superseded);
    }
}

/// Run every selected check and derive control results.
pub fn assess(cat: &Catalog, ev: &Evidence, scope: &Scope) -> Assessment {
    assess_with(cat, ev, scope, crate::stream::Streamed::default())
}

/// `assess`, taking the results of the checks judged while their table was streamed
/// (`crate::stream`) instead of running them.
pub fn assess_with(
    cat: &Catalog,
    ev: &Evidence,
    scope: &Scope,
    mut streamed: crate::stream::Streamed,
) -> Assessment {
    let checks = selected_checks(cat, &scope.frameworks);
    let mut rels = Vec::new();
    for c in checks
        .iter()
        .filter(|c| !streamed.results.contains_key(&c.id))
    {
        c.rule.relations(&mut rels);
    }
    let rel = RelIndex::build(ev, &rels);
    let ctx = EvalCtx {
        ev,
        local: None,
        as_of: scope.as_of,
        period: scope.period,
        calendars: &cat.calendars,
        rel: &rel,
        detail: false,
        judged: None,
        population: None,
    };
    // Checks are independent: they run on every core, and their results and warnings
    // are put back in catalog order, so the outcome does not depend on the threads.
    // A large population is cut into stretches of rows evaluated apart; the stretches
    // of a check are joined in row order, as one pass would have produced them.
    let mut tasks: Vec<(usize, Option<std::ops::Range<u32>>)> = Vec::new();
    let mut done_streaming = Vec::new();
    for (i, c) in checks.iter().enumerate() {
        if let Some((r, w)) = streamed.results.remove(&c.id) {
            done_streaming.push((i, r, w));
            continue;
        }
        let sampled = scope.sample.as_ref().is_some_and(|s| s.data.check == c.id);
        let n = ev.table(c.table.name).map_or(0, |t| t.len()) as u32;
        if sampled || c.rule.aggregate() || n < 2 * STRETCH {
            tasks.push((i, None));
        } else {
            let mut a = 0;
            while a < n {
                let b = n.min(a + STRETCH);
                tasks.push((i, Some(a..b)));
                a = b;
            }
        }
    }
    let run = |&(i, ref rows): &(usize, Option<std::ops::Range<u32>>)| {
        let c = checks.get(i).copied()?;
        let sample = scope.sample.as_ref().filter(|s| s.data.check == c.id);
        let mut w = Vec::new();
        let r = run_check(c, &ctx, sample, rows.clone(), &mut w);
        Some((i, r, w))
    };
    let mut warnings = Vec::new();
    let mut results: Vec<CheckResult> = Vec::new();
    let mut done: Vec<_> = par_map(&tasks, run).into_iter().flatten().collect();
    // In catalog order (a check's stretches stay in row order).
    done.extend(done_streaming);
    done.sort_by_key(|(i, _, _)| *i);
    // The records of each check's stretches, counted first so that joining them
    // allocates each check's list once.
    let mut sizes = vec![(0usize, 0usize); checks.len()];
    for (i, r, _) in &done {
        if let Some(s) = sizes.get_mut(*i) {
            s.0 += r.records.len();
            s.1 += r.elapsed.len();
        }
    }
    let mut last = usize::MAX;
    for (i, mut r, w) in done {
        warnings.extend(w);
        match results.last_mut() {
            Some(prev) if i == last => prev.join(r),
            _ => {
                if let Some(&(n, e)) = sizes.get(i) {
                    r.records.reserve_exact(n.saturating_sub(r.records.len()));
                    r.elapsed.reserve_exact(e.saturating_sub(r.elapsed.len()));
                }
                results.push(r)
            }
        }
        last = i;
    }
    for (r, c) in results.iter_mut().zip(&checks) {
        finish_check(r, c, ev);
    }
    // One warning per unmapped field, naming the checks that read it.
    let mut unmapped: BTreeMap<String, Vec<String>> = BTreeMap::new();
    warnings.retain(|d| {
        if d.code == Code::MissingColumn && d.file.is_empty() {
            if let Some((field, check)) = d.message.split_once('\u{0}') {
                unmapped
                    .entry(field.to_string())
                    .or_default()
                    .push(check.to_string());
            }
            false
        } else {
            true
        }
    });
    for (field, checks) in unmapped {
        warnings.push(Diagnostic::warning(
            Code::MissingColumn,
            "sources",
            format!(
                "`{field}` is not provided by any source, so it is missing on every record; read by {}",
                checks.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let mut controls = Vec::new();
    let mut frameworks = Vec::new();
    for f in &cat.frameworks {
        if !scope.frameworks.is_empty() && !scope.frameworks.contains(&f.id) {
            continue;
        }
        frameworks.push((f.id.clone(), f.name.clone(), f.version.clone()));
        for ctl in &f.controls {
            controls.push(control_result(&f.id, ctl, &results));
        }
    }
    Assessment {
        as_of: scope.as_of,
        period: scope.period,
        inputs: ev.inputs.clone(),
        catalog_files: cat.files.clone(),
        checks: results,
        controls,
        frameworks,
        rejected: ev.rejected.clone(),
        crosswalk: cat
            .crosswalk
            .iter()
            .filter(|m| {
                scope.frameworks.is_empty()
                    || (scope.frameworks.contains(&m.from_framework)
                        && scope.frameworks.contains(&m.to_framework))
            })
            .cloned()
            .collect(),
        entity: None,
        open_findings: Vec::new(),
        warnings,
    }
}

/// `f` over `items` on every core (each thread takes the next item), the results in
/// the order of `items`.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(items.len());
    if threads <= 1 {
        return items.iter().map(&f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        out.push((i, f(item)));
                    }
                    out
                })
            })
            .collect();
        hs.into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Rows per stretch when a check's population is evaluated in parallel.
const STRETCH: u32 = 1 << 16;

/// Evaluate a check on its population (or on the stretch `rows` of it). The rejected
/// records and the order of the records are added by `finish_check`, once.
pub(crate) fn run_check(
    c: &Check,
    ctx: &EvalCtx<'_>,
    sample: Option<&crate::sample::Sample>,
    rows: Option<std::ops::Range<u32>>,
    warnings: &mut Vec<Diagnostic>,
) -> CheckResult {
    let mut r = CheckResult {
        id: c.id.clone(),
        title: c.title.clone(),
        rule: c.rule.kind().to_string(),
        severity: c.severity,
        table: c.rule.judged_table().unwrap_or(c.table.name).to_string(),
        via: c.rule.judged_table().map(|_| c.table.name.to_string()),
        filter: c.filter_text.clone(),
        test: c.rule.describe(c.table),
        population: 0,
        passed: 0,
        exceptions_count: 0,
        not_evaluable: 0,
        rejected: 0,
        waived: 0,
        pending: 0,
        at_risk: 0,
        error: None,
        records: Vec::new(),
        elapsed: Vec::new(),
        limit: None,
        sample: None,
    };
    let Some(t) = ctx.table(c.table.name) else {
        r.error = Some(format!(
            "table `{}` is not provided by the sources file, so the population cannot be drawn",
            c.table.name
        ));
        return r;
    };
    let first = rows.as_ref().is_none_or(|r| r.start == 0);
    let rows = rows.unwrap_or(0..t.len() as u32);
    // Fields this check reads that no source provides (said once, by the first stretch).
    let mut n = Needs::new();
    c.rule.needs(c.table, &mut n);
    if let Some(f) = &c.filter {
        let mut v = Vec::new();
        f.fields(&mut v);
        n.entry(c.table.name).or_default().extend(v);
    }
    for (tn, fields) in n.iter().filter(|_| first) {
        let Some(tt) = ctx.table(tn) else {
            if *tn != c.table.name {
                warnings.push(Diagnostic::warning(
                    Code::UnknownTable,
                    c.origin.file.clone(),
                    format!("check `{}` reads table `{tn}`, which the sources file does not provide: no related records will be found", c.id),
                ).at(c.origin.line, 0));
            }
            continue;
        };
        for &f in fields {
            if !tt.provided.get(f).copied().unwrap_or(false) {
                let name = tt.def.fields.get(f).map(|x| x.name).unwrap_or("?");
                // Collected per field and reported once, naming every check that reads it.
                warnings.push(Diagnostic::warning(
                    Code::MissingColumn,
                    "",
                    format!("{tn}.{name}\u{0}{}", c.id),
                ));
            }
        }
    }
    let mut outs: Vec<Outcome> = Vec::new();
    let mut shared = Shared::default();
    let mut sampling = sample.map(crate::sample::Sampling::new);
    let aggregate = c.rule.aggregate();
    let mut agg_rows = Vec::new();
    for row in rows {
        // Rules that judge the population as a whole (periodic, coverage, attested) see
        // records from before the period too: the last review before the period start
        // is what the first stretch is measured from. They apply the window themselves.
        let in_period = t.in_period.get(row as usize).unwrap_or(false);
        if !t.live(row) || (!in_period && !aggregate) {
            continue;
        }
        if let Some(f) = &c.filter
            && !match ctx.population {
                Some(p) => p.get(row as usize).copied().unwrap_or(false),
                None => f.eval(t, row, ctx.as_of),
            }
        {
            continue;
        }
        if aggregate {
            agg_rows.push(row);
            continue;
        }
        // Outcomes are tallied as they come: memory holds only non-passing records.
        c.rule.evaluate(ctx, t, row, &mut outs);
        // A plain pass only counts (what `tally` would do with it, without moving it):
        // most records give only those.
        let plain =
            |o: &Outcome| o.verdict == Verdict::Pass && o.elapsed.is_none() && o.values.is_empty();
        if sampling.is_none() && outs.iter().all(plain) {
            let n = outs.len() as u64;
            r.population += n;
            r.passed += n;
            outs.clear();
            continue;
        }
        for o in outs.drain(..) {
            if sampling.is_none() && plain(&o) {
                r.population += 1;
                r.passed += 1;
                continue;
            }
            // With a sample, only the sampled records are judged.
            if let Some(s) = &mut sampling
                && !s.keep(ctx.ev, &o)
            {
                continue;
            }
            tally(&mut r, c, ctx, o, &mut shared);
        }
    }
    if aggregate {
        c.rule.evaluate_all(ctx, t, &agg_rows, &mut outs);
        for o in outs.drain(..) {
            tally(&mut r, c, ctx, o, &mut shared);
        }
    }
    if let Some(s) = sampling {
        let (info, notes) = s.finish();
        for m in notes {
            warnings.push(Diagnostic::warning(Code::BadValue, info.file.clone(), m));
        }
        r.sample = Some(info);
    }
    r
}

impl CheckResult {
    /// Take in the result of the next stretch of the same check's population.
    pub(crate) fn join(&mut self, o: CheckResult) {
        self.population += o.population;
        self.passed += o.passed;
        self.exceptions_count += o.exceptions_count;
        self.not_evaluable += o.not_evaluable;
        self.rejected += o.rejected;
        self.waived += o.waived;
        self.pending += o.pending;
        self.at_risk += o.at_risk;
        if self.error.is_none() {
            self.error = o.error;
        }
        self.records.extend(o.records);
        self.elapsed.extend(o.elapsed);
        if self.limit.is_none() {
            self.limit = o.limit;
        }
        if self.sample.is_none() {
            self.sample = o.sample;
        }
    }
}

/// Add the rejected records that could have entered the check, and put its records in
/// order.
fn finish_check(r: &mut CheckResult, c: &Check, ev: &Evidence) {
    if r.error.is_some() {
        return;
    }
    // Rejected records of the tables whose records the check judges (its population,
    // or the related records an each-linked check reaches) are exceptions: they could
    // have entered it. (A rejected related record of other rules cannot make a record
    // pass: its absence already fails closed.)
    let mut read_tables = vec![c.table.name];
    if c.rule.judged_table().is_some() {
        // Each-linked: a rejected record anywhere on the path hides the records behind it.
        let mut rels = Vec::new();
        c.rule.relations(&mut rels);
        read_tables.extend(rels.iter().map(|(t, _)| *t));
    }
    read_tables.sort_unstable();
    read_tables.dedup();
    for rj in ev
        .rejected
        .iter()
        .filter(|x| read_tables.contains(&x.table))
    {
        r.population += 1;
        r.exceptions_count += 1;
        r.rejected += 1;
        r.records.push(RecordResult::new(
            rj.record_id.as_deref().unwrap_or("(no id)"),
            rj.table,
            Arc::from(rj.diagnostic.file.as_str()),
            rj.diagnostic.line,
            Verdict::NotEvaluable,
            true,
            Message::Text(format!("record rejected: {}", rj.diagnostic.message).into()),
            None,
            Vec::new(),
            &mut None,
            More::boxed(rj.diagnostic.pointer.clone(), None),
        ));
    }
    // By id (its bytes: the order of the text, without checking it again), file, line
    // and pointer.
    fn id(r: &RecordResult) -> &[u8] {
        r.values.lead_bytes(0).unwrap_or_default()
    }
    r.records.sort_by(|a, b| {
        (id(a), &a.file, a.line(), a.pointer()).cmp(&(id(b), &b.file, b.line(), b.pointer()))
    });
}

/// What the records of a check run share: the path of each input file, and the names
/// of the values last kept (`Values::sharing`).
#[derive(Default)]
struct Shared {
    paths: Vec<Option<Arc<str>>>,
    names: Option<Arc<Names>>,
    /// The last few messages kept (many checks give thousands of records one of a
    /// few messages, e.g. `expected at least 1 postmortems ...; 0 of 1 ...`).
    messages: Vec<Arc<str>>,
}

impl Shared {
    /// The message, shared with a record kept before when it is the same.
    fn message(&mut self, m: String) -> Arc<str> {
        const KEPT: usize = 8;
        if let Some(i) = self.messages.iter().position(|x| **x == *m) {
            let hit = self.messages.remove(i);
            self.messages.push(hit.clone());
            return hit;
        }
        let new: Arc<str> = m.into();
        if self.messages.len() == KEPT {
            self.messages.remove(0);
        }
        self.messages.push(new.clone());
        new
    }

    /// The shared path of input `file`, as shown (`Evidence::position`).
    fn path(&mut self, file: u32, shown: String) -> Arc<str> {
        let i = file as usize;
        if self.paths.len() <= i {
            self.paths.resize(i + 1, None);
        }
        match self.paths.get_mut(i) {
            Some(Some(p)) if **p == *shown => p.clone(),
            Some(slot) => slot.insert(Arc::from(shown)).clone(),
            None => Arc::from(shown),
        }
    }
}

/// Count one outcome into a check result, keeping the record when it does not pass.
fn tally(r: &mut CheckResult, c: &Check, ctx: &EvalCtx<'_>, o: Outcome, shared: &mut Shared) {
    if r.limit.is_none() && c.rule.kind() == "deadline" {
        r.limit = o
            .values
            .iter()
            .find(|(k, _)| *k == "limit")
            .map(|(_, v)| v.clone());
    }
    r.population += 1;
    let counts = match o.verdict {
        Verdict::Pass => {
            r.passed += 1;
            false
        }
        // Rules never waive; waivers apply after the assessment.
        Verdict::Waived => {
            r.waived += 1;
            false
        }
        Verdict::Exception => {
            r.exceptions_count += 1;
            true
        }
        Verdict::NotEvaluable => {
            r.not_evaluable += 1;
            if c.not_evaluable == NotEvaluable::Exception {
                r.exceptions_count += 1;
                true
            } else {
                false
            }
        }
        Verdict::Pending => {
            r.pending += 1;
            false
        }
        Verdict::AtRisk => {
            r.at_risk += 1;
            false
        }
    };
    if let Some(e) = o.elapsed {
        r.elapsed.push((e, o.verdict));
    }
    if o.verdict == Verdict::Pass {
        return;
    }
    let Some(tt) = ctx.table(o.table) else {
        return;
    };
    let (record_id, loc) = match &o.subject {
        Some(s) => (s.as_str(), None),
        None => (tt.id(o.row), tt.loc(o.row)),
    };
    let (file, line, pointer) = match loc {
        Some(l) => {
            let (shown, line, pointer) = ctx.ev.position(&l);
            (shared.path(l.file, shown), line, pointer)
        }
        None => (Arc::from(""), None, None),
    };
    let (message, via_id) = match o.requirement {
        Some((q, via_id)) => (Message::Requirement(q), Some(via_id)),
        None => (Message::Text(shared.message(o.message)), None),
    };
    r.records.push(RecordResult::new(
        record_id,
        o.table,
        file,
        line,
        o.verdict,
        counts,
        message,
        via_id.as_deref(),
        o.values,
        &mut shared.names,
        More::boxed(pointer, o.due.map(|d| d.to_string())),
    ));
}

fn control_result(
    framework: &str,
    ctl: &crate::catalog::Control,
    results: &[CheckResult],
) -> ControlResult {
    let mut c = ControlResult {
        framework: framework.to_string(),
        id: ctl.id.clone(),
        title: ctl.title.clone(),
        status: ControlStatus::Manual,
        checks: ctl.checks.clone(),
        exceptions: 0,
        population: 0,
        result: String::new(),
        manual: ctl.manual.clone(),
        waived: 0,
        waiver: None,
        official: ctl.official.clone(),
    };
    c.conclude(results);
    c
}

impl ControlResult {
    /// Derive status and result sentence from the control's check results. A control
    /// waiver (set in `waiver`) covers every exception of its checks for this control.
    pub fn conclude(&mut self, results: &[CheckResult]) {
        let mine: Vec<&CheckResult> = self
            .checks
            .iter()
            .filter_map(|id| results.iter().find(|r| &r.id == id))
            .collect();
        let raw: u64 = mine.iter().map(|r| r.exceptions_count).sum();
        self.waived = mine.iter().map(|r| r.waived).sum();
        let (exceptions, control_waived) = match &self.waiver {
            Some(_) => (0, raw),
            None => (raw, 0),
        };
        self.waived += control_waived;
        self.exceptions = exceptions;
        self.population = mine.iter().map(|r| r.population).sum();
        let population = self.population;
        let waived_note = if self.waived > 0 {
            format!(
                " {} exception(s) waived{}.",
                self.waived,
                self.waiver
                    .as_ref()
                    .map(|w| format!(" under {}", w.id))
                    .unwrap_or_default()
            )
        } else {
            String::new()
        };
        let (status, result) = if self.checks.is_empty() {
            (
                ControlStatus::Manual,
                "Not tested by evidentia; management attestation required.".to_string(),
            )
        } else if exceptions > 0 {
            let per_check: Vec<String> = mine
                .iter()
                .filter(|r| r.population > 0)
                .map(|r| format!("{} {} of {}", r.id, r.exceptions_count, r.population))
                .collect();
            let sentence = if mine.len() == 1 {
                format!("Exceptions noted: {exceptions} of {population} records tested.")
            } else {
                format!("Exceptions noted ({}).", per_check.join("; "))
            };
            (
                ControlStatus::Exceptions,
                format!("{sentence}{waived_note}"),
            )
        } else if let Some(e) = mine.iter().find_map(|r| r.error.as_ref()) {
            (ControlStatus::Error, format!("Not concluded: {e}."))
        } else if population == 0 {
            (
                ControlStatus::NotTested,
                "Not tested: the population was empty for the period.".to_string(),
            )
        } else {
            let tested = if mine.len() == 1 {
                format!("{population} records tested")
            } else {
                mine.iter()
                    .map(|r| format!("{} {}", r.id, r.population))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            (
                ControlStatus::Effective,
                format!("No exceptions noted ({tested}).{waived_note}"),
            )
        };
        self.status = status;
        self.result = result;
    }
}

#[cfg(test)]
mod tests {
    use super::Values;

    #[test]
    fn values_are_sorted_by_name_and_the_last_of_a_name_wins() {
        let v = Values::new(vec![
            ("start", "1".into()),
            ("end", "2".into()),
            ("start", "3".into()),
            ("audience", "customers".into()),
        ]);
        let got: Vec<(&str, &str)> = v.iter().collect();
        assert_eq!(
            got,
            [("audience", "customers"), ("end", "2"), ("start", "3")]
        );
        assert_eq!(v.get("start"), Some("3"));
        assert_eq!(v.get("deadline"), None);
        assert_eq!(
            serde_json::to_string(&v).unwrap_or_default(),
            r#"{"audience":"customers","end":"2","start":"3"}"#
        );
    }

    #[test]
    fn a_repeated_message_is_shared_among_the_last_eight() {
        let mut sh = super::Shared::default();
        let a = sh.message("0 of 1 qualify".into());
        let b = sh.message("0 of 2 qualify".into());
        assert!(std::sync::Arc::ptr_eq(
            &a,
            &sh.message("0 of 1 qualify".into())
        ));
        assert!(!std::sync::Arc::ptr_eq(&a, &b));
        for i in 0..7 {
            sh.message(format!("other {i}"));
        }
        // "0 of 1" was used more recently than "0 of 2": only the latter was dropped.
        assert!(std::sync::Arc::ptr_eq(
            &a,
            &sh.message("0 of 1 qualify".into())
        ));
        assert!(!std::sync::Arc::ptr_eq(
            &b,
            &sh.message("0 of 2 qualify".into())
        ));
        assert_eq!(&*b, "0 of 2 qualify");
    }

    #[test]
    fn packed_values_of_any_length_read_back_and_names_are_shared() {
        // Lengths on both sides of each LEB128 byte boundary, and multi-byte text.
        let long = |n: usize| "é".repeat(n / 2) + &"x".repeat(n % 2);
        let mut last = None;
        for n in [0, 1, 127, 128, 129, 16_383, 16_384, 70_000] {
            let pairs = vec![("b", long(n)), ("a", String::new()), ("c", format!("{n}"))];
            let v = super::Values::sharing(pairs, &mut last);
            let got: Vec<(&str, String)> = v.iter().map(|(k, x)| (k, x.to_string())).collect();
            assert_eq!(
                got,
                [("a", String::new()), ("b", long(n)), ("c", format!("{n}"))]
            );
        }
        let a = super::Values::sharing(vec![("x", "1".into()), ("y", "2".into())], &mut last);
        let b = super::Values::sharing(vec![("y", "3".into()), ("x", "4".into())], &mut last);
        let c = super::Values::sharing(vec![("x", "5".into())], &mut last);
        let names = |v: &Values| {
            v.names
                .clone()
                .unwrap_or_else(|| std::sync::Arc::new(Box::default()))
        };
        assert!(std::sync::Arc::ptr_eq(&names(&a), &names(&b)));
        assert!(!std::sync::Arc::ptr_eq(&names(&b), &names(&c)));
        assert_eq!(c.iter().collect::<Vec<_>>(), [("x", "5")]);
        assert_eq!(Values::new(Vec::new()).iter().count(), 0);
    }

    /// A record's id and the id it was reached from are kept with its values, and
    /// only its values show as values.
    #[test]
    fn a_records_ids_are_packed_before_its_values_and_read_back() {
        use super::{Message, RecordResult, Verdict};
        let long = |n: usize| "é".repeat(n / 2) + &"x".repeat(n % 2);
        let mut names = None;
        for n in [0, 1, 127, 128, 16_384] {
            for via in [None, Some(long(n + 1))] {
                for values in [Vec::new(), vec![("owner", long(n)), ("due_at", "d".into())]] {
                    let r = RecordResult::new(
                        &long(n),
                        "findings",
                        "f.csv".into(),
                        Some(7),
                        Verdict::Exception,
                        true,
                        Message::Text("m".into()),
                        via.as_deref(),
                        values.clone(),
                        &mut names,
                        None,
                    );
                    assert_eq!(r.record_id(), long(n));
                    assert_eq!(r.values.lead(1), via.as_deref());
                    assert_eq!(r.line(), Some(7));
                    let mut want: Vec<(&str, String)> = values;
                    want.sort();
                    let got: Vec<(&str, String)> =
                        r.values.iter().map(|(k, v)| (k, v.to_string())).collect();
                    assert_eq!(got, want);
                    let json = serde_json::to_value(&r).unwrap_or_default();
                    assert_eq!(json["record_id"], long(n).as_str());
                    assert_eq!(json["line"], 7);
                    assert_eq!(
                        json["values"].as_object().map(|o| o.len()),
                        Some(want.len())
                    );
                }
            }
        }
        // No line, and the largest line a file could have.
        for line in [None, Some(1), Some(u64::MAX - 1)] {
            let r = RecordResult::new(
                "id",
                "incidents",
                "".into(),
                line,
                Verdict::NotEvaluable,
                true,
                Message::Text("m".into()),
                None,
                Vec::new(),
                &mut None,
                None,
            );
            assert_eq!(r.line(), line);
            assert_eq!(r.values.iter().count(), 0);
            assert_eq!(
                serde_json::to_value(&r).unwrap_or_default()["values"],
                serde_json::json!({})
            );
        }
    }
}

#[cfg(test)]
mod size_tests {
    /// A large run holds one per exception (88k at 1M incidents): its size is memory.
    #[test]
    fn an_exception_record_stays_small() {
        assert_eq!(std::mem::size_of::<super::Values>(), 24);
        assert!(
            std::mem::size_of::<super::RecordResult>() <= 104,
            "{}",
            std::mem::size_of::<super::RecordResult>()
        );
    }
}
