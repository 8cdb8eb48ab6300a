//! Evidence stage: sources.yaml + exports -> typed canonical tables with provenance.
//!
//! Every record read is either kept (with its file and line) or rejected with a
//! diagnostic naming file, line, column and value; nothing is dropped silently. Only
//! the fields some check reads are materialised (the projection), so text no check
//! reads is never kept in memory.

pub mod read;
pub mod sources;
pub mod tables;

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use serde::Serialize;

use crate::diag::{Diagnostic, Diags};
use crate::time::Ts;
pub use tables::{FieldDef, Kind, TableDef};

/// One typed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Absent, empty, or a declared missing marker.
    Missing,
    /// Text.
    Text(Box<str>),
    /// Boolean.
    Bool(bool),
    /// Instant.
    Time(Ts),
    /// Whole number.
    Int(i64),
    /// List of texts.
    List(Box<[Box<str>]>),
}

impl Value {
    /// Missing, or text that is only whitespace, or an empty list.
    pub fn is_blank(&self) -> bool {
        match self {
            Value::Missing => true,
            Value::Text(s) => s.trim_matches([' ', '\t', '\r', '\n']).is_empty(),
            Value::List(l) => l.is_empty(),
            _ => false,
        }
    }

    /// The instant, if this is one.
    pub fn time(&self) -> Option<Ts> {
        match self {
            Value::Time(t) => Some(*t),
            _ => None,
        }
    }

    /// The text, if this is text.
    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// How the value is shown in messages and reports.
    pub fn display(&self) -> String {
        match self {
            Value::Missing => "(missing)".into(),
            Value::Text(s) => s.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Time(t) => t.to_string(),
            Value::Int(i) => i.to_string(),
            Value::List(l) => l.join(";"),
        }
    }
}

static MISSING: Value = Value::Missing;

/// Where a record came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Loc {
    /// Index into `Evidence::inputs`.
    pub file: u32,
    /// 1-based line where the record starts (0 when unknown, e.g. inside a JSON array).
    pub line: u64,
    /// JSON pointer of the record in a JSON file.
    pub pointer: Option<Box<str>>,
}

/// One canonical table: the projected fields of its records.
#[derive(Debug)]
pub struct Table {
    /// Which table.
    pub def: &'static TableDef,
    /// Canonical field index -> slot in a row, for projected fields.
    pub slots: Vec<Option<u16>>,
    /// Number of slots per row.
    pub width: usize,
    /// Record ids.
    pub ids: Vec<Box<str>>,
    /// Row-major values, `width` per row.
    pub vals: Vec<Value>,
    /// Provenance per row.
    pub locs: Vec<Loc>,
    /// Rows rejected after reading (dangling references); skipped by every check.
    pub dead: Vec<bool>,
    /// Rows inside the audit period (set by the assessment).
    pub in_period: Vec<bool>,
    /// Canonical fields that some source provides (mapped to a column or constant).
    pub provided: Vec<bool>,
    by_id: FxHashMap<Box<str>, u32>,
}

impl Table {
    /// An empty table projecting the given canonical fields.
    pub fn new(def: &'static TableDef, projected: &[usize]) -> Table {
        let mut slots = vec![None; def.fields.len()];
        let mut width = 0;
        for &i in projected {
            if let Some(s) = slots.get_mut(i)
                && s.is_none()
            {
                *s = Some(width as u16);
                width += 1;
            }
        }
        Table {
            def,
            slots,
            width,
            ids: Vec::new(),
            vals: Vec::new(),
            locs: Vec::new(),
            dead: Vec::new(),
            in_period: Vec::new(),
            provided: vec![false; def.fields.len()],
            by_id: FxHashMap::default(),
        }
    }

    /// Number of rows (including dead ones).
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// No rows?
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Value of a canonical field of a row (`Missing` when not projected).
    pub fn get(&self, row: u32, field: usize) -> &Value {
        match self.slots.get(field).copied().flatten() {
            Some(s) => self
                .vals
                .get(row as usize * self.width + s as usize)
                .unwrap_or(&MISSING),
            None => &MISSING,
        }
    }

    /// Row index of an id.
    pub fn row_of(&self, id: &str) -> Option<u32> {
        self.by_id.get(id).copied()
    }

    /// Id of a row.
    pub fn id(&self, row: u32) -> &str {
        self.ids.get(row as usize).map(|s| &**s).unwrap_or("")
    }

    /// Is the row usable (not rejected late)?
    pub fn live(&self, row: u32) -> bool {
        !self.dead.get(row as usize).copied().unwrap_or(true)
    }

    /// Add a row; `Err(line of the first)` when the id is taken.
    pub fn push(&mut self, id: Box<str>, vals: Vec<Value>, loc: Loc) -> Result<u32, Loc> {
        if let Some(&first) = self.by_id.get(&id) {
            return Err(self.locs.get(first as usize).cloned().unwrap_or(loc));
        }
        let row = self.ids.len() as u32;
        self.by_id.insert(id.clone(), row);
        self.ids.push(id);
        debug_assert_eq!(vals.len(), self.width);
        self.vals.extend(vals);
        self.locs.push(loc);
        self.dead.push(false);
        self.in_period.push(true);
        Ok(row)
    }

    /// Canonical field index by name.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.def.fields.iter().position(|f| f.name == name)
    }
}

/// A record that could not be used, with why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rejected {
    /// Canonical table it would have entered.
    pub table: String,
    /// Its id, when it could be read.
    pub record_id: Option<String>,
    /// File, line/pointer, reason.
    pub diagnostic: Diagnostic,
}

/// One input file, with its hash and counts.
#[derive(Debug, Clone, Serialize)]
pub struct Input {
    /// Path as named (relative to the working directory).
    pub path: String,
    /// SHA-256 of the bytes read.
    pub sha256: String,
    /// Canonical tables filled from it.
    pub tables: Vec<String>,
    /// Records read.
    pub rows_read: u64,
    /// Records evaluated (read - out of period - rejected).
    pub rows_evaluated: u64,
    /// Records outside the audit period.
    pub rows_out_of_period: u64,
    /// Records rejected with a diagnostic.
    pub rows_rejected: u64,
}

/// All evidence: tables, inputs, rejected records and diagnostics.
#[derive(Debug, Default)]
pub struct Evidence {
    /// Tables by name (only those the sources provide).
    pub tables: BTreeMap<&'static str, Table>,
    /// Input files in the order read.
    pub inputs: Vec<Input>,
    /// Records rejected.
    pub rejected: Vec<Rejected>,
    /// Errors and warnings.
    pub diags: Diags,
    /// Per input: which rows are rejected (by line/pointer key), to count each record once.
    pub(crate) primary: Vec<Option<&'static str>>,
}

impl Evidence {
    /// A table, if the sources provide it.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    /// Position of a record for messages: `file:line` or `file (at /pointer)`.
    pub fn position(&self, loc: &Loc) -> (String, Option<u64>, Option<String>) {
        let path = self
            .inputs
            .get(loc.file as usize)
            .map(|i| i.path.clone())
            .unwrap_or_default();
        let line = (loc.line > 0).then_some(loc.line);
        (path, line, loc.pointer.as_ref().map(|p| p.to_string()))
    }
}
