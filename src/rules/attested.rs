//! `attested`: a control a person attests (e.g. the response plan was distributed),
//! proven by the latest attestation record: who, when, a link to the evidence, and an
//! expiry still ahead of as-of. An expired or incomplete attestation is an exception;
//! one expiring within `warn_before` is at risk.

use super::{EvalCtx, Outcome, Rule, Verdict};
use crate::catalog::{CompileCtx, RawCheck};
use crate::diag::Code;
use crate::evidence::Table;
use crate::evidence::read::Needs;
use crate::evidence::tables::TableDef;
use crate::time::format_elapsed;

const FIELDS: [&str; 4] = ["attested_by", "attested_at", "evidence_link", "expires_at"];

/// A compiled attested rule.
#[derive(Debug)]
pub struct Attested {
    fields: [usize; 4],
    warn_before: Option<i64>,
}

impl Attested {
    /// Compile from a catalog entry.
    pub fn compile(rc: &RawCheck, ctx: &mut CompileCtx<'_>) -> Option<Attested> {
        if ctx.table.name != "attestations" {
            ctx.err(
                Code::BadValue,
                "/population/table",
                "an attested check draws its population from the `attestations` table",
            );
            return None;
        }
        let mut fields = [0usize; 4];
        for (i, n) in FIELDS.iter().enumerate() {
            fields[i] = ctx.field(ctx.table, n, "/population")?;
        }
        let warn_before = super::warn_before(rc, ctx)?;
        Some(Attested {
            fields,
            warn_before,
        })
    }
}

impl Rule for Attested {
    fn kind(&self) -> &'static str {
        "attested"
    }

    fn needs(&self, table: &'static TableDef, needs: &mut Needs) {
        needs.entry(table.name).or_default().extend(self.fields);
    }

    fn describe(&self, _table: &TableDef) -> String {
        "Inspected the latest attestation for who attested, when, a link to the evidence, and an expiry after the as-of date.".into()
    }

    fn evaluate(&self, ctx: &EvalCtx<'_>, t: &Table, row: u32, out: &mut Vec<Outcome>) {
        self.evaluate_all(ctx, t, &[row], out);
    }

    fn aggregate(&self) -> bool {
        true
    }

    fn evaluate_all(&self, ctx: &EvalCtx<'_>, t: &Table, rows: &[u32], out: &mut Vec<Outcome>) {
        let [by, at, link, exp] = self.fields;
        // The latest attestation made by as-of decides; earlier ones are superseded.
        let latest = rows
            .iter()
            .filter_map(|&r| {
                t.get(r, at)
                    .time()
                    .filter(|ts| *ts <= ctx.as_of)
                    .map(|ts| (ts, r))
            })
            .max();
        let Some((when, r)) = latest else {
            out.push(Outcome::about(
                t.def.name,
                "(no attestation)".into(),
                Verdict::Exception,
                format!("no attestation dated on or before {}", ctx.as_of),
            ));
            return;
        };
        let mut o = Outcome::new(t.def.name, r, Verdict::Pass, String::new());
        let missing: Vec<&str> = [
            (by, "attested_by"),
            (link, "evidence_link"),
            (exp, "expires_at"),
        ]
        .iter()
        .filter(|(f, _)| t.get(r, *f).is_blank())
        .map(|(_, n)| *n)
        .collect();
        o.values = vec![
            ("attested_by", t.get(r, by).display()),
            ("attested_at", when.to_string()),
            ("evidence_link", t.get(r, link).display()),
            ("expires_at", t.get(r, exp).display()),
        ];
        if !missing.is_empty() {
            o.verdict = Verdict::Exception;
            o.message = format!("attestation of {when} lacks: {}", missing.join(", "));
        } else if let Some(e) = t.get(r, exp).time() {
            let left = e.0 - ctx.as_of.0;
            o.due = Some(e);
            if left <= 0 {
                o.verdict = Verdict::Exception;
                o.message = format!("attestation by {} expired {e}", t.get(r, by).display());
            } else if self.warn_before.is_some_and(|w| left <= w) {
                o.verdict = Verdict::AtRisk;
                o.message = format!(
                    "attestation by {} expires {e}, {} left",
                    t.get(r, by).display(),
                    format_elapsed(left)
                );
            } else {
                o.message = format!(
                    "attested by {} on {when}, valid until {e}",
                    t.get(r, by).display()
                );
            }
        }
        out.push(o);
    }
}
