//! The row of each id of a table (`Table::by_id`): an open-addressing hash table of
//! row numbers that stores neither ids nor hashes (the caller compares ids, and hashes
//! them again when the table grows).
//!
//! It replaces a `hashbrown::HashTable<u32>` for memory. hashbrown's slot count is a
//! power of two, so a table of a million ids has 2^21 slots (5 bytes each, 10.5 MB),
//! half of them empty. Here the number of groups is any number: slots are filled up to
//! 7 in 8 (1.2M slots, 6 MB, at a million ids). Slots are probed 8 at a time, as
//! hashbrown does without SIMD: a group's 8 one-byte tags (7 bits of the hash, high
//! bit set; 0 for empty) are one `u64`, tested for a tag or an empty slot with bit
//! tricks. A search visits groups from the hashed one on, and stops at the first
//! group with an empty slot (ids are never removed, so a group with room was never
//! passed over by an insertion).

use super::csvscan::{LO, zero_bytes};
use std::ops::ControlFlow;

/// Rows by the 32-bit hash of their id.
#[derive(Debug, Default, Clone)]
pub struct IdIndex {
    groups: Vec<Group>,
    len: usize,
}

/// 8 slots: their tags, and their rows next to them (40 bytes), so that a probe
/// that finds its tag mostly finds the row in the same cache line.
#[derive(Debug, Default, Clone, Copy)]
struct Group {
    tags: u64,
    rows: [u32; 8],
}

/// Usable slots of a group (the rest keep searches short).
const FILL: usize = 7;

impl IdIndex {
    /// Number of rows held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// None held?
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes held.
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.groups.capacity() * std::mem::size_of::<Group>()
    }

    /// The group a hash starts at, and its tag.
    #[inline(always)]
    fn home(&self, h: u32) -> (usize, u8) {
        // The top 32 bits of the spread hash, scaled to the group count (below 2^32:
        // rows are numbered in 32 bits).
        let top = u64::from(h).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
        let g = (top.wrapping_mul(self.groups.len() as u64) >> 32) as usize;
        (g, 0x80 | (h & 0x7f) as u8)
    }

    /// Visit, in probe order, each slot whose tag is that of hash `h` (group, index in
    /// it, row), until `hit` breaks or a group with an empty slot ends the search.
    #[inline(always)]
    fn probe(&self, h: u32, mut hit: impl FnMut(usize, usize, u32) -> ControlFlow<()>) {
        let groups = self.groups.len();
        let (mut g, tag) = self.home(h);
        let want = LO * u64::from(tag);
        for _ in 0..groups {
            let Some(grp) = self.groups.get(g) else {
                return;
            };
            let w = grp.tags;
            let mut m = zero_bytes(w ^ want);
            while m != 0 {
                let i = (m.trailing_zeros() / 8) as usize;
                if (w >> (i * 8)) as u8 == tag
                    && let Some(&r) = grp.rows.get(i)
                    && hit(g, i, r).is_break()
                {
                    return;
                }
                m &= m - 1;
            }
            if zero_bytes(w) != 0 {
                return;
            }
            g += 1;
            if g == groups {
                g = 0;
            }
        }
    }

    /// The slot (group, index in it) of the row of hash `h` for which `eq` holds.
    #[inline]
    fn slot(&self, h: u32, mut eq: impl FnMut(u32) -> bool) -> Option<(usize, usize)> {
        let mut found = None;
        self.probe(h, |g, i, r| {
            if eq(r) {
                found = Some((g, i));
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        });
        found
    }

    /// Read the home group of each hash, so that the searches and insertions of
    /// these hashes that follow find their groups in the cache. A lookup into an index
    /// larger than the cache waits for memory; this loop does nothing else, so the
    /// CPU has many of those reads in flight at once, where the searches, each waiting
    /// on its own read before its comparisons, have few (`Table::append`: the id index
    /// of a million incidents is 6 MB).
    pub fn warm(&self, hashes: impl IntoIterator<Item = u32>) {
        let mut seen = 0u64;
        for h in hashes {
            let (g, _) = self.home(h);
            seen ^= self.groups.get(g).map_or(0, |grp| grp.tags);
        }
        std::hint::black_box(seen);
    }

    /// Call `f` with every row of hash `h` for which `eq` holds, in the order they
    /// were added (while the index has not grown since: `push` after `reserve`).
    #[inline]
    pub fn each(&self, h: u32, mut eq: impl FnMut(u32) -> bool, mut f: impl FnMut(u32)) {
        self.probe(h, |_, _, r| {
            if eq(r) {
                f(r);
            }
            ControlFlow::Continue(())
        });
    }

    /// Add `row` under hash `h`, whether or not a row of that hash is held (an index
    /// of many rows a key, read with `each`). `rehash` as for `insert_or_get`.
    pub fn push(&mut self, h: u32, row: u32, rehash: impl Fn(u32) -> u32) {
        self.reserve(1, rehash);
        self.put(h, row);
    }

    /// The row of hash `h` for which `eq` holds.
    #[inline]
    pub fn find(&self, h: u32, eq: impl FnMut(u32) -> bool) -> Option<u32> {
        let (g, i) = self.slot(h, eq)?;
        self.groups.get(g)?.rows.get(i).copied()
    }

    /// As `find`, the row's place, to change the row an id names.
    pub fn find_mut(&mut self, h: u32, eq: impl FnMut(u32) -> bool) -> Option<&mut u32> {
        let (g, i) = self.slot(h, eq)?;
        self.groups.get_mut(g)?.rows.get_mut(i)
    }

    /// The row of hash `h` for which `eq` holds (`Err`), or else `row` added under it
    /// (`Ok`). `rehash` gives the hash of a row held, for when the table grows. One
    /// pass: the search stops at the first group with an empty slot, which is where
    /// the row goes.
    #[inline]
    pub fn insert_or_get(
        &mut self,
        h: u32,
        row: u32,
        mut eq: impl FnMut(u32) -> bool,
        rehash: impl Fn(u32) -> u32,
    ) -> Result<(), u32> {
        self.reserve(1, rehash);
        let groups = self.groups.len();
        let (mut g, tag) = self.home(h);
        let want = LO * u64::from(tag);
        for _ in 0..groups {
            let Some(grp) = self.groups.get_mut(g) else {
                break;
            };
            let w = grp.tags;
            let mut m = zero_bytes(w ^ want);
            while m != 0 {
                let i = (m.trailing_zeros() / 8) as usize;
                if (w >> (i * 8)) as u8 == tag
                    && let Some(&r) = grp.rows.get(i)
                    && eq(r)
                {
                    return Err(r);
                }
                m &= m - 1;
            }
            let empty = zero_bytes(w);
            if empty != 0 {
                let i = (empty.trailing_zeros() / 8) as usize;
                grp.tags |= u64::from(tag) << (i * 8);
                if let Some(r) = grp.rows.get_mut(i) {
                    *r = row;
                }
                self.len += 1;
                return Ok(());
            }
            g += 1;
            if g == groups {
                g = 0;
            }
        }
        Ok(())
    }

    /// Add a row known not to be held (room made).
    #[inline]
    fn put(&mut self, h: u32, row: u32) {
        let groups = self.groups.len();
        let (mut g, tag) = self.home(h);
        for _ in 0..groups {
            let Some(grp) = self.groups.get_mut(g) else {
                return;
            };
            let m = zero_bytes(grp.tags);
            if m != 0 {
                let i = (m.trailing_zeros() / 8) as usize;
                grp.tags |= u64::from(tag) << (i * 8);
                if let Some(r) = grp.rows.get_mut(i) {
                    *r = row;
                }
                self.len += 1;
                return;
            }
            g += 1;
            if g == groups {
                g = 0;
            }
        }
    }

    /// Room for `n` more rows; on growing, every row held is placed again by its hash
    /// (`rehash`). Grows by half at least, so that adding rows one by one costs linear
    /// time.
    pub fn reserve(&mut self, n: usize, rehash: impl Fn(u32) -> u32) {
        let need = self.len + n;
        let groups = self.groups.len();
        if need <= groups * FILL {
            return;
        }
        let grown = need.div_ceil(FILL).max(groups + groups / 2 + 1);
        let old = std::mem::replace(
            self,
            IdIndex {
                groups: vec![Group::default(); grown],
                len: 0,
            },
        );
        for grp in &old.groups {
            for (i, &r) in grp.rows.iter().enumerate() {
                if (grp.tags >> (i * 8)) as u8 != 0 {
                    self.put(rehash(r), r);
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// A table of ids as `Table` keeps them: row `r` has id `ids[r]`.
    struct Model {
        ids: Vec<String>,
        index: IdIndex,
        by: HashMap<String, u32>,
    }

    impl Model {
        fn new() -> Model {
            Model {
                ids: Vec::new(),
                index: IdIndex::default(),
                by: HashMap::new(),
            }
        }
        fn add(&mut self, id: &str, hash: &dyn Fn(&str) -> u32) -> Result<(), u32> {
            let row = self.ids.len() as u32;
            let Model { ids, index, .. } = self;
            let got = index.insert_or_get(
                hash(id),
                row,
                |r| ids[r as usize] == id,
                |r| hash(&ids[r as usize]),
            );
            let want = match self.by.get(id) {
                Some(&r) => Err(r),
                None => {
                    self.by.insert(id.to_string(), row);
                    Ok(())
                }
            };
            assert_eq!(got, want, "{id}");
            if got.is_ok() {
                self.ids.push(id.to_string());
            }
            got
        }
        fn check(&self, probes: &[String], hash: &dyn Fn(&str) -> u32) {
            assert_eq!(self.index.len(), self.by.len());
            for p in self.ids.iter().chain(probes) {
                let got = self.index.find(hash(p), |r| self.ids[r as usize] == *p);
                assert_eq!(got, self.by.get(p).copied(), "{p}");
            }
        }
    }

    fn fx(s: &str) -> u32 {
        crate::evidence::fx32(s)
    }

    #[test]
    fn ids_take_under_six_bytes_each() {
        let mut m = Model::new();
        m.index.reserve(200_000, |_| 0);
        for i in 0..200_000 {
            m.add(&format!("INC-{i:07}"), &fx).unwrap();
        }
        assert!(m.index.bytes() < 6 * 200_000, "{}", m.index.bytes());
        assert_eq!(m.add("INC-0000042", &fx), Err(42));
        assert_eq!(m.index.find(fx("INC-0200000"), |_| true), None);
    }

    #[test]
    fn an_empty_index_finds_nothing() {
        let i = IdIndex::default();
        assert_eq!(i.find(7, |_| true), None);
        assert!(i.is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Against a map: ids from a small alphabet (repeats), with a good hash, a
        /// hash of few values (long probes, tags alike) and a constant one (every id
        /// in one run of groups, wrapping at the end); rows renamed with `find_mut`.
        #[test]
        fn rows_match_a_map(
            ids in proptest::collection::vec("[a-c]{0,4}", 0..400),
            probes in proptest::collection::vec("[a-d]{0,5}", 0..40),
            reserve in 0usize..300,
            which in 0u8..3,
        ) {
            let hash: &dyn Fn(&str) -> u32 = match which {
                0 => &fx,
                1 => &|s: &str| fx(s) % 5,
                _ => &|_: &str| u32::MAX,
            };
            let mut m = Model::new();
            m.index.reserve(reserve, |r| hash(&m.ids[r as usize]));
            for id in &ids {
                let _ = m.add(id, hash);
            }
            m.check(&probes, hash);
            // Many rows a key (`push`, `each`), room made first: each key's rows,
            // in the order pushed, and none of another key (a key of no row finds
            // none).
            let mut many = IdIndex::default();
            many.reserve(ids.len(), |r| hash(&ids[r as usize]));
            for (r, id) in ids.iter().enumerate() {
                many.push(hash(id), r as u32, |r| hash(&ids[r as usize]));
            }
            for p in ids.iter().chain(&probes) {
                let mut got = Vec::new();
                many.each(hash(p), |r| ids[r as usize] == *p, |r| got.push(r));
                let want: Vec<u32> =
                    (0..ids.len() as u32).filter(|&r| ids[r as usize] == *p).collect();
                prop_assert_eq!(got, want, "{}", p);
            }
            // Rename: the id of row 0 now names a new row (as `commit_latest` does).
            if let Some(first) = m.ids.first().cloned() {
                let new = m.ids.len() as u32;
                m.ids.push(first.clone());
                let slot = m.index.find_mut(hash(&first), |r| r == 0).unwrap();
                *slot = new;
                m.by.insert(first, new);
                m.check(&probes, hash);
            }
        }
    }
}
