//! `required`: fields must be present and not blank; some only under a condition
//! (e.g. next steps while the investigation is open).

use super::{EvalCtx, Outcome, Rule, Verdict};
use crate::catalog::filter::Cond;
use crate::catalog::{CompileCtx, RawCheck};
use crate::diag::Code;
use crate::evidence::Table;
use crate::evidence::read::Needs;
use crate::evidence::tables::TableDef;

/// A compiled required rule: groups of fields, each under an optional condition.
#[derive(Debug)]
pub struct Required {
    groups: Vec<(Vec<usize>, Option<Cond>, Option<String>)>,
}

impl Required {
    /// Compile from a catalog entry.
    pub fn compile(rc: &RawCheck, ctx: &mut CompileCtx<'_>) -> Option<Required> {
        let table = ctx.table;
        let mut groups = Vec::new();
        let mut ok = true;
        let mut fields_of = |names: &[String], rel: &str, ctx: &mut CompileCtx<'_>| -> Vec<usize> {
            let mut v = Vec::new();
            for (i, n) in names.iter().enumerate() {
                match ctx.field(table, n, &format!("{rel}/{i}")) {
                    Some(x) => v.push(x),
                    None => ok = false,
                }
            }
            v
        };
        if let Some(fs) = &rc.fields {
            let f = fields_of(fs, "/fields", ctx);
            let when = match &rc.when {
                Some(w) => Some(ctx.cond(w, table, "/when")?),
                None => None,
            };
            groups.push((f, when, rc.when.as_ref().map(super::cond_text)));
        }
        for (i, c) in rc.conditional.iter().flatten().enumerate() {
            let f = fields_of(&c.fields, &format!("/conditional/{i}/fields"), ctx);
            let when = ctx.cond(&c.when, table, &format!("/conditional/{i}/when"))?;
            groups.push((f, Some(when), Some(super::cond_text(&c.when))));
        }
        if groups.is_empty() {
            ctx.err(
                Code::BadValue,
                "",
                "a required check needs `fields` or `conditional`",
            );
            return None;
        }
        ok.then_some(Required { groups })
    }
}

impl Rule for Required {
    fn kind(&self) -> &'static str {
        "required"
    }

    fn needs(&self, table: &'static TableDef, needs: &mut Needs) {
        let e = needs.entry(table.name).or_default();
        for (fs, when, _) in &self.groups {
            e.extend(fs.iter().copied());
            if let Some(w) = when {
                let mut v = Vec::new();
                w.fields(&mut v);
                e.extend(v);
            }
        }
    }

    fn describe(&self, table: &TableDef) -> String {
        let parts: Vec<String> = self
            .groups
            .iter()
            .map(|(fs, _, w)| {
                let names: Vec<&str> = fs
                    .iter()
                    .filter_map(|i| table.fields.get(*i).map(|f| f.name))
                    .collect();
                match w {
                    Some(w) => format!("{} when {w}", names.join(", ")),
                    None => names.join(", "),
                }
            })
            .collect();
        format!(
            "Inspected each record for a non-blank value of: {}.",
            parts.join("; ")
        )
    }

    fn evaluate(&self, ctx: &EvalCtx<'_>, t: &Table, row: u32, out: &mut Vec<Outcome>) {
        let mut missing = Vec::new();
        for (fs, when, _) in &self.groups {
            if when.as_ref().is_some_and(|w| !w.eval(t, row, ctx.as_of)) {
                continue;
            }
            for &i in fs {
                if t.get(row, i).is_blank()
                    && let Some(f) = t.def.fields.get(i)
                    && !missing.contains(&f.name)
                {
                    missing.push(f.name);
                }
            }
        }
        let (verdict, message) = if missing.is_empty() {
            (Verdict::Pass, "all required fields present".to_string())
        } else {
            (
                Verdict::Exception,
                format!("missing or blank: {}", missing.join(", ")),
            )
        };
        out.push(Outcome {
            table: t.def.name,
            row,
            verdict,
            message,
            values: missing
                .iter()
                .map(|m| (*m, "(missing)".to_string()))
                .collect(),
            due: None,
            elapsed: None,
            subject: None,
            requirement: None,
        });
    }
}
