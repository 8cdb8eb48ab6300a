//! Reproducible audit samples (`evidentia sample`, `evidentia check --sample FILE`).
//! Part of the assessment stage: a sample restricts one check's evaluation to the
//! records an auditor selected.
//!
//! The algorithm (`evidentia-sample-v1`) is fixed forever and independent of any
//! random-number crate, platform or word size:
//!
//! 1. Population: the distinct ids of the records the check judges (its population
//!    records; for `each-linked`, the related records it reaches), sorted by their
//!    UTF-8 bytes.
//! 2. Stream: SplitMix64 (Steele, Lea and Flood 2014: add 0x9E3779B97F4A7C15, then
//!    xor-shift-multiply by 0xBF58476D1CE4E5B9 and 0x94D049BB133111EB) starting from
//!    `seed XOR k`, where `k` is the first 8 bytes (big-endian) of SHA-256 of the
//!    check id, so two checks sampled with one seed get independent samples.
//! 3. Selection: partial Fisher-Yates: for `i` in `0..n`, draw `j = i + u(N - i)` and
//!    swap ids `i` and `j`; `u(b)` takes the next 64-bit output `x` that is at least
//!    `(2^64 - b) mod b` (rejection, so no modulo bias) and returns `x mod b`.
//! 4. The sample is the first `n` ids in selection order. With the same seed a
//!    larger `n` extends a smaller sample: the first items stay the same.
//!
//! Sizes by control frequency follow the table commonly used by auditors for tests of
//! operating effectiveness of controls (see [`FREQUENCIES`]).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::assess::Period;
use crate::catalog::Check;
use crate::evidence::Evidence;
use crate::rules::{EvalCtx, Outcome, RelIndex};
use crate::time::Ts;

/// Name and version of the sampling algorithm.
pub const METHOD: &str = "evidentia-sample-v1";

/// The algorithm in one paragraph, written into every sample file.
pub const METHOD_TEXT: &str = "evidentia-sample-v1: the population is the distinct ids of the records the check judges, sorted by UTF-8 bytes; a SplitMix64 stream starts at seed XOR the first 8 bytes (big-endian) of SHA-256(check id); a partial Fisher-Yates shuffle draws j = i + u(N - i) for i in 0..n (u by rejection sampling, no modulo bias) and swaps ids i and j; the sample is the first n ids in selection order.";

/// How often a control operates, for the sample-size table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Frequency {
    /// Once a year.
    Annual,
    /// Once a quarter.
    Quarterly,
    /// Once a month.
    Monthly,
    /// Once a week.
    Weekly,
    /// Once a day.
    Daily,
    /// Several times a day (recurring, e.g. every incident).
    ManyTimesDaily,
}

/// The commonly used table of sample sizes for tests of operating effectiveness by
/// control frequency: (frequency, name, low, high). evidentia takes the low end (a
/// control relied on at a normal level, with no exceptions expected); take more with
/// `--size` when reliance is higher or exceptions are expected. The sample never
/// exceeds the population: a smaller population is tested in full.
pub const FREQUENCIES: &[(Frequency, &str, u64, u64)] = &[
    (Frequency::Annual, "annual", 1, 1),
    (Frequency::Quarterly, "quarterly", 2, 2),
    (Frequency::Monthly, "monthly", 2, 5),
    (Frequency::Weekly, "weekly", 5, 15),
    (Frequency::Daily, "daily", 20, 40),
    (Frequency::ManyTimesDaily, "many-times-daily", 25, 60),
];

impl Frequency {
    /// Parse a name of the table.
    pub fn parse(s: &str) -> Option<Frequency> {
        FREQUENCIES
            .iter()
            .find(|(_, n, _, _)| *n == s.trim())
            .map(|(f, _, _, _)| *f)
    }

    /// Name, low and high end of the commonly used range.
    pub fn range(self) -> (&'static str, u64, u64) {
        FREQUENCIES
            .iter()
            .find(|(f, _, _, _)| *f == self)
            .map(|(_, n, lo, hi)| (*n, *lo, *hi))
            .unwrap_or(("annual", 1, 1))
    }
}

/// Sample size for a frequency and a population: the low end of the range, at most
/// the population. Returns the size and the basis in words.
pub fn size_for(f: Frequency, population: u64) -> (u64, String) {
    let (name, lo, hi) = f.range();
    let range = if lo == hi {
        format!("{lo}")
    } else {
        format!("{lo}-{hi}")
    };
    if population <= lo {
        (
            population,
            format!(
                "control frequency {name}: commonly used size {range}; the population of {population} is tested in full"
            ),
        )
    } else {
        (
            lo,
            format!(
                "control frequency {name}: commonly used size {range}; the low end ({lo}) taken"
            ),
        )
    }
}

/// SplitMix64.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A stream from a state.
    pub fn new(state: u64) -> SplitMix64 {
        SplitMix64(state)
    }

    /// Next output.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (bound > 0) by rejection: no modulo bias.
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound <= 1 {
            return 0;
        }
        let threshold = bound.wrapping_neg() % bound;
        loop {
            let x = self.next_u64();
            if x >= threshold {
                return x % bound;
            }
        }
    }
}

/// The stream's starting state for a check and a seed.
pub fn stream_state(check: &str, seed: u64) -> u64 {
    let h = Sha256::digest(check.as_bytes());
    let mut k = [0u8; 8];
    for (d, s) in k.iter_mut().zip(h.iter()) {
        *d = *s;
    }
    seed ^ u64::from_be_bytes(k)
}

/// Draw `n` ids from a population (sorted and deduplicated here), in selection order.
pub fn draw(check: &str, seed: u64, population: &[String], n: u64) -> Vec<String> {
    let mut ids: Vec<String> = population.to_vec();
    ids.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    ids.dedup();
    let big_n = ids.len() as u64;
    let n = n.min(big_n);
    let mut rng = SplitMix64::new(stream_state(check, seed));
    for i in 0..n {
        let j = i + rng.below(big_n - i);
        ids.swap(i as usize, j as usize);
    }
    ids.truncate(n as usize);
    ids
}

/// SHA-256 of a population: its sorted ids, each followed by a newline.
pub fn population_sha256(sorted_ids: &[String]) -> String {
    let mut h = Sha256::new();
    for id in sorted_ids {
        h.update(id.as_bytes());
        h.update(b"\n");
    }
    crate::evidence::read::hex(&h.finalize())
}

/// The population side of a sample file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PopulationInfo {
    /// Number of records in the population.
    pub size: u64,
    /// Table of the judged records.
    pub table: String,
    /// SHA-256 of the sorted ids, one per line.
    pub sha256: String,
    /// As-of instant of the run that drew it.
    pub as_of: String,
    /// Period start (`null`: open).
    pub period_start: Option<String>,
    /// Period end, excluded (`null`: open).
    pub period_end: Option<String>,
}

/// A sample file, as written by `evidentia sample` and read by `check --sample`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SampleFile {
    /// Layout version of the sample file (1).
    pub evidentia_sample: u32,
    /// Check id.
    pub check: String,
    /// The seed.
    pub seed: u64,
    /// Algorithm name ([`METHOD`]).
    pub method: String,
    /// The algorithm in words.
    pub method_text: String,
    /// The population sampled.
    pub population: PopulationInfo,
    /// Sample size.
    pub size: u64,
    /// Why this size.
    pub size_basis: String,
    /// Sampled record ids, in selection order.
    pub ids: Vec<String>,
}

impl SampleFile {
    /// Parse and check a sample file's text.
    pub fn parse(text: &str) -> Result<SampleFile, String> {
        let s: SampleFile =
            serde_json::from_str(text).map_err(|e| format!("not a sample file: {e}"))?;
        if s.evidentia_sample != 1 {
            return Err(format!(
                "sample file layout {} is not supported (this evidentia reads 1)",
                s.evidentia_sample
            ));
        }
        if s.method != METHOD {
            return Err(format!(
                "sample method `{}` is not supported (this evidentia uses {METHOD})",
                s.method
            ));
        }
        if s.ids.len() as u64 != s.size {
            return Err(format!(
                "the file says size {} but lists {} id(s)",
                s.size,
                s.ids.len()
            ));
        }
        Ok(s)
    }

    /// Re-draw from the recorded seed and the given population and compare: `true` when
    /// this file is exactly what the algorithm gives.
    pub fn reproduces(&self, population: &[String]) -> bool {
        draw(&self.check, self.seed, population, self.size) == self.ids
    }

    /// Pretty JSON bytes with a trailing newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }
}

/// A sample applied to a check run (`Scope::sample`).
#[derive(Debug, Clone)]
pub struct Sample {
    /// Path of the sample file, as given.
    pub file: String,
    /// The file.
    pub data: SampleFile,
    /// The ids, for lookup.
    pub ids: BTreeSet<String>,
}

impl Sample {
    /// Read a sample file.
    pub fn load(path: &std::path::Path) -> Result<Sample, String> {
        let file = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("{file}: cannot read: {e}"))?;
        let data = SampleFile::parse(&text).map_err(|m| format!("{file}: {m}"))?;
        Ok(Sample {
            file,
            ids: data.ids.iter().cloned().collect(),
            data,
        })
    }
}

/// Read a sample file for `check --sample` and check it against the catalog: the
/// check exists, is selected by the frameworks, and judges records one by one.
/// Problems go to `diags`.
pub fn load_checked(
    path: &std::path::Path,
    cat: &crate::catalog::Catalog,
    frameworks: &[String],
    diags: &mut crate::diag::Diags,
) -> Option<Sample> {
    use crate::diag::{Code, Diagnostic};
    let file = path.display().to_string();
    let s = match Sample::load(path) {
        Ok(s) => s,
        Err(m) => {
            diags.push(Diagnostic::error(Code::BadValue, &file, m));
            return None;
        }
    };
    let Some(c) = cat.check(&s.data.check) else {
        diags.push(Diagnostic::error(
            Code::UnknownCheck,
            &file,
            format!(
                "the sample is of check `{}`, which is not in the catalog",
                s.data.check
            ),
        ));
        return None;
    };
    if !crate::assess::selected_checks(cat, frameworks)
        .iter()
        .any(|x| x.id == c.id)
    {
        diags.push(Diagnostic::error(
            Code::UnknownCheck,
            &file,
            format!(
                "the sample is of check `{}`, which the selected frameworks do not test",
                c.id
            ),
        ));
        return None;
    }
    if c.rule.aggregate() {
        diags.push(Diagnostic::error(
            Code::BadValue,
            &file,
            format!(
                "check `{}` ({}) judges its population as a whole and cannot be sampled",
                c.id,
                c.rule.kind()
            ),
        ));
        return None;
    }
    Some(s)
}

/// What the report says about a sampled check.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SampleInfo {
    /// Sample file.
    pub file: String,
    /// Seed.
    pub seed: u64,
    /// Sample size n.
    pub size: u64,
    /// Population size N when the sample was drawn.
    pub population: u64,
    /// Records of the population now (at this run).
    pub population_now: u64,
    /// Does this run's population match the one sampled (SHA-256 of the ids)?
    pub population_matches: bool,
    /// Sampled ids not found in this run's population.
    pub missing: Vec<String>,
    /// Method.
    pub method: String,
    /// "n of N sampled, seed S".
    pub text: String,
}

impl SampleInfo {
    /// "n of N sampled, seed S".
    pub fn sentence(&self) -> String {
        self.text.clone()
    }
}

/// Tracks a sampled check while it runs: which judged records are kept, and the
/// population actually met.
#[derive(Debug)]
pub struct Sampling<'s> {
    sample: &'s Sample,
    seen: BTreeSet<String>,
}

impl<'s> Sampling<'s> {
    /// Start.
    pub fn new(sample: &'s Sample) -> Sampling<'s> {
        Sampling {
            sample,
            seen: BTreeSet::new(),
        }
    }

    /// Is an outcome's record in the sample? Records every judged id.
    pub fn keep(&mut self, ev: &Evidence, o: &Outcome) -> bool {
        let id = match &o.subject {
            Some(s) => s.clone(),
            None => match ev.table(o.table) {
                Some(t) => t.id(o.row).to_string(),
                None => return false,
            },
        };
        let keep = self.sample.ids.contains(&id);
        self.seen.insert(id);
        keep
    }

    /// What the report says; and warnings about a population that changed.
    pub fn finish(self) -> (SampleInfo, Vec<String>) {
        let d = &self.sample.data;
        let now: Vec<String> = self.seen.iter().cloned().collect();
        let matches = population_sha256(&now) == d.population.sha256;
        let missing: Vec<String> = d
            .ids
            .iter()
            .filter(|id| !self.seen.contains(*id))
            .cloned()
            .collect();
        let mut warnings = Vec::new();
        if !matches {
            warnings.push(format!(
                "check `{}`: the population is not the one sampled in {} ({} record(s) then, {} now): the sample may not represent it",
                d.check,
                self.sample.file,
                d.population.size,
                now.len()
            ));
        }
        if !missing.is_empty() {
            warnings.push(format!(
                "check `{}`: {} sampled record(s) are not in the population: {}",
                d.check,
                missing.len(),
                missing.join(", ")
            ));
        }
        let info = SampleInfo {
            file: self.sample.file.clone(),
            seed: d.seed,
            size: d.size,
            population: d.population.size,
            population_now: now.len() as u64,
            population_matches: matches,
            missing,
            method: d.method.clone(),
            text: format!(
                "{} of {} sampled, seed {}",
                d.size, d.population.size, d.seed
            ),
        };
        (info, warnings)
    }
}

/// The ids of the records a check judges in the period, sorted by bytes. `Err` for a
/// check that judges its population as a whole (periodic, coverage, attested) or
/// whose table is not provided.
pub fn population(
    c: &Check,
    ev: &Evidence,
    as_of: Ts,
    period: Period,
    calendars: &std::collections::BTreeMap<String, crate::time::Calendar>,
) -> Result<(String, Vec<String>), String> {
    if c.rule.aggregate() {
        return Err(format!(
            "check `{}` ({}) judges its population as a whole; there are no records to sample",
            c.id,
            c.rule.kind()
        ));
    }
    let Some(t) = ev.table(c.table.name) else {
        return Err(format!(
            "table `{}` is not provided by the sources file",
            c.table.name
        ));
    };
    let mut rels = Vec::new();
    c.rule.relations(&mut rels);
    let rel = RelIndex::build(ev, &rels);
    let ctx = EvalCtx {
        ev,
        local: None,
        as_of,
        period,
        calendars,
        rel: &rel,
        detail: false,
        judged: None,
        population: None,
    };
    let judged = c.rule.judged_table().unwrap_or(c.table.name).to_string();
    let mut ids = BTreeSet::new();
    let mut outs = Vec::new();
    for row in 0..t.len() as u32 {
        if !t.live(row) || !t.in_period.get(row as usize).unwrap_or(false) {
            continue;
        }
        if let Some(f) = &c.filter
            && !f.eval(t, row, as_of)
        {
            continue;
        }
        if c.rule.judged_table().is_none() {
            ids.insert(t.id(row).to_string());
            continue;
        }
        c.rule.evaluate(&ctx, t, row, &mut outs);
        for o in outs.drain(..) {
            if let Some(tt) = ev.table(o.table) {
                ids.insert(tt.id(o.row).to_string());
            }
        }
    }
    let mut v: Vec<String> = ids.into_iter().collect();
    v.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    Ok((judged, v))
}

impl PopulationInfo {
    /// Describe a population (its ids sorted by bytes) drawn at as-of in a period.
    pub fn new(table: &str, sorted_ids: &[String], as_of: Ts, period: Period) -> PopulationInfo {
        PopulationInfo {
            size: sorted_ids.len() as u64,
            table: table.to_string(),
            sha256: population_sha256(sorted_ids),
            as_of: as_of.to_string(),
            period_start: period.start.map(|t| t.to_string()),
            period_end: period.end.map(|t| t.to_string()),
        }
    }
}

/// Build a sample file: draw `size` ids of the population with the seed.
pub fn build(
    check: &str,
    seed: u64,
    population: &[String],
    size: u64,
    size_basis: String,
    info: PopulationInfo,
) -> SampleFile {
    let ids = draw(check, seed, population, size);
    SampleFile {
        evidentia_sample: 1,
        check: check.to_string(),
        seed,
        method: METHOD.to_string(),
        method_text: METHOD_TEXT.to_string(),
        population: info,
        size: ids.len() as u64,
        size_basis,
        ids,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_reference_values() {
        // First outputs of SplitMix64 from state 0 (as in the reference C code).
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(r.next_u64(), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn below_is_in_range_and_unbiased_at_small_bounds() {
        let mut r = SplitMix64::new(7);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            let x = r.below(3) as usize;
            counts[x] += 1;
        }
        for c in counts {
            assert!((9_500..10_500).contains(&c), "{counts:?}");
        }
        assert_eq!(r.below(1), 0);
    }

    #[test]
    fn a_larger_sample_extends_a_smaller_one() {
        let pop: Vec<String> = (1..=50).map(|i| format!("INC-{i:04}")).collect();
        let five = draw("c", 9, &pop, 5);
        let ten = draw("c", 9, &pop, 10);
        assert_eq!(&ten[..5], &five[..]);
        // The order of the population as given does not matter.
        let mut rev = pop.clone();
        rev.reverse();
        assert_eq!(draw("c", 9, &rev, 5), five);
        // Another check or seed gives another sample.
        assert_ne!(draw("d", 9, &pop, 5), five);
        assert_ne!(draw("c", 10, &pop, 5), five);
        // Never more than the population.
        assert_eq!(draw("c", 9, &pop[..3], 25).len(), 3);
    }

    #[test]
    fn sizes_follow_the_table() {
        assert_eq!(size_for(Frequency::Annual, 10).0, 1);
        assert_eq!(size_for(Frequency::Quarterly, 10).0, 2);
        assert_eq!(size_for(Frequency::Monthly, 100).0, 2);
        assert_eq!(size_for(Frequency::Weekly, 100).0, 5);
        assert_eq!(size_for(Frequency::Daily, 365).0, 20);
        assert_eq!(size_for(Frequency::ManyTimesDaily, 1000).0, 25);
        assert_eq!(size_for(Frequency::ManyTimesDaily, 12).0, 12);
        assert_eq!(
            Frequency::parse("many-times-daily"),
            Some(Frequency::ManyTimesDaily)
        );
        assert_eq!(Frequency::parse("hourly"), None);
    }
}
