//! `periodic`: something happens at least every N (plan reviewed yearly, response
//! tested yearly, management reports quarterly). Within the assessed window (period
//! start, or the first event, to as-of or the period end), no stretch without an
//! event may be longer than `every`. Each event passes unless the stretch after it is
//! too long; the latest one is at risk while its successor falls due within
//! `warn_before`.

use super::{EvalCtx, Outcome, Rule, Verdict, group_field, group_rows, time_field, window_end};
use crate::catalog::{CompileCtx, RawCheck};
use crate::diag::Code;
use crate::evidence::Table;
use crate::evidence::read::Needs;
use crate::evidence::tables::TableDef;
use crate::time::{Clock, Span, Ts, add_span, format_elapsed};

/// A compiled periodic rule.
#[derive(Debug)]
pub struct Periodic {
    field: usize,
    every: Span,
    group: Option<usize>,
    warn_before: Option<i64>,
}

impl Periodic {
    /// Compile from a catalog entry.
    pub fn compile(rc: &RawCheck, ctx: &mut CompileCtx<'_>) -> Option<Periodic> {
        let field = time_field(rc.field.as_deref(), "field", ctx)?;
        let Some(e) = rc.every.as_deref() else {
            ctx.err(
                Code::BadValue,
                "",
                "a periodic check needs `every`, e.g. `1y`",
            );
            return None;
        };
        let every = ctx.span(e, "/every")?;
        let group = group_field(rc, ctx)?;
        let warn_before = super::warn_before(rc, ctx)?;
        Some(Periodic {
            field,
            every,
            group,
            warn_before,
        })
    }

    fn next_due(&self, t: Ts) -> Option<Ts> {
        add_span(
            t,
            self.every,
            Clock {
                zone: chrono_tz::Tz::UTC,
                calendar: None,
            },
        )
        .ok()
    }
}

impl Rule for Periodic {
    fn kind(&self) -> &'static str {
        "periodic"
    }

    fn needs(&self, table: &'static TableDef, needs: &mut Needs) {
        let e = needs.entry(table.name).or_default();
        e.insert(self.field);
        if let Some(g) = self.group {
            e.insert(g);
        }
    }

    fn describe(&self, table: &TableDef) -> String {
        let f = table
            .fields
            .get(self.field)
            .map(|f| f.name)
            .unwrap_or("time");
        let g = self
            .group
            .and_then(|g| table.fields.get(g))
            .map(|x| format!(" for each {}", x.name))
            .unwrap_or_default();
        format!(
            "Listed the {f} of every record{g} and required no stretch of the assessed window longer than {} without one.",
            self.every
        )
    }

    fn evaluate(&self, ctx: &EvalCtx<'_>, t: &Table, row: u32, out: &mut Vec<Outcome>) {
        self.evaluate_all(ctx, t, &[row], out);
    }

    fn aggregate(&self) -> bool {
        true
    }

    fn evaluate_all(&self, ctx: &EvalCtx<'_>, t: &Table, rows: &[u32], out: &mut Vec<Outcome>) {
        let fname = t
            .def
            .fields
            .get(self.field)
            .map(|f| f.name)
            .unwrap_or("time");
        let end = window_end(ctx);
        let groups = group_rows(t, rows, self.group);
        if groups.is_empty() {
            let start = ctx
                .period
                .start
                .map(|s| s.to_string())
                .unwrap_or_else(|| "the start".into());
            out.push(Outcome::about(
                t.def.name,
                "(no records)".into(),
                Verdict::Exception,
                format!("no {} record with a {fname} between {start} and {end}; required at least every {}", t.def.name, self.every),
            ));
            return;
        }
        for (key, grows) in groups {
            let label = if key.is_empty() {
                String::new()
            } else {
                format!("{key}: ")
            };
            let mut events: Vec<(Ts, u32)> = Vec::new();
            for &r in &grows {
                match t.get(r, self.field).time() {
                    Some(ts) if ts <= end => events.push((ts, r)),
                    Some(_) => {}
                    None => out.push(Outcome::new(
                        t.def.name,
                        r,
                        Verdict::NotEvaluable,
                        format!("{label}{fname} is missing"),
                    )),
                }
            }
            events.sort();
            // Events before the period start matter only through the last of them: the
            // first stretch of the period is measured from it.
            let mut anchored = false;
            if let Some(ps) = ctx.period.start {
                let before = events.iter().filter(|(ts, _)| *ts <= ps).count();
                if before > 0 {
                    events.drain(..before - 1);
                    anchored = true;
                }
            }
            let Some(&(first, _)) = events.first() else {
                out.push(Outcome::about(
                    t.def.name,
                    format!(
                        "{}(none by {end})",
                        if key.is_empty() {
                            String::new()
                        } else {
                            format!("{key} ")
                        }
                    ),
                    Verdict::Exception,
                    format!("{label}no {fname} by {end}"),
                ));
                continue;
            };
            if !anchored
                && let Some(ps) = ctx.period.start
                && let Some(due) = self.next_due(ps)
                && first > due
            {
                out.push(Outcome::about(
                    t.def.name,
                    format!("{}(period start)", if key.is_empty() { String::new() } else { format!("{key} ") }),
                    Verdict::Exception,
                    format!(
                        "{label}nothing from the period start {ps} until {first} ({}); required at least every {}",
                        format_elapsed(first.0 - ps.0),
                        self.every
                    ),
                ));
            }
            for (i, &(ts, r)) in events.iter().enumerate() {
                let Some(due) = self.next_due(ts) else {
                    continue;
                };
                let mut o = Outcome::new(t.def.name, r, Verdict::Pass, String::new());
                o.values = vec![(fname, ts.to_string()), ("next_due", due.to_string())];
                match events.get(i + 1) {
                    Some(&(next, _)) if next > due => {
                        o.verdict = Verdict::Exception;
                        o.message = format!(
                            "{label}{fname} {ts}, next {next}: {} apart, more than {}",
                            format_elapsed(next.0 - ts.0),
                            self.every
                        );
                    }
                    Some(&(next, _)) => {
                        o.message = format!("{label}{fname} {ts}, next {next}");
                    }
                    None if end > due => {
                        o.verdict = Verdict::Exception;
                        o.message = format!(
                            "{label}last {fname} {ts}; the next was due {due} and none is recorded by {end}"
                        );
                    }
                    None => {
                        let left = due.0 - ctx.as_of.0;
                        o.due = Some(due);
                        if self.warn_before.is_some_and(|w| left <= w) {
                            o.verdict = Verdict::AtRisk;
                            o.message = format!(
                                "{label}last {fname} {ts}; the next is due {due}, {} left",
                                format_elapsed(left)
                            );
                        } else {
                            o.message = format!("{label}last {fname} {ts}; the next is due {due}");
                        }
                    }
                }
                out.push(o);
            }
        }
    }
}
