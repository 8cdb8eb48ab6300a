//! Conditions on records: population filters (`where`), requirements (`require`) and
//! conditional requirements (`when`). Part of the catalog stage: compiled once against
//! the canonical table, evaluated by the rules on every record.
//!
//! Syntax (YAML):
//! ```yaml
//! where: { data_breach: true }                    # field: value  -> equal
//! where: { severity: [sev1, sev2] }               # field: [list] -> one of
//! where: { closed_at: null }                      # field: null   -> not set
//! where: { owner: { set: true } }                 # present and not blank
//! where: { title: { matches: "^SEC-" } }          # regular expression
//! where: { due_at: { after: as_of } }             # before / after / not_before / not_after:
//!                                                 #   as_of, another field, or an RFC 3339 instant
//! where: { completed_at: { within_last: 1y } }    # in (as_of - 1y, as_of]
//! where: { any: [ {customer_impacting: true}, {data_breach: true} ] }
//! where: { all: [...] }   where: { not: {...} }
//! ```
//! A map with several keys means all of them. A test on a missing value is false,
//! except `set: false` and `null`. On a list field, `eq` means "contains" and `in`
//! means "every item is one of".

use regex::Regex;
use serde_json::Value as J;

use crate::evidence::tables::{Kind, TableDef};
use crate::time::{TsFormat, parse_ts};

/// A compiled condition.
#[derive(Debug, Clone)]
pub enum Cond {
    /// Every part holds.
    All(Vec<Cond>),
    /// At least one part holds.
    Any(Vec<Cond>),
    /// The part does not hold.
    Not(Box<Cond>),
    /// A test of one field (by index in the table's canonical fields).
    Test {
        /// Canonical field index.
        field: usize,
        /// The test.
        op: Op,
    },
}

/// A test of one field.
#[derive(Debug, Clone)]
pub enum Op {
    /// Equal to a literal.
    Eq(Lit),
    /// Equal to one of the literals.
    In(Vec<Lit>),
    /// Present and not blank (`true`), or missing or blank (`false`).
    Set(bool),
    /// Text matches a regular expression.
    Matches(Regex),
    /// Instant compared with a reference instant.
    Time(TimeCmp, TimeRef),
    /// Instant in `(as_of - span, as_of]`.
    WithinLast(crate::time::Span),
}

/// A literal in a condition, typed like the field it tests.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    /// Text.
    Text(String),
    /// Boolean.
    Bool(bool),
    /// Whole number.
    Int(i64),
}

/// Comparison of instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeCmp {
    /// Strictly before.
    Before,
    /// Strictly after.
    After,
    /// At or before.
    NotAfter,
    /// At or after.
    NotBefore,
}

/// What an instant is compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum TimeRef {
    /// The run's as-of instant.
    AsOf,
    /// Another time field of the same record.
    Field(usize),
    /// A fixed instant.
    Const(crate::time::Ts),
}

/// A problem compiling a condition: a JSON pointer relative to the condition, and what.
#[derive(Debug, Clone)]
pub struct CondError {
    /// Pointer below the condition's own pointer.
    pub rel: String,
    /// Message.
    pub message: String,
    /// Is it about an unknown field (vs. a bad value)?
    pub unknown_field: bool,
}

impl Cond {
    /// Compile a condition for a table, collecting every problem.
    pub fn compile(v: &J, table: &TableDef, errs: &mut Vec<CondError>) -> Cond {
        compile(v, table, "", errs)
    }

    /// Fields the condition reads (canonical indices).
    pub fn fields(&self, out: &mut Vec<usize>) {
        match self {
            Cond::All(v) | Cond::Any(v) => v.iter().for_each(|c| c.fields(out)),
            Cond::Not(c) => c.fields(out),
            Cond::Test { field, op } => {
                out.push(*field);
                if let Op::Time(_, TimeRef::Field(g)) = op {
                    out.push(*g);
                }
            }
        }
    }
}

fn err(rel: &str, message: String) -> CondError {
    CondError {
        rel: rel.to_string(),
        message,
        unknown_field: false,
    }
}

fn compile(v: &J, table: &TableDef, rel: &str, errs: &mut Vec<CondError>) -> Cond {
    let Some(map) = v.as_object() else {
        errs.push(err(
            rel,
            "a condition is a mapping, e.g. `{ data_breach: true }` or `{ any: [...] }`".into(),
        ));
        return Cond::All(vec![]);
    };
    let mut parts = Vec::new();
    for (k, val) in map {
        let here = format!("{rel}/{}", crate::yaml::escape_token(k));
        match k.as_str() {
            "all" | "any" => {
                let Some(items) = val.as_array() else {
                    errs.push(err(&here, format!("`{k}` takes a list of conditions")));
                    continue;
                };
                let subs = items
                    .iter()
                    .enumerate()
                    .map(|(i, it)| compile(it, table, &format!("{here}/{i}"), errs))
                    .collect();
                parts.push(if k == "all" {
                    Cond::All(subs)
                } else {
                    Cond::Any(subs)
                });
            }
            "not" => parts.push(Cond::Not(Box::new(compile(val, table, &here, errs)))),
            field => {
                let Some(idx) = table.fields.iter().position(|f| f.name == field) else {
                    errs.push(CondError {
                        rel: here,
                        message: format!(
                            "table `{}` has no field `{field}` (fields: {})",
                            table.name,
                            crate::evidence::tables::field_names(table)
                        ),
                        unknown_field: true,
                    });
                    continue;
                };
                compile_test(idx, val, table, &here, errs, &mut parts);
            }
        }
    }
    if parts.len() == 1 {
        parts.pop().unwrap_or(Cond::All(vec![]))
    } else {
        Cond::All(parts)
    }
}

fn compile_test(
    idx: usize,
    val: &J,
    table: &TableDef,
    rel: &str,
    errs: &mut Vec<CondError>,
    out: &mut Vec<Cond>,
) {
    let Some(fd) = table.fields.get(idx) else {
        return;
    };
    let kind = fd.kind;
    let name = fd.name;
    let test = |op| Cond::Test { field: idx, op };
    match val {
        J::Null => out.push(test(Op::Set(false))),
        J::Array(items) => {
            let lits: Vec<Lit> = items
                .iter()
                .enumerate()
                .filter_map(|(i, it)| lit(it, kind, name, &format!("{rel}/{i}"), errs))
                .collect();
            out.push(test(Op::In(lits)));
        }
        J::Object(ops) => {
            for (op, arg) in ops {
                let here = format!("{rel}/{op}");
                match op.as_str() {
                    "eq" => {
                        if let Some(l) = lit(arg, kind, name, &here, errs) {
                            out.push(test(Op::Eq(l)));
                        }
                    }
                    "in" => match arg.as_array() {
                        Some(items) => {
                            let lits = items
                                .iter()
                                .enumerate()
                                .filter_map(|(i, it)| {
                                    lit(it, kind, name, &format!("{here}/{i}"), errs)
                                })
                                .collect();
                            out.push(test(Op::In(lits)));
                        }
                        None => errs.push(err(&here, "`in` takes a list of values".into())),
                    },
                    "set" => match arg.as_bool() {
                        Some(b) => out.push(test(Op::Set(b))),
                        None => errs.push(err(&here, "`set` takes true or false".into())),
                    },
                    "matches" => match arg.as_str().map(Regex::new) {
                        Some(Ok(re)) => {
                            if kind == Kind::Text || kind == Kind::List {
                                out.push(test(Op::Matches(re)));
                            } else {
                                errs.push(err(
                                    &here,
                                    format!("`matches` applies to text; `{name}` is {kind:?}"),
                                ));
                            }
                        }
                        Some(Err(e)) => errs.push(err(&here, format!("bad regular expression: {e}"))),
                        None => errs.push(err(&here, "`matches` takes a regular expression".into())),
                    },
                    "before" | "after" | "not_before" | "not_after" => {
                        let cmp = match op.as_str() {
                            "before" => TimeCmp::Before,
                            "after" => TimeCmp::After,
                            "not_before" => TimeCmp::NotBefore,
                            _ => TimeCmp::NotAfter,
                        };
                        if kind != Kind::Time {
                            errs.push(err(
                                &here,
                                format!("`{op}` compares instants; `{name}` is not a time field"),
                            ));
                            continue;
                        }
                        match time_ref(arg, table) {
                            Ok(r) => out.push(test(Op::Time(cmp, r))),
                            Err(m) => errs.push(err(&here, m)),
                        }
                    }
                    "within_last" => {
                        if kind != Kind::Time {
                            errs.push(err(&here, format!("`within_last` applies to time fields; `{name}` is not one")));
                            continue;
                        }
                        match arg.as_str().map(crate::time::parse_span) {
                            Some(Ok(sp)) => out.push(test(Op::WithinLast(sp))),
                            Some(Err(m)) => errs.push(err(&here, m)),
                            None => errs.push(err(&here, "`within_last` takes a duration, e.g. 1y or 90d".into())),
                        }
                    }
                    other => errs.push(err(
                        &here,
                        format!(
                            "unknown test `{other}` (use eq, in, set, matches, before, after, not_before, not_after, within_last)"
                        ),
                    )),
                }
            }
        }
        scalar => {
            if let Some(l) = lit(scalar, kind, name, rel, errs) {
                out.push(test(Op::Eq(l)));
            }
        }
    }
}

fn time_ref(arg: &J, table: &TableDef) -> Result<TimeRef, String> {
    let s = arg
        .as_str()
        .ok_or_else(|| "compare with `as_of`, a time field, or an RFC 3339 instant".to_string())?;
    if s == "as_of" {
        return Ok(TimeRef::AsOf);
    }
    if let Some(i) = table.fields.iter().position(|f| f.name == s) {
        return match table.fields.get(i).map(|f| f.kind) {
            Some(Kind::Time) => Ok(TimeRef::Field(i)),
            _ => Err(format!("`{s}` is not a time field")),
        };
    }
    parse_ts(s, &TsFormat::default())
        .map(TimeRef::Const)
        .map_err(|e| {
            format!(
                "`{s}` is not as_of, a time field of `{}`, or an instant: {e}",
                table.name
            )
        })
}

fn lit(v: &J, kind: Kind, name: &str, rel: &str, errs: &mut Vec<CondError>) -> Option<Lit> {
    let got = match (kind, v) {
        (Kind::Text | Kind::List, J::String(s)) => Some(Lit::Text(s.clone())),
        (Kind::Text | Kind::List, J::Number(n)) => Some(Lit::Text(n.to_string())),
        (Kind::Bool, J::Bool(b)) => Some(Lit::Bool(*b)),
        (Kind::Int, J::Number(n)) => n.as_i64().map(Lit::Int),
        _ => None,
    };
    if got.is_none() {
        errs.push(err(
            rel,
            format!(
                "`{name}` is a {} field; `{v}` is not a value of that type",
                match kind {
                    Kind::Text | Kind::List => "text",
                    Kind::Bool => "true/false",
                    Kind::Int => "whole-number",
                    Kind::Time => "time (compare it with before/after)",
                }
            ),
        ));
    }
    got
}

impl Cond {
    /// Does a record meet the condition? `as_of` resolves `as_of` references.
    pub fn eval(&self, t: &crate::evidence::Table, row: u32, as_of: crate::time::Ts) -> bool {
        // A test among the conditions of `all`/`any` is made in place, not by a call
        // of `eval` again: most conditions are a few tests.
        let one = |c: &Cond| match c {
            Cond::Test { field, op } => test(*field, op, t, row, as_of),
            _ => c.eval(t, row, as_of),
        };
        match self {
            Cond::All(v) => v.iter().all(one),
            Cond::Any(v) => v.iter().any(one),
            Cond::Not(c) => !c.eval(t, row, as_of),
            Cond::Test { field, op } => test(*field, op, t, row, as_of),
        }
    }
}

/// One test of a field of a record (`Cond::Test`).
#[inline(always)]
fn test(
    field: usize,
    op: &Op,
    t: &crate::evidence::Table,
    row: u32,
    as_of: crate::time::Ts,
) -> bool {
    use crate::evidence::Value;
    let v = t.get(row, field);
    match op {
        Op::Set(want) => v.is_blank() != *want,
        Op::Eq(l) => lit_eq(v, l),
        // A list is "in" a set when every item is; a scalar when it is one of them.
        Op::In(ls) => match v {
            Value::List(items) => items.iter().all(|it| {
                ls.iter()
                    .any(|l| matches!(l, Lit::Text(x) if x.as_str() == it))
            }),
            _ => ls.iter().any(|l| lit_eq(v, l)),
        },
        Op::Matches(re) => match v {
            Value::Text(s) => re.is_match(s),
            Value::List(items) => items.iter().any(|s| re.is_match(s)),
            _ => false,
        },
        Op::WithinLast(sp) => match (v.time(), crate::time::sub_span(as_of, *sp)) {
            (Some(x), Some(from)) => x > from && x <= as_of,
            // The window starts before the first representable instant
            // (e.g. `within_last: 1000y`): it holds every earlier one.
            (Some(x), None) => x <= as_of,
            _ => false,
        },
        Op::Time(cmp, r) => {
            let Some(a) = v.time() else { return false };
            let b = match r {
                TimeRef::AsOf => as_of,
                TimeRef::Const(c) => *c,
                TimeRef::Field(g) => match t.get(row, *g).time() {
                    Some(b) => b,
                    None => return false,
                },
            };
            match cmp {
                TimeCmp::Before => a < b,
                TimeCmp::After => a > b,
                TimeCmp::NotAfter => a <= b,
                TimeCmp::NotBefore => a >= b,
            }
        }
    }
}

#[inline]
fn lit_eq(v: crate::evidence::Value<'_>, l: &Lit) -> bool {
    use crate::evidence::Value;
    match (v, l) {
        (Value::Text(s), Lit::Text(x)) => crate::evidence::same_text(s, x),
        (Value::List(items), Lit::Text(x)) => items.iter().any(|s| s == x.as_str()),
        (Value::Bool(b), Lit::Bool(x)) => b == *x,
        (Value::Int(i), Lit::Int(x)) => i == *x,
        _ => false,
    }
}
