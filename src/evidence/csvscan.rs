//! A fast CSV record scanner that gives exactly the records the `csv` crate gives with
//! the configuration of `read::read_csv`: no headers, flexible, the delimiter of the
//! source, records ended by `\n` only (`Terminator::Any(b'\n')`), `"` quotes with
//! doubled quotes as escapes, no escape byte, no comments, no trimming.
//!
//! What csv_core does, and so what this scanner does:
//!
//! - A UTF-8 byte-order mark at the very start of the input is skipped ([`bom_len`]).
//! - A `\n` where a record would start is skipped: blank lines are not records. A line
//!   holding only `\r` is a record of one field `\r`.
//! - A field that starts with `"` is quoted: it runs to the next `"` not followed by
//!   another `"`; `""` inside stands for one `"`; `\n` and the delimiter inside are
//!   data. A quoted field left open at the end of the input ends there.
//! - Bytes after a closing quote that are neither the delimiter nor `\n` continue the
//!   field unquoted (`"ab"cd` reads `abcd`), and a `"` inside an unquoted field is an
//!   ordinary byte (`a"b` reads `a"b`). Both set the scanner's [`Scanner::anomaly`]
//!   flag: quote parity no longer tells where records end.
//! - A record's line is csv's `Position::line()`: one plus the number of `\n` bytes
//!   before the end of the previous record. Blank lines skipped before a record are
//!   not counted for it (the record after `a\n\n\nb` is reported on line 2).
//!
//! Fields are slices of the input block where possible; only a field with a doubled
//! quote (or text after its closing quote) is copied, into the record's side buffer.
//! The scanner jumps from one special byte to the next with `memchr` (SIMD inside, safe
//! API) instead of walking a state machine byte by byte.
//!
//! For splitting a file into blocks that can be scanned independently (on several
//! threads), [`last_record_end`] finds the end of the last record of a block by quote
//! parity, and [`count_newlines`] gives the first line number of the next block. Parity
//! is only right when no record has an [`anomaly`](Scanner::anomaly): a caller that
//! split by parity checks the flag of every block and falls back to one sequential
//! scan when one is set.

use memchr::{memchr2, memchr3, memrchr2};

const QUOTE: u8 = b'"';
const NL: u8 = b'\n';
const BOM: &[u8] = b"\xEF\xBB\xBF";
/// Top bit of a field's start: the field is in the record's side buffer.
const SIDE: usize = 1 << (usize::BITS - 1);

/// A byte of 1 in each of a word's eight bytes (times a byte: that byte eight times).
pub(crate) const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of `v` that is zero; exact for the lowest zero byte (a
/// borrow can only mark bytes above it), and non-zero exactly when a byte is zero.
/// Also used by the id index (`idindex`) to probe eight tags at once.
#[inline(always)]
pub(crate) fn zero_bytes(v: u64) -> u64 {
    v.wrapping_sub(LO) & !v & HI
}

/// The first delimiter, `\n` or `"` in `hay`. Unquoted fields are short (ids,
/// timestamps, flags): the first 32 bytes are tested 8 at a time in a register
/// (cheaper than setting up a SIMD search), the rest with `memchr3`.
#[inline(always)]
fn find_unquoted(hay: &[u8], d: u8) -> Option<usize> {
    let (rd, rn, rq) = (LO * u64::from(d), LO * u64::from(NL), LO * u64::from(QUOTE));
    let mut i = 0;
    while i < 32 {
        let Some(w) = hay.get(i..i + 8) else { break };
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        let x = u64::from_le_bytes(b);
        let m = zero_bytes(x ^ rd) | zero_bytes(x ^ rn) | zero_bytes(x ^ rq);
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    let rest = hay.get(i..).unwrap_or_default();
    memchr3(d, NL, QUOTE, rest).map(|k| i + k)
}

/// Length of the UTF-8 byte-order mark at the start of `input` (0 or 3). csv_core skips
/// it at the start of a file; skip it (start scanning at this offset) in the first
/// block of a file only.
pub fn bom_len(input: &[u8]) -> usize {
    if input.starts_with(BOM) { BOM.len() } else { 0 }
}

/// Number of `\n` bytes in `bytes` (SIMD count).
pub fn count_newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(NL, bytes).count() as u64
}

/// The end of the last complete record of `block`, by quote parity.
///
/// `in_quotes_at_start` is the quote state at the start of the block: `false` when it
/// starts at a record boundary. Returns the offset just after the last `\n` outside
/// quotes that ends a record (`None` when there is none), and the quote state at the end
/// of the block (to pass on when the next block starts where this one ends).
///
/// The cut is never inside a run of blank lines: when the last record is followed by
/// blank lines, the cut is just after the record, so that the next block starts with
/// the blank lines and the line csv reports for its first record (the line after the
/// previous record) is `1 +` the newlines before the cut. A run of newlines that reaches
/// the start of the block (or a byte-order mark there) gives no cut: those may be blank
/// lines after the previous block's last record.
///
/// Parity is exact only for RFC 4180 quoting; scan the pieces and check
/// [`Scanner::anomaly`] before trusting the cut.
pub fn last_record_end(block: &[u8], in_quotes_at_start: bool) -> (Option<usize>, bool) {
    let quotes = memchr::memchr_iter(QUOTE, block).count();
    let at_end = in_quotes_at_start ^ (quotes % 2 == 1);
    // Walk back from the end over quotes and newlines, undoing the quote state.
    let mut in_quotes = at_end;
    let mut i = block.len();
    let mut nl = None;
    while let Some(j) = memrchr2(QUOTE, NL, block.get(..i).unwrap_or_default()) {
        i = j;
        if block.get(j) == Some(&QUOTE) {
            in_quotes = !in_quotes;
        } else if !in_quotes {
            nl = Some(j);
            break;
        }
    }
    let cut = nl.and_then(|j| {
        // Back to the first newline of the run: no quote lies between, so all of the run
        // is outside quotes too; the first one ends a record unless the run reaches the
        // start of the block.
        let run = block.get(..j).unwrap_or_default();
        let k = run.iter().rposition(|&b| b != NL).map_or(0, |p| p + 1);
        let at_start = k == 0 || (k == BOM.len() && block.starts_with(BOM));
        (!at_start).then_some(k + 1)
    });
    (cut, at_end)
}

/// One record: its fields, borrowed from the block or copied into a side buffer.
/// Reuse one value for every record (its buffers are kept); [`Record::recycle`] moves
/// the buffers to a record for another block.
#[derive(Debug, Clone, Default)]
pub struct Record<'b> {
    block: &'b [u8],
    /// The block as text, when it was checked whole (`set_text`).
    text: Option<&'b str>,
    /// Start and end of each field: offsets in the block, or in `side` when the start
    /// has the `SIDE` bit.
    bounds: Vec<(usize, usize)>,
    side: Vec<u8>,
    start: usize,
    end: usize,
}

impl<'b> Record<'b> {
    /// An empty record.
    pub fn new() -> Record<'b> {
        Record::default()
    }

    /// The same buffers, for records of another block.
    pub fn recycle<'c>(mut self) -> Record<'c> {
        self.bounds.clear();
        self.side.clear();
        Record {
            block: &[],
            text: None,
            bounds: self.bounds,
            side: self.side,
            start: 0,
            end: 0,
        }
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.bounds.len()
    }

    /// No fields (only before the first record is read).
    pub fn is_empty(&self) -> bool {
        self.bounds.is_empty()
    }

    /// Field `i`, unquoted and unescaped (like `csv::ByteRecord::get`).
    #[inline]
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let &(s, e) = self.bounds.get(i)?;
        if s & SIDE == 0 {
            self.block.get(s..e)
        } else {
            self.side.get(s & !SIDE..e)
        }
    }

    /// The block the records will be read from, checked as UTF-8 once (much faster
    /// than checking each field): `text` reads its fields as slices of it.
    pub fn set_text(&mut self, text: &'b str) {
        self.text = Some(text);
    }

    /// Field `i` as text (`Err` when it is not UTF-8). A field of the block given to
    /// `set_text` is sliced from it (its ends are next to ASCII bytes: always on
    /// character boundaries); any other is checked alone.
    #[inline]
    pub fn text(&self, i: usize) -> Option<Result<&str, std::str::Utf8Error>> {
        let &(s, e) = self.bounds.get(i)?;
        if s & SIDE == 0 {
            let whole = self.text.filter(|t| {
                t.len() == self.block.len() && std::ptr::eq(t.as_ptr(), self.block.as_ptr())
            });
            if let Some(f) = whole.and_then(|t| t.get(s..e)) {
                return Some(Ok(f));
            }
            self.block.get(s..e).map(std::str::from_utf8)
        } else {
            self.side.get(s & !SIDE..e).map(std::str::from_utf8)
        }
    }

    /// The fields in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.len()).map(|i| self.get(i).unwrap_or_default())
    }

    /// Offsets in the block of the record's first byte (after any blank lines before it)
    /// and of the byte after its terminating `\n` (or the end of the block).
    pub fn span(&self) -> (usize, usize) {
        (self.start, self.end)
    }

    #[inline]
    fn push_slice(&mut self, s: usize, e: usize) {
        self.bounds.push((s, e));
    }

    /// Push a field whose bytes are `block[seg..e]`, after what is already in the side
    /// buffer from `copied` on (when the field was copied).
    #[inline]
    fn push_field(&mut self, seg: usize, e: usize, copied: Option<usize>) {
        match copied {
            None => self.bounds.push((seg, e)),
            Some(c) => {
                let block = self.block;
                self.side
                    .extend_from_slice(block.get(seg..e).unwrap_or_default());
                self.bounds.push((c | SIDE, self.side.len()));
            }
        }
    }
}

/// Reads records one after another; see the module documentation for the rules.
#[derive(Debug, Clone)]
pub struct Scanner {
    delim: u8,
    /// csv's `Position::line()` for the next record.
    line: u64,
    /// Blank lines skipped since the last record, counted once the next record ends.
    skipped: u64,
    /// Blank lines skipped just before the record last returned.
    blank_before: u64,
    anomaly: bool,
    incomplete: bool,
    /// Fields (by index, below 64) no one reads: their doubled quotes are not undone.
    unread: u64,
}

impl Scanner {
    /// A scanner for `delim`-separated records (`,` or `;`: neither `"` nor `\n`),
    /// starting at line 1.
    pub fn new(delim: u8) -> Scanner {
        Scanner {
            delim,
            line: 1,
            skipped: 0,
            blank_before: 0,
            anomaly: false,
            incomplete: false,
            unread: 0,
        }
    }

    /// Fields that will not be read: bit `i` set for field `i` (below 64). A quoted
    /// field among them that holds a doubled quote is not copied out to undo it: its
    /// [`Record::get`] is then the bytes between its quotes as written (never empty,
    /// as its value is not either). Record ends, lines and [`Scanner::anomaly`] are as
    /// without the mask.
    pub fn set_unread(&mut self, mask: u64) {
        self.unread = mask;
    }

    /// The line csv reports for the next record, given that the next byte scanned is at
    /// a record boundary on line `line`: for a block starting at byte `o` of a file,
    /// `1 + count_newlines(&file[..o])`.
    pub fn set_line(&mut self, line: u64) {
        self.line = line;
        self.skipped = 0;
    }

    /// The line csv would report for the next record.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Blank lines skipped just before the record last returned: its line in the file
    /// (what an editor shows) is the line returned plus these, where csv does not count
    /// them.
    pub fn blank_lines_before(&self) -> u64 {
        self.blank_before
    }

    /// Has some record held a quote that csv_core reads as an ordinary byte (a `"` in an
    /// unquoted field, or bytes after a closing quote)? Sticky. When set, splitting the
    /// input by quote parity ([`last_record_end`]) was not safe.
    pub fn anomaly(&self) -> bool {
        self.anomaly
    }

    /// Did the last call meet the end of the block inside a record (no `\n` after it)?
    /// After [`Scanner::next_record`], the record returned may then go on in the next
    /// block (unless the block ends the input); after [`Scanner::next_complete_record`],
    /// no record was returned and nothing was consumed.
    pub fn is_at_end_incomplete(&self) -> bool {
        self.incomplete
    }

    /// Read the next record of `block[*pos..]` into `rec` and return the line it starts
    /// on (csv's `Position::line()`), advancing `*pos` past it; `None` when only blank
    /// lines (or nothing) are left. The end of the block is taken as the end of the
    /// input (as csv does at the end of a file): see [`Scanner::is_at_end_incomplete`].
    ///
    /// `*pos` must be at a record boundary (outside quotes). Start a file's first block
    /// at [`bom_len`].
    #[inline]
    pub fn next_record<'b>(
        &mut self,
        block: &'b [u8],
        pos: &mut usize,
        rec: &mut Record<'b>,
    ) -> Option<u64> {
        self.scan(block, pos, rec, false)
    }

    /// Like [`Scanner::next_record`], for a block that may end inside a record (a
    /// buffer of a file read piece by piece): a record not ended by a `\n` within the
    /// block is not returned. Then the result is `None`, `*pos` and the line count are
    /// left as they were (at the blank lines before the record, if any) and
    /// [`Scanner::is_at_end_incomplete`] is true: keep `block[*pos..]`, append the next
    /// bytes and call again; at the end of the input, read what is left with
    /// [`Scanner::next_record`].
    #[inline]
    pub fn next_complete_record<'b>(
        &mut self,
        block: &'b [u8],
        pos: &mut usize,
        rec: &mut Record<'b>,
    ) -> Option<u64> {
        self.scan(block, pos, rec, true)
    }

    fn scan<'b>(
        &mut self,
        block: &'b [u8],
        pos: &mut usize,
        rec: &mut Record<'b>,
        partial: bool,
    ) -> Option<u64> {
        rec.block = block;
        rec.bounds.clear();
        rec.side.clear();
        self.incomplete = false;
        let n = block.len();
        let mut p = *pos;
        let entry_skipped = self.skipped;
        while block.get(p) == Some(&NL) {
            p += 1;
            self.skipped += 1;
        }
        if p >= n {
            *pos = p;
            return None;
        }
        let line = self.line;
        let mut nl = std::mem::take(&mut self.skipped);
        let blank_before = nl;
        rec.start = p;
        let d = self.delim;
        // Each turn reads one field starting at `p` (`p <= n`); `terminated` is set when
        // the record ends at a `\n`.
        let terminated = 'fields: loop {
            if block.get(p) != Some(&QUOTE) {
                // Unquoted: up to the delimiter or `\n`; a quote is an ordinary byte.
                let s = p;
                let mut from = p;
                loop {
                    let rest = block.get(from..).unwrap_or_default();
                    let Some(k) = find_unquoted(rest, d) else {
                        rec.push_slice(s, n);
                        p = n;
                        break 'fields false;
                    };
                    let q = from + k;
                    let c = rest.get(k).copied().unwrap_or(d);
                    if c == d {
                        rec.push_slice(s, q);
                        p = q + 1;
                        continue 'fields;
                    }
                    if c == NL {
                        rec.push_slice(s, q);
                        nl += 1;
                        p = q + 1;
                        break 'fields true;
                    }
                    self.anomaly = true;
                    from = q + 1;
                }
            }
            // Quoted: up to a quote that is not doubled.
            let unread = u32::try_from(rec.bounds.len())
                .ok()
                .and_then(|i| self.unread.checked_shr(i))
                .is_some_and(|m| m & 1 == 1);
            let mut seg = p + 1; // start of the bytes not yet copied
            let mut from = p + 1;
            let mut copied: Option<usize> = None; // side-buffer start, once copying
            loop {
                let rest = block.get(from..).unwrap_or_default();
                let Some(k) = memchr2(QUOTE, NL, rest) else {
                    // Open at the end of the input: the field ends there.
                    rec.push_field(seg, n, copied);
                    p = n;
                    break 'fields false;
                };
                let q = from + k;
                if rest.get(k) == Some(&NL) {
                    nl += 1;
                    from = q + 1;
                    continue;
                }
                match block.get(q + 1).copied() {
                    Some(QUOTE) if unread => {
                        // `""` in a field no one reads: left as written.
                        from = q + 2;
                    }
                    Some(QUOTE) => {
                        // `""`: one quote, kept; the field must be copied.
                        copied.get_or_insert(rec.side.len());
                        rec.side
                            .extend_from_slice(block.get(seg..=q).unwrap_or_default());
                        seg = q + 2;
                        from = q + 2;
                    }
                    None => {
                        rec.push_field(seg, q, copied);
                        p = n;
                        break 'fields false;
                    }
                    Some(c) if c == d => {
                        rec.push_field(seg, q, copied);
                        p = q + 2;
                        continue 'fields;
                    }
                    Some(NL) => {
                        rec.push_field(seg, q, copied);
                        nl += 1;
                        p = q + 2;
                        break 'fields true;
                    }
                    Some(_) => {
                        // Bytes after the closing quote: the field goes on unquoted, its
                        // quotes ordinary bytes, up to the delimiter or `\n`.
                        self.anomaly = true;
                        let c = *copied.get_or_insert(rec.side.len());
                        rec.side
                            .extend_from_slice(block.get(seg..q).unwrap_or_default());
                        let t = q + 1;
                        let tail = block.get(t..).unwrap_or_default();
                        let stop = memchr2(d, NL, tail);
                        let e = stop.map_or(n, |k| t + k);
                        rec.side
                            .extend_from_slice(block.get(t..e).unwrap_or_default());
                        rec.bounds.push((c | SIDE, rec.side.len()));
                        match block.get(e).copied() {
                            None => {
                                p = n;
                                break 'fields false;
                            }
                            Some(c) if c == d => {
                                p = e + 1;
                                continue 'fields;
                            }
                            Some(_) => {
                                nl += 1;
                                p = e + 1;
                                break 'fields true;
                            }
                        }
                    }
                }
            }
        };
        self.incomplete = !terminated;
        if partial && !terminated {
            // Undo the blank lines skipped: the caller rescans them with more bytes.
            self.skipped = entry_skipped;
            rec.bounds.clear();
            return None;
        }
        rec.end = p;
        *pos = p;
        self.line += nl;
        self.blank_before = blank_before;
        Some(line)
    }
}
