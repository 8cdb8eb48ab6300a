//! `deadline`: an end must come within a span of a start (e.g. customer notice within
//! 72 hours of declaration). Pending while the deadline is ahead of as-of; at risk
//! inside `warn_before`; an exception once it has passed with no end, or when the
//! end came late. Ending exactly at the deadline is on time.

use serde_json::Value as J;

use super::{
    EvalCtx, Outcome, Rule, Step, Verdict, compile_path, path_needs, path_text, path_value_needs,
};
use crate::catalog::{CompileCtx, RawCheck};
use crate::diag::Code;
use crate::evidence::Table;
use crate::evidence::read::Needs;
use crate::evidence::tables::TableDef;
use crate::time::{Clock, Span, Ts, add_span, format_elapsed, parse_zone};

/// Which related value ends the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pick {
    Earliest,
    Latest,
}

#[derive(Debug)]
enum End {
    /// A time field of the record itself.
    Field(usize),
    /// A time field of related records, earliest or latest.
    Related {
        path: Vec<Step>,
        field: usize,
        pick: Pick,
        text: String,
    },
}

/// A compiled deadline rule.
#[derive(Debug)]
pub struct Deadline {
    start: usize,
    end: End,
    within: Span,
    warn_before: Option<i64>,
    zone: chrono_tz::Tz,
    /// The zone days are counted in: the calendar's, else `zone`.
    clock_zone: chrono_tz::Tz,
    calendar: Option<String>,
}

impl Deadline {
    /// Compile from a catalog entry.
    pub fn compile(rc: &RawCheck, ctx: &mut CompileCtx<'_>) -> Option<Deadline> {
        let table = ctx.table;
        let start_name = rc.start.as_deref().or_else(|| {
            ctx.err(
                Code::BadValue,
                "",
                "a deadline needs `start`: the field the clock starts from",
            );
            None
        })?;
        let start = ctx.field(table, start_name, "/start")?;
        let within = match rc.within.as_deref() {
            Some(w) => ctx.span(w, "/within")?,
            None => {
                ctx.err(Code::BadValue, "", "a deadline needs `within`, e.g. `72h`");
                return None;
            }
        };
        let warn_before = super::warn_before(rc, ctx)?;
        let zone = match rc.timezone.as_deref() {
            Some(z) => match parse_zone(z) {
                Ok(z) => z,
                Err(m) => {
                    ctx.err(Code::BadValue, "/timezone", m);
                    return None;
                }
            },
            None => chrono_tz::Tz::UTC,
        };
        if let Some(c) = &rc.calendar
            && !ctx.calendars.contains(c)
        {
            ctx.err(
                Code::UnknownCalendar,
                "/calendar",
                format!("no calendar `{c}` in the catalog"),
            );
            return None;
        }
        let end = match &rc.end {
            Some(J::String(f)) => End::Field(super::time_field(Some(f), "end", ctx)?),
            Some(J::Object(m)) => {
                let mut step = serde_json::Map::new();
                for k in ["table", "via", "where"] {
                    if let Some(v) = m.get(k) {
                        step.insert(k.into(), v.clone());
                    }
                }
                for k in m.keys() {
                    if !["table", "via", "where", "pick", "field"].contains(&k.as_str()) {
                        ctx.err(
                            Code::BadValue,
                            &format!("/end/{k}"),
                            format!("unknown key `{k}` (table, via, where, pick, field)"),
                        );
                        return None;
                    }
                }
                let step = J::Object(step);
                let path = compile_path(&step, table, ctx, "/end")?;
                let last = path.last()?.table;
                let Some(fname) = m.get("field").and_then(J::as_str) else {
                    ctx.err(
                        Code::BadValue,
                        "/end",
                        "`end` needs `field`: the time field of the related record",
                    );
                    return None;
                };
                let field = ctx.field(last, fname, "/end/field")?;
                if last.fields.get(field).map(|f| f.kind) != Some(crate::evidence::Kind::Time) {
                    ctx.err(
                        Code::BadValue,
                        "/end/field",
                        format!("`{}.{fname}` is not a time field", last.name),
                    );
                    return None;
                }
                let pick = match m.get("pick").and_then(J::as_str) {
                    None | Some("earliest") => Pick::Earliest,
                    Some("latest") => Pick::Latest,
                    Some(o) => {
                        ctx.err(
                            Code::BadValue,
                            "/end/pick",
                            format!("`pick: {o}`: use earliest or latest"),
                        );
                        return None;
                    }
                };
                let text = format!(
                    "{}.{fname} ({} of {})",
                    last.name,
                    if pick == Pick::Earliest {
                        "earliest"
                    } else {
                        "latest"
                    },
                    path_text(&path, &step)
                );
                End::Related {
                    path,
                    field,
                    pick,
                    text,
                }
            }
            _ => {
                ctx.err(
                    Code::BadValue,
                    "",
                    "a deadline needs `end`: a field, or `{ table, via, where, pick, field }`",
                );
                return None;
            }
        };
        for (i, rel) in [(start, "/start")] {
            if table.fields.get(i).map(|f| f.kind) != Some(crate::evidence::Kind::Time) {
                ctx.err(Code::BadValue, rel, "the start must be a time field");
                return None;
            }
        }
        let clock_zone = rc
            .calendar
            .as_ref()
            .and_then(|c| ctx.calendar_zones.get(c).copied())
            .unwrap_or(zone);
        Some(Deadline {
            clock_zone,
            start,
            end,
            within,
            warn_before,
            zone,
            calendar: rc.calendar.clone(),
        })
    }

    fn end_time(&self, ctx: &EvalCtx<'_>, t: &Table, row: u32) -> Option<Ts> {
        match &self.end {
            End::Field(i) => t.get(row, *i).time(),
            End::Related {
                path, field, pick, ..
            } => {
                let rows = ctx.follow(t, row, path);
                let last = path.last()?;
                let rt = ctx.table(last.table.name)?;
                let times = rows.iter().filter_map(|&r| rt.get(r, *field).time());
                match pick {
                    Pick::Earliest => times.min(),
                    Pick::Latest => times.max(),
                }
            }
        }
    }

    fn end_name(&self, def: &TableDef) -> String {
        match &self.end {
            End::Field(i) => def
                .fields
                .get(*i)
                .map(|f| f.name)
                .unwrap_or("end")
                .to_string(),
            End::Related { text, .. } => text.clone(),
        }
    }
}

impl Rule for Deadline {
    fn kind(&self) -> &'static str {
        "deadline"
    }

    fn needs(&self, table: &'static TableDef, needs: &mut Needs) {
        self.value_needs(table, needs);
        if let End::Related { path, .. } = &self.end {
            path_needs(path, needs);
        }
    }

    fn value_needs(&self, table: &'static TableDef, needs: &mut Needs) {
        let e = needs.entry(table.name).or_default();
        e.insert(self.start);
        match &self.end {
            End::Field(i) => {
                e.insert(*i);
            }
            End::Related { path, field, .. } => {
                path_value_needs(path, needs);
                if let Some(last) = path.last() {
                    needs.entry(last.table.name).or_default().insert(*field);
                }
            }
        }
    }

    fn relations(&self, out: &mut Vec<(&'static str, usize)>) {
        if let End::Related { path, .. } = &self.end {
            out.extend(path.iter().map(|s| (s.table.name, s.via)));
        }
    }

    fn describe(&self, table: &TableDef) -> String {
        let start = table
            .fields
            .get(self.start)
            .map(|f| f.name)
            .unwrap_or("start");
        let clock = match self.within {
            Span::Exact(_) => String::new(),
            _ => format!(
                " (counted on the {} wall clock{})",
                self.clock_zone.name(),
                self.calendar
                    .as_ref()
                    .map(|c| format!(", calendar {c}"))
                    .unwrap_or_default()
            ),
        };
        let warn = self
            .warn_before
            .map(|w| {
                format!(
                    "; flagged at risk {} before the deadline",
                    format_elapsed(w)
                )
            })
            .unwrap_or_default();
        format!(
            "Compared {start} with {} and required it within {}{clock}; ending exactly at the deadline is on time{warn}.",
            self.end_name(table),
            self.within
        )
    }

    fn evaluate(&self, ctx: &EvalCtx<'_>, t: &Table, row: u32, out: &mut Vec<Outcome>) {
        let def = t.def;
        let cal = self.calendar.as_ref().and_then(|c| ctx.calendars.get(c));
        let clock = Clock {
            zone: cal.map(|c| c.zone).unwrap_or(self.zone),
            calendar: cal,
        };
        // Fast path: a record met on time is decided first, without words or values
        // (the check run keeps neither for a pass); anything else is described below.
        if !ctx.detail
            && let Some(start) = t.get(row, self.start).time()
            && let Ok(deadline) = add_span(start, self.within, clock)
            && let Some(end) = self.end_time(ctx, t, row)
            && end <= deadline
        {
            let mut o = Outcome::new(def.name, row, Verdict::Pass, String::new());
            o.due = Some(deadline);
            o.elapsed = Some(end.0 - start.0);
            out.push(o);
            return;
        }
        let start_name = def
            .fields
            .get(self.start)
            .map(|f| f.name)
            .unwrap_or("start");
        let end_name = self.end_name(def);
        let mut o = Outcome {
            table: def.name,
            row,
            verdict: Verdict::NotEvaluable,
            message: String::new(),
            values: vec![("limit", self.within.to_string())],
            due: None,
            elapsed: None,
            subject: None,
            requirement: None,
        };
        let Some(start) = t.get(row, self.start).time() else {
            o.message = format!("{start_name} is missing: the deadline cannot be computed");
            out.push(o);
            return;
        };
        o.values.push(("start", start.to_string()));
        let deadline = match add_span(start, self.within, clock) {
            Ok(d) => d,
            Err(e) => {
                o.message = format!("deadline cannot be computed from {start_name} {start}: {e}");
                out.push(o);
                return;
            }
        };
        o.values.push(("deadline", deadline.to_string()));
        o.due = Some(deadline);
        match self.end_time(ctx, t, row) {
            Some(end) => {
                let elapsed = end.0 - start.0;
                o.elapsed = Some(elapsed);
                o.values.push(("end", end.to_string()));
                o.values.push(("elapsed", format_elapsed(elapsed)));
                if end <= deadline {
                    o.verdict = Verdict::Pass;
                    if !ctx.detail {
                        o.values.clear();
                        out.push(o);
                        return;
                    }
                    o.message = format!(
                        "{start_name} {start}, {end_name} {end}: {} (limit {})",
                        format_elapsed(elapsed),
                        self.within
                    );
                } else {
                    o.verdict = Verdict::Exception;
                    o.message = format!(
                        "{start_name} {start}, {end_name} {end}: {}, limit {}; late by {}",
                        format_elapsed(elapsed),
                        self.within,
                        format_elapsed(end.0 - deadline.0)
                    );
                }
            }
            None => {
                let left = deadline.0 - ctx.as_of.0;
                if left < 0 {
                    o.verdict = Verdict::Exception;
                    o.message = format!(
                        "{end_name} missing at as-of; {start_name} {start}, deadline {deadline} passed {} ago",
                        format_elapsed(-left)
                    );
                } else {
                    o.values.push(("time_left", format_elapsed(left)));
                    let at_risk = self.warn_before.is_some_and(|w| left <= w);
                    o.verdict = if at_risk {
                        Verdict::AtRisk
                    } else {
                        Verdict::Pending
                    };
                    o.message = format!(
                        "{end_name} not yet recorded; deadline {deadline}, {} left{}",
                        format_elapsed(left),
                        if at_risk { " (at risk)" } else { "" }
                    );
                }
            }
        }
        out.push(o);
    }
}
