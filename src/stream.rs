//! Streaming evaluation of the population table: part of the assessment stage, run
//! while the evidence is read.
//!
//! A check run whose largest population table qualifies (`plan`) reads every other
//! table first, then reads that table last, part by part (`evidence::read::Pending`).
//! Each part (a block of the file, with the rows of the tables derived from the same
//! records) is judged by the table's checks as soon as it is merged, and then freed:
//! only the table's ids and locations are kept (duplicates, references into it, the
//! report's locations). Related records are found by the part's ids: the children read
//! before are indexed by the id their reference names (`RelIndex::build_by_id`), and
//! a derived table's rows are linked to their own record, the row read from the same
//! line (`Streamer::local_index`).
//!
//! The outcome is the one a run without streaming gives: the same verdicts, records,
//! counts, rejections and diagnostics in the same order (`tests/parallel_read.rs` and
//! `tests/streaming.rs` compare). A table does not qualify when any selected check
//! needs its rows after reading: a check that judges its records as a whole
//! (`periodic`, `coverage`, `attested`), a sampled check, a check that follows
//! relations into it, or a check on a table derived from it. The rare input where a
//! derived row would be linked to another record than its own (its record was a
//! duplicate, or was rejected and a later record has its id) makes the stream
//! `diverged`: the caller then reads the evidence again without streaming.

use std::collections::{BTreeMap, HashSet};

use crate::assess::{CheckResult, Period, Scope, mark_period};
use crate::catalog::Check;
use crate::catalog::filter::Cond;
use crate::diag::Diagnostic;
use crate::evidence::read::{Late, RejectedIds, resolve_ref};
use crate::evidence::sources::{ColumnSpec, Format, TableSource};
use crate::evidence::{Evidence, Table};
use crate::rules::{EvalCtx, Prejudged, RelIndex};
use crate::time::{Calendar, Ts};

/// Which table is streamed, and by which checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The streamed (population) table.
    pub table: &'static str,
    /// The tables derived from its records.
    pub derived: Vec<&'static str>,
    /// The checks whose population it is (indexes into the selected checks).
    pub checks: Vec<usize>,
}

/// The check results made while streaming, by check id, with the warnings of each.
#[derive(Debug, Default)]
pub struct Streamed {
    /// The table streamed (`None`: the evidence was loaded whole).
    pub table: Option<&'static str>,
    /// Check id -> its result (records not yet ordered) and warnings.
    pub results: BTreeMap<String, (CheckResult, Vec<Diagnostic>)>,
}

/// What a check run reads again after the assessment, besides the check results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Keep {
    /// The id indexes (the POA&M looks records up by id).
    pub ids: bool,
    /// The values of the tables read before the streamed one (the POA&M's owners and
    /// due dates, the aging chart's open findings).
    pub values: bool,
}

/// Load the evidence for the selected `checks`, streaming the population table when
/// one qualifies (`plan`, and streaming is `enabled`): the streamed checks' results
/// come with it. Otherwise (or when the stream `diverged`) the evidence is loaded
/// whole and no check is judged yet. `keep`: what is read again after the
/// assessment.
pub fn load(
    checks: &[&Check],
    sources: &[TableSource],
    needs: &crate::evidence::read::Needs,
    scope: &Scope,
    calendars: &BTreeMap<String, Calendar>,
    progress: Option<&crate::evidence::read::Progress>,
    keep: Keep,
) -> (Evidence, Streamed) {
    use crate::evidence::read::{load_phased, load_with_progress};
    let len = |p: &std::path::Path| std::fs::metadata(p).ok().map(|m| m.len());
    let Some(plan) = enabled()
        .then(|| plan(checks, sources, scope, &len))
        .flatten()
    else {
        return (
            load_with_progress(sources, needs, progress),
            Streamed::default(),
        );
    };
    let (mut before, mut rest) = load_phased(sources, needs, progress, Some(plan.table));
    let rejected_ids = rest.rejected_ids().clone();
    let bytes_total: u64 = sources
        .iter()
        .filter(|s| s.def.name == plan.table)
        .flat_map(|s| s.files.iter())
        .filter_map(|(p, _)| len(p))
        .sum();
    // The relation indexes and the rest of the preparation are made on the judging
    // thread while the first parts are read.
    let Judged {
        mut streamed,
        late,
        out_of_period,
        suspects,
    } = judge_while_reading(
        || {
            let mut st = prepare(
                &plan,
                checks,
                &mut before,
                &rejected_ids,
                scope,
                calendars,
                keep,
            );
            st.bytes_total = bytes_total;
            st
        },
        |st, part, rejected| st.part(part, rejected),
        |sink| rest.read(sink),
    )
    .finish();
    let mut ev = rest.finish(before, late);
    ev.streamed_out_of_period = out_of_period;
    if diverged(&ev, &plan, &suspects) {
        // A derived row that a whole load links elsewhere: read again, whole.
        drop(ev);
        return (
            load_with_progress(sources, needs, progress),
            Streamed::default(),
        );
    }
    streamed.table = Some(plan.table);
    (ev, streamed)
}

/// Ready the judging of the streamed table once the tables read `before` it are
/// loaded: the relation indexes into them, the references and id indexes the stream
/// does not need freed, the requirements judged beforehand (`prejudge`).
fn prepare<'a>(
    plan: &'a Plan,
    checks: &[&'a Check],
    before: &'a mut Evidence,
    rejected_ids: &'a RejectedIds,
    scope: &Scope,
    calendars: &'a BTreeMap<String, Calendar>,
    keep: Keep,
) -> Streamer<'a> {
    let steps = Steps::of(plan, checks);
    let rel =
        RelIndex::build(before, &steps.by_row).with(RelIndex::build_by_id(before, &steps.by_id));
    // A reference the streamed checks follow by row, and no check reads as a value,
    // is not read again once its relation index is built: its text goes before the
    // streamed table is read (its resolved rows stay, for the other checks).
    let values = crate::assess::value_needs(checks);
    // The rows each row's reference resolved to (4 bytes a row) are kept for the checks
    // judged after reading; a step that only the streamed checks follow has them in
    // `rel` already.
    let mut later = Vec::new();
    for (_, c) in checks
        .iter()
        .enumerate()
        .filter(|(i, _)| !plan.checks.contains(i))
    {
        c.rule.relations(&mut later);
    }
    for &(t, via) in &steps.by_row {
        let Some(table) = before.tables.get_mut(t) else {
            continue;
        };
        if !values.get(t).is_some_and(|v| v.contains(&via)) {
            table.drop_values(via);
        }
        if !later.contains(&(t, via)) {
            table.parents.remove(&via);
        }
    }
    // During the stream a table read before is looked up by id only through the
    // streamed group's references into it.
    let targets: Vec<&'static str> = std::iter::once(plan.table)
        .chain(plan.derived.iter().copied())
        .filter_map(crate::evidence::tables::table)
        .flat_map(|d| d.fields.iter().filter_map(|f| f.refers_to))
        .collect();
    if !keep.ids {
        // The other indexes go now (5 to 10 bytes a row; a look-up without one
        // searches the ids).
        for t in before.tables.values_mut() {
            if !targets.contains(&t.def.name) {
                t.drop_id_index();
            }
        }
    }
    let judged = prejudge(plan, checks, before, scope.as_of, keep.values);
    if !keep.ids && !keep.values && scope.sample.is_none() {
        blank_ids(plan, checks, before, &judged, &targets);
    }
    Streamer::new(
        plan,
        checks,
        before,
        rel,
        steps.local,
        judged,
        rejected_ids,
        scope,
        calendars,
    )
}

/// Judge beforehand the requirements that the streamed checks (`plan.checks`) judge
/// each record of a table read before by (`Rule::requirement`): once per record, where
/// streaming would judge a record each time one reaches it. Then, unless the tables
/// read before are read again after the assessment (`keep_values`: the POA&M's
/// look-ups, the aging chart), the fields that only those requirements read are
/// freed. One entry per streamed check.
fn prejudge(
    plan: &Plan,
    checks: &[&Check],
    before: &mut Evidence,
    as_of: Ts,
    keep_values: bool,
) -> Vec<Option<Prejudged>> {
    let judged: Vec<Option<Prejudged>> = plan
        .checks
        .iter()
        .map(|&i| {
            let (leaf, cond) = checks.get(i)?.rule.requirement()?;
            if leaf.name == plan.table || plan.derived.contains(&leaf.name) {
                return None;
            }
            let t = before.tables.get(leaf.name)?;
            Some(Prejudged::new(cond, t, as_of))
        })
        .collect();
    if keep_values {
        return judged;
    }
    let prejudged: Vec<usize> = plan
        .checks
        .iter()
        .zip(&judged)
        .filter_map(|(&i, j)| j.as_ref().map(|_| i))
        .collect();
    let still = crate::assess::value_needs_besides_requirements(checks, &prejudged);
    for &i in &prejudged {
        let Some((leaf, cond)) = checks.get(i).and_then(|c| c.rule.requirement()) else {
            continue;
        };
        let Some(t) = before.tables.get_mut(leaf.name) else {
            continue;
        };
        let mut fields = Vec::new();
        cond.fields(&mut fields);
        for f in fields {
            if !still.get(leaf.name).is_some_and(|n| n.contains(&f)) {
                t.drop_values(f);
            }
        }
    }
    judged
}

/// Blank the ids of the records of a table read before that only requirements
/// judged beforehand (`prejudge`) report: of those, only the records that fail a
/// requirement become exception records, named by their ids; the other ids (9 MB of
/// the findings' at 1M incidents) are never read again. Kept when any other check
/// judges the table's records, reaches them (a `linked` message lists the ids it
/// found), steps from them by id, or reads the id as a value, and when the stream
/// looks the table up by id (`targets`). Not called when the POA&M, the aging
/// chart or a sample reads the tables after the assessment.
fn blank_ids(
    plan: &Plan,
    checks: &[&Check],
    before: &mut Evidence,
    judged: &[Option<Prejudged>],
    targets: &[&'static str],
) {
    // The prejudged checks, by the table whose records they judge.
    let mut leaves: Vec<(&'static str, usize, &Prejudged)> = Vec::new();
    for (&i, j) in plan.checks.iter().zip(judged) {
        if let (Some(j), Some((leaf, _))) = (j, checks.get(i).and_then(|c| c.rule.requirement())) {
            leaves.push((leaf.name, i, j));
        }
    }
    let prejudged: Vec<usize> = leaves.iter().map(|&(_, i, _)| i).collect();
    let values = crate::assess::value_needs_besides_requirements(checks, &prejudged);
    let mut tables: Vec<&'static str> = leaves.iter().map(|&(t, _, _)| t).collect();
    tables.sort_unstable();
    tables.dedup();
    for name in tables {
        let mine = |i: usize| leaves.iter().any(|&(t, k, _)| t == name && k == i);
        let read_elsewhere = checks.iter().enumerate().any(|(i, c)| {
            if mine(i) {
                return false;
            }
            let mut rels = Vec::new();
            c.rule.relations(&mut rels);
            c.table.name == name
                || c.rule.judged_table() == Some(name)
                || rels.iter().any(|&(t, _)| t == name)
        });
        if read_elsewhere
            || targets.contains(&name)
            || values.get(name).is_some_and(|v| v.contains(&0))
        {
            continue;
        }
        let mut failing: Vec<u32> = leaves
            .iter()
            .filter(|&&(t, _, _)| t == name)
            .flat_map(|&(_, _, j)| j.unmet_rows())
            .collect();
        failing.sort_unstable();
        failing.dedup();
        if let Some(t) = before.tables.get_mut(name) {
            t.blank_ids_except(&failing);
        }
    }
}

/// Choose the table to stream, if any. `checks` are the selected checks, `sources`
/// the compiled sources; `file_len` gives a file's size (`None`: unreadable), as only
/// files read in parallel are worth streaming.
pub fn plan(
    checks: &[&Check],
    sources: &[TableSource],
    scope: &Scope,
    file_len: &dyn Fn(&std::path::Path) -> Option<u64>,
) -> Option<Plan> {
    let mut best: Option<(u64, Plan)> = None;
    let mut candidates: Vec<&'static str> = checks.iter().map(|c| c.table.name).collect();
    candidates.sort_unstable();
    candidates.dedup();
    'table: for p in candidates {
        let Some(src) = sources.iter().find(|s| s.def.name == p) else {
            continue;
        };
        // Read in parallel (CSV, large, no latest_by), with ids as read.
        if src.from.is_some()
            || src.format != Format::Csv
            || src.latest_by.is_some()
            || src.values.contains_key(&0)
            || src.files.is_empty()
        {
            continue;
        }
        let mut bytes = 0u64;
        for (path, _) in &src.files {
            match file_len(path) {
                Some(n) if crate::evidence::read::read_in_parallel(n) => bytes += n,
                _ => continue 'table,
            }
        }
        let id_col = match src.columns.get(&0) {
            None => "id".to_string(),
            Some(ColumnSpec::Column { name, .. }) => name.clone(),
            Some(_) => continue,
        };
        let derived: Vec<&TableSource> = sources
            .iter()
            .filter(|d| d.from.as_deref() == Some(p))
            .collect();
        let group: Vec<&'static str> = std::iter::once(p)
            .chain(derived.iter().map(|d| d.def.name))
            .collect();
        // Its own references are checked part by part, against tables read before.
        if src
            .def
            .fields
            .iter()
            .any(|f| f.refers_to.is_some_and(|t| group.contains(&t)))
        {
            continue;
        }
        let mut streamed = Vec::new();
        for (i, c) in checks.iter().enumerate() {
            let mut rels = Vec::new();
            c.rule.relations(&mut rels);
            if c.table.name != p {
                // Other checks must not read the streamed group at all.
                if group.contains(&c.table.name) || rels.iter().any(|(t, _)| group.contains(t)) {
                    continue 'table;
                }
                continue;
            }
            let sampled = scope.sample.as_ref().is_some_and(|s| s.data.check == c.id);
            if c.rule.aggregate() || sampled {
                continue 'table;
            }
            for &(t, via) in &rels {
                let Some(fd) = crate::evidence::tables::table(t).and_then(|d| d.fields.get(via))
                else {
                    continue 'table;
                };
                if t == p {
                    continue 'table;
                }
                if let Some(d) = derived.iter().find(|d| d.def.name == t) {
                    // A derived table's rows are linked to their own record: the
                    // reference is read from the column the id is read from.
                    let own = matches!(d.columns.get(&via),
                        Some(ColumnSpec::Column { name, .. }) if *name == id_col);
                    if fd.refers_to != Some(p) || !own || d.values.contains_key(&via) {
                        continue 'table;
                    }
                } else {
                    // A table read before: any reference of it into the streamed
                    // group must be the one followed (it is resolved only later).
                    let Some(def) = crate::evidence::tables::table(t) else {
                        continue 'table;
                    };
                    let other =
                        def.fields.iter().enumerate().any(|(k, f)| {
                            f.refers_to.is_some_and(|x| group.contains(&x)) && k != via
                        });
                    if other {
                        continue 'table;
                    }
                }
            }
            streamed.push(i);
        }
        if best.as_ref().is_none_or(|(b, _)| bytes > *b) {
            best = Some((
                bytes,
                Plan {
                    table: p,
                    derived: derived.iter().map(|d| d.def.name).collect(),
                    checks: streamed,
                },
            ));
        }
    }
    best.map(|(_, p)| p)
}

/// The relations the streamed checks follow, by where their related rows are.
struct Steps {
    /// Into a derived table (its rows are in the part, linked by line).
    local: Vec<(&'static str, usize)>,
    /// Into a table read before, from the streamed table (found by id).
    by_id: Vec<(&'static str, usize)>,
    /// Between tables read before (found by row).
    by_row: Vec<(&'static str, usize)>,
}

impl Steps {
    /// The steps of the plan's checks (`selected[plan.checks]`).
    fn of(plan: &Plan, selected: &[&Check]) -> Steps {
        let mut rels = Vec::new();
        for c in plan.checks.iter().filter_map(|&i| selected.get(i)) {
            c.rule.relations(&mut rels);
        }
        rels.sort_unstable();
        rels.dedup();
        let from_streamed = |(t, via): &(&'static str, usize)| {
            crate::evidence::tables::table(t)
                .and_then(|d| d.fields.get(*via))
                .and_then(|f| f.refers_to)
                == Some(plan.table)
        };
        let (local, outside): (Vec<_>, Vec<_>) = rels
            .into_iter()
            .partition(|(t, _)| plan.derived.contains(t));
        let (by_id, by_row) = outside.into_iter().partition(from_streamed);
        Steps {
            local,
            by_id,
            by_row,
        }
    }
}

/// Judges each part of the streamed table as it is read.
struct Streamer<'a> {
    plan: &'a Plan,
    checks: Vec<&'a Check>,
    ev: &'a Evidence,
    as_of: Ts,
    period: Period,
    calendars: &'a BTreeMap<String, Calendar>,
    /// Relations into the tables read before (by id when the parent is streamed).
    rel: RelIndex,
    /// Relations into the derived tables, indexed in each part by line.
    local: Vec<(&'static str, usize)>,
    /// Per check: its requirement judged beforehand (`prejudge`).
    judged: Vec<Option<Prejudged>>,
    /// The streamed table's reference fields (field, target table read before).
    refs: Vec<(usize, &'static str)>,
    /// Per reference field: where its last look-up found its row, carried from part to
    /// part (`Table::row_of_near`).
    near: Vec<crate::evidence::Near>,
    /// Per step several checks share (as `shared_steps`): where it last found
    /// children, carried from part to part (`RelIndex::each_child_near`).
    near_kids: Vec<crate::evidence::Near>,
    rejected_ids: &'a RejectedIds,
    /// Rows of the streamed table so far (a part's rows continue the numbering).
    rows: u32,
    /// Its dangling references found so far (rows by number in the table).
    late: Vec<Late>,
    results: Vec<Option<(CheckResult, Vec<Diagnostic>)>>,
    /// Per input: rows of the streamed table outside the period.
    out_of_period: Vec<u64>,
    /// Ids named by live derived rows whose own record is not a row of their part
    /// (it was rejected, or is a duplicate): if one of them is a live row of the
    /// table after all, a run without streaming would have linked the derived row to
    /// it (`diverged`).
    suspects: Vec<Box<str>>,
    /// Bytes of the streamed table's files, and of the parts judged so far (that
    /// said how many bytes they were read from): how far the reading is.
    bytes_total: u64,
    bytes_seen: u64,
    /// Population filters that several checks have (the same condition): evaluated
    /// once per row of a part for them all.
    shared_filters: Vec<&'a Cond>,
    /// Per check: the index of its filter in `shared_filters`, when shared.
    filter_of: Vec<Option<usize>>,
    /// By-id steps that several checks follow from the streamed table, each with its
    /// checks: looked up once per row of a part that is in one of their populations,
    /// into the part's own index (R2 and R3 both find an incident's postmortems).
    shared_steps: Vec<((&'static str, usize), Vec<usize>)>,
}

/// The population filters that more than one check has, and per check the index of
/// its filter among them (`None`: no filter, or its own). Conditions are the same when
/// their `Debug` forms are (every field, literal and pattern is in it); every streamed
/// check's population is the streamed table (`plan`), so their field numbers agree.
fn shared_filters<'a>(checks: &[&'a Check]) -> (Vec<&'a Cond>, Vec<Option<usize>>) {
    let mut groups: Vec<(String, &'a Cond, Vec<usize>)> = Vec::new();
    for (i, &c) in checks.iter().enumerate() {
        let Some(f) = c.filter.as_ref() else { continue };
        let key = format!("{f:?}");
        match groups.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, _, users)) => users.push(i),
            None => groups.push((key, f, vec![i])),
        }
    }
    let mut shared = Vec::new();
    let mut filter_of = vec![None; checks.len()];
    for (_, f, users) in groups.into_iter().filter(|(_, _, users)| users.len() > 1) {
        for i in users {
            if let Some(slot) = filter_of.get_mut(i) {
                *slot = Some(shared.len());
            }
        }
        shared.push(f);
    }
    (shared, filter_of)
}

/// Check `i`'s population filter as evaluated for a part (`Streamer::shared`), when
/// the check shares it (`filter_of`).
fn population<'p>(
    filter_of: &[Option<usize>],
    i: usize,
    populations: &'p [Vec<bool>],
) -> Option<&'p [bool]> {
    let g = filter_of.get(i).copied().flatten()?;
    populations.get(g).map(Vec::as_slice)
}

/// The by-id steps of `rel` that more than one check follows, with those checks.
fn shared_steps(checks: &[&Check], rel: &RelIndex) -> Vec<((&'static str, usize), Vec<usize>)> {
    let mut steps: Vec<_> = rel.by_id_steps().map(|k| (k, Vec::new())).collect();
    steps.sort_unstable();
    for (i, c) in checks.iter().enumerate() {
        let mut followed = Vec::new();
        c.rule.relations(&mut followed);
        for (k, users) in steps.iter_mut() {
            if followed.contains(k) {
                users.push(i);
            }
        }
    }
    steps.retain(|(_, users)| users.len() > 1);
    steps
}

/// Room for the records of a check as its list must grow, when `need` records came
/// from the first `seen` of `total` bytes: as many as the rest of the file would bring
/// at the same rate, and an eighth more (`None`: not known, the list doubles). Grown
/// once, a list of many records is not copied again near the end of the stream, which
/// held its old copy and its new one at the peak of a large run (27 MB of the
/// exceptions of R3 at 5M incidents). Room reserved and never written takes no
/// memory, so an early estimate may be large (capping it at 16 times `need` made the
/// peak at 1M 8 MB higher: the list then grew again later).
fn expected_records(need: usize, seen: u64, total: u64) -> Option<usize> {
    if seen == 0 || total <= seen {
        return None;
    }
    let all = u128::try_from(need).ok()? * u128::from(total) / u128::from(seen);
    usize::try_from(all.saturating_add(all / 8)).ok()
}

/// What streaming judged: the check results, and what `Pending::finish`, the period
/// reconciliation and `diverged` need from the stream.
struct Judged {
    streamed: Streamed,
    late: Vec<Late>,
    out_of_period: Vec<u64>,
    suspects: Vec<Box<str>>,
}

impl<'a> Streamer<'a> {
    /// Ready to judge the parts of `plan.table` with `selected[plan.checks]`, the
    /// other tables being loaded in `ev`, with the relation index `rel` into them
    /// and the relations `local` into the derived tables (`Steps`).
    #[allow(clippy::too_many_arguments)]
    fn new(
        plan: &'a Plan,
        selected: &[&'a Check],
        ev: &'a Evidence,
        rel: RelIndex,
        local: Vec<(&'static str, usize)>,
        judged: Vec<Option<Prejudged>>,
        rejected_ids: &'a RejectedIds,
        scope: &Scope,
        calendars: &'a BTreeMap<String, Calendar>,
    ) -> Streamer<'a> {
        let checks: Vec<&Check> = plan
            .checks
            .iter()
            .filter_map(|&i| selected.get(i).copied())
            .collect();
        let refs: Vec<(usize, &'static str)> = crate::evidence::tables::table(plan.table)
            .map(|d| {
                d.fields
                    .iter()
                    .enumerate()
                    .filter_map(|(i, f)| Some((i, f.refers_to?)))
                    .filter(|(_, t)| ev.tables.contains_key(t))
                    .collect()
            })
            .unwrap_or_default();
        let (shared_filters, filter_of) = shared_filters(&checks);
        let shared_steps = shared_steps(&checks, &rel);
        Streamer {
            shared_filters,
            filter_of,
            near: vec![crate::evidence::Near::default(); refs.len()],
            near_kids: vec![crate::evidence::Near::default(); shared_steps.len()],
            shared_steps,
            refs,
            rejected_ids,
            rows: 0,
            late: Vec::new(),
            plan,
            results: checks.iter().map(|_| None).collect(),
            checks,
            ev,
            as_of: scope.as_of,
            period: scope.period,
            calendars,
            rel,
            local,
            judged,
            out_of_period: vec![0; ev.inputs.len()],
            suspects: Vec::new(),
            bytes_total: 0,
            bytes_seen: 0,
        }
    }

    /// Judge one part: `part` holds its rows of the streamed table and of the derived
    /// tables; `rejected` the lines of its records that were rejected (lines of other
    /// parts may be there too).
    fn part(&mut self, part: &mut Evidence, rejected: &HashSet<u64>) {
        self.bytes_seen += part.bytes_read;
        let seen = if part.bytes_read == 0 {
            0
        } else {
            self.bytes_seen
        };
        let mut local = match part.tables.get(self.plan.table) {
            Some(pt) => self.local_index(part, pt),
            None => return,
        };
        if let Some(pt) = part.tables.get_mut(self.plan.table) {
            self.check_references(pt);
        }
        for (name, t) in part.tables.iter_mut() {
            let outside = mark_period(t, self.period);
            if *name != self.plan.table {
                continue;
            }
            for loc in outside {
                if !rejected.contains(&u64::from(loc.line))
                    && let Some(c) = self.out_of_period.get_mut(loc.file as usize)
                {
                    *c += 1;
                }
            }
        }
        let Some(pt) = part.tables.get(self.plan.table) else {
            return;
        };
        let populations = self.shared(pt, &mut local);
        for (i, ((c, slot), judged)) in self
            .checks
            .iter()
            .zip(self.results.iter_mut())
            .zip(&self.judged)
            .enumerate()
        {
            let population = population(&self.filter_of, i, &populations);
            let ctx = EvalCtx {
                ev: self.ev,
                local: Some((part, &local)),
                as_of: self.as_of,
                period: self.period,
                calendars: self.calendars,
                rel: &self.rel,
                detail: false,
                judged: judged.as_ref(),
                population,
            };
            let mut w = Vec::new();
            let r = crate::assess::run_check(c, &ctx, None, None, &mut w);
            match slot {
                Some((prev, _)) => {
                    let need = prev.records.len() + r.records.len();
                    if need > prev.records.capacity()
                        && let Some(n) = expected_records(need, seen, self.bytes_total)
                    {
                        // At least doubled, as `Vec` grows: a short estimate early
                        // in the file costs no more copies than growing would.
                        let len = prev.records.len();
                        prev.records
                            .reserve_exact(n.max(2 * len).saturating_sub(len));
                    }
                    prev.join(r)
                }
                None => *slot = Some((r, w)),
            }
        }
    }

    /// What several checks share, for the part's rows `pt` of the streamed table: each
    /// shared population filter evaluated (in the order of `shared_filters`), and the
    /// children of each shared by-id step found for the rows in any of its checks'
    /// populations, added to the part's index `local` (the other rows have none: no
    /// check asks for them).
    fn shared(&mut self, pt: &Table, local: &mut RelIndex) -> Vec<Vec<bool>> {
        let rows = 0..pt.len() as u32;
        let populations: Vec<Vec<bool>> = self
            .shared_filters
            .iter()
            .map(|f| {
                rows.clone()
                    .map(|r| pt.live(r) && f.eval(pt, r, self.as_of))
                    .collect()
            })
            .collect();
        for ((key, users), near) in self.shared_steps.iter().zip(self.near_kids.iter_mut()) {
            let Some(child) = self.ev.table(key.0) else {
                continue;
            };
            // Per check following the step: its filter, and that filter's values when
            // shared (`None`, `None`: every row).
            let tests: Vec<(Option<&Cond>, Option<&[bool]>)> = users
                .iter()
                .map(|&i| {
                    let filter = self.checks.get(i).and_then(|c| c.filter.as_ref());
                    (filter, population(&self.filter_of, i, &populations))
                })
                .collect();
            let wanted = |r: u32| {
                tests.iter().any(|&(f, p)| match (f, p) {
                    (None, _) => true,
                    (Some(_), Some(p)) => p.get(r as usize).copied().unwrap_or(false),
                    (Some(f), None) => f.eval(pt, r, self.as_of),
                })
            };
            let mut starts = Vec::with_capacity(pt.len() + 1);
            let mut kids = Vec::new();
            for r in rows.clone() {
                starts.push(kids.len() as u32);
                if pt.live(r) && wanted(r) {
                    self.rel
                        .each_child_near(*key, pt, r, child, near, |c| kids.push(c));
                }
            }
            starts.push(kids.len() as u32);
            local.insert_rows(*key, starts, kids);
        }
        populations
    }

    /// Check the references of the part's rows of the streamed table, as a load without
    /// streaming would after reading: a row naming no record is dead for the checks,
    /// and rejected when the load finishes.
    fn check_references(&mut self, pt: &mut Table) {
        let empty = HashSet::new();
        let mut dangling = Vec::new();
        let mut n = 0u32;
        for row in 0..pt.len() as u32 {
            // A duplicate is no row of the table.
            if !pt.live(row) {
                continue;
            }
            for (&(fi, target), near) in self.refs.iter().zip(self.near.iter_mut()) {
                let Some(tt) = self.ev.table(target) else {
                    continue;
                };
                if !pt.provided.get(fi).copied().unwrap_or(false) {
                    continue;
                }
                let rej = self.rejected_ids.get(target).unwrap_or(&empty);
                if let (_, Some(d)) = resolve_ref(self.ev, pt, fi, row, tt, rej, near) {
                    self.late.push((self.plan.table, fi, self.rows + n, d));
                    dangling.push(row);
                }
            }
            n += 1;
        }
        self.rows += n;
        for row in dangling {
            pt.dead.set(row as usize, true);
        }
    }

    /// The part's rows of each followed derived table linked to their own record's
    /// row of the streamed table (the row read from the same line, when the row names
    /// its id), as an index by row. The record of a live derived row that is not
    /// linked so (it was rejected, or is a duplicate) may be elsewhere: the id it
    /// names is noted (`suspects`). Rows of one part are in line order, so this is a
    /// merge by line.
    fn local_index(&mut self, part: &Evidence, pt: &Table) -> RelIndex {
        let mut rel = RelIndex::default();
        let line = |t: &Table, r: u32| t.loc(r).map_or(0, |l| l.line);
        for &(name, via) in &self.local {
            let Some(d) = part.table(name) else { continue };
            let mut starts = Vec::with_capacity(pt.len() + 1);
            let mut kids = Vec::new();
            let mut j = 0u32;
            let n = d.len() as u32;
            let unlinked = |j: u32, suspects: &mut Vec<Box<str>>| {
                if d.live(j)
                    && let Some(v) = d.get(j, via).text()
                {
                    suspects.push(v.trim().into());
                }
            };
            for p in 0..pt.len() as u32 {
                starts.push(kids.len() as u32);
                let at = line(pt, p);
                while j < n && line(d, j) < at {
                    unlinked(j, &mut self.suspects);
                    j += 1;
                }
                while j < n && line(d, j) == at {
                    let own = d.get(j, via).text().map(str::trim) == Some(pt.id(p));
                    if own && pt.live(p) && d.live(j) {
                        kids.push(j);
                    } else {
                        unlinked(j, &mut self.suspects);
                    }
                    j += 1;
                }
            }
            while j < n {
                unlinked(j, &mut self.suspects);
                j += 1;
            }
            starts.push(kids.len() as u32);
            rel.insert_rows((name, via), starts, kids);
        }
        rel
    }

    /// The results, by check id (a check whose table had no rows has none: the
    /// assessment runs it on the empty table), with the rest of what was found.
    fn finish(self) -> Judged {
        let mut streamed = Streamed::default();
        for (c, r) in self.checks.iter().zip(self.results) {
            if let Some(r) = r {
                streamed.results.insert(c.id.clone(), r);
            }
        }
        Judged {
            streamed,
            late: self.late,
            out_of_period: self.out_of_period,
            suspects: self.suspects,
        }
    }
}

/// Did streaming judge differently from a run without it? Only when a suspect id
/// (`Streamer::suspects`) names a live row of the streamed table once it is loaded
/// (`ev`, its id index still in place).
fn diverged(ev: &Evidence, plan: &Plan, suspects: &[Box<str>]) -> bool {
    let Some(t) = ev.table(plan.table) else {
        return false;
    };
    suspects
        .iter()
        .any(|x| t.row_of(x).is_some_and(|r| t.live(r)))
}

/// Run `read`, judging the parts it hands its sink on a thread of their own: judging
/// a part overlaps with reading and merging the next ones (parts are handed over one
/// at a time, in file order). The judging thread first makes its judge (`prepare`,
/// a `Streamer`); the parts read meanwhile wait, up to `WAITING` of them (a part
/// holds only the fields the checks read, about a hundred bytes a record).
fn judge_while_reading<S: Send>(
    prepare: impl FnOnce() -> S + Send,
    mut judge: impl FnMut(&mut S, &mut Evidence, &HashSet<u64>) + Send,
    read: impl FnOnce(&mut crate::evidence::read::Sink<'_>),
) -> S {
    const WAITING: usize = 32;
    let ready = std::sync::atomic::AtomicBool::new(false);
    let ready_ref = &ready;
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<(Evidence, HashSet<u64>)>(1);
        let judge = s.spawn(move || {
            let mut st = prepare();
            ready_ref.store(true, std::sync::atomic::Ordering::Release);
            for (mut part, rejected) in rx {
                judge(&mut st, &mut part, &rejected);
            }
            st
        });
        let mut waiting = Vec::new();
        // A send fails only if the judging thread failed; its join says so.
        read(&mut |part, rejected| {
            let item = (std::mem::take(part), rejected.clone());
            if waiting.len() < WAITING && !ready.load(std::sync::atomic::Ordering::Acquire) {
                waiting.push(item);
                return;
            }
            for w in waiting.drain(..) {
                let _ = tx.send(w);
            }
            let _ = tx.send(item);
        });
        for w in waiting {
            let _ = tx.send(w);
        }
        drop(tx);
        judge
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
    })
}

/// Streaming on (the default) or off, for comparisons: `EVIDENTIA_STREAM=0` in the
/// binary. The outcome never depends on it.
static ENABLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Turn streaming on or off.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// Is streaming on?
pub fn enabled() -> bool {
    ENABLED.load(std::sync::atomic::Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The order `n` parts are judged in when the judge is made only once the reader
    /// has handed over `ready_after` of them. (Part `k` is told by its rejected line.)
    fn judged_order(n: u64, ready_after: u64) -> Vec<u64> {
        let (go, wait) = std::sync::mpsc::channel::<()>();
        judge_while_reading(
            move || {
                wait.recv().unwrap();
                Vec::new()
            },
            |seen: &mut Vec<u64>, _part, rejected| seen.extend(rejected.iter().copied()),
            |sink| {
                for k in 0..n {
                    if k == ready_after {
                        go.send(()).unwrap();
                    }
                    sink(&mut Evidence::default(), &HashSet::from([k]));
                }
                if ready_after >= n {
                    go.send(()).unwrap();
                }
            },
        )
    }

    #[test]
    fn parts_read_while_the_judge_is_made_are_judged_in_order() {
        // Parts wait until the judge is made, then the later ones follow them; all of
        // them wait when the reading ends first. Each is judged once, in file order.
        assert_eq!(judged_order(100, 21), (0..100).collect::<Vec<u64>>());
        assert_eq!(judged_order(10, 10), (0..10).collect::<Vec<u64>>());
    }

    #[test]
    fn the_records_expected_follow_the_bytes_read() {
        assert_eq!(expected_records(100, 0, 1000), None);
        assert_eq!(expected_records(100, 1000, 1000), None);
        assert_eq!(expected_records(100, 2000, 1000), None);
        // A tenth of the file read: ten times as many, and an eighth more.
        assert_eq!(expected_records(100, 100, 1000), Some(1125));
        assert_eq!(expected_records(0, 100, 1000), Some(0));
        assert_eq!(expected_records(100, 1, 1000), Some(112_500));
        // No overflow: a count that does not fit is not known.
        assert_eq!(expected_records(usize::MAX, 1, u64::MAX), None);
        assert_eq!(expected_records(usize::MAX / 2, 1, 2), None);
        assert_eq!(expected_records(1 << 40, 1, 2), Some((1 << 41) + (1 << 38)));
    }

    /// Each part handed to a stream's judge says how many bytes of the file it was read
    /// from (`Evidence::bytes_read`): together, every byte after the header.
    #[test]
    fn the_parts_of_a_streamed_file_tell_the_bytes_they_were_read_from() {
        let dir = tempfile::tempdir().unwrap();
        let header = "id,declared_at\n";
        let mut csv = String::from(header);
        for i in 0..5000 {
            csv.push_str(&format!("INC-{i},2025-01-01T00:00:00Z\n"));
        }
        std::fs::write(dir.path().join("incidents.csv"), &csv).unwrap();
        let mut diags = crate::diag::Diags::default();
        let sources = crate::evidence::sources::compile_text(
            "tables:\n  incidents:\n    file: incidents.csv\n",
            "sources.yaml",
            dir.path(),
            &mut diags,
        );
        assert!(!diags.has_errors());
        // Blocks of 4 KiB: the file (about 150 KiB) comes in many parts.
        crate::evidence::read::tune(0, 4096);
        let (_, mut rest) = crate::evidence::read::load_phased(
            &sources,
            &crate::evidence::read::Needs::new(),
            None,
            Some("incidents"),
        );
        let (mut parts, mut bytes) = (0u64, 0u64);
        rest.read(&mut |part, _| {
            parts += 1;
            bytes += part.bytes_read;
        });
        crate::evidence::read::tune_defaults();
        assert!(parts > 10, "{parts} parts");
        assert_eq!(bytes, (csv.len() - header.len()) as u64);
    }
}
