//! `evidentia explain RECORD_ID`: one record, every check. Which checks apply to it
//! and which do not (wrong table, outside the period, filtered out by the population
//! filter and by which part of it, rejected on input), each computed value (start,
//! deadline, end, elapsed, limit, time left), the verdict, and the controls it feeds.
//!
//! Uses the same stages as `check` (catalog, evidence, period, rules) with the rules
//! asked for detail (`EvalCtx::detail`), so values are built for passing records too.

use std::fmt::Write;

use serde::Serialize;

use crate::assess::{Period, Scope};
use crate::catalog::filter::{Cond, Lit, Op, TimeCmp, TimeRef};
use crate::catalog::{Catalog, Check, NotEvaluable};
use crate::diag::{Code, Diagnostic, Diags};
use crate::evidence::tables::TableDef;
use crate::evidence::{Evidence, Table};
use crate::rules::{EvalCtx, Outcome, RelIndex, Verdict};
use crate::waivers::{Target, Waiver};
use crate::{CheckOptions, assess, catalog, evidence, waivers};

/// Catalog and evidence loaded as `check` loads them, the period applied.
pub struct Loaded {
    /// The catalog.
    pub cat: Catalog,
    /// The evidence (rejected records kept with `--keep-going`).
    pub ev: Evidence,
    /// As-of, period, frameworks.
    pub scope: Scope,
    /// Waivers read.
    pub waivers: Vec<Waiver>,
    /// Input errors tolerated by `--keep-going`, and warnings.
    pub diagnostics: Vec<Diagnostic>,
}

/// Load what `check` loads, without evaluating. `Err`: catalog or input errors.
pub fn load(opts: &CheckOptions) -> Result<Loaded, Vec<Diagnostic>> {
    let mut diags = Diags::default();
    let cat = catalog::load_dir(&opts.controls, &mut diags);
    for f in &opts.frameworks {
        if !cat.frameworks.iter().any(|x| &x.id == f) {
            diags.push(Diagnostic::error(
                Code::UnknownFramework,
                opts.controls.display().to_string(),
                format!("--framework `{f}` is not in the catalog"),
            ));
        }
    }
    let waivers = match &opts.waivers {
        Some(p) => waivers::load(p, &cat, &mut diags),
        None => Vec::new(),
    };
    if diags.has_errors() {
        return Err(diags.finish());
    }
    let sources = evidence::sources::load(&opts.sources, opts.data.as_deref(), &mut diags);
    if diags.has_errors() {
        return Err(diags.finish());
    }
    let checks = assess::selected_checks(&cat, &opts.frameworks);
    let needs = assess::needs(&checks);
    let mut ev = evidence::read::load(&sources, &needs);
    let ev_diags = std::mem::take(&mut ev.diags);
    if ev_diags.has_errors() && !opts.keep_going {
        return Err(ev_diags.finish());
    }
    assess::apply_period(&mut ev, opts.period);
    let scope = Scope {
        as_of: opts.as_of,
        period: opts.period,
        frameworks: opts.frameworks.clone(),
        sample: None,
    };
    Ok(Loaded {
        cat,
        ev,
        scope,
        waivers,
        diagnostics: ev_diags.finish(),
    })
}

/// Where the record is.
#[derive(Debug, Clone, Serialize)]
pub struct RecordInfo {
    /// Record id.
    pub id: String,
    /// Its table.
    pub table: String,
    /// Source file.
    pub file: String,
    /// Line in it.
    pub line: Option<u64>,
    /// JSON pointer in it.
    pub pointer: Option<String>,
    /// Inside the audit period?
    pub in_period: bool,
    /// Why it is (or is not) in the period.
    pub period_reason: String,
    /// Rejected on input: why.
    pub rejected: Option<String>,
}

/// One judgement of a record.
#[derive(Debug, Clone, Serialize)]
pub struct Judged {
    /// Table of the judged record.
    pub table: String,
    /// Id of the judged record (or the subject of an aggregate outcome).
    pub record_id: String,
    /// Reached from this population record (each-linked and aggregate checks).
    pub via: Option<String>,
    /// Verdict before waivers.
    pub verdict: Verdict,
    /// Counts as an exception (not-evaluable per the check's policy; waivers applied).
    pub counts_as_exception: bool,
    /// Waiver that covers it.
    pub waiver: Option<String>,
    /// Why, in words.
    pub message: String,
    /// Computed values in the rule's order: (name, value).
    pub values: Vec<(String, String)>,
}

/// One check as it bears on the record.
#[derive(Debug, Clone, Serialize)]
pub struct CheckExplain {
    /// Check id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Rule kind.
    pub rule: String,
    /// The test in words.
    pub test: String,
    /// Population: table and filter in words.
    pub population: String,
    /// Does the check judge this record (or judge others because of it)?
    pub applies: bool,
    /// Why it applies or not.
    pub reason: String,
    /// The judgements (empty when it does not apply).
    pub judged: Vec<Judged>,
    /// Controls it tests (`framework/control`).
    pub controls: Vec<String>,
}

/// The whole explanation.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// As-of.
    pub as_of: String,
    /// Period start (null: open).
    pub period_start: Option<String>,
    /// Period end, excluded (null: open).
    pub period_end: Option<String>,
    /// The record.
    pub record: RecordInfo,
    /// Checks that apply.
    pub applies: Vec<CheckExplain>,
    /// Checks that do not.
    pub does_not_apply: Vec<CheckExplain>,
}

/// Find the record: `(table, row)` among the tables read, or a rejected record.
/// `Err` when not found or ambiguous.
fn locate<'e>(ev: &'e Evidence, id: &str, table: Option<&str>) -> Result<Locus<'e>, String> {
    let mut hits = Vec::new();
    for (name, t) in &ev.tables {
        if table.is_some_and(|x| x != *name) {
            continue;
        }
        if let Some(r) = t.row_of(id) {
            hits.push(Locus::Row(t, r));
        }
    }
    for rj in &ev.rejected {
        if rj.record_id.as_deref() == Some(id)
            && table.is_none_or(|x| x == rj.table)
            && !hits.iter().any(|h| h.table() == rj.table)
        {
            hits.push(Locus::Rejected(rj));
        }
    }
    match hits.len() {
        1 => Ok(hits.remove(0)),
        0 => Err(format!(
            "record `{id}` is in no table read{} (tables: {})",
            table.map(|t| format!(" named `{t}`")).unwrap_or_default(),
            ev.tables.keys().copied().collect::<Vec<_>>().join(", ")
        )),
        _ => Err(format!(
            "record `{id}` is in several tables ({}): name one with --table",
            hits.iter()
                .map(|h| h.table())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

enum Locus<'e> {
    Row(&'e Table, u32),
    Rejected(&'e evidence::Rejected),
}

impl Locus<'_> {
    fn table(&self) -> &str {
        match self {
            Locus::Row(t, _) => t.def.name,
            Locus::Rejected(r) => r.table,
        }
    }
}

/// Explain one record.
pub fn explain(l: &Loaded, record_id: &str, table: Option<&str>) -> Result<Explanation, String> {
    let ev = &l.ev;
    let locus = locate(ev, record_id, table)?;
    let checks = assess::selected_checks(&l.cat, &l.scope.frameworks);
    let mut rels = Vec::new();
    for c in &checks {
        c.rule.relations(&mut rels);
    }
    let rel = RelIndex::build(ev, &rels);
    let ctx = EvalCtx {
        ev,
        local: None,
        as_of: l.scope.as_of,
        period: l.scope.period,
        calendars: &l.cat.calendars,
        rel: &rel,
        detail: true,
        judged: None,
        population: None,
    };
    let record = match &locus {
        Locus::Row(t, row) => {
            let (file, line, pointer) = t.loc(*row).map(|x| ev.position(&x)).unwrap_or_default();
            let (in_period, period_reason) = period_reason(t, *row, l.scope.period);
            RecordInfo {
                id: record_id.to_string(),
                table: t.def.name.to_string(),
                file,
                line,
                pointer,
                in_period,
                period_reason,
                rejected: (!t.live(*row)).then(|| {
                    ev.rejected
                        .iter()
                        .find(|r| {
                            r.record_id.as_deref() == Some(record_id) && r.table == t.def.name
                        })
                        .map(|r| r.diagnostic.message.clone())
                        .unwrap_or_else(|| "rejected after reading".into())
                }),
            }
        }
        Locus::Rejected(rj) => RecordInfo {
            id: record_id.to_string(),
            table: rj.table.to_string(),
            file: rj.diagnostic.file.clone(),
            line: rj.diagnostic.line,
            pointer: rj.diagnostic.pointer.clone(),
            in_period: false,
            period_reason: "not known: the record was rejected on input".into(),
            rejected: Some(rj.diagnostic.message.clone()),
        },
    };
    let mut applies = Vec::new();
    let mut not = Vec::new();
    for c in checks {
        let e = explain_check(l, &ctx, c, &locus, &record);
        if e.applies {
            applies.push(e);
        } else {
            not.push(e);
        }
    }
    Ok(Explanation {
        as_of: l.scope.as_of.to_string(),
        period_start: l.scope.period.start.map(|t| t.to_string()),
        period_end: l.scope.period.end.map(|t| t.to_string()),
        record,
        applies,
        does_not_apply: not,
    })
}

fn period_reason(t: &Table, row: u32, p: Period) -> (bool, String) {
    let inside = t.in_period.get(row as usize).unwrap_or(false);
    if t.def.period_fields.is_empty() {
        return (
            inside,
            format!("table `{}` is not filtered by period", t.def.name),
        );
    }
    for f in t.def.period_fields {
        if let Some(i) = t.field_index(f)
            && let Some(ts) = t.get(row, i).time()
        {
            let side =
                |x: Option<crate::time::Ts>| x.map(|t| t.to_string()).unwrap_or("open".into());
            return (
                inside,
                format!(
                    "{f} {ts} is {} the period [{}, {})",
                    if inside { "inside" } else { "outside" },
                    side(p.start),
                    side(p.end)
                ),
            );
        }
    }
    (
        inside,
        format!(
            "no period field ({}) has a value: kept in the period (fail closed)",
            t.def.period_fields.join(", ")
        ),
    )
}

fn population_text(c: &Check) -> String {
    match &c.filter_text {
        Some(f) => format!("{} where {f}", c.table.name),
        None => format!("every {} record", c.table.name),
    }
}

fn controls_of(l: &Loaded, check: &str) -> Vec<String> {
    catalog::listing::controls_of(&l.cat, check)
        .into_iter()
        .filter(|x| {
            l.scope.frameworks.is_empty()
                || x.split_once('/')
                    .is_some_and(|(f, _)| l.scope.frameworks.iter().any(|s| s == f))
        })
        .collect()
}

/// Why a population record is outside the check's population, or None when inside.
fn excluded(c: &Check, t: &Table, row: u32, as_of: crate::time::Ts) -> Option<String> {
    if !t.live(row) {
        return Some("rejected on input".into());
    }
    if !t.in_period.get(row as usize).unwrap_or(false) {
        return Some("outside the period".into());
    }
    if let Some(f) = &c.filter
        && !f.eval(t, row, as_of)
    {
        return Some(format!(
            "filtered out by the population filter: {}",
            why_false(f, t, row, as_of)
        ));
    }
    None
}

fn judged_of(l: &Loaded, c: &Check, o: Outcome, via: Option<String>) -> Judged {
    let ev = &l.ev;
    let record_id = match &o.subject {
        Some(s) => s.clone(),
        None => ev
            .table(o.table)
            .map(|t| t.id(o.row).to_string())
            .unwrap_or_default(),
    };
    let mut counts = match o.verdict {
        Verdict::Exception => true,
        Verdict::NotEvaluable => c.not_evaluable == NotEvaluable::Exception,
        _ => false,
    };
    let mut waiver = None;
    if counts {
        let as_of = l.scope.as_of;
        for w in &l.waivers {
            let valid = w.approved_at <= as_of && w.expires_at >= as_of;
            let hit = match &w.target {
                Target::Record { check, record } => check == &c.id && record == &record_id,
                Target::Control(f, id) => controls_of(l, &c.id).contains(&format!("{f}/{id}")),
            };
            if valid && hit {
                counts = false;
                waiver = Some(format!("{} ({})", w.info.id, w.info.reason));
                break;
            }
        }
    }
    Judged {
        table: o.table.to_string(),
        record_id,
        via,
        verdict: o.verdict,
        counts_as_exception: counts,
        waiver,
        message: o.text(),
        values: o
            .values
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    }
}

fn explain_check(
    l: &Loaded,
    ctx: &EvalCtx<'_>,
    c: &Check,
    locus: &Locus<'_>,
    rec: &RecordInfo,
) -> CheckExplain {
    let mut e = CheckExplain {
        id: c.id.clone(),
        title: c.title.clone(),
        rule: c.rule.kind().to_string(),
        test: c.rule.describe(c.table),
        population: population_text(c),
        applies: false,
        reason: String::new(),
        judged: Vec::new(),
        controls: controls_of(l, &c.id),
    };
    let pop = c.table.name;
    let judged_table = c.rule.judged_table().unwrap_or(pop);
    let mut rels = Vec::new();
    c.rule.relations(&mut rels);
    let related: Vec<&str> = rels.iter().map(|(t, _)| *t).collect();
    let tname = rec.table.as_str();
    let as_of = l.scope.as_of;

    // A record rejected on input: an exception of every check that reads its table.
    if let Some(why) = &rec.rejected {
        if tname == pop || related.contains(&tname) {
            e.applies = true;
            e.reason = format!(
                "the record was rejected on input, and the check reads `{tname}`: it counts as an exception (fail closed)"
            );
            e.judged.push(Judged {
                table: tname.to_string(),
                record_id: rec.id.clone(),
                via: None,
                verdict: Verdict::NotEvaluable,
                counts_as_exception: true,
                waiver: None,
                message: format!("record rejected: {why}"),
                values: Vec::new(),
            });
        } else {
            e.reason = format!(
                "wrong table: the check reads {}, not `{tname}` (the record was rejected on input)",
                tables_read(pop, &related)
            );
        }
        return e;
    }
    let Locus::Row(t, row) = *locus else {
        return e;
    };
    let Some(pt) = l.ev.table(pop) else {
        e.reason = format!("the sources file provides no `{pop}` table: the check cannot run");
        return e;
    };
    if tname == pop {
        if let Some(why) = excluded(c, t, row, as_of) {
            e.reason = if why == "outside the period" {
                format!("outside the period: {}", rec.period_reason)
            } else {
                why
            };
            return e;
        }
        e.applies = true;
        let mut outs = Vec::new();
        if c.rule.aggregate() {
            let rows: Vec<u32> = (0..pt.len() as u32)
                .filter(|&r| excluded(c, pt, r, as_of).is_none())
                .collect();
            c.rule.evaluate_all(ctx, pt, &rows, &mut outs);
            e.reason = format!(
                "in the population ({}); the {} rule judges the population of {} record(s) as a whole",
                population_text(c),
                c.rule.kind(),
                rows.len()
            );
            for o in outs {
                let about_me = o.subject.is_some() || (o.table == tname && o.row == row);
                if about_me {
                    e.judged.push(judged_of(l, c, o, None));
                }
            }
        } else {
            c.rule.evaluate(ctx, t, row, &mut outs);
            if judged_table == pop {
                e.reason = format!("in the population ({})", population_text(c));
            } else {
                e.reason = format!(
                    "in the population ({}); the check judges each related `{judged_table}` record, {} reached from this one",
                    population_text(c),
                    outs.len()
                );
            }
            let via = (judged_table != pop).then(|| format!("{pop} {}", rec.id));
            for o in outs {
                e.judged.push(judged_of(l, c, o, via.clone()));
            }
        }
        return e;
    }
    if tname == judged_table && !c.rule.aggregate() {
        // Each-linked: find the population records that reach this one.
        let mut parents_in = Vec::new();
        let mut parents_out = Vec::new();
        let mut outs = Vec::new();
        for prow in 0..pt.len() as u32 {
            if !pt.live(prow) {
                continue;
            }
            c.rule.evaluate(ctx, pt, prow, &mut outs);
            let mine: Vec<Outcome> = outs
                .drain(..)
                .filter(|o| o.table == tname && o.row == row && o.subject.is_none())
                .collect();
            if mine.is_empty() {
                continue;
            }
            let pid = pt.id(prow).to_string();
            match excluded(c, pt, prow, as_of) {
                None => {
                    for o in mine {
                        parents_in.push(judged_of(l, c, o, Some(format!("{pop} {pid}"))));
                    }
                }
                Some(why) => parents_out.push(format!("{pop} {pid} ({why})")),
            }
        }
        if !parents_in.is_empty() {
            e.applies = true;
            e.reason = format!(
                "judged as a related `{tname}` record of the population ({})",
                population_text(c)
            );
            e.judged = parents_in;
        } else if !parents_out.is_empty() {
            e.reason = format!(
                "reached only from records outside the population: {}",
                parents_out.join("; ")
            );
        } else {
            e.reason = format!(
                "not reached: no `{pop}` record leads to it through the check's related records"
            );
        }
        return e;
    }
    e.reason = if related.contains(&tname) {
        format!(
            "wrong table: the check judges `{judged_table}` records and reads `{tname}` only as their related records"
        )
    } else {
        format!(
            "wrong table: the check reads {}, not `{tname}`",
            tables_read(pop, &related)
        )
    };
    e
}

fn tables_read(pop: &str, related: &[&str]) -> String {
    let mut v = vec![format!("`{pop}`")];
    for r in related {
        let s = format!("`{r}`");
        if !v.contains(&s) {
            v.push(s);
        }
    }
    v.join(", ")
}

/// A condition in words.
pub fn cond_text(c: &Cond, def: &TableDef) -> String {
    match c {
        Cond::All(v) if v.is_empty() => "(always)".into(),
        Cond::All(v) => v
            .iter()
            .map(|x| paren(x, def))
            .collect::<Vec<_>>()
            .join(" and "),
        Cond::Any(v) => v
            .iter()
            .map(|x| paren(x, def))
            .collect::<Vec<_>>()
            .join(" or "),
        Cond::Not(x) => format!("not {}", paren(x, def)),
        Cond::Test { field, op } => {
            let f = def.fields.get(*field).map(|f| f.name).unwrap_or("?");
            match op {
                Op::Eq(l) => format!("{f} = {}", lit(l)),
                Op::In(ls) => format!(
                    "{f} in [{}]",
                    ls.iter().map(lit).collect::<Vec<_>>().join(", ")
                ),
                Op::Set(true) => format!("{f} is set"),
                Op::Set(false) => format!("{f} is not set"),
                Op::Matches(re) => format!("{f} matches /{}/", re.as_str()),
                Op::WithinLast(s) => format!("{f} within the last {s}"),
                Op::Time(cmp, r) => {
                    let cmp = match cmp {
                        TimeCmp::Before => "before",
                        TimeCmp::After => "after",
                        TimeCmp::NotAfter => "not after",
                        TimeCmp::NotBefore => "not before",
                    };
                    let r = match r {
                        TimeRef::AsOf => "as_of".to_string(),
                        TimeRef::Const(t) => t.to_string(),
                        TimeRef::Field(g) => def
                            .fields
                            .get(*g)
                            .map(|f| f.name.to_string())
                            .unwrap_or_default(),
                    };
                    format!("{f} {cmp} {r}")
                }
            }
        }
    }
}

fn paren(c: &Cond, def: &TableDef) -> String {
    match c {
        Cond::All(v) | Cond::Any(v) if v.len() > 1 => format!("({})", cond_text(c, def)),
        _ => cond_text(c, def),
    }
}

fn lit(l: &Lit) -> String {
    match l {
        Lit::Text(s) => s.clone(),
        Lit::Bool(b) => b.to_string(),
        Lit::Int(i) => i.to_string(),
    }
}

/// Why a condition is false for a record: the failing parts with the values read.
pub fn why_false(c: &Cond, t: &Table, row: u32, as_of: crate::time::Ts) -> String {
    let def = t.def;
    match c {
        Cond::All(v) => v
            .iter()
            .filter(|x| !x.eval(t, row, as_of))
            .map(|x| why_false(x, t, row, as_of))
            .collect::<Vec<_>>()
            .join("; "),
        Cond::Any(v) => format!(
            "none of {} holds ({})",
            v.iter()
                .map(|x| format!("`{}`", cond_text(x, def)))
                .collect::<Vec<_>>()
                .join(", "),
            v.iter()
                .map(|x| why_false(x, t, row, as_of))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        Cond::Not(x) => format!(
            "`{}` holds, and the filter excludes it ({})",
            cond_text(x, def),
            values_of(x, t, row)
        ),
        Cond::Test { .. } => format!(
            "`{}` is false ({})",
            cond_text(c, def),
            values_of(c, t, row)
        ),
    }
}

fn values_of(c: &Cond, t: &Table, row: u32) -> String {
    crate::rules::cond_values(c, t, row)
        .into_iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The explanation as text.
pub fn render_text(x: &Explanation) -> String {
    let mut s = String::new();
    let r = &x.record;
    let at = match (r.line, &r.pointer) {
        (Some(l), _) => format!("{}:{l}", r.file),
        (None, Some(p)) => format!("{} {p}", r.file),
        _ => r.file.clone(),
    };
    let _ = writeln!(s, "Record {} (table {}) at {at}", r.id, r.table);
    let side = |t: &Option<String>| t.clone().unwrap_or_else(|| "open".into());
    let _ = writeln!(
        s,
        "As of {}; period [{}, {})",
        x.as_of,
        side(&x.period_start),
        side(&x.period_end)
    );
    match &r.rejected {
        Some(why) => {
            let _ = writeln!(s, "Rejected on input: {why}");
        }
        None => {
            let _ = writeln!(s, "Period: {}", r.period_reason);
        }
    }
    let _ = writeln!(s, "\nChecks that apply ({}):", x.applies.len());
    for c in &x.applies {
        let _ = writeln!(s, "\n  {} [{}] {}", c.id, c.rule, c.title);
        let _ = writeln!(s, "    why: {}", c.reason);
        let _ = writeln!(s, "    test: {}", c.test);
        if c.judged.is_empty() {
            let _ = writeln!(s, "    no record judged");
        }
        for j in &c.judged {
            let tag = match (j.counts_as_exception, &j.waiver) {
                (_, Some(w)) => format!("{} (waived by {w})", j.verdict.as_str()),
                (true, None) => format!("{} (counts as an exception)", j.verdict.as_str()),
                (false, None) => j.verdict.as_str().to_string(),
            };
            let via = j
                .via
                .as_ref()
                .map(|v| format!(" via {v}"))
                .unwrap_or_default();
            let _ = writeln!(s, "    {} {}{via}: {tag}", j.table, j.record_id);
            let w = j.values.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
            for (k, v) in &j.values {
                let _ = writeln!(s, "      {k:<w$}  {v}");
            }
            if !j.message.is_empty() {
                let _ = writeln!(s, "      {}", j.message);
            }
        }
        let _ = writeln!(
            s,
            "    controls: {}",
            if c.controls.is_empty() {
                "(none in the assessed frameworks)".to_string()
            } else {
                c.controls.join(", ")
            }
        );
    }
    let _ = writeln!(
        s,
        "\nChecks that do not apply ({}):",
        x.does_not_apply.len()
    );
    for c in &x.does_not_apply {
        let _ = writeln!(s, "  {} [{}]: {}", c.id, c.rule, c.reason);
    }
    s
}

/// The explanation as pretty JSON (keys sorted; computed values as `[name, value]`
/// pairs in the rule's order), with a trailing newline.
pub fn render_json(x: &Explanation) -> String {
    let v = serde_json::to_value(x).unwrap_or_default();
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}
