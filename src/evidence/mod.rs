//! Evidence stage: sources.yaml + exports -> typed canonical tables with provenance.
//!
//! Every record read is either kept (with its file and line) or rejected with a
//! diagnostic naming file, line, column and value; nothing is dropped silently. Only
//! the fields some check reads are materialised (the projection), so text no check
//! reads is never kept in memory.

pub mod csvscan;
pub(crate) mod idindex;
mod latest;
pub mod presets;
pub mod read;
pub mod rows;
pub mod select;
pub mod sources;
pub mod strict_json;
pub mod tables;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::diag::{Diagnostic, Diags};
use crate::time::Ts;
pub use tables::{FieldDef, Kind, TableDef};

/// One typed value, borrowed from its table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// Absent, empty, or a declared missing marker.
    Missing,
    /// Text (never empty: empty text is missing).
    Text(&'a str),
    /// Boolean.
    Bool(bool),
    /// Instant.
    Time(Ts),
    /// Whole number.
    Int(i64),
    /// List of texts.
    List(ListRef<'a>),
}

/// Separator of list items inside a text column.
const LIST_SEP: char = '\u{1f}';

/// A list value: items kept as one text with a unit separator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ListRef<'a>(&'a str);

impl<'a> ListRef<'a> {
    /// The items.
    pub fn iter(self) -> impl Iterator<Item = &'a str> {
        self.0.split(LIST_SEP).filter(|s| !s.is_empty())
    }
    /// No items?
    pub fn is_empty(self) -> bool {
        self.iter().next().is_none()
    }
}

impl<'a> Value<'a> {
    /// Missing, or text that is only whitespace, or an empty list.
    #[inline]
    pub fn is_blank(&self) -> bool {
        match self {
            Value::Missing => true,
            // (A first byte that is not one of those four: not blank, nothing to trim.)
            Value::Text(s) => match s.as_bytes().first() {
                Some(b' ' | b'\t' | b'\r' | b'\n') => {
                    s.trim_matches([' ', '\t', '\r', '\n']).is_empty()
                }
                Some(_) => false,
                None => true,
            },
            Value::List(l) => l.is_empty(),
            _ => false,
        }
    }

    /// The instant, if this is one.
    #[inline]
    pub fn time(&self) -> Option<Ts> {
        match self {
            Value::Time(t) => Some(*t),
            _ => None,
        }
    }

    /// The text, if this is text.
    #[inline]
    pub fn text(&self) -> Option<&'a str> {
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
            Value::List(l) => l.iter().collect::<Vec<_>>().join(";"),
        }
    }
}

/// A value as read, before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub enum Owned<'r> {
    /// Missing.
    Missing,
    /// Text.
    Text(std::borrow::Cow<'r, str>),
    /// Boolean.
    Bool(bool),
    /// Instant.
    Time(Ts),
    /// Whole number.
    Int(i64),
    /// List items.
    List(Vec<std::borrow::Cow<'r, str>>),
}

/// Where a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Loc {
    /// Index into `Evidence::inputs`.
    pub file: u32,
    /// 1-based line where the record starts (CSV, NDJSON), or the index of the record
    /// in its JSON array (the input's `records_pointer` then names the array).
    pub line: u32,
}

/// The location of every row: its line (as runs of consecutive lines, `rows::Lines`),
/// and the file of each run of rows from one file (a table is read from one file or a
/// few).
#[derive(Debug, Default)]
struct Locs {
    lines: rows::Lines,
    /// (first row, file) of each run, in row order.
    files: Vec<(u32, u32)>,
}

impl Locs {
    fn get(&self, i: usize) -> Option<Loc> {
        let line = self.lines.get(i)?;
        let run = self
            .files
            .partition_point(|&(first, _)| first as usize <= i);
        let file = self.files.get(run.checked_sub(1)?)?.1;
        Some(Loc { file, line })
    }
    #[inline]
    fn push(&mut self, loc: Loc) {
        if self.files.last().is_none_or(|&(_, f)| f != loc.file) {
            self.files.push((self.lines.len() as u32, loc.file));
        }
        self.lines.push(loc.line);
    }
    fn extend(&mut self, other: &Locs) {
        let base = self.lines.len() as u32;
        for &(first, file) in &other.files {
            if self.files.last().is_none_or(|&(_, f)| f != file) {
                self.files.push((base + first, file));
            }
        }
        self.lines.extend(&other.lines);
    }
    fn shrink_to_fit(&mut self) {
        self.lines.shrink_to_fit();
        self.files.shrink_to_fit();
    }
}

/// Sentinel for a missing instant or number in a column.
const NONE_I64: i64 = i64::MIN;

/// Texts stored end to end; value `i` is `buf[end(i-1)..end(i)]`, empty = missing.
/// While every value has the same length (ids and references mostly do: `INC-0000001`,
/// a UUID, a ServiceNow sys_id) no ends are kept: value `i` is at `i * width`. The
/// first value of another length writes the ends out. Ends are kept in 32 bits (half
/// the memory of a large table's text columns): the high bits are the number of
/// entries of `wraps` at or before `i`, each entry being a value whose end crossed a
/// multiple of 4 GiB (none below 4 GiB of text).
#[derive(Debug)]
struct Texts {
    buf: String,
    /// Every value is `width` bytes long, and `ends` is empty.
    fixed: bool,
    /// Values held while `fixed`.
    count: usize,
    /// Their length while `fixed`.
    width: usize,
    ends: Vec<u32>,
    wraps: Vec<u32>,
    /// Bits of an end kept in `ends` (32; fewer only in tests, to reach a wrap).
    bits: u32,
}

impl Default for Texts {
    fn default() -> Texts {
        Texts {
            buf: String::new(),
            fixed: true,
            count: 0,
            width: 0,
            ends: Vec::new(),
            wraps: Vec::new(),
            bits: 32,
        }
    }
}

impl Texts {
    #[inline]
    fn len(&self) -> usize {
        if self.fixed {
            self.count
        } else {
            self.ends.len()
        }
    }
    /// Byte offset where value `i` ends.
    #[inline]
    fn end(&self, i: usize) -> usize {
        if self.fixed {
            return (i + 1) * self.width;
        }
        let low = u64::from(self.ends.get(i).copied().unwrap_or(0));
        if self.wraps.is_empty() {
            return low as usize;
        }
        let high = self.wraps.partition_point(|&w| w as usize <= i) as u64;
        ((high << self.bits) | low) as usize
    }
    #[inline]
    fn get(&self, i: usize) -> &str {
        if self.fixed {
            if i >= self.count {
                return "";
            }
            let start = i * self.width;
            return self.buf.get(start..start + self.width).unwrap_or("");
        }
        let start = if i == 0 { 0 } else { self.end(i - 1) };
        let end = if i < self.ends.len() {
            self.end(i)
        } else {
            start
        };
        self.buf.get(start..end).unwrap_or("")
    }
    /// Room for the ends of `n` more values (none while they need none).
    fn reserve_ends(&mut self, n: usize) {
        if !self.fixed {
            self.ends.reserve(n);
        }
    }
    /// Record that the next value ends at byte `end` of `buf`.
    #[inline]
    fn push_end(&mut self, end: usize) {
        if self.fixed {
            let w = end - self.count * self.width;
            if self.count == 0 {
                self.width = w;
            }
            if w == self.width {
                self.count += 1;
                return;
            }
            self.write_ends();
        }
        self.push_stored_end(end);
    }
    /// Leave `fixed`: write out the ends of the values held.
    #[cold]
    fn write_ends(&mut self) {
        self.fixed = false;
        self.ends.reserve(self.count + self.count / 8 + 1);
        for i in 0..self.count {
            self.push_stored_end((i + 1) * self.width);
        }
        self.count = 0;
        self.width = 0;
    }
    fn push_stored_end(&mut self, end: usize) {
        let i = self.ends.len();
        // The high bits of the last end: the wraps so far (each is at or before it).
        let before_high = self.wraps.len() as u64;
        let end = end as u64;
        for _ in before_high..(end >> self.bits) {
            self.wraps.push(i as u32);
        }
        let mask = (1u64 << self.bits) - 1;
        self.ends.push((end & mask) as u32);
    }
    fn push(&mut self, s: &str) {
        self.buf.push_str(s);
        self.push_end(self.buf.len());
    }
    fn truncate(&mut self, n: usize) {
        if self.fixed {
            self.count = self.count.min(n);
            self.buf.truncate(self.count * self.width);
            return;
        }
        self.ends.truncate(n);
        self.wraps.retain(|&w| (w as usize) < n);
        let end = if n == 0 { 0 } else { self.end(n - 1) };
        self.buf.truncate(end);
    }
    /// Append all values of another text store.
    fn extend(&mut self, other: &Texts) {
        if self.fixed
            && other.fixed
            && (self.count == 0 || other.count == 0 || self.width == other.width)
        {
            self.buf.push_str(&other.buf);
            if self.count == 0 {
                self.width = other.width;
            }
            self.count += other.count;
            return;
        }
        let off = self.buf.len();
        self.buf.push_str(&other.buf);
        self.reserve_ends(other.len());
        for i in 0..other.len() {
            self.push_end(off + other.end(i));
        }
    }
    fn shrink(&mut self) {
        self.buf.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
}

/// A text column of few distinct values (statuses, owners, audiences): each row keeps
/// a 4-byte code of its value, each distinct value is stored once. Checked each time
/// its length reaches 1024 times a power of two: a column whose values are mostly
/// distinct is stored plainly instead (see `plain_is_smaller`).
#[derive(Debug, Default)]
struct Coded {
    codes: rows::Codes,
    values: Texts,
    index: hashbrown::HashTable<u32>,
}

fn text_hash(s: &str) -> u64 {
    spread(fx32(s))
}

impl Coded {
    fn code(&mut self, s: &str) -> u32 {
        let Coded { values, index, .. } = self;
        let h = text_hash(s);
        if let Some(&c) = index.find(h, |&c| same_text(values.get(c as usize), s)) {
            return c;
        }
        let c = values.len() as u32;
        values.push(s);
        index.insert_unique(h, c, |&c| text_hash(values.get(c as usize)));
        c
    }
    #[inline]
    fn push(&mut self, s: &str) {
        let c = self.code(s);
        self.codes.push(c);
    }
    #[inline]
    fn get(&self, i: usize) -> &str {
        self.codes
            .get(i)
            .map_or("", |c| self.values.get(c as usize))
    }
    fn len(&self) -> usize {
        self.codes.len()
    }
    /// Too many distinct values for codes to pay, seen at a checkpoint passed since
    /// `before`? Half the rows distinct up to 4096 rows (a column of a few hundred
    /// owners has shown most of them by 1024), a quarter after (a reference naming
    /// one parent per three rows is then stored plainly: looking each value up costs
    /// more than its codes save).
    fn plain_is_smaller(&self, before: usize) -> bool {
        let n = self.codes.len();
        let checkpoint = n >= 1024 && (before < 1024 || n.ilog2() != before.max(1).ilog2());
        let share = if n < 4096 { 2 } else { 4 };
        checkpoint && self.values.len() * share > n
    }
    fn to_texts(&self) -> Texts {
        let mut t = Texts::default();
        for i in 0..self.len() {
            t.push(self.get(i));
        }
        t
    }
    /// Append the values of another coded column, by their codes.
    fn extend(&mut self, other: &Coded) {
        let remap: Vec<u32> = (0..other.values.len())
            .map(|c| self.code(other.values.get(c)))
            .collect();
        self.codes.reserve(other.len());
        for i in 0..other.len() {
            let c = other.codes.get(i).unwrap_or(0);
            self.codes.push(remap.get(c as usize).copied().unwrap_or(0));
        }
    }
    fn shrink(&mut self) {
        self.codes.shrink_to_fit();
        self.values.shrink();
    }
}

/// One stored column.
#[derive(Debug)]
enum Column {
    Time(Vec<i64>),
    Bool(Vec<u8>),
    Int(Vec<i64>),
    Text(Texts),
    /// Text, coded while its values repeat (`Coded`).
    Coded(Coded),
    List(Texts),
}

impl Column {
    fn new(kind: Kind) -> Column {
        match kind {
            Kind::Time => Column::Time(Vec::new()),
            Kind::Bool => Column::Bool(Vec::new()),
            Kind::Int => Column::Int(Vec::new()),
            Kind::Text => Column::Coded(Coded::default()),
            Kind::List => Column::List(Texts::default()),
        }
    }

    fn len(&self) -> usize {
        match self {
            Column::Time(v) | Column::Int(v) => v.len(),
            Column::Bool(v) => v.len(),
            Column::Text(t) | Column::List(t) => t.len(),
            Column::Coded(c) => c.len(),
        }
    }

    /// Bytes of text it holds (values stored plainly; 0 for other columns).
    fn text_bytes(&self) -> usize {
        match self {
            Column::Text(t) | Column::List(t) => t.buf.len(),
            _ => 0,
        }
    }

    /// Room for `rows` more values and `bytes` more of plain text.
    fn reserve(&mut self, rows: usize, bytes: usize) {
        match self {
            Column::Time(v) | Column::Int(v) => v.reserve(rows),
            Column::Bool(v) => v.reserve(rows),
            Column::Text(t) | Column::List(t) => {
                t.buf.reserve(bytes);
                t.reserve_ends(rows);
            }
            Column::Coded(c) => c.codes.reserve(rows),
        }
    }

    /// Store a coded column plainly once its values turn out mostly distinct (checked
    /// when the length passes 1024 times a power of two since `before`).
    fn settle(&mut self, before: usize) {
        if let Column::Coded(c) = self
            && c.plain_is_smaller(before)
        {
            *self = Column::Text(c.to_texts());
        }
    }

    #[inline]
    fn get(&self, i: usize) -> Value<'_> {
        match self {
            Column::Time(v) => match v.get(i) {
                Some(&x) if x != NONE_I64 => Value::Time(Ts(x)),
                _ => Value::Missing,
            },
            Column::Int(v) => match v.get(i) {
                Some(&x) if x != NONE_I64 => Value::Int(x),
                _ => Value::Missing,
            },
            Column::Bool(v) => match v.get(i) {
                Some(0) => Value::Bool(false),
                Some(1) => Value::Bool(true),
                _ => Value::Missing,
            },
            Column::Text(t) => match t.get(i) {
                "" => Value::Missing,
                s => Value::Text(s),
            },
            Column::Coded(c) => match c.get(i) {
                "" => Value::Missing,
                s => Value::Text(s),
            },
            Column::List(t) => match t.get(i) {
                "" => Value::Missing,
                s => Value::List(ListRef(s)),
            },
        }
    }

    /// Append a value; a value of another type is stored as missing (the reader types
    /// values by the column's kind, so this does not happen).
    fn push(&mut self, v: &Owned<'_>) {
        match (&mut *self, v) {
            (Column::Time(c), Owned::Time(t)) => c.push(t.0),
            (Column::Time(c), _) => c.push(NONE_I64),
            (Column::Int(c), Owned::Int(x)) => c.push(*x),
            (Column::Int(c), _) => c.push(NONE_I64),
            (Column::Bool(c), Owned::Bool(b)) => c.push(u8::from(*b)),
            (Column::Bool(c), _) => c.push(2),
            (Column::Text(c), Owned::Text(s)) => c.push(s),
            (Column::Text(c), _) => c.push(""),
            (Column::Coded(c), v) => {
                let before = c.len();
                c.push(match v {
                    Owned::Text(s) => s,
                    _ => "",
                });
                self.settle(before);
            }
            (Column::List(c), Owned::List(items)) => {
                // The items joined by the separator (one inside an item becomes a space),
                // written straight into the column's text.
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        c.buf.push(LIST_SEP);
                    }
                    if it.contains(LIST_SEP) {
                        c.buf.push_str(&it.replace(LIST_SEP, " "));
                    } else {
                        c.buf.push_str(it);
                    }
                }
                c.push_end(c.buf.len());
            }
            (Column::List(c), _) => c.push(""),
        }
    }

    fn truncate(&mut self, n: usize) {
        match self {
            Column::Time(v) | Column::Int(v) => v.truncate(n),
            Column::Bool(v) => v.truncate(n),
            Column::Text(t) | Column::List(t) => t.truncate(n),
            Column::Coded(c) => c.codes.truncate(n),
        }
    }

    /// An empty column of the same kind.
    fn empty_like(&self) -> Column {
        match self {
            Column::Time(_) => Column::Time(Vec::new()),
            Column::Int(_) => Column::Int(Vec::new()),
            Column::Bool(_) => Column::Bool(Vec::new()),
            Column::Text(_) | Column::Coded(_) => Column::Coded(Coded::default()),
            Column::List(_) => Column::List(Texts::default()),
        }
    }

    /// Append every value of a column of the same kind.
    fn extend(&mut self, other: &Column) {
        let before = self.len();
        // Text stored plainly on either side: plainly.
        if let (Column::Coded(a), Column::Text(_)) = (&*self, other) {
            *self = Column::Text(a.to_texts());
        }
        match (&mut *self, other) {
            (Column::Time(a), Column::Time(b)) | (Column::Int(a), Column::Int(b)) => {
                a.extend_from_slice(b)
            }
            (Column::Bool(a), Column::Bool(b)) => a.extend_from_slice(b),
            (Column::Text(a), Column::Text(b)) | (Column::List(a), Column::List(b)) => a.extend(b),
            (Column::Coded(a), Column::Coded(b)) => a.extend(b),
            (Column::Text(a), Column::Coded(b)) => {
                for i in 0..b.len() {
                    a.push(b.get(i));
                }
            }
            _ => {}
        }
        self.settle(before);
    }

    /// Append value `i` of a column of the same kind.
    fn push_from(&mut self, other: &Column, i: usize) {
        let before = self.len();
        match (&mut *self, other) {
            (Column::Time(a), Column::Time(b)) | (Column::Int(a), Column::Int(b)) => {
                a.push(b.get(i).copied().unwrap_or(NONE_I64))
            }
            (Column::Bool(a), Column::Bool(b)) => a.push(b.get(i).copied().unwrap_or(2)),
            (Column::Text(a), Column::Text(b)) | (Column::List(a), Column::List(b)) => {
                a.push(b.get(i))
            }
            (Column::Text(a), Column::Coded(b)) => a.push(b.get(i)),
            (Column::Coded(a), Column::Text(b)) => a.push(b.get(i)),
            (Column::Coded(a), Column::Coded(b)) => a.push(b.get(i)),
            _ => {}
        }
        self.settle(before);
    }
}

/// 32 bits of an id's hash.
pub(crate) fn fx32(s: &str) -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = rustc_hash::FxBuildHasher.build_hasher();
    h.write(s.as_bytes());
    let x = h.finish();
    (x ^ (x >> 32)) as u32
}

/// `a == b` for the short texts that lookups compare (ids, coded values): up to 32
/// bytes as two overlapping words in registers, where `==` calls the C library's
/// `memcmp` (4% of a run's CPU at 1M incidents, mostly from coding a column's values).
#[inline(always)]
pub(crate) fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0..=3 => a.iter().zip(b).all(|(x, y)| x == y),
        4..=7 => ends::<4>(a, n) == ends::<4>(b, n),
        8..=16 => ends::<8>(a, n) == ends::<8>(b, n),
        17..=32 => ends::<16>(a, n) == ends::<16>(b, n),
        _ => a == b,
    }
}

/// The first and the last `K` bytes of `s` (`n` long), overlapping when `n < 2K`:
/// together they cover every byte. `None` when `n < K` (the callers never ask).
#[inline(always)]
fn ends<const K: usize>(s: &[u8], n: usize) -> Option<([u8; K], [u8; K])> {
    let first = s.first_chunk::<K>()?;
    let last = s.get(n.checked_sub(K)?..)?.first_chunk::<K>()?;
    Some((*first, *last))
}

/// The table hash of a stored 32-bit hash (spread over 64 bits: the table uses the
/// top bits as tags and the low bits as buckets).
fn spread(h: u32) -> u64 {
    u64::from(h).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The rows whose ids a table keeps after `Table::blank_ids_except`: a bit a row,
/// and the number of bits set before each word of 64. Row `r`'s id is then the
/// `rank(r)`-th id kept, and the other rows' ids are empty, without the 4-byte end a
/// text store keeps for each value, empty or not (15 MB of the findings' 3.7 million
/// rows at 5M incidents, where about one id in thirteen is kept).
/// (Also `rules::Prejudged`'s rows that fail a requirement.)
#[derive(Debug, Default)]
pub(crate) struct Kept {
    rows: usize,
    words: Vec<u64>,
    ranks: Vec<u32>,
}

impl Kept {
    /// The rows of which `keep` holds, of `rows` rows.
    fn new(rows: usize, mut keep: impl FnMut(usize) -> bool) -> Kept {
        let mut words = vec![0u64; rows.div_ceil(64)];
        for (w, word) in words.iter_mut().enumerate() {
            for b in 0..64 {
                let r = w * 64 + b;
                if r < rows && keep(r) {
                    *word |= 1 << b;
                }
            }
        }
        Kept::ranked(rows, words)
    }

    /// The rows `sorted` names (ascending), of `rows` rows; a row past the end is
    /// ignored.
    pub(crate) fn from_sorted(rows: usize, sorted: &[u32]) -> Kept {
        let mut words = vec![0u64; rows.div_ceil(64)];
        for &r in sorted.iter().filter(|&&r| (r as usize) < rows) {
            if let Some(w) = words.get_mut(r as usize / 64) {
                *w |= 1 << (r % 64);
            }
        }
        Kept::ranked(rows, words)
    }

    /// With the number of bits set before each word.
    fn ranked(rows: usize, words: Vec<u64>) -> Kept {
        let mut count = 0u32;
        let ranks = words
            .iter()
            .map(|w| {
                let before = count;
                count += w.count_ones();
                before
            })
            .collect();
        Kept { rows, words, ranks }
    }

    /// The kept rows, in order.
    pub(crate) fn rows(&self) -> impl Iterator<Item = u32> + '_ {
        self.words.iter().enumerate().flat_map(|(w, &word)| {
            let mut bits = word;
            std::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let b = bits.trailing_zeros();
                bits &= bits - 1;
                Some((w * 64) as u32 + b)
            })
        })
    }

    /// Which of the kept rows is row `r` (`None`: it is not kept): for ids, which
    /// of the kept ids is row `r`'s (`None`: its id is empty).
    #[inline]
    pub(crate) fn rank(&self, r: usize) -> Option<usize> {
        let w = *self.words.get(r / 64)?;
        let bit = 1u64 << (r % 64);
        if w & bit == 0 {
            return None;
        }
        Some(*self.ranks.get(r / 64)? as usize + (w & (bit - 1)).count_ones() as usize)
    }
}

/// Where `Table::row_of_near` (or `RelIndex::each_child_near`) looks first: after
/// the row it found last.
#[derive(Debug, Clone, Copy, Default)]
pub struct Near {
    pub(crate) next: u32,
    /// Look-ups answered without the index (for callers that decide whether reading
    /// the index ahead pays).
    pub hits: u32,
}

/// One canonical table: the projected fields of its records, column by column.
#[derive(Debug)]
pub struct Table {
    /// Which table.
    pub def: &'static TableDef,
    /// Canonical field index -> column, for projected fields.
    pub slots: Vec<Option<u16>>,
    /// Number of columns.
    pub width: usize,
    columns: Vec<Column>,
    ids: Texts,
    /// After `blank_ids_except`: the rows whose ids `ids` holds (the others' are empty).
    kept: Option<Kept>,
    /// Row of each id (`idindex`: about 5.7 bytes an id; the hash is computed again from
    /// the id when the table grows, which `reserve_ids` makes rare). Empty while the
    /// ids are `sorted`.
    by_id: idindex::IdIndex,
    /// Have the ids come in increasing (bytewise) order so far, as exports numbered
    /// in sequence mostly do? Then no id can be a duplicate (it would break the
    /// order), a look-up searches the ids by halves, and the index is not built: it
    /// is built from the rows held when the first id out of order comes (`index_ids`).
    sorted: bool,
    locs: Locs,
    /// Rows rejected after reading (dangling references); skipped by every check.
    pub dead: rows::Flags,
    /// Rows inside the audit period (set by the assessment).
    pub in_period: rows::Flags,
    /// Canonical fields that some source provides (mapped to a column or constant).
    pub provided: Vec<bool>,
    /// For reference fields: the parent row each row names (`u32::MAX`: none), resolved
    /// once when references are checked.
    pub parents: BTreeMap<usize, Vec<u32>>,
    /// Are ids indexed as rows are committed? Parts read in parallel are not: their
    /// ids are indexed (and duplicates found) when they are appended in file order.
    index: bool,
    /// Does an id name another row than one holding it? (`commit_latest` keeps the
    /// superseded row, with the same id, dead.) Until then every row holding an id is
    /// the row the index gives for it, which `row_of_near` relies on.
    aliased: bool,
    /// A streamed table (`crate::stream`): its rows were evaluated part by part as
    /// they were read, and only their ids and locations are kept (appending a part
    /// keeps no values).
    pub streamed: bool,
}

/// The size and storage of a part's table (`Table::shape`).
#[derive(Debug, Default)]
pub(crate) struct Shape {
    plain: Vec<bool>,
    /// Bytes per code of each coded column (0 for the others).
    code_width: Vec<u8>,
    rows: usize,
    id_bytes: usize,
    text_bytes: Vec<usize>,
}

impl Table {
    /// An empty table projecting the given canonical fields.
    pub fn new(def: &'static TableDef, projected: &[usize]) -> Table {
        let mut slots = vec![None; def.fields.len()];
        let mut columns = Vec::new();
        for &i in projected {
            if let Some(s) = slots.get_mut(i)
                && s.is_none()
                && let Some(fd) = def.fields.get(i)
            {
                *s = Some(columns.len() as u16);
                columns.push(Column::new(fd.kind));
            }
        }
        Table {
            def,
            slots,
            width: columns.len(),
            columns,
            ids: Texts::default(),
            kept: None,
            by_id: idindex::IdIndex::default(),
            locs: Locs::default(),
            dead: rows::Flags::default(),
            in_period: rows::Flags::default(),
            provided: vec![false; def.fields.len()],
            parents: BTreeMap::new(),
            index: true,
            aliased: false,
            sorted: true,
            streamed: false,
        }
    }

    /// An empty table with the same fields, for one part of a file read in parallel;
    /// it does not index its ids (see `append`).
    pub(crate) fn part(&self) -> Table {
        Table {
            def: self.def,
            slots: self.slots.clone(),
            width: self.width,
            columns: self.columns.iter().map(Column::empty_like).collect(),
            ids: Texts::default(),
            kept: None,
            by_id: idindex::IdIndex::default(),
            locs: Locs::default(),
            dead: rows::Flags::default(),
            in_period: rows::Flags::default(),
            provided: self.provided.clone(),
            parents: BTreeMap::new(),
            index: false,
            aliased: false,
            sorted: false,
            streamed: false,
        }
    }

    /// What this part held, for the next part a worker reads from the same file
    /// (`start_like`).
    pub(crate) fn shape(&self) -> Shape {
        Shape {
            plain: self
                .columns
                .iter()
                .map(|c| matches!(c, Column::Text(_)))
                .collect(),
            code_width: self
                .columns
                .iter()
                .map(|c| match c {
                    Column::Coded(c) => c.codes.width(),
                    _ => 0,
                })
                .collect(),
            rows: self.len(),
            id_bytes: self.ids.buf.len(),
            text_bytes: self.columns.iter().map(Column::text_bytes).collect(),
        }
    }

    /// Start an empty part like the last one (`shape`): the columns it stored plainly
    /// are plain from the start (coding their first rows would be wasted), and there
    /// is room for as many rows and bytes and an eighth more, so that the part rarely
    /// grows (growing copies). Only the storage changes, never a value.
    pub(crate) fn start_like(&mut self, shape: &Shape) {
        if !self.is_empty() {
            return;
        }
        let rows = shape.rows + shape.rows / 8;
        let more = |b: usize| b + b / 8;
        for (i, c) in self.columns.iter_mut().enumerate() {
            if shape.plain.get(i).copied().unwrap_or(false) && matches!(c, Column::Coded(_)) {
                *c = Column::Text(Texts::default());
            }
            // Codes as wide as the last part's needed: not widened again row by row.
            if let Column::Coded(cc) = c
                && let Some(&w) = shape.code_width.get(i)
                && w > cc.codes.width()
            {
                cc.codes = rows::Codes::with_width(w);
            }
            c.reserve(rows, more(shape.text_bytes.get(i).copied().unwrap_or(0)));
        }
        self.ids.buf.reserve(more(shape.id_bytes));
        self.ids.reserve_ends(rows);
        self.locs.lines.reserve(rows);
        self.dead.reserve(rows);
        self.in_period.reserve(rows);
    }

    /// Append the rows of a part (read from the next stretch of the same file), indexing
    /// their ids. A row whose id is already used is left out; returned, in order, as
    /// (row in the part, location of the first use), for the caller to reject.
    pub(crate) fn append(&mut self, part: &Table) -> Vec<(u32, Loc)> {
        self.unblank();
        if self.index && self.sorted {
            let mut last = self.len().checked_sub(1).map(|r| self.ids.get(r));
            let in_order = (0..part.len()).all(|r| {
                let id = part.ids.get(r);
                let after = last.is_none_or(|l| l < id);
                last = Some(id);
                after
            });
            if in_order {
                self.extend(part);
                return Vec::new();
            }
            self.index_ids();
        }
        let base = self.len() as u32;
        let mut dups = Vec::new();
        let mut accepted: Vec<u32> = Vec::with_capacity(part.len());
        {
            let ids = &self.ids;
            self.by_id
                .reserve(part.len(), |r| fx32(ids.get(r as usize)));
        }
        let hashes: Vec<u32> = (0..part.len()).map(|r| fx32(part.ids.get(r))).collect();
        self.by_id.warm(hashes.iter().copied());
        {
            let Table {
                ids, by_id, locs, ..
            } = self;
            for (prow, &h) in (0..part.len() as u32).zip(&hashes) {
                let id = part.ids.get(prow as usize);
                let row = base + accepted.len() as u32;
                // The id of a row of the table, or of a row of this part accepted
                // before this one.
                let id_of = |r: u32| -> &str {
                    if r < base {
                        ids.get(r as usize)
                    } else {
                        accepted
                            .get((r - base) as usize)
                            .map_or("", |&p| part.ids.get(p as usize))
                    }
                };
                match by_id.insert_or_get(h, row, |r| id_of(r) == id, |r| fx32(id_of(r))) {
                    Err(first) => {
                        let first_loc = if first < base {
                            locs.get(first as usize)
                        } else {
                            accepted
                                .get((first - base) as usize)
                                .and_then(|&p| part.locs.get(p as usize))
                        };
                        let here = part.locs.get(prow as usize);
                        if let Some(l) = first_loc.or(here) {
                            dups.push((prow, l));
                        }
                    }
                    Ok(()) => accepted.push(prow),
                }
            }
        }
        if dups.is_empty() {
            self.extend(part);
        } else {
            for &p in &accepted {
                let i = p as usize;
                if !self.streamed {
                    for (c, pc) in self.columns.iter_mut().zip(&part.columns) {
                        c.push_from(pc, i);
                    }
                }
                // Rows of a part are never dead: only references checked later kill rows.
                let loc = part.locs.get(i).unwrap_or(Loc { file: 0, line: 0 });
                self.push_row(part.ids.get(i), loc);
            }
        }
        dups
    }

    /// Every row of `part` after those held (the caller has checked their ids).
    fn extend(&mut self, part: &Table) {
        if !self.streamed {
            for (c, p) in self.columns.iter_mut().zip(&part.columns) {
                c.extend(p);
            }
        }
        self.ids.extend(&part.ids);
        self.locs.extend(&part.locs);
        self.dead.extend(&part.dead);
        self.in_period.extend(&part.in_period);
    }

    /// Build the id index from the rows held (their ids were in order, so none
    /// twice), for an id out of order: from now on ids are looked up and checked
    /// through it.
    #[cold]
    pub(crate) fn index_ids(&mut self) {
        if !self.sorted {
            return;
        }
        self.sorted = false;
        let ids = &self.ids;
        let rehash = |r: u32| fx32(ids.get(r as usize));
        self.by_id.reserve(ids.len(), rehash);
        for r in 0..ids.len() as u32 {
            self.by_id.push(rehash(r), r, rehash);
        }
    }

    /// Some rows of this table with only some of its fields (and their ids and
    /// locations), in the order given: row `i` of the result is `rows[i]` here. It
    /// indexes no ids.
    pub(crate) fn subset(&self, fields: &[usize], rows: &[u32]) -> Table {
        let mut t = Table::new(self.def, fields);
        t.index = false;
        t.provided = self.provided.clone();
        let pairs: Vec<(usize, usize)> = fields
            .iter()
            .filter_map(|&f| {
                let from = self.slots.get(f).copied().flatten()?;
                let to = t.slots.get(f).copied().flatten()?;
                Some((usize::from(from), usize::from(to)))
            })
            .collect();
        for &r in rows {
            for &(from, to) in &pairs {
                if let (Some(src), Some(dst)) = (self.columns.get(from), t.columns.get_mut(to)) {
                    dst.push_from(src, r as usize);
                }
            }
            let loc = self.loc(r).unwrap_or(Loc { file: 0, line: 0 });
            t.push_row(self.id(r), loc);
        }
        t
    }

    /// Number of rows (including dead ones).
    pub fn len(&self) -> usize {
        match &self.kept {
            Some(k) => k.rows,
            None => self.ids.len(),
        }
    }

    /// No rows?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value of a canonical field of a row (`Missing` when not projected).
    #[inline]
    pub fn get(&self, row: u32, field: usize) -> Value<'_> {
        if field == 0 && self.slots.first().copied().flatten().is_none() {
            return match self.id(row) {
                "" => Value::Missing,
                s => Value::Text(s),
            };
        }
        match self.slots.get(field).copied().flatten() {
            Some(s) => self
                .columns
                .get(s as usize)
                .map(|c| c.get(row as usize))
                .unwrap_or(Value::Missing),
            None => Value::Missing,
        }
    }

    /// Row index of an id. After `drop_id_index` this is a search through the ids.
    pub fn row_of(&self, id: &str) -> Option<u32> {
        let ids = &self.ids;
        if !self.index {
            return (0..self.len() as u32).find(|&r| self.id(r) == id);
        }
        if self.sorted {
            return self.search_sorted(id, 0, ids.len());
        }
        self.by_id
            .find(fx32(id), |r| same_text(ids.get(r as usize), id))
    }

    /// The row of `id` among rows `lo..hi` of sorted ids, by halves.
    fn search_sorted(&self, id: &str, mut lo: usize, mut hi: usize) -> Option<u32> {
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.ids.get(mid).cmp(id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid as u32),
            }
        }
        None
    }

    /// `row_of` for ids that mostly come in the order of the table's rows (an export
    /// of postmortems in the order of their incidents, findings in the order of their
    /// postmortems): the row `near` found last, then the one after it, are tried
    /// first, compares of text that is in the cache, then sorted ids further on from
    /// there (steps that double), before the index (a hash and a probe that mostly
    /// misses the cache) or the search of all sorted ids. The same answer as `row_of`
    /// whatever the order.
    #[inline]
    pub fn row_of_near(&self, id: &str, near: &mut Near) -> Option<u32> {
        let next = near.next;
        if self.index && !self.aliased {
            // The row found last again (the next finding of the same postmortem),
            // or the row after it.
            for r in [next.wrapping_sub(1), next] {
                if (r as usize) < self.ids.len() && same_text(self.ids.get(r as usize), id) {
                    near.next = r + 1;
                    near.hits += 1;
                    return Some(r);
                }
            }
            // Sorted ids a little further on (a postmortem without findings skipped):
            // steps that double from the row after the last, then halves between.
            let n = self.ids.len();
            let mut lo = next as usize;
            if self.sorted && lo < n && self.ids.get(lo) < id {
                let mut step = 1;
                let mut hi = lo + 1;
                while hi < n && self.ids.get(hi) < id {
                    lo = hi;
                    step *= 2;
                    hi = lo + step;
                }
                let r = self.search_sorted(id, lo + 1, hi.min(n - 1) + 1);
                if let Some(r) = r {
                    near.next = r + 1;
                    near.hits += 1;
                }
                return r;
            }
        }
        let r = self.row_of(id);
        if let Some(r) = r {
            near.next = r + 1;
        }
        r
    }

    /// Read the groups of the id index that looking up the references of field `fi`
    /// of rows `rows` of `from` will probe, so that the look-ups find them in the
    /// cache (`IdIndex::warm`).
    pub(crate) fn warm_refs(&self, from: &Table, fi: usize, rows: std::ops::Range<u32>) {
        if self.index && !self.sorted {
            let refs = rows.filter_map(|r| from.get(r, fi).text().map(|v| fx32(v.trim())));
            self.by_id.warm(refs);
        }
    }

    /// Make room for `n` more rows' ids (`bytes` of text), lines and flags, and in the
    /// id index (a large file's row count, estimated from its first block), so that
    /// they rarely grow: growing copies them (doubling their room) and hashes every id
    /// again.
    pub(crate) fn reserve_ids(&mut self, n: usize, bytes: usize) {
        self.unblank();
        self.ids.buf.reserve(bytes);
        self.ids.reserve_ends(n);
        self.locs.lines.reserve(n);
        self.dead.reserve(n);
        self.in_period.reserve(n);
        if self.index && !self.sorted {
            let ids = &self.ids;
            self.by_id.reserve(n, |r| fx32(ids.get(r as usize)));
        }
    }

    /// Free the column of a field that nothing will read again (a reference kept only
    /// to check it); the field then reads as missing.
    pub fn drop_field(&mut self, field: usize) {
        self.drop_values(field);
        self.parents.remove(&field);
    }

    /// Free the column of a field, keeping what its reference resolved to
    /// (`parents`): for a reference that is only followed, once resolved. The field
    /// then reads as missing.
    pub fn drop_values(&mut self, field: usize) {
        if let Some(slot) = self.slots.get_mut(field).and_then(Option::take)
            && let Some(c) = self.columns.get_mut(slot as usize)
        {
            *c = c.empty_like();
        }
    }

    /// Blank the ids of the rows that `keep` (sorted) does not name, for a table
    /// whose other ids nothing reads again (`crate::stream` does this for a table
    /// whose records only a requirement judged beforehand reports, and then only
    /// those that fail it). A dead row keeps its id: its rejection names it when the
    /// reading ends. Nothing is blanked while the id index is held, as a look-up
    /// compares ids. The number of rows does not change.
    pub(crate) fn blank_ids_except(&mut self, keep: &[u32]) {
        if self.index {
            return;
        }
        // `keep` is sorted: walked alongside the rows.
        let mut walk = keep.iter().peekable();
        let kept = Kept::new(self.len(), |r| {
            while walk.next_if(|&&k| (k as usize) < r).is_some() {}
            walk.next_if(|&&k| k as usize == r).is_some() || !self.live(r as u32)
        });
        let mut ids =
            self.ids_of((0..self.len() as u32).filter(|&r| kept.rank(r as usize).is_some()));
        ids.shrink();
        self.ids = ids;
        self.kept = Some(kept);
    }

    /// Give every row its own id again (empty for those blanked), before rows are
    /// added to a table whose ids were blanked (`blank_ids_except`; no check run
    /// does that).
    #[inline]
    fn unblank(&mut self) {
        if self.kept.is_some() {
            self.unblank_all();
        }
    }

    #[cold]
    fn unblank_all(&mut self) {
        self.ids = self.ids_of(0..self.len() as u32);
        self.kept = None;
    }

    /// The ids of `rows`, end to end, in a new store.
    fn ids_of(&self, rows: impl Iterator<Item = u32>) -> Texts {
        let mut ids = Texts {
            bits: self.ids.bits,
            ..Texts::default()
        };
        for r in rows {
            ids.push(self.id(r));
        }
        ids
    }

    /// Free the id index (5 to 10 bytes a row) once reading is done and references
    /// are resolved: a check run looks nothing up by id after that, unless it writes
    /// the POA&M (`report::oscal::remediations`).
    pub fn drop_id_index(&mut self) {
        self.by_id = idindex::IdIndex::default();
        self.index = false;
    }

    /// Bytes of id text held.
    pub(crate) fn id_bytes(&self) -> usize {
        self.ids.buf.len()
    }

    /// Id of a row.
    #[inline]
    pub fn id(&self, row: u32) -> &str {
        match &self.kept {
            Some(k) => k.rank(row as usize).map_or("", |i| self.ids.get(i)),
            None => self.ids.get(row as usize),
        }
    }

    /// Where a row came from.
    pub fn loc(&self, row: u32) -> Option<Loc> {
        self.locs.get(row as usize)
    }

    /// Is the row usable (not rejected late)?
    pub fn live(&self, row: u32) -> bool {
        !self.dead.get(row as usize).unwrap_or(true)
    }

    /// Append the value of column `slot` for the row being built.
    pub fn push_value(&mut self, slot: usize, v: &Owned<'_>) {
        if let Some(c) = self.columns.get_mut(slot) {
            c.push(v);
        }
    }

    /// Finish the row being built (its values appended with `push_value`, one per
    /// column). `Err(location of the first)` when the id is already used: the caller
    /// then undoes the values with `rollback`.
    pub fn commit(&mut self, id: &str, loc: Loc) -> Result<u32, Loc> {
        self.unblank();
        let row = self.len() as u32;
        if self.index && self.sorted {
            if row == 0 || self.ids.get(row as usize - 1) < id {
                self.push_row(id, loc);
                return Ok(row);
            }
            self.index_ids();
        }
        let Table {
            ids,
            by_id,
            locs,
            index,
            ..
        } = self;
        if *index
            && let Err(first) = by_id.insert_or_get(
                fx32(id),
                row,
                |r| ids.get(r as usize) == id,
                |r| fx32(ids.get(r as usize)),
            )
        {
            return Err(locs.get(first as usize).unwrap_or(loc));
        }
        self.push_row(id, loc);
        Ok(row)
    }

    /// Store the row being built under `id` (a column that got no value gets a missing
    /// one), without indexing it; its row number.
    pub(crate) fn push_row(&mut self, id: &str, loc: Loc) -> u32 {
        self.unblank();
        let row = self.len() as u32;
        if !self.streamed {
            for c in self.columns.iter_mut() {
                if c.len() < row as usize + 1 {
                    c.push(&Owned::Missing);
                }
            }
        }
        self.ids.push(id);
        self.locs.push(loc);
        self.dead.push(false);
        self.in_period.push(true);
        row
    }

    /// Undo the values appended for a row that is not committed.
    pub fn rollback(&mut self) {
        let n = self.len();
        for c in self.columns.iter_mut() {
            c.truncate(n);
        }
    }

    /// Give back the spare capacity of growing columns once reading is done.
    pub fn shrink(&mut self) {
        for c in self.columns.iter_mut() {
            match c {
                Column::Time(v) | Column::Int(v) => v.shrink_to_fit(),
                Column::Bool(v) => v.shrink_to_fit(),
                Column::Text(t) | Column::List(t) => t.shrink(),
                Column::Coded(c) => c.shrink(),
            }
        }
        self.ids.shrink();
        self.locs.shrink_to_fit();
        self.dead.shrink_to_fit();
        self.in_period.shrink_to_fit();
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
    pub table: &'static str,
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
    /// Rows replaced by a later row of the same id (`latest_by`): neither evaluated
    /// nor rejected.
    #[serde(skip_serializing_if = "is_zero")]
    pub rows_superseded: u64,
    /// For JSON arrays: the pointer of the array (record `i` is `<pointer>/<i>`).
    #[serde(skip)]
    pub records_pointer: Option<String>,
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
    /// Per input: the keys (line, or JSON index) of its rejected records.
    pub(crate) rejected_keys: Vec<std::collections::HashSet<u32>>,
    /// Per table read with `latest_by`: the key of each row (by row index).
    pub(crate) latest_keys: BTreeMap<&'static str, Vec<i64>>,
    /// Per input: rows of a streamed table found outside the period as they were
    /// judged (`crate::stream`); `assess::apply_period` counts them with the others.
    pub streamed_out_of_period: Vec<u64>,
    /// For a part handed to a stream's judge: the bytes of the file it was read from
    /// (0 when not known), for the judge to tell how far the reading is.
    pub(crate) bytes_read: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Evidence {
    /// A table, if the sources provide it.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    /// Position of a record for messages: (file, line, JSON pointer).
    pub fn position(&self, loc: &Loc) -> (String, Option<u64>, Option<String>) {
        let Some(input) = self.inputs.get(loc.file as usize) else {
            return (String::new(), None, None);
        };
        match &input.records_pointer {
            Some(p) => (input.path.clone(), None, Some(format!("{p}/{}", loc.line))),
            None => (
                input.path.clone(),
                (loc.line > 0).then_some(u64::from(loc.line)),
                None,
            ),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{Loc, Table, Texts};

    /// `same_text` is `==`: every byte of every length up to past its word-wise
    /// lengths counts (a byte left out by the overlapping words would pass here).
    #[test]
    fn same_text_compares_every_byte() {
        use super::same_text;
        for n in 0..=40 {
            let a: String = (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
            assert!(same_text(&a, &a.clone()), "{n}");
            for i in 0..n {
                let mut b = a.clone().into_bytes();
                b[i] = b'#';
                let b = String::from_utf8(b).unwrap();
                assert!(!same_text(&a, &b), "{n} {i}");
                assert!(!same_text(&b, &a), "{n} {i}");
            }
            let longer = format!("{a}a");
            assert!(!same_text(&a, &longer) && !same_text(&longer, &a), "{n}");
        }
    }

    /// Blank: missing, empty, or only spaces, tabs and line ends (other white space,
    /// such as a no-break space, is text).
    #[test]
    fn blank_values() {
        use super::Value;
        for s in ["", " ", "\t", " \r\n ", "\n"] {
            assert!(Value::Text(s).is_blank(), "{s:?}");
        }
        for s in ["x", " x", "x ", "\u{a0}", " \u{a0} ", "\t-\n"] {
            assert!(!Value::Text(s).is_blank(), "{s:?}");
        }
        assert!(Value::Missing.is_blank());
        assert!(!Value::Bool(false).is_blank());
    }

    #[test]
    fn a_dropped_field_reads_as_missing_and_the_others_stay() {
        use super::{Owned, Value};
        let def = crate::evidence::tables::table("postmortems").unwrap();
        let inc = def
            .fields
            .iter()
            .position(|f| f.name == "incident_id")
            .unwrap();
        let status = def.fields.iter().position(|f| f.name == "status").unwrap();
        let mut t = Table::new(def, &[inc, status]);
        for (slot, v) in [(inc, "INC-1"), (status, "complete")] {
            let s = t.slots[slot].unwrap() as usize;
            t.push_value(s, &Owned::Text(v.into()));
        }
        t.commit("PM-1", Loc { file: 0, line: 2 }).unwrap();
        t.parents.insert(inc, vec![0]);
        assert_eq!(t.get(0, inc), Value::Text("INC-1"));
        t.drop_field(inc);
        assert_eq!(t.get(0, inc), Value::Missing);
        assert!(t.parents.is_empty());
        assert_eq!(t.get(0, status), Value::Text("complete"));
        assert_eq!(t.id(0), "PM-1");
    }

    /// Only the ids named, and those of dead rows, stay; the rows stay as many; nothing
    /// is blanked while the id index is held.
    #[test]
    fn ids_are_blanked_but_those_kept_and_the_dead_ones() {
        let def = crate::evidence::tables::table("findings").unwrap();
        let mut t = Table::new(def, &[]);
        let ids = ["FND-1", "FND-22", "FND-3", "FND-4", "FND-555"];
        for (i, id) in ids.iter().enumerate() {
            let loc = Loc {
                file: 0,
                line: i as u32 + 2,
            };
            assert_eq!(t.commit(id, loc), Ok(i as u32));
        }
        t.blank_ids_except(&[]);
        assert_eq!(t.id(4), "FND-555", "the index is held: nothing blanked");
        t.drop_id_index();
        t.dead.set(3, true);
        t.blank_ids_except(&[1, 4]);
        assert_eq!(t.len(), 5);
        let now: Vec<&str> = (0..5).map(|r| t.id(r)).collect();
        assert_eq!(now, ["", "FND-22", "", "FND-4", "FND-555"]);
        assert_eq!(t.loc(2).map(|l| l.line), Some(4));
    }

    /// Blanked ids take no room a row: across words of 64 rows, the kept ones are
    /// found by rank, looked up by id, blanked again, and a row added afterwards
    /// gives every row its own id back.
    #[test]
    fn blanked_ids_are_kept_by_rank_across_words() {
        let def = crate::evidence::tables::table("findings").unwrap();
        let mut t = Table::new(def, &[]);
        for i in 0..300u32 {
            t.commit(
                &format!("FND-{i:05}"),
                Loc {
                    file: 0,
                    line: i + 2,
                },
            )
            .unwrap();
        }
        t.drop_id_index();
        t.dead.set(64, true);
        let keep: Vec<u32> = (0..300).filter(|r| r % 7 == 0 || *r == 299).collect();
        t.blank_ids_except(&keep);
        let want = |r: u32| keep.contains(&r) || r == 64;
        assert_eq!(t.len(), 300);
        for r in 0..300 {
            let id = if want(r) {
                format!("FND-{r:05}")
            } else {
                String::new()
            };
            assert_eq!(t.id(r), id, "row {r}");
        }
        assert_eq!(t.id_bytes(), 9 * (keep.len() + 1));
        assert_eq!(
            (t.row_of("FND-00063"), t.row_of("FND-00062")),
            (Some(63), None)
        );
        assert_eq!(t.id(300), "");
        // Blanked again, with fewer kept.
        t.blank_ids_except(&[0, 299]);
        let now: Vec<u32> = (0..300).filter(|&r| !t.id(r).is_empty()).collect();
        assert_eq!(now, [0, 64, 299]);
        t.push_row("FND-99999", Loc { file: 0, line: 400 });
        assert_eq!(
            (t.len(), t.id(299), t.id(300), t.id(1)),
            (301, "FND-00299", "FND-99999", "")
        );
        assert_eq!(t.row_of("FND-99999"), Some(300));
    }

    #[test]
    fn rows_are_found_by_id_with_and_without_the_index() {
        let def = crate::evidence::tables::table("incidents").unwrap();
        let mut t = Table::new(def, &[]);
        for (i, id) in ["INC-1", "INC-2", "INC-3"].iter().enumerate() {
            assert_eq!(
                t.commit(
                    id,
                    Loc {
                        file: 0,
                        line: i as u32 + 2
                    }
                ),
                Ok(i as u32)
            );
        }
        // A duplicate is refused while the index is there.
        assert!(t.commit("INC-2", Loc { file: 0, line: 9 }).is_err());
        let found = |t: &Table| ["INC-3", "INC-1", "INC-9"].map(|id| t.row_of(id));
        assert_eq!(found(&t), [Some(2), Some(0), None]);
        t.drop_id_index();
        assert_eq!(found(&t), [Some(2), Some(0), None]);
    }
    use proptest::prelude::*;

    /// `a` pushed into one store and `b` into another, the second appended to the
    /// first; with the values as a list.
    fn pushed_and_extended(a: &[String], b: &[String]) -> (Texts, Vec<String>) {
        let mut t = small();
        let mut u = small();
        for s in a {
            t.push(s);
        }
        for s in b {
            u.push(s);
        }
        t.extend(&u);
        (t, a.iter().chain(b).cloned().collect())
    }

    /// The store holds the list's values, in order, and no more.
    fn holds(t: &Texts, model: &[String]) -> Result<(), TestCaseError> {
        prop_assert_eq!(t.len(), model.len());
        for (i, m) in model.iter().enumerate() {
            prop_assert_eq!(t.get(i), m.as_str());
        }
        prop_assert_eq!(t.get(model.len()), "");
        Ok(())
    }

    fn small() -> Texts {
        // 4-bit ends: a wrap every 16 bytes of text, as 32-bit ends wrap every 4 GiB.
        Texts {
            bits: 4,
            ..Texts::default()
        }
    }

    #[test]
    fn repeated_texts_stay_coded_and_distinct_ones_turn_plain() {
        use super::{Column, Owned};
        use crate::evidence::tables::Kind;
        let fill_by = |f: &dyn Fn(usize) -> usize| {
            let mut c = Column::new(Kind::Text);
            for i in 0..5000 {
                c.push(&Owned::Text(format!("owner-{}@example.com", f(i)).into()));
            }
            c
        };
        let fill = |m: usize| fill_by(&|i| i % m);
        assert!(matches!(fill(300), Column::Coded(_)));
        assert!(matches!(fill(5000), Column::Text(_)));
        // One value per three rows (a reference to a parent): plain after 4096 rows.
        assert!(matches!(fill_by(&|i| i / 3), Column::Text(_)));
        // Appending parts: coded parts of repeated values stay coded.
        let mut all = Column::new(Kind::Text);
        for _ in 0..4 {
            all.extend(&fill(300));
        }
        assert!(matches!(all, Column::Coded(_)));
        all.extend(&fill(5000));
        assert!(matches!(all, Column::Text(_)));
    }

    /// A text column as a plain list: pushes, appended columns (as parts are) and
    /// single values taken from another column, with few or many distinct values, so
    /// that columns stay coded, turn plain, or meet the other kind when appended.
    fn text_column_ops() -> impl Strategy<Value = Vec<(u8, Vec<u16>)>> {
        proptest::collection::vec(
            (0u8..3, proptest::collection::vec(0u16..3000, 0..3000)),
            1..6,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn text_columns_match_a_list(ops in text_column_ops(), few in 1u16..400) {
            use super::{Column, Owned, Value};
            use crate::evidence::tables::Kind;
            let text = |v: u16, m: u16| match v % m {
                0 => String::new(),
                x => format!("value-{x}"),
            };
            let mut col = Column::new(Kind::Text);
            let mut model: Vec<String> = Vec::new();
            for (op, vals) in &ops {
                // Half of the batches draw from few values, half from many.
                let m = if vals.len() % 2 == 0 { few } else { 3000 };
                match op {
                    0 => {
                        for &v in vals {
                            let s = text(v, m);
                            col.push(&if s.is_empty() { Owned::Missing } else { Owned::Text(s.clone().into()) });
                            model.push(s);
                        }
                    }
                    1 => {
                        let mut part = col.empty_like();
                        for &v in vals {
                            let s = text(v, m);
                            part.push(&Owned::Text(s.clone().into()));
                            model.push(s);
                        }
                        col.extend(&part);
                    }
                    _ => {
                        let mut other = Column::new(Kind::Text);
                        for &v in vals {
                            other.push(&Owned::Text(text(v, m).into()));
                        }
                        for (i, &v) in vals.iter().enumerate() {
                            col.push_from(&other, i);
                            model.push(text(v, m));
                        }
                    }
                }
                prop_assert_eq!(col.len(), model.len());
            }
            for (i, m) in model.iter().enumerate() {
                let want = if m.is_empty() { Value::Missing } else { Value::Text(m) };
                prop_assert_eq!(col.get(i), want);
            }
            let n = model.len() / 2;
            col.truncate(n);
            col.push(&Owned::Text("last".into()));
            prop_assert_eq!(col.get(n), Value::Text("last"));
            prop_assert_eq!(col.len(), n + 1);
        }

        /// A set of rows kept from a sorted list ranks every row as a search of the
        /// list would, and as the set made by testing each row does (across words
        /// of 64, and past the end), and gives the list back.
        #[test]
        fn kept_rows_rank_as_the_sorted_list(
            rows in 0usize..700,
            picks in proptest::collection::btree_set(0u32..760, 0..200),
        ) {
            let sorted: Vec<u32> = picks.iter().copied().filter(|&r| (r as usize) < rows).collect();
            let kept = super::Kept::from_sorted(rows, &sorted);
            let tested = super::Kept::new(rows, |r| picks.contains(&(r as u32)));
            for r in 0..rows + 70 {
                let want = sorted.binary_search(&(r as u32)).ok();
                prop_assert_eq!(kept.rank(r), want, "row {}", r);
                prop_assert_eq!(tested.rank(r), want, "row {}", r);
            }
            prop_assert_eq!(kept.rows().collect::<Vec<_>>(), sorted);
        }

        /// Ids committed one by one, or appended a part at a time (as a file read in
        /// parallel is), are refused when used before (with the first use's
        /// location) and found again as a map of ids says, whatever their order; the
        /// index is built only once an id comes out of (bytewise) order.
        #[test]
        fn ids_are_checked_and_found_in_any_order(
            ids in proptest::collection::vec(0u32..50, 0..80),
            sort in any::<bool>(),
            cuts in proptest::collection::btree_set(0usize..80, 0..5),
            by_parts in any::<bool>(),
        ) {
            let mut ids = ids;
            if sort {
                ids.sort_unstable();
            }
            let name = |i: u32| format!("ID-{i:02}");
            let def = crate::evidence::tables::table("incidents").unwrap();
            let mut t = Table::new(def, &[]);
            let mut model: std::collections::HashMap<String, (u32, u32)> = Default::default();
            let mut want_dups = Vec::new();
            for (line, &i) in ids.iter().enumerate() {
                let line = line as u32;
                match model.get(&name(i)) {
                    Some(&(_, first)) => want_dups.push((line, first)),
                    None => {
                        let row = model.len() as u32;
                        model.insert(name(i), (row, line));
                    }
                }
            }
            let mut dups = Vec::new();
            if by_parts {
                let mut start = 0;
                for end in cuts.iter().copied().filter(|&c| c < ids.len()).chain([ids.len()]) {
                    let mut p = t.part();
                    for (line, &i) in ids.iter().enumerate().take(end).skip(start) {
                        p.commit(&name(i), Loc { file: 0, line: line as u32 }).unwrap();
                    }
                    for (prow, first) in t.append(&p) {
                        dups.push((start as u32 + prow, first.line));
                    }
                    start = end;
                }
            } else {
                for (line, &i) in ids.iter().enumerate() {
                    if let Err(first) = t.commit(&name(i), Loc { file: 0, line: line as u32 }) {
                        dups.push((line as u32, first.line));
                    }
                }
            }
            prop_assert_eq!(dups, want_dups);
            prop_assert_eq!(t.len(), model.len());
            for i in 0..55 {
                let want = model.get(&name(i)).map(|&(row, _)| row);
                prop_assert_eq!(t.row_of(&name(i)), want, "{}", name(i));
                if let Some(r) = want {
                    prop_assert_eq!(t.loc(r).map(|l| l.line), model.get(&name(i)).map(|&(_, l)| l));
                }
            }
            let in_order = ids.windows(2).all(|w| w[0] < w[1]);
            prop_assert_eq!(t.by_id.is_empty(), in_order);
        }

        /// Looking ids up from where the last look-up found its row gives what the
        /// index gives, in any order of look-ups: in the rows' order (each id asked
        /// up to three times in a row, found without the index; sorted ids with rows
        /// skipped found by steps from the last), shuffled,
        /// repeated, of ids no row has (the empty id among them, also once the last
        /// row was found), with duplicates refused and with the index dropped.
        #[test]
        fn ids_found_near_the_last_are_the_rows_the_index_finds(
            ids in proptest::collection::vec(0u32..40, 0..60),
            asks in proptest::collection::vec(prop_oneof![0u32..45, Just(u32::MAX)], 0..80),
            in_order in any::<bool>(),
            drop_index in any::<bool>(),
            sort_ids in any::<bool>(),
        ) {
            let mut ids = ids;
            if sort_ids {
                // Bytewise, as the ids are compared ("INC-10" before "INC-9").
                ids.sort_by_key(|i| format!("INC-{i}"));
                ids.dedup();
            }
            let def = crate::evidence::tables::table("incidents").unwrap();
            let mut t = Table::new(def, &[]);
            for (line, i) in ids.iter().enumerate() {
                // A repeated id is refused, as a reader's duplicate is.
                let _ = t.commit(&format!("INC-{i}"), Loc { file: 0, line: line as u32 });
            }
            if drop_index {
                t.drop_id_index();
            }
            let name = |a: u32| if a == u32::MAX { String::new() } else { format!("INC-{a}") };
            // In the rows' order, some asked again at once (findings of one postmortem).
            let ordered: Vec<String> = (0..t.len() as u32)
                .flat_map(|r| std::iter::repeat_n(t.id(r).to_string(), 1 + r as usize % 3))
                .collect();
            let asks: Vec<String> = if in_order {
                ordered.iter().cloned().chain(asks.iter().map(|&a| name(a))).collect()
            } else {
                asks.iter().map(|&a| name(a)).collect()
            };
            let mut near = super::Near::default();
            for id in &asks {
                prop_assert_eq!(t.row_of_near(id, &mut near), t.row_of(id), "{}", id);
            }
            if in_order && !drop_index {
                prop_assert!(near.hits as usize + 1 >= ordered.len(), "{} of {}", near.hits, ordered.len());
            }
            // Sorted ids (no index built) asked in order with rows skipped: found
            // further on from the last, without a search of every id.
            if !drop_index {
                let in_order = ids.windows(2).all(|w| format!("INC-{}", w[0]) < format!("INC-{}", w[1]));
                prop_assert_eq!(t.by_id.is_empty(), in_order);
            }
            if t.by_id.is_empty() && !drop_index {
                let mut near = super::Near::default();
                let skips: Vec<u32> = (0..t.len() as u32).filter(|r| r % 3 != 1).collect();
                for &r in &skips {
                    prop_assert_eq!(t.row_of_near(t.id(r), &mut near), Some(r));
                }
                prop_assert_eq!(near.hits as usize, skips.len());
            }
        }

        /// Locations kept as lines plus runs of one file give back what was pushed,
        /// also after appending another store (as parts are appended).
        #[test]
        fn locations_match_a_list(
            a in proptest::collection::vec((0u32..3, 0u32..1000), 0..50),
            b in proptest::collection::vec((0u32..3, 0u32..1000), 0..50),
        ) {
            let (mut x, mut y) = (super::Locs::default(), super::Locs::default());
            let mut model = Vec::new();
            for &(file, line) in &a {
                x.push(Loc { file, line });
                model.push(Loc { file, line });
            }
            for &(file, line) in &b {
                y.push(Loc { file, line });
                model.push(Loc { file, line });
            }
            x.extend(&y);
            for (i, l) in model.iter().enumerate() {
                prop_assert_eq!(x.get(i), Some(*l));
            }
            prop_assert_eq!(x.get(model.len()), None);
        }

        /// Pushing, appending another store and truncating give the values a plain
        /// list of strings gives, across many wraps (values of up to 40 bytes cross
        /// several 16-byte boundaries at once).
        #[test]
        fn texts_of_one_length_keep_no_ends_until_another_comes(
            a in proptest::collection::vec(prop_oneof![6 => "[a-z]{3}", 1 => "[a-z]{0,5}"], 0..40),
            b in proptest::collection::vec(prop_oneof![6 => "[a-z]{3}", 1 => "[a-z]{0,5}"], 0..40),
            cut in 0usize..90,
            tail in "[a-z]{0,4}",
        ) {
            let (mut t, mut model) = pushed_and_extended(&a, &b);
            let one_length = model.windows(2).all(|w| w[0].len() == w[1].len());
            prop_assert_eq!(t.fixed, one_length);
            prop_assert_eq!(t.ends.is_empty(), one_length);
            holds(&t, &model)?;
            let n = cut.min(model.len());
            t.truncate(n);
            model.truncate(n);
            t.push(&tail);
            model.push(tail.clone());
            holds(&t, &model)?;
            prop_assert_eq!(t.buf.len(), model.iter().map(String::len).sum::<usize>());
        }

        #[test]
        fn texts_with_wrapping_ends_match_a_list(
            a in proptest::collection::vec("[a-z]{0,40}", 0..40),
            b in proptest::collection::vec("[a-z]{0,40}", 0..40),
            cut in 0usize..90,
        ) {
            let (mut t, mut model) = pushed_and_extended(&a, &b);
            holds(&t, &model)?;
            let n = cut.min(model.len());
            t.truncate(n);
            model.truncate(n);
            t.push("tail");
            model.push("tail".into());
            holds(&t, &model)?;
            prop_assert_eq!(t.buf.len(), model.iter().map(String::len).sum::<usize>());
        }
    }
}
