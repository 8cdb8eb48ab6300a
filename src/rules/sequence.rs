//! `sequence`: timestamps in order (detect -> declare -> contain -> eradicate ->
//! recover). Missing timestamps make a record not evaluable, or are skipped.

use super::{EvalCtx, Outcome, Rule, Verdict};
use crate::catalog::{CompileCtx, RawCheck};
use crate::diag::Code;
use crate::evidence::Table;
use crate::evidence::read::Needs;
use crate::evidence::tables::{Kind, TableDef};
use crate::time::format_elapsed;

/// A compiled sequence rule.
#[derive(Debug)]
pub struct Sequence {
    fields: Vec<usize>,
    skip_missing: bool,
    allow_equal: bool,
}

impl Sequence {
    /// Compile from a catalog entry.
    pub fn compile(rc: &RawCheck, ctx: &mut CompileCtx<'_>) -> Option<Sequence> {
        let table = ctx.table;
        let Some(names) = &rc.fields else {
            ctx.err(
                Code::BadValue,
                "",
                "a sequence check needs `fields`: at least two time fields in order",
            );
            return None;
        };
        let mut fields = Vec::new();
        for (i, n) in names.iter().enumerate() {
            let f = ctx.field(table, n, &format!("/fields/{i}"))?;
            if table.fields.get(f).map(|d| d.kind) != Some(Kind::Time) {
                ctx.err(
                    Code::BadValue,
                    &format!("/fields/{i}"),
                    format!("`{n}` is not a time field"),
                );
                return None;
            }
            fields.push(f);
        }
        if fields.len() < 2 {
            ctx.err(
                Code::BadValue,
                "/fields",
                "a sequence needs at least two fields",
            );
            return None;
        }
        let skip_missing = match rc.missing.as_deref() {
            None | Some("not-evaluable") => false,
            Some("skip") => true,
            Some(o) => {
                ctx.err(
                    Code::BadValue,
                    "/missing",
                    format!("`missing: {o}`: use not-evaluable or skip"),
                );
                return None;
            }
        };
        Some(Sequence {
            fields,
            skip_missing,
            allow_equal: rc.allow_equal.unwrap_or(true),
        })
    }
}

impl Rule for Sequence {
    fn kind(&self) -> &'static str {
        "sequence"
    }

    fn needs(&self, table: &'static TableDef, needs: &mut Needs) {
        needs
            .entry(table.name)
            .or_default()
            .extend(self.fields.iter().copied());
    }

    fn describe(&self, table: &TableDef) -> String {
        let names: Vec<&str> = self
            .fields
            .iter()
            .filter_map(|i| table.fields.get(*i).map(|f| f.name))
            .collect();
        format!(
            "Compared the instants {} and required them in that order{}; {}.",
            names.join(if self.allow_equal { " <= " } else { " < " }),
            if self.allow_equal {
                " (equal instants allowed)"
            } else {
                ""
            },
            if self.skip_missing {
                "missing timestamps were skipped"
            } else {
                "a missing timestamp makes the record not evaluable"
            }
        )
    }

    fn evaluate(&self, ctx: &EvalCtx<'_>, t: &Table, row: u32, out: &mut Vec<Outcome>) {
        let name = |i: usize| t.def.fields.get(i).map(|f| f.name).unwrap_or("?");
        if !ctx.detail {
            // Fast path: decide first; describe only what does not pass.
            let mut prev: Option<crate::time::Ts> = None;
            let mut ok = true;
            for &f in &self.fields {
                match t.get(row, f).time() {
                    Some(ts) => {
                        if let Some(p) = prev
                            && (if self.allow_equal { p > ts } else { p >= ts })
                        {
                            ok = false;
                            break;
                        }
                        prev = Some(ts);
                    }
                    None if !self.skip_missing => {
                        ok = false;
                        break;
                    }
                    None => {}
                }
            }
            if ok {
                out.push(Outcome::new(t.def.name, row, Verdict::Pass, String::new()));
                return;
            }
        }
        let mut values = Vec::new();
        let mut missing = Vec::new();
        let mut present = Vec::new();
        for &f in &self.fields {
            match t.get(row, f).time() {
                Some(ts) => {
                    values.push((name(f), ts.to_string()));
                    present.push((f, ts));
                }
                None => {
                    values.push((name(f), "(missing)".to_string()));
                    missing.push(name(f));
                }
            }
        }
        let mut broken = Vec::new();
        for w in present.windows(2) {
            if let [(fa, a), (fb, b)] = w {
                let bad = if self.allow_equal { a > b } else { a >= b };
                if bad {
                    broken.push(format!(
                        "{} {a} is after {} {b} by {}",
                        name(*fa),
                        name(*fb),
                        format_elapsed(a.0 - b.0)
                    ));
                }
            }
        }
        let (verdict, message) = if !broken.is_empty() {
            (
                Verdict::Exception,
                format!("out of order: {}", broken.join("; ")),
            )
        } else if !missing.is_empty() && !self.skip_missing {
            (
                Verdict::NotEvaluable,
                format!("missing: {}", missing.join(", ")),
            )
        } else {
            (Verdict::Pass, "in order".to_string())
        };
        out.push(Outcome {
            table: t.def.name,
            row,
            verdict,
            message,
            values,
            due: None,
            elapsed: None,
            subject: None,
            requirement: None,
        });
    }
}
