//! Per-row bookkeeping kept for every row of a table, stored compactly: a flag in one
//! bit (`Flags`), and the line each record starts on as runs of consecutive lines
//! (`Lines`). At a million rows a `Vec<bool>` costs 1 MB a flag and a `Vec<u32>` of
//! lines 4 MB; records on consecutive lines (most CSV exports, every JSON array) need
//! one run for the whole file.

/// One boolean per row, in bits.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Flags {
    words: Vec<u64>,
    len: usize,
}

impl Flags {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// No rows?
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The flag of row `i` (`None` past the end).
    #[inline]
    pub fn get(&self, i: usize) -> Option<bool> {
        if i >= self.len {
            return None;
        }
        self.words.get(i / 64).map(|w| (w >> (i % 64)) & 1 == 1)
    }

    /// Set the flag of row `i`; nothing past the end.
    #[inline]
    pub fn set(&mut self, i: usize, v: bool) {
        if i >= self.len {
            return;
        }
        if let Some(w) = self.words.get_mut(i / 64) {
            let bit = 1u64 << (i % 64);
            if v {
                *w |= bit;
            } else {
                *w &= !bit;
            }
        }
    }

    /// Add a row.
    #[inline]
    pub fn push(&mut self, v: bool) {
        let bit = self.len % 64;
        if bit == 0 {
            self.words.push(u64::from(v));
        } else if v && let Some(w) = self.words.last_mut() {
            *w |= 1 << bit;
        }
        self.len += 1;
    }

    /// Every row's flag set to `v`.
    pub fn fill(&mut self, v: bool) {
        let w = if v { u64::MAX } else { 0 };
        self.words.iter_mut().for_each(|x| *x = w);
        self.clear_tail();
    }

    /// Append the rows of another.
    pub fn extend(&mut self, other: &Flags) {
        let shift = self.len % 64;
        if shift == 0 {
            self.words
                .extend_from_slice(other.words.get(..other.len.div_ceil(64)).unwrap_or(&[]));
        } else {
            for &w in other.words.iter().take(other.len.div_ceil(64)) {
                if let Some(last) = self.words.last_mut() {
                    *last |= w << shift;
                }
                self.words.push(w >> (64 - shift));
            }
        }
        self.len += other.len;
        self.words.truncate(self.len.div_ceil(64));
        self.clear_tail();
    }

    /// Room for `n` more rows.
    pub fn reserve(&mut self, n: usize) {
        self.words
            .reserve((self.len + n).div_ceil(64).saturating_sub(self.words.len()));
    }

    /// Give back spare capacity.
    pub fn shrink_to_fit(&mut self) {
        self.words.shrink_to_fit();
    }

    /// Bits past the last row are zero (so that `extend` can OR words together).
    fn clear_tail(&mut self) {
        let r = self.len % 64;
        if r != 0
            && let Some(w) = self.words.last_mut()
        {
            *w &= (1u64 << r) - 1;
        }
    }
}

/// Rows' lines as runs: each run is (first row, its line), and the rows after it, up
/// to the next run, are on the lines after. A table whose records mostly start on
/// lines that do not follow (a multi-line text in most records) turns to one line
/// per row, which is then smaller.
#[derive(Debug, Clone)]
pub enum Lines {
    /// Runs of rows on consecutive lines, and the number of rows.
    Runs(Vec<(u32, u32)>, u32),
    /// One line per row.
    Each(Vec<u32>),
}

impl Default for Lines {
    fn default() -> Lines {
        Lines::Runs(Vec::new(), 0)
    }
}

/// Rows before runs are compared with one line per row.
const LINES_SETTLE: u32 = 1024;

impl Lines {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Lines::Runs(_, n) => *n as usize,
            Lines::Each(v) => v.len(),
        }
    }

    /// No rows?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The line of row `i`.
    pub fn get(&self, i: usize) -> Option<u32> {
        match self {
            Lines::Runs(runs, n) => {
                if i >= *n as usize {
                    return None;
                }
                let k = runs.partition_point(|&(first, _)| first as usize <= i);
                let &(first, line) = runs.get(k.checked_sub(1)?)?;
                Some(line.wrapping_add(i as u32 - first))
            }
            Lines::Each(v) => v.get(i).copied(),
        }
    }

    /// Add a row on `line`.
    #[inline]
    pub fn push(&mut self, line: u32) {
        match self {
            Lines::Runs(runs, n) => {
                if let Some(&(first, l)) = runs.last()
                    && l.wrapping_add(*n - first) == line
                {
                    *n += 1;
                } else {
                    self.start_run(line);
                }
            }
            Lines::Each(v) => v.push(line),
        }
    }

    /// Add a row on `line`, which does not follow the last run.
    #[cold]
    fn start_run(&mut self, line: u32) {
        if let Lines::Runs(runs, n) = self {
            runs.push((*n, line));
            *n += 1;
        }
        self.settle();
    }

    /// Append the rows of another.
    pub fn extend(&mut self, other: &Lines) {
        match (&mut *self, other) {
            (Lines::Runs(runs, n), Lines::Runs(more, m)) => {
                for &(first, line) in more {
                    let row = *n + first;
                    let follows = runs
                        .last()
                        .is_some_and(|&(f, l)| l.wrapping_add(row - f) == line);
                    if !follows {
                        runs.push((row, line));
                    }
                }
                *n += m;
                self.settle();
            }
            (Lines::Each(v), Lines::Each(w)) => v.extend_from_slice(w),
            _ => {
                for i in 0..other.len() {
                    if let Some(l) = other.get(i) {
                        self.push(l);
                    }
                }
            }
        }
    }

    /// Room for `n` more rows (only one line per row takes room per row).
    pub fn reserve(&mut self, n: usize) {
        if let Lines::Each(v) = self {
            v.reserve(n);
        }
    }

    /// Give back spare capacity.
    pub fn shrink_to_fit(&mut self) {
        match self {
            Lines::Runs(runs, _) => runs.shrink_to_fit(),
            Lines::Each(v) => v.shrink_to_fit(),
        }
    }

    /// Turn to one line per row once more than half the rows start a run (a run
    /// takes twice the room of a line), judged past the first `LINES_SETTLE` rows.
    fn settle(&mut self) {
        let Lines::Runs(runs, n) = self else { return };
        if *n < LINES_SETTLE || runs.len() * 2 <= *n as usize {
            return;
        }
        let mut v = Vec::with_capacity(*n as usize);
        for (k, &(first, line)) in runs.iter().enumerate() {
            let end = runs.get(k + 1).map_or(*n, |&(next, _)| next);
            v.extend((0..end - first).map(|j| line.wrapping_add(j)));
        }
        *self = Lines::Each(v);
    }
}

/// The codes of a coded text column, one per row, in the fewest bytes that hold the
/// largest code so far: a status or owner column of under 256 values takes a byte a
/// row, not four. Widened (copied once) when a larger code comes.
#[derive(Debug, Clone)]
pub enum Codes {
    /// Codes below 256.
    U8(Vec<u8>),
    /// Codes below 65536.
    U16(Vec<u16>),
    /// Any code.
    U32(Vec<u32>),
}

impl Default for Codes {
    fn default() -> Codes {
        Codes::U8(Vec::new())
    }
}

impl Codes {
    /// Bytes a code takes.
    pub fn width(&self) -> u8 {
        match self {
            Codes::U8(_) => 1,
            Codes::U16(_) => 2,
            Codes::U32(_) => 4,
        }
    }

    /// No codes yet, each to take `width` bytes (1, 2 or 4; 4 for any other).
    pub fn with_width(width: u8) -> Codes {
        match width {
            1 => Codes::U8(Vec::new()),
            2 => Codes::U16(Vec::new()),
            _ => Codes::U32(Vec::new()),
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Codes::U8(v) => v.len(),
            Codes::U16(v) => v.len(),
            Codes::U32(v) => v.len(),
        }
    }

    /// No rows?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The code of row `i`.
    #[inline]
    pub fn get(&self, i: usize) -> Option<u32> {
        match self {
            Codes::U8(v) => v.get(i).map(|&c| u32::from(c)),
            Codes::U16(v) => v.get(i).map(|&c| u32::from(c)),
            Codes::U32(v) => v.get(i).copied(),
        }
    }

    /// Add a row's code.
    #[inline(always)]
    pub fn push(&mut self, c: u32) {
        match self {
            Codes::U8(v) => match u8::try_from(c) {
                Ok(b) => v.push(b),
                Err(_) => self.widen_and_push(c),
            },
            Codes::U16(v) => match u16::try_from(c) {
                Ok(b) => v.push(b),
                Err(_) => self.widen_and_push(c),
            },
            Codes::U32(v) => v.push(c),
        }
    }

    #[cold]
    fn widen_and_push(&mut self, c: u32) {
        let n = self.len();
        let all = (0..n).filter_map(|i| self.get(i));
        *self = if u16::try_from(c).is_ok() {
            let mut v = Vec::with_capacity(n + n / 2 + 1);
            v.extend(all.filter_map(|x| u16::try_from(x).ok()));
            Codes::U16(v)
        } else {
            let mut v = Vec::with_capacity(n + n / 2 + 1);
            v.extend(all);
            Codes::U32(v)
        };
        self.push(c);
    }

    /// Room for `n` more rows.
    pub fn reserve(&mut self, n: usize) {
        match self {
            Codes::U8(v) => v.reserve(n),
            Codes::U16(v) => v.reserve(n),
            Codes::U32(v) => v.reserve(n),
        }
    }

    /// Keep the first `n` rows.
    pub fn truncate(&mut self, n: usize) {
        match self {
            Codes::U8(v) => v.truncate(n),
            Codes::U16(v) => v.truncate(n),
            Codes::U32(v) => v.truncate(n),
        }
    }

    /// Give back spare capacity.
    pub fn shrink_to_fit(&mut self) {
        match self {
            Codes::U8(v) => v.shrink_to_fit(),
            Codes::U16(v) => v.shrink_to_fit(),
            Codes::U32(v) => v.shrink_to_fit(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn flags(v: &[bool]) -> Flags {
        let mut f = Flags::default();
        v.iter().for_each(|&b| f.push(b));
        f
    }

    fn all(f: &Flags) -> Vec<bool> {
        (0..f.len()).map(|i| f.get(i).unwrap()).collect()
    }

    /// Lines of records: each step is how many lines the record before took.
    fn lines_of(steps: &[u32], from: u32) -> Vec<u32> {
        steps
            .iter()
            .scan(from, |l, &s| {
                let here = *l;
                *l = l.wrapping_add(s);
                Some(here)
            })
            .collect()
    }

    fn stored(v: &[u32]) -> Lines {
        let mut l = Lines::default();
        v.iter().for_each(|&x| l.push(x));
        l
    }

    #[test]
    fn consecutive_lines_are_one_run() {
        let l = stored(&(2..100_002).collect::<Vec<_>>());
        assert!(matches!(&l, Lines::Runs(r, 100_000) if r.len() == 1));
        assert_eq!(l.get(0), Some(2));
        assert_eq!(l.get(99_999), Some(100_001));
        assert_eq!(l.get(100_000), None);
    }

    #[test]
    fn records_of_two_lines_each_are_stored_one_line_per_row() {
        let v: Vec<u32> = (0..5000).map(|i| 2 + 2 * i).collect();
        let l = stored(&v);
        assert!(matches!(l, Lines::Each(_)));
        assert_eq!((0..5000).map(|i| l.get(i).unwrap()).collect::<Vec<_>>(), v);
    }

    #[test]
    fn flags_out_of_range_read_none_and_ignore_writes() {
        let mut f = flags(&[true, false]);
        assert_eq!(f.get(2), None);
        f.set(2, true);
        f.set(64, true);
        assert_eq!(all(&f), vec![true, false]);
        f.fill(true);
        assert_eq!(all(&f), vec![true, true]);
        f.push(false);
        assert_eq!(all(&f), vec![true, true, false]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn flags_match_a_list(
            parts in proptest::collection::vec(proptest::collection::vec(any::<bool>(), 0..200), 1..6),
            sets in proptest::collection::vec((0usize..1000, any::<bool>()), 0..40),
            fill in proptest::option::of(any::<bool>()),
        ) {
            let mut f = Flags::default();
            let mut want: Vec<bool> = Vec::new();
            for p in &parts {
                f.extend(&flags(p));
                want.extend(p);
            }
            for &(i, b) in &sets {
                f.set(i, b);
                if let Some(x) = want.get_mut(i) {
                    *x = b;
                }
            }
            if let Some(b) = fill {
                f.fill(b);
                want.iter_mut().for_each(|x| *x = b);
            }
            f.push(true);
            want.push(true);
            prop_assert_eq!(all(&f), want);
        }

        #[test]
        fn codes_match_a_list(
            v in proptest::collection::vec(prop_oneof![8 => 0u32..256, 2 => 0u32..70_000, 1 => any::<u32>()], 0..600),
            cut in 0usize..700,
        ) {
            let mut c = Codes::default();
            v.iter().for_each(|&x| c.push(x));
            prop_assert_eq!(c.len(), v.len());
            let width = match &c { Codes::U8(_) => 255, Codes::U16(_) => 65_535, Codes::U32(_) => u32::MAX };
            prop_assert_eq!(width, v.iter().map(|&x| if x < 256 { 255 } else if x < 65_536 { 65_535 } else { u32::MAX }).max().unwrap_or(255));
            let got: Vec<u32> = (0..v.len()).filter_map(|i| c.get(i)).collect();
            prop_assert_eq!(&got, &v);
            c.truncate(cut);
            prop_assert_eq!(c.len(), v.len().min(cut));
            let mut d = Codes::with_width(c.width());
            prop_assert_eq!(d.width(), c.width());
            v.iter().for_each(|&x| d.push(x));
            prop_assert_eq!((0..v.len()).filter_map(|i| d.get(i)).collect::<Vec<_>>(), v);
        }

        #[test]
        fn lines_match_a_list(
            parts in proptest::collection::vec(
                (proptest::collection::vec(prop_oneof![8 => Just(1u32), 1 => 2u32..5, 1 => 0u32..3], 0..1500),
                 prop_oneof![Just(1u32), Just(u32::MAX - 600), 0u32..1000]),
                1..5),
        ) {
            let mut l = Lines::default();
            let mut want: Vec<u32> = Vec::new();
            for (steps, from) in &parts {
                let v = lines_of(steps, *from);
                l.extend(&stored(&v));
                want.extend(&v);
            }
            prop_assert_eq!(l.len(), want.len());
            let got: Vec<u32> = (0..want.len()).map(|i| l.get(i).unwrap()).collect();
            prop_assert_eq!(got, want);
            prop_assert_eq!(l.get(l.len()), None);
        }
    }
}
