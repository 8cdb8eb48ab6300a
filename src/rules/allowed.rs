//! `allowed`: a field's value must be one of a set, or match a pattern.

use regex::Regex;

use super::{EvalCtx, Outcome, Rule, Verdict};
use crate::catalog::filter::{Cond, Op};
use crate::catalog::{CompileCtx, RawCheck};
use crate::diag::Code;
use crate::evidence::Table;
use crate::evidence::read::Needs;
use crate::evidence::tables::TableDef;

/// A compiled allowed rule.
#[derive(Debug)]
pub struct Allowed {
    field: usize,
    test: Cond,
    shown: String,
}

impl Allowed {
    /// Compile from a catalog entry.
    pub fn compile(rc: &RawCheck, ctx: &mut CompileCtx<'_>) -> Option<Allowed> {
        let table = ctx.table;
        let Some(name) = rc.field.as_deref() else {
            ctx.err(Code::BadValue, "", "an allowed check needs `field`");
            return None;
        };
        let field = ctx.field(table, name, "/field")?;
        let (test, shown) = match (&rc.values, &rc.pattern) {
            (Some(vals), None) => {
                let v = serde_json::json!({ name: vals });
                let c = ctx.cond(&v, table, "/values")?;
                let shown = vals
                    .iter()
                    .map(|x| {
                        x.as_str()
                            .map(String::from)
                            .unwrap_or_else(|| x.to_string())
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                (c, format!("one of [{shown}]"))
            }
            (None, Some(_))
                if !matches!(
                    table.fields.get(field).map(|f| f.kind),
                    Some(crate::evidence::Kind::Text | crate::evidence::Kind::List)
                ) =>
            {
                ctx.err(
                    Code::BadValue,
                    "/pattern",
                    format!(
                        "`pattern` applies to text; `{name}` is not a text field (use `values`)"
                    ),
                );
                return None;
            }
            (None, Some(p)) => match Regex::new(p) {
                Ok(re) => (
                    Cond::Test {
                        field,
                        op: Op::Matches(re),
                    },
                    format!("matching /{p}/"),
                ),
                Err(e) => {
                    ctx.err(
                        Code::BadPattern,
                        "/pattern",
                        format!("bad regular expression: {e}"),
                    );
                    return None;
                }
            },
            _ => {
                ctx.err(
                    Code::BadValue,
                    "",
                    "an allowed check needs exactly one of `values` or `pattern`",
                );
                return None;
            }
        };
        Some(Allowed { field, test, shown })
    }
}

impl Rule for Allowed {
    fn kind(&self) -> &'static str {
        "allowed"
    }

    fn needs(&self, table: &'static TableDef, needs: &mut Needs) {
        needs.entry(table.name).or_default().insert(self.field);
    }

    fn describe(&self, table: &TableDef) -> String {
        let f = table
            .fields
            .get(self.field)
            .map(|f| f.name)
            .unwrap_or("field");
        format!("Inspected each record's {f} for a value {}.", self.shown)
    }

    fn evaluate(&self, ctx: &EvalCtx<'_>, t: &Table, row: u32, out: &mut Vec<Outcome>) {
        let name = t
            .def
            .fields
            .get(self.field)
            .map(|f| f.name)
            .unwrap_or("field");
        let v = t.get(row, self.field);
        let (verdict, message) = if v.is_blank() {
            (Verdict::NotEvaluable, format!("{name} is missing"))
        } else if self.test.eval(t, row, ctx.as_of) {
            (
                Verdict::Pass,
                format!("{name} `{}` is allowed", v.display()),
            )
        } else {
            (
                Verdict::Exception,
                format!("{name} `{}` is not {}", v.display(), self.shown),
            )
        };
        out.push(Outcome {
            table: t.def.name,
            row,
            verdict,
            message,
            values: vec![(name, v.display())],
            due: None,
            elapsed: None,
            subject: None,
            requirement: None,
        });
    }
}
