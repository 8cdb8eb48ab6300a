//! Rules: one file per rule kind, one trait. Part of the assessment stage.
//!
//! A rule is compiled from its catalog entry (reporting problems at `file:line:col`)
//! and evaluated per population record with everything it needs in `EvalCtx`,
//! including the as-of instant: no rule reads the clock.

mod allowed;
mod attested;
mod coverage;
mod deadline;
mod each_linked;
mod linked;
mod periodic;
mod required;
mod sequence;

use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;
use std::fmt::Debug;

use serde::Serialize;
use serde_json::Value as J;

use crate::catalog::filter::Cond;
use crate::catalog::{CompileCtx, RawCheck};
use crate::diag::Code;
use crate::evidence::idindex::IdIndex;
use crate::evidence::read::Needs;
use crate::evidence::tables::TableDef;
use crate::evidence::{Evidence, Table};
use crate::evidence::{Near, fx32};
use crate::time::{Calendar, Ts};

/// Every rule kind, for messages and docs.
pub const KINDS: &[&str] = &[
    "deadline",
    "required",
    "allowed",
    "sequence",
    "linked",
    "each-linked",
    "periodic",
    "coverage",
    "attested",
];

/// The verdict on one record for one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Meets the check.
    Pass,
    /// Does not meet it.
    Exception,
    /// A deadline not yet reached at as-of.
    Pending,
    /// Pending and inside the warning window.
    AtRisk,
    /// Data needed to decide is missing.
    NotEvaluable,
    /// An exception covered by a valid waiver (the raw verdict is kept beside it).
    Waived,
}

impl Verdict {
    /// kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Exception => "exception",
            Verdict::Pending => "pending",
            Verdict::AtRisk => "at-risk",
            Verdict::NotEvaluable => "not-evaluable",
            Verdict::Waived => "waived",
        }
    }
}

/// The result for one record.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Table of the record judged (the population table, or the related table for
    /// each-linked).
    pub table: &'static str,
    /// Row in that table.
    pub row: u32,
    /// Verdict.
    pub verdict: Verdict,
    /// Why, in words.
    pub message: String,
    /// The values used, for the report and `explain`.
    pub values: Vec<(&'static str, String)>,
    /// Deadline, for pending and at-risk items.
    pub due: Option<Ts>,
    /// Elapsed time start -> end (nanoseconds), for deadline charts.
    pub elapsed: Option<i64>,
    /// For aggregate rules: what is judged when no single record is (e.g. a gap in
    /// on-call cover, or a missing attestation); `row` is then unused.
    pub subject: Option<String>,
    /// When set, the message is this requirement's (shared by the check's outcomes),
    /// rendered from the values and the id of the record it was reached from
    /// (`message` is then empty): see `Requirement`.
    pub requirement: Option<(std::sync::Arc<Requirement>, Box<str>)>,
}

/// The message of an each-linked verdict, kept as its parts: `meets|does not meet
/// REQUIREMENT (FIELD=VALUE, ...); via TABLE ID`. It repeats the record's values and
/// the check's requirement, so a large run (tens of thousands of overdue findings)
/// renders it only when it is written. A check shares one for the records that meet
/// it and one for those that do not; each record keeps only the id (`render`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// Was it met?
    pub met: bool,
    /// The requirement, in words (shared by the check's records).
    pub text: std::sync::Arc<str>,
    /// The table of the record it was reached from.
    pub via: &'static str,
}

impl Requirement {
    /// The message, with the values of the record judged, a row of `table` (shown in
    /// the order of the table's fields, whatever order they come in).
    pub fn render<'a>(
        &self,
        via_id: &str,
        table: &str,
        values: impl Iterator<Item = (&'a str, &'a str)>,
    ) -> String {
        let mut values: Vec<(&str, &str)> = values.collect();
        if let Some(def) = crate::evidence::tables::table(table) {
            values.sort_by_key(|(k, _)| {
                def.fields
                    .iter()
                    .position(|f| f.name == *k)
                    .unwrap_or(usize::MAX)
            });
        }
        let mut shown = String::new();
        for (i, (k, v)) in values.into_iter().enumerate() {
            if i > 0 {
                shown.push_str(", ");
            }
            shown.push_str(k);
            shown.push('=');
            shown.push_str(v);
        }
        let verb = if self.met { "meets" } else { "does not meet" };
        format!("{verb} {} ({shown}); via {} {via_id}", self.text, self.via)
    }
}

impl Outcome {
    /// The message in words (a requirement's rendered from the values).
    pub fn text(&self) -> String {
        match &self.requirement {
            Some((r, via_id)) => r.render(
                via_id,
                self.table,
                self.values.iter().map(|(k, v)| (*k, v.as_str())),
            ),
            None => self.message.clone(),
        }
    }

    /// An outcome about a record.
    pub fn new(table: &'static str, row: u32, verdict: Verdict, message: String) -> Outcome {
        Outcome {
            table,
            row,
            verdict,
            message,
            values: Vec::new(),
            due: None,
            elapsed: None,
            subject: None,
            requirement: None,
        }
    }

    /// An outcome about something that is not one record (e.g. a period).
    pub fn about(
        table: &'static str,
        subject: String,
        verdict: Verdict,
        message: String,
    ) -> Outcome {
        Outcome {
            subject: Some(subject),
            ..Outcome::new(table, u32::MAX, verdict, message)
        }
    }
}

/// One step of a path to related records: rows of `table` whose `via` field holds
/// the previous record's id, optionally filtered.
#[derive(Debug, Clone)]
pub struct Step {
    /// Related table.
    pub table: &'static TableDef,
    /// Field (canonical index) holding the previous record's id.
    pub via: usize,
    /// Filter on related rows.
    pub filter: Option<Cond>,
}

/// Child rows of one relation grouped by parent row (compressed sparse rows).
#[derive(Debug, Default)]
struct Children {
    /// `kids[starts[p]..starts[p + 1]]` are the children of parent row `p`.
    starts: Vec<u32>,
    kids: Vec<u32>,
}

/// Indexes from (child table, via field) to the child rows of each parent row.
#[derive(Debug, Default)]
pub struct RelIndex {
    map: HashMap<(&'static str, usize), Children>,
    /// The steps whose parents are found by id rather than row (the parent table is
    /// streamed: its rows are not kept): the child rows by the hash of their reference
    /// (`fx32`), each checked against the reference's text when looked up. One probe
    /// reaches the rows (an index of the first row of each hash into a sorted list of
    /// (hash, row) pairs read the list too: a second cache miss per look-up, and 8
    /// bytes a child).
    by_id: HashMap<(&'static str, usize), ById>,
}

/// The child rows of a step found by id, and whether each reference's rows are
/// together (`grouped`: no row names an id that rows before it named and the row just
/// before it did not), as an export of postmortems in the order of their incidents
/// is. Then the rows after those found last are tried first (`each_child_near`).
#[derive(Debug, Default)]
struct ById {
    rows: IdIndex,
    grouped: bool,
}

impl RelIndex {
    /// Build the indexes the steps need. A child whose reference names no parent is
    /// left out (the reader has rejected it as a dangling reference).
    pub fn build(ev: &Evidence, steps: &[(&'static str, usize)]) -> RelIndex {
        let mut map = HashMap::default();
        for &(table, via) in steps {
            if map.contains_key(&(table, via)) {
                continue;
            }
            let mut idx = Children::default();
            if let Some(t) = ev.table(table)
                && let Some(parent) = t
                    .def
                    .fields
                    .get(via)
                    .and_then(|f| f.refers_to)
                    .and_then(|p| ev.table(p))
            {
                let n = parent.len();
                let mut parent_of: Vec<u32> = Vec::with_capacity(t.len());
                let mut counts = vec![0u32; n + 1];
                let cached = t.parents.get(&via);
                let mut near = crate::evidence::Near::default();
                for row in 0..t.len() as u32 {
                    let p = if !t.live(row) {
                        None
                    } else if let Some(c) = cached {
                        c.get(row as usize).copied().filter(|&p| p != u32::MAX)
                    } else {
                        t.get(row, via)
                            .text()
                            .and_then(|k| parent.row_of_near(k.trim(), &mut near))
                    };
                    let p = p.unwrap_or(u32::MAX);
                    if let Some(c) = counts.get_mut(p as usize) {
                        *c += 1;
                    }
                    parent_of.push(p);
                }
                let mut starts = Vec::with_capacity(n + 1);
                let mut acc = 0u32;
                for c in counts.iter().take(n) {
                    starts.push(acc);
                    acc += c;
                }
                starts.push(acc);
                let mut fill = starts.clone();
                let mut kids = vec![0u32; acc as usize];
                for (row, &p) in parent_of.iter().enumerate() {
                    if let Some(f) = fill.get_mut(p as usize) {
                        if let Some(k) = kids.get_mut(*f as usize) {
                            *k = row as u32;
                        }
                        *f += 1;
                    }
                }
                idx = Children { starts, kids };
            }
            map.insert((table, via), idx);
        }
        RelIndex {
            map,
            by_id: HashMap::default(),
        }
    }

    /// Indexes of the steps into `ev`'s tables whose parents are found by id: the
    /// parent table is streamed (see `crate::stream`), so only its ids are known, one
    /// part at a time. A dead child, or one without a reference, is left out.
    pub fn build_by_id(ev: &Evidence, steps: &[(&'static str, usize)]) -> RelIndex {
        let mut by_id = HashMap::default();
        for &(table, via) in steps {
            let Some(t) = ev.table(table) else { continue };
            if by_id.contains_key(&(table, via)) {
                continue;
            }
            let key = |r: u32| t.get(r, via).text().map(str::trim);
            let rehash = |r: u32| key(r).map_or(0, fx32);
            let mut rows = IdIndex::default();
            // Room for every row first, so that the index never grows while it is
            // filled: the rows of a hash stay in row order along its probe.
            rows.reserve(t.len(), rehash);
            let mut grouped = true;
            let mut last: Option<&str> = None;
            for r in (0..t.len() as u32).filter(|&r| t.live(r)) {
                if let Some(k) = key(r) {
                    let h = fx32(k);
                    // A new run of rows: its id must be new too (the probe reads the
                    // groups the push then reads).
                    if grouped && last != Some(k) && rows.find(h, |x| key(x) == Some(k)).is_some() {
                        grouped = false;
                    }
                    last = Some(k);
                    rows.push(h, r, rehash);
                }
            }
            by_id.insert((table, via), ById { rows, grouped });
        }
        RelIndex {
            map: HashMap::default(),
            by_id,
        }
    }

    /// Add a step's related rows by parent row: `kids[starts[p]..starts[p + 1]]`
    /// are the related rows of parent row `p`.
    pub fn insert_rows(&mut self, step: (&'static str, usize), starts: Vec<u32>, kids: Vec<u32>) {
        self.map.insert(step, Children { starts, kids });
    }

    /// This index with the steps of `other` added.
    pub fn with(mut self, other: RelIndex) -> RelIndex {
        self.map.extend(other.map);
        self.by_id.extend(other.by_id);
        self
    }

    /// Does this index hold the step (by row or by id)?
    fn has(&self, step: &Step) -> bool {
        let k = (step.table.name, step.via);
        self.map.contains_key(&k) || self.by_id.contains_key(&k)
    }

    /// Call `f` with each row of `child` (the step's table) linked to row `prow` of
    /// `parent` (before the step's filter), in row order.
    fn each_child(
        &self,
        step: &Step,
        parent: &Table,
        prow: u32,
        child: &Table,
        mut f: impl FnMut(u32),
    ) {
        let k = (step.table.name, step.via);
        if !self.each_child_by_id(k, parent, prow, child, &mut f) {
            for &r in self.children(step, prow) {
                f(r);
            }
        }
    }

    /// The steps found by id (their parent table is streamed).
    pub(crate) fn by_id_steps(&self) -> impl Iterator<Item = (&'static str, usize)> + '_ {
        self.by_id.keys().copied()
    }

    /// `each_child` for a step found by id, `(child table, via field)`: false (and no
    /// call) when this index does not find it by id.
    pub(crate) fn each_child_by_id(
        &self,
        step: (&'static str, usize),
        parent: &Table,
        prow: u32,
        child: &Table,
        f: impl FnMut(u32),
    ) -> bool {
        self.each_child_near(step, parent, prow, child, &mut Near::default(), f)
    }

    /// `each_child_by_id` for parents looked up mostly in the order of their children
    /// (`near`: after the last child found). When every id's rows are together
    /// (`ById::grouped`) and the row after the last found names the parent, its run
    /// of rows is all the parent's: read in order, no index probed. The same rows in
    /// the same order as the index gives, whatever the order of the look-ups.
    pub(crate) fn each_child_near(
        &self,
        step: (&'static str, usize),
        parent: &Table,
        prow: u32,
        child: &Table,
        near: &mut Near,
        mut f: impl FnMut(u32),
    ) -> bool {
        let Some(b) = self.by_id.get(&step) else {
            return false;
        };
        let id = parent.id(prow);
        let key = |r: u32| child.get(r, step.1).text().map(str::trim);
        let own = |r: u32| key(r).is_some_and(|t| crate::evidence::same_text(t, id));
        let n = child.len() as u32;
        let mut r = near.next;
        if b.grouped && r < n && child.live(r) && own(r) {
            // The run: rows the index holds (live, with a reference) naming the
            // parent, up to the first that names another; the rest are skipped.
            while r < n {
                if child.live(r) {
                    match key(r) {
                        Some(k) if crate::evidence::same_text(k, id) => f(r),
                        Some(_) => break,
                        None => {}
                    }
                }
                r += 1;
            }
            near.next = r;
            near.hits += 1;
            return true;
        }
        let mut next = None;
        b.rows.each(fx32(id), own, |r| {
            next = Some(r + 1);
            f(r);
        });
        if let Some(next) = next {
            near.next = next;
        }
        true
    }

    /// Rows of `step.table` linked to a parent row (before the step's filter).
    pub fn children(&self, step: &Step, parent_row: u32) -> &[u32] {
        let Some(c) = self.map.get(&(step.table.name, step.via)) else {
            return &[];
        };
        let p = parent_row as usize;
        match (c.starts.get(p), c.starts.get(p + 1)) {
            (Some(&a), Some(&b)) => c.kids.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// Everything a rule may read.
pub struct EvalCtx<'a> {
    /// The evidence.
    pub ev: &'a Evidence,
    /// A part of a streamed table and of the tables derived from it, with the
    /// relation indexes into them: looked up before `ev` (see `crate::stream`).
    pub local: Option<(&'a Evidence, &'a RelIndex)>,
    /// The as-of instant.
    pub as_of: Ts,
    /// The audit period.
    pub period: crate::assess::Period,
    /// Calendars by id.
    pub calendars: &'a BTreeMap<String, Calendar>,
    /// Relation indexes.
    pub rel: &'a RelIndex,
    /// Build messages and values for passing records too (`explain`); the check run
    /// keeps only non-passing records, so it skips that work.
    pub detail: bool,
    /// The rule's `requirement`, judged beforehand for every record of its table
    /// (streaming sets it per check, never with `detail`).
    pub judged: Option<&'a Prejudged>,
    /// The check's population filter, evaluated beforehand for every row of its
    /// table (streaming sets it for a filter that several checks have).
    pub population: Option<&'a [bool]>,
}

/// A rule's `requirement`, judged once for every record of a table read before the
/// streamed one (`crate::stream`), instead of each time a record is reached. The
/// fields that only the requirement reads can then be freed; the values of the
/// records that do not meet it are kept, for their exception records.
#[derive(Debug)]
pub struct Prejudged {
    /// The rows that do not meet it (every other row does), a bit a row with ranks:
    /// row `i` of `unmet` holds the values of the `i`-th of them. Is a row among them,
    /// and which, is one look-up (a binary search of the sorted rows for each related
    /// record reached took about 1.5% of a streamed run's CPU at 1M incidents).
    bits: crate::evidence::Kept,
    /// The requirement's fields of those rows.
    unmet: Table,
}

impl Prejudged {
    /// Judge every row of `t` by `cond`.
    pub fn new(cond: &Cond, t: &Table, as_of: Ts) -> Prejudged {
        let unmet_rows: Vec<u32> = (0..t.len() as u32)
            .filter(|&r| !cond.eval(t, r, as_of))
            .collect();
        let mut fields = Vec::new();
        cond.fields(&mut fields);
        fields.sort_unstable();
        fields.dedup();
        let unmet = t.subset(&fields, &unmet_rows);
        let bits = crate::evidence::Kept::from_sorted(t.len(), &unmet_rows);
        Prejudged { bits, unmet }
    }

    /// The rows that do not meet it, in order.
    pub fn unmet_rows(&self) -> impl Iterator<Item = u32> + '_ {
        self.bits.rows()
    }

    /// Where the requirement's values of a row that does not meet it are: a table
    /// and its row (`None`: the row meets it).
    pub fn unmet_values(&self, r: u32) -> Option<(&Table, u32)> {
        let i = self.bits.rank(r as usize)?;
        Some((&self.unmet, i as u32))
    }
}

impl EvalCtx<'_> {
    /// A table: the streamed part's, else the evidence's.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.local
            .and_then(|(l, _)| l.table(name))
            .or_else(|| self.ev.table(name))
    }

    /// Rows reached from a record through a path, filtered at each step, deduplicated,
    /// in row order: rows of the path's last table (of `from` for an empty path).
    pub fn follow(&self, from: &Table, row: u32, path: &[Step]) -> Vec<u32> {
        // (No allocation until a row is reached: most records reach none or one.)
        let mut frontier: Vec<u32> = Vec::new();
        let mut next: Vec<u32> = Vec::new();
        let mut parent = from;
        for (i, step) in path.iter().enumerate() {
            let Some(t) = self.table(step.table.name) else {
                return Vec::new();
            };
            let rel = match self.local {
                Some((_, r)) if r.has(step) => r,
                _ => self.rel,
            };
            next.clear();
            let mut visit = |r: u32| {
                rel.each_child(step, parent, r, t, |c| {
                    if step
                        .filter
                        .as_ref()
                        .is_none_or(|f| f.eval(t, c, self.as_of))
                    {
                        next.push(c);
                    }
                })
            };
            if i == 0 {
                visit(row);
            } else {
                frontier.iter().for_each(|&r| visit(r));
            }
            if !next.is_sorted_by(|a, b| a < b) {
                next.sort_unstable();
                next.dedup();
            }
            std::mem::swap(&mut frontier, &mut next);
            if frontier.is_empty() {
                return frontier;
            }
            parent = t;
        }
        if path.is_empty() {
            frontier.push(row);
        }
        frontier
    }
}

/// A rule kind: compiled from a check, evaluated per population record.
pub trait Rule: Debug + Send + Sync {
    /// The kind, as written in catalogs.
    fn kind(&self) -> &'static str;
    /// Add the fields this rule reads to the projection.
    fn needs(&self, table: &'static TableDef, needs: &mut Needs);
    /// Add the fields this rule reads as values: `needs` but the references it only
    /// follows, which are resolved to rows once (`RelIndex`) and not read again.
    fn value_needs(&self, table: &'static TableDef, needs: &mut Needs) {
        self.needs(table, needs);
    }
    /// Relation indexes this rule uses: (table, via field).
    fn relations(&self, _out: &mut Vec<(&'static str, usize)>) {}
    /// The test performed, in plain words (for the report).
    fn describe(&self, table: &TableDef) -> String;
    /// Evaluate one population record; push one outcome per record judged.
    fn evaluate(&self, ctx: &EvalCtx<'_>, table: &Table, row: u32, out: &mut Vec<Outcome>);
    /// The table whose records are judged, when not the population table (each-linked
    /// judges the related records it reaches).
    fn judged_table(&self) -> Option<&'static str> {
        None
    }
    /// Rules that judge the population as a whole (periodic, coverage, attested) say so
    /// and implement `evaluate_all`.
    fn aggregate(&self) -> bool {
        false
    }
    /// A condition this rule judges each record of another table by, on its own (the
    /// verdict does not depend on the record it was reached from): each-linked's
    /// `require` on the last table of its path. A streamed run works its verdict out
    /// once per record beforehand (`Prejudged`).
    fn requirement(&self) -> Option<(&'static TableDef, &Cond)> {
        None
    }
    /// `value_needs` without the fields that only the `requirement` reads: what the
    /// rule still reads as values once the requirement is `Prejudged`.
    fn value_needs_besides_requirement(&self, table: &'static TableDef, needs: &mut Needs) {
        self.value_needs(table, needs);
    }
    /// Evaluate the whole population at once (aggregate rules).
    fn evaluate_all(&self, ctx: &EvalCtx<'_>, table: &Table, rows: &[u32], out: &mut Vec<Outcome>) {
        for &r in rows {
            self.evaluate(ctx, table, r, out);
        }
    }
}

/// Compile a check's rule from its catalog entry.
pub fn compile(rc: &RawCheck, ctx: &mut CompileCtx<'_>) -> Option<Box<dyn Rule>> {
    match rc.rule.as_str() {
        "deadline" => deadline::Deadline::compile(rc, ctx).map(|r| Box::new(r) as Box<dyn Rule>),
        "required" => required::Required::compile(rc, ctx).map(|r| Box::new(r) as Box<dyn Rule>),
        "allowed" => allowed::Allowed::compile(rc, ctx).map(|r| Box::new(r) as Box<dyn Rule>),
        "sequence" => sequence::Sequence::compile(rc, ctx).map(|r| Box::new(r) as Box<dyn Rule>),
        "linked" => linked::Linked::compile(rc, ctx).map(|r| Box::new(r) as Box<dyn Rule>),
        "each-linked" => {
            each_linked::EachLinked::compile(rc, ctx).map(|r| Box::new(r) as Box<dyn Rule>)
        }
        "periodic" => periodic::Periodic::compile(rc, ctx).map(|r| Box::new(r) as Box<dyn Rule>),
        "coverage" => coverage::Coverage::compile(rc, ctx).map(|r| Box::new(r) as Box<dyn Rule>),
        "attested" => attested::Attested::compile(rc, ctx).map(|r| Box::new(r) as Box<dyn Rule>),
        other => {
            ctx.err(
                Code::BadValue,
                "/rule",
                format!("unknown rule `{other}` (rules: {})", KINDS.join(", ")),
            );
            None
        }
    }
}

/// A condition as compact text for reports: `{"data_breach":true}` -> `data_breach = true`.
pub fn cond_text(v: &J) -> String {
    match v {
        J::Object(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, val)| match (k.as_str(), val) {
                    ("all", J::Array(a)) => {
                        format!(
                            "({})",
                            a.iter().map(cond_text).collect::<Vec<_>>().join(" and ")
                        )
                    }
                    ("any", J::Array(a)) => {
                        format!(
                            "({})",
                            a.iter().map(cond_text).collect::<Vec<_>>().join(" or ")
                        )
                    }
                    ("not", x) => format!("not {}", cond_text(x)),
                    (f, J::Null) => format!("{f} is not set"),
                    (f, J::Array(a)) => format!(
                        "{f} in [{}]",
                        a.iter().map(scalar_text).collect::<Vec<_>>().join(", ")
                    ),
                    (f, J::Object(ops)) => ops
                        .iter()
                        .map(|(op, arg)| match op.as_str() {
                            "set" if arg == &J::Bool(true) => format!("{f} is set"),
                            "set" => format!("{f} is not set"),
                            "eq" => format!("{f} = {}", scalar_text(arg)),
                            "in" => format!("{f} in {}", scalar_text(arg)),
                            "matches" => format!("{f} matches /{}/", scalar_text(arg)),
                            o => format!("{f} {} {}", o.replace('_', " "), scalar_text(arg)),
                        })
                        .collect::<Vec<_>>()
                        .join(" and "),
                    (f, x) => format!("{f} = {}", scalar_text(x)),
                })
                .collect();
            parts.join(" and ")
        }
        other => scalar_text(other),
    }
}

fn scalar_text(v: &J) -> String {
    match v {
        J::String(s) => s.clone(),
        J::Array(a) => format!(
            "[{}]",
            a.iter().map(scalar_text).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

/// Compile `related:` (one step or a list of steps) starting at `from`.
pub fn compile_path(
    v: &J,
    from: &'static TableDef,
    ctx: &mut CompileCtx<'_>,
    rel: &str,
) -> Option<Vec<Step>> {
    let items: Vec<(String, &J)> = match v {
        J::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, x)| (format!("{rel}/{i}"), x))
            .collect(),
        J::Object(_) => vec![(rel.to_string(), v)],
        _ => {
            ctx.err(
                Code::BadValue,
                rel,
                "`related` is a step `{ table, via, where }` or a list of steps",
            );
            return None;
        }
    };
    let mut prev = from;
    let mut steps = Vec::new();
    let mut ok = true;
    for (p, item) in items {
        let Some(m) = item.as_object() else {
            ctx.err(Code::BadValue, &p, "a step is `{ table, via, where }`");
            return None;
        };
        let Some(tname) = m.get("table").and_then(J::as_str) else {
            ctx.err(Code::BadValue, &p, "a step needs `table`");
            return None;
        };
        let table = ctx.table(tname, &format!("{p}/table"))?;
        let Some(via_name) = m.get("via").and_then(J::as_str) else {
            ctx.err(
                Code::BadValue,
                &p,
                "a step needs `via`: the field of the related table that holds the id",
            );
            return None;
        };
        let via = ctx.field(table, via_name, &format!("{p}/via"))?;
        match table.fields.get(via).and_then(|f| f.refers_to) {
            Some(target) if target == prev.name => {}
            Some(target) => {
                ctx.err(
                    Code::BadValue,
                    &format!("{p}/via"),
                    format!(
                        "`{}.{via_name}` refers to `{target}`, not to `{}`",
                        table.name, prev.name
                    ),
                );
                ok = false;
            }
            None => {
                ctx.err(
                    Code::BadValue,
                    &format!("{p}/via"),
                    format!(
                        "`{}.{via_name}` is not a reference field; `via` names the field of `{}` that holds the id of a `{}` record",
                        table.name, table.name, prev.name
                    ),
                );
                ok = false;
            }
        }
        let filter = match m.get("where") {
            Some(w) => match ctx.cond(w, table, &format!("{p}/where")) {
                Some(c) => Some(c),
                None => {
                    ok = false;
                    None
                }
            },
            None => None,
        };
        for k in m.keys() {
            if !["table", "via", "where"].contains(&k.as_str()) {
                ctx.err(
                    Code::BadValue,
                    &format!("{p}/{k}"),
                    format!("unknown key `{k}` in a step (table, via, where)"),
                );
                ok = false;
            }
        }
        steps.push(Step { table, via, filter });
        prev = table;
    }
    ok.then_some(steps)
}

/// Group population rows by a field's text (one group when `field` is None), in
/// a stable order.
pub fn group_rows(t: &Table, rows: &[u32], field: Option<usize>) -> Vec<(String, Vec<u32>)> {
    let mut groups: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for &r in rows {
        let key = match field {
            Some(f) => t.get(r, f).display(),
            None => String::new(),
        };
        groups.entry(key).or_default().push(r);
    }
    groups.into_iter().collect()
}

/// Resolve an optional `group_by` field: `None` when it names no field (reported).
pub fn group_field(rc: &RawCheck, ctx: &mut CompileCtx<'_>) -> Option<Option<usize>> {
    match &rc.group_by {
        Some(g) => ctx.field(ctx.table, g, "/group_by").map(Some),
        None => Some(None),
    }
}

/// Resolve a required time field named by `key` of the check.
pub fn time_field(name: Option<&str>, key: &str, ctx: &mut CompileCtx<'_>) -> Option<usize> {
    let Some(n) = name else {
        ctx.err(
            Code::BadValue,
            "",
            format!("this rule needs `{key}`: a time field"),
        );
        return None;
    };
    let f = ctx.field(ctx.table, n, &format!("/{key}"))?;
    if ctx.table.fields.get(f).map(|d| d.kind) != Some(crate::evidence::Kind::Time) {
        ctx.err(
            Code::BadValue,
            &format!("/{key}"),
            format!("`{n}` is not a time field"),
        );
        return None;
    }
    Some(f)
}

/// The check's `warn_before`: an exact duration in nanoseconds, or none. `None` when it
/// is not one (reported).
pub fn warn_before(rc: &RawCheck, ctx: &mut CompileCtx<'_>) -> Option<Option<i64>> {
    let Some(w) = rc.warn_before.as_deref() else {
        return Some(None);
    };
    match ctx.span(w, "/warn_before")? {
        crate::time::Span::Exact(n) => Some(Some(n)),
        _ => {
            ctx.err(
                Code::BadDuration,
                "/warn_before",
                "`warn_before` is an exact duration (h, m, s)",
            );
            None
        }
    }
}

/// The end of the assessed window: as-of, or the period end when earlier.
pub fn window_end(ctx: &EvalCtx<'_>) -> Ts {
    match ctx.period.end {
        Some(e) if e < ctx.as_of => e,
        _ => ctx.as_of,
    }
}

/// Add a step path's fields to the projection.
pub fn path_needs(path: &[Step], needs: &mut Needs) {
    path_value_needs(path, needs);
    for s in path {
        needs.entry(s.table.name).or_default().insert(s.via);
    }
}

/// Add the fields a step path reads as values (its filters' fields; not the
/// references it follows).
pub fn path_value_needs(path: &[Step], needs: &mut Needs) {
    for s in path {
        let e = needs.entry(s.table.name).or_default();
        if let Some(f) = &s.filter {
            let mut v = Vec::new();
            f.fields(&mut v);
            e.extend(v);
        }
    }
}

/// Describe a path in words: `postmortems (status = complete)`.
pub fn path_text(path: &[Step], raw: &J) -> String {
    let items: Vec<&J> = match raw {
        J::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    path.iter()
        .zip(items)
        .map(|(s, r)| match r.get("where") {
            Some(w) => format!("{} ({})", s.table.name, cond_text(w)),
            None => s.table.name.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// `name=value` pairs of the fields a condition reads, for messages.
pub fn cond_values(c: &Cond, t: &Table, row: u32) -> Vec<(&'static str, String)> {
    let mut fs = Vec::new();
    c.fields(&mut fs);
    fs.sort_unstable();
    fs.dedup();
    fs.into_iter()
        .filter_map(|i| {
            t.def
                .fields
                .get(i)
                .map(|f| (f.name, t.get(row, i).display()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::{Near, RelIndex, Requirement};
    use crate::evidence::{Evidence, Loc, Owned, Table, tables};
    use proptest::prelude::*;

    proptest! {
        /// The children of a parent found from where the last look-up ended are the
        /// live rows naming it, in row order, whatever the order of the look-ups and
        /// whether each id's rows are together or not; dead rows, rows without a
        /// reference and references written with spaces among them. Looked up in
        /// order with every id's rows together (and every row live and naming a
        /// parent), they are found without the index.
        #[test]
        fn children_found_near_the_last_are_the_rows_naming_the_parent(
            kids in proptest::collection::vec((0u32..12, 0u8..10), 0..60),
            asks in proptest::collection::vec(0u32..14, 0..40),
            together in any::<bool>(),
        ) {
            let mut kids = kids;
            if together {
                kids.sort_by_key(|&(k, _)| k);
            }
            let parents = tables::table("incidents").unwrap();
            let mut p = Table::new(parents, &[]);
            for i in 0..14u32 {
                p.commit(&format!("INC-{i}"), Loc { file: 0, line: i + 2 }).unwrap();
            }
            let def = tables::table("postmortems").unwrap();
            let via = def.fields.iter().position(|f| f.name == "incident_id").unwrap();
            let mut t = Table::new(def, &[via]);
            let slot = t.slots[via].unwrap() as usize;
            for (r, &(k, how)) in kids.iter().enumerate() {
                let v = match how {
                    0 => Owned::Missing,
                    1 => Owned::Text(format!(" INC-{k} ").into()),
                    _ => Owned::Text(format!("INC-{k}").into()),
                };
                t.push_value(slot, &v);
                t.commit(&format!("PM-{r}"), Loc { file: 1, line: r as u32 + 2 }).unwrap();
            }
            for (r, &(_, how)) in kids.iter().enumerate() {
                if how == 9 {
                    t.dead.set(r, true);
                }
            }
            let mut ev = Evidence::default();
            ev.tables.insert("incidents", p);
            ev.tables.insert("postmortems", t);
            let rel = RelIndex::build_by_id(&ev, &[("postmortems", via)]);
            let (p, t) = (ev.table("incidents").unwrap(), ev.table("postmortems").unwrap());
            let naming = |prow: u32| -> Vec<u32> {
                kids.iter()
                    .enumerate()
                    .filter(|&(_, &(k, how))| k == prow && how != 0 && how != 9)
                    .map(|(r, _)| r as u32)
                    .collect()
            };
            let mut near = Near::default();
            for prow in (0..14).chain(asks.iter().copied()) {
                let mut got = Vec::new();
                prop_assert!(rel.each_child_near(("postmortems", via), p, prow, t, &mut near, |c| got.push(c)));
                prop_assert_eq!(got, naming(prow), "parent {}", prow);
            }
            // (A look-up through the index goes on after the last row it found,
            // which may be one without a reference: only a table of live rows that
            // all name a parent is sure to be read in order.)
            if together && kids.iter().all(|&(_, how)| how != 0 && how != 9) {
                let found = (0..14).filter(|&k| !naming(k).is_empty()).count() as u32;
                prop_assert!(near.hits + 1 >= found, "{} of {}", near.hits, found);
                // Started anywhere (through the index), then in order.
                let from = asks.first().copied().unwrap_or(0).min(13);
                let mut near = Near::default();
                for prow in from..14 {
                    rel.each_child_near(("postmortems", via), p, prow, t, &mut near, |_| {});
                }
                let found = (from..14).filter(|&k| !naming(k).is_empty()).count() as u32;
                prop_assert!(near.hits + 1 >= found, "from {}: {} of {}", from, near.hits, found);
            }
        }
    }

    #[test]
    fn a_requirement_shows_values_in_the_order_of_the_table_fields() {
        let mut r = Requirement {
            met: false,
            text: "(owner is set and due_at after as_of)".into(),
            via: "incidents",
        };
        // In name order, as a record keeps them; findings has owner, due_at, status.
        let values = [
            ("due_at", "2025-01-02T00:00:00Z"),
            ("owner", ""),
            ("status", "open"),
        ];
        assert_eq!(
            r.render("INC-7", "findings", values.into_iter()),
            "does not meet (owner is set and due_at after as_of) \
             (owner=, due_at=2025-01-02T00:00:00Z, status=open); via incidents INC-7"
        );
        r.met = true;
        assert_eq!(
            r.render("INC-7", "findings", [("owner", "ann")].into_iter()),
            "meets (owner is set and due_at after as_of) (owner=ann); via incidents INC-7"
        );
    }
}
