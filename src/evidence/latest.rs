//! `latest_by`: an export with one row per update (an event log, e.g. ServiceNow's
//! incident audit with `sys_mod_count`) reduced to the latest state of each record.
//! Part of the evidence stage: the reader commits each row through `commit_latest`,
//! which keeps, per id, the row with the highest key (the later row on a tie) and marks
//! the replaced one dead, so no check sees it and the input counts it as superseded.

use super::{Loc, Table};

/// What became of a row committed with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Latest {
    /// The first row of its id.
    New,
    /// It replaced an earlier row of its id, now superseded (dead); its location.
    Replaced(Loc),
    /// An earlier row of its id has a higher key: this one is superseded. The caller
    /// undoes its values (`Table::rollback`).
    Older,
}

impl Table {
    /// Commit the row being built under `id`, keeping per id the row with the highest
    /// `key`; `keys` holds the key of every row of this table (by row index).
    pub(crate) fn commit_latest(
        &mut self,
        id: &str,
        loc: Loc,
        key: i64,
        keys: &mut Vec<i64>,
    ) -> Latest {
        // The index says which row an id names, and is changed when a row is
        // superseded: it is needed whatever the order of the ids.
        self.index_ids();
        let old = self.row_of(id);
        let row = match old {
            None => match self.commit(id, loc) {
                Ok(r) => r,
                // `row_of` found nothing, so the id is free; kept for safety.
                Err(_) => return Latest::Older,
            },
            Some(o) => {
                let old_key = keys.get(o as usize).copied().unwrap_or(i64::MIN);
                if key < old_key {
                    return Latest::Older;
                }
                let row = self.push_row(id, loc);
                self.aliased = true;
                // The id now names the new row (its slot is the one holding `o`).
                if let Some(slot) = self.by_id.find_mut(super::fx32(id), |r| r == o) {
                    *slot = row;
                }
                self.dead.set(o as usize, true);
                row
            }
        };
        if keys.len() <= row as usize {
            keys.resize(row as usize + 1, i64::MIN);
        }
        if let Some(k) = keys.get_mut(row as usize) {
            *k = key;
        }
        match old.and_then(|o| self.locs.get(o as usize)) {
            Some(l) => Latest::Replaced(l),
            None => Latest::New,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::tables;

    fn row(t: &mut Table, keys: &mut Vec<i64>, id: &str, line: u32, key: i64) -> Latest {
        let loc = Loc { file: 0, line };
        let r = t.commit_latest(id, loc, key, keys);
        if r == Latest::Older {
            t.rollback();
        }
        r
    }

    /// Once a row is superseded its id names the later row: looking ids up near
    /// the last one found must not stop at the superseded row holding the same id.
    #[test]
    fn a_superseded_row_is_not_found_near_the_last() {
        let def = tables::table("incidents").unwrap_or(&tables::TABLES[0]);
        let mut t = Table::new(def, &[]);
        let mut keys = Vec::new();
        row(&mut t, &mut keys, "A", 2, 0);
        row(&mut t, &mut keys, "B", 3, 0);
        row(&mut t, &mut keys, "A", 4, 1);
        let mut near = super::super::Near::default();
        let found: Vec<Option<u32>> = ["A", "B", "A"]
            .iter()
            .map(|id| t.row_of_near(id, &mut near))
            .collect();
        assert_eq!(found, [Some(2), Some(1), Some(2)]);
    }

    #[test]
    fn keeps_the_highest_key_per_id() {
        let def = tables::table("incidents").unwrap_or(&tables::TABLES[0]);
        let mut t = Table::new(def, &[]);
        let mut keys = Vec::new();
        assert_eq!(row(&mut t, &mut keys, "A", 2, 0), Latest::New);
        assert_eq!(row(&mut t, &mut keys, "B", 3, 5), Latest::New);
        // A later update of A replaces it; an older one of B is superseded at once.
        assert_eq!(
            row(&mut t, &mut keys, "A", 4, 1),
            Latest::Replaced(Loc { file: 0, line: 2 })
        );
        assert_eq!(row(&mut t, &mut keys, "B", 5, 4), Latest::Older);
        // A tie keeps the later row.
        assert_eq!(
            row(&mut t, &mut keys, "A", 6, 1),
            Latest::Replaced(Loc { file: 0, line: 4 })
        );
        let live: Vec<(String, u32)> = (0..t.len() as u32)
            .filter(|&r| t.live(r))
            .map(|r| (t.id(r).to_string(), t.loc(r).map(|l| l.line).unwrap_or(0)))
            .collect();
        assert_eq!(live, vec![("B".to_string(), 3), ("A".to_string(), 6)]);
        assert_eq!(
            t.row_of("A").and_then(|r| t.loc(r)).map(|l| l.line),
            Some(6)
        );
        assert_eq!(
            t.row_of("B").and_then(|r| t.loc(r)).map(|l| l.line),
            Some(3)
        );
    }
}
