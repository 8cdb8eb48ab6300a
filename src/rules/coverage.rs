//! `coverage`: intervals (on-call shifts) cover the assessed window with no gap:
//! 24x7x365. Each shift passes unless a gap follows it; a gap before the first shift
//! is reported against the period start.

use super::{EvalCtx, Outcome, Rule, Verdict, group_field, group_rows, time_field, window_end};
use crate::catalog::{CompileCtx, RawCheck};
use crate::diag::Code;
use crate::evidence::Table;
use crate::evidence::read::Needs;
use crate::evidence::tables::TableDef;
use crate::time::{Span, Ts, format_elapsed};

/// A compiled coverage rule.
#[derive(Debug)]
pub struct Coverage {
    start: usize,
    end: usize,
    group: Option<usize>,
    tolerance: i64,
}

impl Coverage {
    /// Compile from a catalog entry.
    pub fn compile(rc: &RawCheck, ctx: &mut CompileCtx<'_>) -> Option<Coverage> {
        let start = time_field(rc.start.as_deref(), "start", ctx)?;
        let end = match &rc.end {
            Some(serde_json::Value::String(s)) => time_field(Some(s), "end", ctx)?,
            _ => {
                ctx.err(
                    Code::BadValue,
                    "",
                    "a coverage check needs `end`: the time field ending each interval",
                );
                return None;
            }
        };
        let group = group_field(rc, ctx)?;
        let tolerance = match rc.tolerance.as_deref() {
            Some(s) => match ctx.span(s, "/tolerance")? {
                Span::Exact(n) => n,
                _ => {
                    ctx.err(
                        Code::BadDuration,
                        "/tolerance",
                        "`tolerance` is an exact duration (h, m, s)",
                    );
                    return None;
                }
            },
            None => 0,
        };
        Some(Coverage {
            start,
            end,
            group,
            tolerance,
        })
    }
}

impl Rule for Coverage {
    fn kind(&self) -> &'static str {
        "coverage"
    }

    fn needs(&self, table: &'static TableDef, needs: &mut Needs) {
        let e = needs.entry(table.name).or_default();
        e.insert(self.start);
        e.insert(self.end);
        if let Some(g) = self.group {
            e.insert(g);
        }
    }

    fn describe(&self, table: &TableDef) -> String {
        let n = |i: usize| table.fields.get(i).map(|f| f.name).unwrap_or("?");
        let g = self
            .group
            .and_then(|g| table.fields.get(g))
            .map(|x| format!(" for each {}", x.name))
            .unwrap_or_default();
        let tol = if self.tolerance > 0 {
            format!(" (gaps up to {} tolerated)", format_elapsed(self.tolerance))
        } else {
            String::new()
        };
        format!(
            "Merged the intervals {} .. {}{g} and required them to cover the assessed window without a gap{tol}.",
            n(self.start),
            n(self.end)
        )
    }

    fn evaluate(&self, ctx: &EvalCtx<'_>, t: &Table, row: u32, out: &mut Vec<Outcome>) {
        self.evaluate_all(ctx, t, &[row], out);
    }

    fn aggregate(&self) -> bool {
        true
    }

    fn evaluate_all(&self, ctx: &EvalCtx<'_>, t: &Table, rows: &[u32], out: &mut Vec<Outcome>) {
        let wend = window_end(ctx);
        let groups = group_rows(t, rows, self.group);
        if groups.is_empty() {
            out.push(Outcome::about(
                t.def.name,
                "(no records)".into(),
                Verdict::Exception,
                "no intervals recorded: nothing is covered".into(),
            ));
            return;
        }
        for (key, grows) in groups {
            let label = if key.is_empty() {
                String::new()
            } else {
                format!("{key}: ")
            };
            let mut iv: Vec<(Ts, Ts, u32)> = Vec::new();
            for &r in &grows {
                match (t.get(r, self.start).time(), t.get(r, self.end).time()) {
                    (Some(a), Some(b)) if a <= b => iv.push((a, b, r)),
                    (Some(a), Some(b)) => out.push(Outcome::new(
                        t.def.name,
                        r,
                        Verdict::Exception,
                        format!("{label}interval ends {b} before it starts {a}"),
                    )),
                    _ => out.push(Outcome::new(
                        t.def.name,
                        r,
                        Verdict::NotEvaluable,
                        format!("{label}start or end missing"),
                    )),
                }
            }
            iv.sort();
            // Shifts that ended before the window are outside the assessment.
            if let Some(ps) = ctx.period.start {
                iv.retain(|(_, b, _)| *b >= ps);
            }
            iv.retain(|(a, _, _)| *a <= wend);
            let Some(&(first, _, _)) = iv.first() else {
                continue;
            };
            let wstart = ctx.period.start.unwrap_or(first);
            let mut cursor = wstart;
            if first.0 - wstart.0 > self.tolerance {
                out.push(Outcome::about(
                    t.def.name,
                    format!(
                        "{}(period start)",
                        if key.is_empty() {
                            String::new()
                        } else {
                            format!("{key} ")
                        }
                    ),
                    Verdict::Exception,
                    format!(
                        "{label}not covered from {wstart} to {first} ({})",
                        format_elapsed(first.0 - wstart.0)
                    ),
                ));
            }
            for (i, &(a, b, r)) in iv.iter().enumerate() {
                cursor = cursor.max(b);
                let _ = a;
                let next_start = iv.get(i + 1).map(|x| x.0);
                let gap_until = match next_start {
                    Some(n) if n.0 - cursor.0 > self.tolerance && cursor < wend => {
                        Some(n.min(wend))
                    }
                    None if wend.0 - cursor.0 > self.tolerance => Some(wend),
                    _ => None,
                };
                let mut o = Outcome::new(
                    t.def.name,
                    r,
                    Verdict::Pass,
                    format!("{label}covered {a} .. {b}"),
                );
                o.values = vec![("start", a.to_string()), ("end", b.to_string())];
                if let Some(g) = gap_until
                    && g > cursor
                {
                    o.verdict = Verdict::Exception;
                    o.message = format!(
                        "{label}not covered from {cursor} to {g} ({})",
                        format_elapsed(g.0 - cursor.0)
                    );
                }
                out.push(o);
            }
        }
    }
}
