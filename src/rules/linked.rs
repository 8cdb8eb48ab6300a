//! `linked`: each record has at least `min` related records meeting a condition
//! (e.g. a completed postmortem). With `start` and `within`, a record is pending
//! until that deadline passes.

use serde_json::Value as J;

use super::{
    EvalCtx, Outcome, Rule, Step, Verdict, compile_path, path_needs, path_text, path_value_needs,
};
use crate::catalog::{CompileCtx, RawCheck};
use crate::diag::Code;
use crate::evidence::Table;
use crate::evidence::read::Needs;
use crate::evidence::tables::{Kind, TableDef};
use crate::time::{Clock, Span, add_span, format_elapsed};

/// A compiled linked rule.
#[derive(Debug)]
pub struct Linked {
    path: Vec<Step>,
    /// The same path without filters, to count what exists but does not qualify.
    all: Vec<Step>,
    min: u32,
    text: String,
    grace: Option<(usize, Span, Option<i64>)>,
}

impl Linked {
    /// Compile from a catalog entry.
    pub fn compile(rc: &RawCheck, ctx: &mut CompileCtx<'_>) -> Option<Linked> {
        let table = ctx.table;
        let Some(rel) = &rc.related else {
            ctx.err(
                Code::BadValue,
                "",
                "a linked check needs `related`: `{ table, via, where }`",
            );
            return None;
        };
        let path = compile_path(rel, table, ctx, "/related")?;
        let all = path
            .iter()
            .map(|s| Step {
                filter: None,
                ..s.clone()
            })
            .collect();
        let grace = match (&rc.start, &rc.within) {
            (Some(s), Some(w)) => {
                let f = ctx.field(table, s, "/start")?;
                if table.fields.get(f).map(|d| d.kind) != Some(Kind::Time) {
                    ctx.err(Code::BadValue, "/start", "the start must be a time field");
                    return None;
                }
                let span = ctx.span(w, "/within")?;
                let warn = super::warn_before(rc, ctx)?;
                Some((f, span, warn))
            }
            (None, None) => None,
            _ => {
                ctx.err(Code::BadValue, "", "`start` and `within` go together");
                return None;
            }
        };
        let text = path_text(&path, rel);
        let _ = J::Null;
        Some(Linked {
            path,
            all,
            min: rc.min.unwrap_or(1).max(1),
            text,
            grace,
        })
    }
}

impl Rule for Linked {
    fn kind(&self) -> &'static str {
        "linked"
    }

    fn needs(&self, table: &'static TableDef, needs: &mut Needs) {
        self.value_needs(table, needs);
        path_needs(&self.path, needs);
    }

    fn value_needs(&self, table: &'static TableDef, needs: &mut Needs) {
        path_value_needs(&self.path, needs);
        if let Some((f, _, _)) = self.grace {
            needs.entry(table.name).or_default().insert(f);
        }
    }

    fn relations(&self, out: &mut Vec<(&'static str, usize)>) {
        out.extend(self.path.iter().map(|s| (s.table.name, s.via)));
    }

    fn describe(&self, table: &TableDef) -> String {
        let grace = match self.grace {
            Some((f, span, _)) => format!(
                ", allowing {span} from {} before an absence is an exception",
                table.fields.get(f).map(|x| x.name).unwrap_or("start")
            ),
            None => String::new(),
        };
        format!(
            "Traced each record to related {} and required at least {}{grace}.",
            self.text, self.min
        )
    }

    fn evaluate(&self, ctx: &EvalCtx<'_>, t: &Table, row: u32, out: &mut Vec<Outcome>) {
        let found = ctx.follow(t, row, &self.path);
        let n = found.len() as u32;
        if n >= self.min && !ctx.detail {
            // A pass keeps no values (`tally`): none are built.
            out.push(Outcome::new(t.def.name, row, Verdict::Pass, String::new()));
            return;
        }
        let mut o = Outcome {
            table: t.def.name,
            row,
            verdict: Verdict::Pass,
            message: String::new(),
            values: vec![("matching", n.to_string())],
            due: None,
            elapsed: None,
            subject: None,
            requirement: None,
        };
        if n >= self.min {
            let reached = self.path.last().and_then(|s| ctx.table(s.table.name));
            let ids: Vec<String> = found
                .iter()
                .take(5)
                .filter_map(|&r| Some(reached?.id(r).to_string()))
                .collect();
            o.message = format!("found {}: {}", self.text, ids.join(", "));
            out.push(o);
            return;
        }
        let any = ctx.follow(t, row, &self.all).len();
        let what = if any > n as usize {
            format!(
                "{n} of {any} related {} qualify",
                self.all.last().map(|s| s.table.name).unwrap_or("records")
            )
        } else if n > 0 {
            format!("only {n} found")
        } else {
            "none exist".to_string()
        };
        o.values.push(("related", any.to_string()));
        if let Some((f, span, warn)) = self.grace {
            let fname = t.def.fields.get(f).map(|x| x.name).unwrap_or("start");
            let Some(start) = t.get(row, f).time() else {
                o.verdict = Verdict::NotEvaluable;
                o.message = format!("no {} ({what}) and {fname} is missing", self.text);
                out.push(o);
                return;
            };
            let clock = Clock {
                zone: chrono_tz::Tz::UTC,
                calendar: None,
            };
            if let Ok(deadline) = add_span(start, span, clock) {
                o.due = Some(deadline);
                o.values.push(("deadline", deadline.to_string()));
                let left = deadline.0 - ctx.as_of.0;
                if left >= 0 {
                    o.verdict = if warn.is_some_and(|w| left <= w) {
                        Verdict::AtRisk
                    } else {
                        Verdict::Pending
                    };
                    o.values.push(("time_left", format_elapsed(left)));
                    o.message = format!(
                        "no {} yet ({what}); due {deadline}, {} left",
                        self.text,
                        format_elapsed(left)
                    );
                    out.push(o);
                    return;
                }
            }
        }
        o.verdict = Verdict::Exception;
        o.message = format!("expected at least {} {}; {what}", self.min, self.text);
        out.push(o);
    }
}
