//! `each-linked`: every related record (through a path, e.g. incidents ->
//! postmortems -> findings) must meet a condition; each related record is judged on
//! its own, so an exception names the finding, not the incident.

use super::{
    EvalCtx, Outcome, Requirement, Rule, Step, Verdict, compile_path, cond_values, path_needs,
    path_text, path_value_needs,
};
use crate::catalog::filter::Cond;
use crate::catalog::{CompileCtx, RawCheck};
use crate::diag::Code;
use crate::evidence::Table;
use crate::evidence::read::Needs;
use crate::evidence::tables::TableDef;

/// A compiled each-linked rule.
#[derive(Debug)]
pub struct EachLinked {
    path: Vec<Step>,
    require: Cond,
    /// The requirement's message parts, for the records that do not meet it and for
    /// those that do (shared by every outcome).
    unmet: std::sync::Arc<Requirement>,
    met: std::sync::Arc<Requirement>,
    text: String,
}

impl EachLinked {
    /// Compile from a catalog entry.
    pub fn compile(rc: &RawCheck, ctx: &mut CompileCtx<'_>) -> Option<EachLinked> {
        let Some(rel) = &rc.related else {
            ctx.err(
                Code::BadValue,
                "",
                "an each-linked check needs `related`: a step or a list of steps",
            );
            return None;
        };
        let path = compile_path(rel, ctx.table, ctx, "/related")?;
        let last = path.last()?.table;
        let Some(req) = &rc.require else {
            ctx.err(
                Code::BadValue,
                "",
                "an each-linked check needs `require`: the condition every related record meets",
            );
            return None;
        };
        let require = ctx.cond(req, last, "/require")?;
        let text: std::sync::Arc<str> = super::cond_text(req).into();
        let shared = |met: bool| {
            std::sync::Arc::new(Requirement {
                met,
                text: text.clone(),
                via: ctx.table.name,
            })
        };
        Some(EachLinked {
            text: path_text(&path, rel),
            unmet: shared(false),
            met: shared(true),
            path,
            require,
        })
    }

    /// The table whose records are judged.
    fn leaf(&self) -> Option<&'static TableDef> {
        self.path.last().map(|s| s.table)
    }
}

impl Rule for EachLinked {
    fn kind(&self) -> &'static str {
        "each-linked"
    }

    fn needs(&self, table: &'static TableDef, needs: &mut Needs) {
        self.value_needs(table, needs);
        path_needs(&self.path, needs);
    }

    fn value_needs(&self, _table: &'static TableDef, needs: &mut Needs) {
        path_value_needs(&self.path, needs);
        if let Some(l) = self.leaf() {
            let mut v = Vec::new();
            self.require.fields(&mut v);
            needs.entry(l.name).or_default().extend(v);
        }
    }

    fn judged_table(&self) -> Option<&'static str> {
        self.leaf().map(|t| t.name)
    }

    fn requirement(&self) -> Option<(&'static TableDef, &Cond)> {
        Some((self.leaf()?, &self.require))
    }

    fn value_needs_besides_requirement(&self, _table: &'static TableDef, needs: &mut Needs) {
        path_value_needs(&self.path, needs);
    }

    fn relations(&self, out: &mut Vec<(&'static str, usize)>) {
        out.extend(self.path.iter().map(|s| (s.table.name, s.via)));
    }

    fn describe(&self, _table: &TableDef) -> String {
        format!(
            "Traced each record to its related {} and inspected every one for: {}.",
            self.text, self.unmet.text
        )
    }

    fn evaluate(&self, ctx: &EvalCtx<'_>, t: &Table, row: u32, out: &mut Vec<Outcome>) {
        let Some(leaf) = self.leaf() else { return };
        let Some(lt) = ctx.table(leaf.name) else {
            return;
        };
        for r in ctx.follow(t, row, &self.path) {
            // Judged beforehand (a streamed run): the values of a record that does
            // not meet the requirement are kept apart.
            let (ok, at) = match ctx.judged.filter(|_| !ctx.detail) {
                Some(j) => match j.unmet_values(r) {
                    Some(at) => (false, at),
                    None => (true, (lt, r)),
                },
                None => (self.require.eval(lt, r, ctx.as_of), (lt, r)),
            };
            if ok && !ctx.detail {
                out.push(Outcome::new(leaf.name, r, Verdict::Pass, String::new()));
                continue;
            }
            let values = cond_values(&self.require, at.0, at.1);
            out.push(Outcome {
                table: leaf.name,
                row: r,
                verdict: if ok {
                    Verdict::Pass
                } else {
                    Verdict::Exception
                },
                message: String::new(),
                requirement: Some((
                    if ok { &self.met } else { &self.unmet }.clone(),
                    t.id(row).into(),
                )),
                values,
                due: None,
                elapsed: None,
                subject: None,
            });
        }
    }
}
