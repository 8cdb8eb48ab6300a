//! Micro-benchmarks of the hot paths of a large run (issue 6): CSV record scanning (the
//! `csv` crate against `evidence::csvscan`), RFC 3339 timestamp parsing, and the join
//! from parent ids to child rows (`rules::RelIndex`) with the id hash table behind it.
//!
//! `cargo bench --bench hot_paths` (add a filter such as `csv` to run one group). The
//! data is made here by a small deterministic generator shaped like
//! `../shared/bench/gen_evidence.py`'s `incidents.csv` (14 columns, text fields of
//! 40-200 characters with commas and `"quotes"`, about 80% of them quoted, RFC 3339
//! timestamps with mixed offsets, a quarter with milliseconds), so the benchmark needs
//! neither Python nor the generated files.

use std::borrow::Cow;
use std::hint::black_box;

use chrono::{DateTime, FixedOffset, Offset, Utc};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use evidentia::evidence::csvscan::{Record, Scanner, bom_len, count_newlines, last_record_end};
use evidentia::evidence::{Evidence, Loc, Owned, Table, tables};
use evidentia::rules::RelIndex;
use evidentia::time::{TsFormat, parse_ts};

/// A small deterministic generator: the library's SplitMix64 (`evidentia::sample`).
struct Rng(evidentia::sample::SplitMix64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(evidentia::sample::SplitMix64::new(seed))
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0.below(n)
    }
    fn chance(&mut self, p: f64) -> bool {
        ((self.0.next_u64() >> 11) as f64) < p * (1u64 << 53) as f64
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

const WORDS: &[&str] = &[
    "service",
    "api",
    "gateway",
    "database",
    "replica",
    "primary",
    "shard",
    "cluster",
    "node",
    "queue",
    "consumer",
    "cache",
    "redis",
    "postgres",
    "kafka",
    "nginx",
    "ingress",
    "firewall",
    "certificate",
    "token",
    "session",
    "login",
    "checkout",
    "payment",
    "billing",
    "search",
    "storage",
    "bucket",
    "backup",
    "failover",
    "region",
    "latency",
    "timeout",
    "retry",
    "errors",
    "spike",
    "memory",
    "cpu",
    "disk",
    "quota",
    "deploy",
    "rollback",
    "canary",
    "config",
    "flag",
    "migration",
    "lock",
    "leak",
    "pool",
    "dns",
    "alert",
    "pager",
    "oncall",
    "customer",
    "tenant",
    "account",
    "export",
    "metric",
    "trace",
    "logs",
    "audit",
    "access",
    "policy",
    "expired",
    "revoked",
    "rotated",
    "degraded",
    "partial",
    "outage",
    "patched",
    "restarted",
    "scaled",
    "blocked",
    "isolated",
    "contained",
    "confirmed",
    "escalated",
];
const QUOTED: &[&str] = &[
    "\"checkout-api\"",
    "\"auth-svc\"",
    "\"edge-lb\"",
    "\"payments\"",
    "\"S3 bucket\"",
    "\"hotfix\"",
    "\"v2.14.3\"",
    "\"read-only\"",
];
const SEPS: &[&str] = &[", ", ", ", "; ", " - ", " and ", ". ", ", "];
const OFFSETS: &[(i64, &str)] = &[
    (0, "Z"),
    (0, "Z"),
    (0, "Z"),
    (0, "Z"),
    (0, "Z"),
    (0, "Z"),
    (0, "Z"),
    (0, "Z"),
    (0, "+00:00"),
    (60, "+01:00"),
    (120, "+02:00"),
    (-240, "-04:00"),
    (-300, "-05:00"),
    (330, "+05:30"),
    (540, "+09:00"),
    (-420, "-07:00"),
];

fn text(r: &mut Rng) -> String {
    let target = 40 + r.below(161) as usize;
    let mut t = String::new();
    while t.len() < target {
        if !t.is_empty() {
            t.push_str(r.pick(SEPS));
        }
        if r.chance(0.07) {
            t.push_str(r.pick(QUOTED));
            t.push(' ');
        }
        for k in 0..2 + r.below(4) {
            if k > 0 {
                t.push(' ');
            }
            t.push_str(r.pick(WORDS));
        }
    }
    t.truncate(200);
    t.trim_end().to_string()
}

/// A CSV field as Python's csv module writes it (minimal quoting).
fn field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// An RFC 3339 timestamp of `ms` (milliseconds since the epoch) with a random offset.
fn ts(r: &mut Rng, ms: i64) -> String {
    let (off, suffix) = OFFSETS[r.below(OFFSETS.len() as u64) as usize];
    let zone = FixedOffset::east_opt(off as i32 * 60).unwrap_or(Utc.fix());
    let t = DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&zone);
    let fraction = if ms % 1000 != 0 { "%.3f" } else { "" };
    format!(
        "{}{suffix}",
        t.format(&format!("%Y-%m-%dT%H:%M:%S{fraction}"))
    )
}

fn instant(r: &mut Rng) -> i64 {
    let start = 1_640_995_200_000i64; // 2022-01-01
    let ms = start + r.below(107_740_800) as i64 * 1000;
    if r.chance(0.25) {
        ms + 1 + r.below(999) as i64
    } else {
        ms
    }
}

/// An `incidents.csv` of `n` records (header included).
fn incidents_csv(n: usize, seed: u64) -> Vec<u8> {
    let mut r = Rng::new(seed);
    let mut out = String::from(
        "id,title,severity,detected_at,declared_at,contained_at,resolved_at,customer_impacting,\
         personal_data_breach,customers_notified_at,notification_summary,user_impact,mitigation,\
         postmortem_id\n",
    );
    for i in 1..=n {
        let det = instant(&mut r);
        let dec = det + r.below(3_600_000) as i64;
        let con = dec + r.below(86_400_000) as i64;
        let res = con + r.below(86_400_000) as i64;
        let ci = r.chance(0.2);
        let breach = r.chance(0.05);
        out.push_str(&format!("INC-{i:07},"));
        field(&mut out, &text(&mut r));
        out.push(',');
        out.push_str(r.pick(&["sev1", "sev2", "sev3", "sev3", "sev4", "sev4"]));
        for t in [det, dec, con, res] {
            out.push(',');
            out.push_str(&ts(&mut r, t));
        }
        out.push_str(&format!(",{ci},{breach},"));
        if breach {
            let notified = dec + r.below(80 * 3_600_000) as i64;
            out.push_str(&ts(&mut r, notified));
            out.push(',');
            field(&mut out, &text(&mut r));
        } else {
            out.push(',');
        }
        for _ in 0..2 {
            out.push(',');
            field(&mut out, &text(&mut r));
        }
        out.push_str(&format!(",PM-{i:07}\n"));
    }
    out.into_bytes()
}

fn csv_reader(data: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(b',')
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(data)
}

fn bench_csv(c: &mut Criterion) {
    let data = incidents_csv(8000, 42);
    let mut g = c.benchmark_group("csv");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function(BenchmarkId::new("csv_crate_byte_record", data.len()), |b| {
        b.iter(|| {
            let mut rdr = csv_reader(black_box(&data));
            let mut rec = csv::ByteRecord::new();
            let mut sum = 0usize;
            while let Ok(true) = rdr.read_byte_record(&mut rec) {
                sum += rec.len() + rec.get(1).map_or(0, <[u8]>::len);
            }
            sum
        })
    });
    // The scanner alone, and told that the free text (title, summary, impact,
    // mitigation) is not read, as the parallel reader tells it for the reference
    // checks: their doubled quotes are not copied out (it then reads field 3, not the
    // title).
    for (name, unread, field) in [
        ("csvscan", 0, 1),
        (
            "csvscan_free_text_unread",
            1 << 1 | 1 << 10 | 1 << 11 | 1 << 12,
            3,
        ),
    ] {
        g.bench_function(BenchmarkId::new(name, data.len()), |b| {
            let mut rec = Record::new();
            b.iter(|| {
                let data = black_box(&data[..]);
                let mut sc = Scanner::new(b',');
                sc.set_unread(unread);
                let mut pos = bom_len(data);
                let mut sum = 0usize;
                while sc.next_record(data, &mut pos, &mut rec).is_some() {
                    sum += rec.len() + rec.get(field).map_or(0, <[u8]>::len);
                }
                sum
            })
        });
    }
    g.bench_function(BenchmarkId::new("last_record_end", data.len()), |b| {
        b.iter(|| last_record_end(black_box(&data), false))
    });
    g.bench_function(BenchmarkId::new("count_newlines", data.len()), |b| {
        b.iter(|| count_newlines(black_box(&data)))
    });
    g.finish();
}

fn bench_parse_ts(c: &mut Criterion) {
    let mut r = Rng::new(7);
    let (stamps, instants): (Vec<String>, Vec<i64>) = (0..10_000)
        .map(|_| {
            let ms = instant(&mut r);
            (ts(&mut r, ms), ms)
        })
        .unzip();
    let fmt = TsFormat::default();
    // Every one parses to its instant (the bench would measure the error path otherwise).
    for (s, ms) in stamps.iter().zip(&instants) {
        assert_eq!(parse_ts(s, &fmt).map(|t| t.0), Ok(ms * 1_000_000), "{s}");
    }
    let mut g = c.benchmark_group("parse_ts");
    g.throughput(Throughput::Elements(stamps.len() as u64));
    g.bench_function("rfc3339_mixed_offsets_millis", |b| {
        b.iter(|| {
            let mut acc = 0i64;
            for s in black_box(&stamps) {
                if let Ok(t) = parse_ts(s, &fmt) {
                    acc = acc.wrapping_add(t.0);
                }
            }
            acc
        })
    });
    g.finish();
}

const PARENTS: usize = 40_000;
const CHILDREN: usize = 100_000;

/// Postmortem ids and the incident id each names.
fn child_ids() -> Vec<(String, String)> {
    let mut r = Rng::new(11);
    (0..CHILDREN)
        .map(|i| {
            let parent = format!("INC-{:07}", r.below(PARENTS as u64));
            (format!("PM-{i:07}"), parent)
        })
        .collect()
}

/// A postmortems table projecting `incident_id` (one text column), ids indexed.
fn child_table(ids: &[(String, String)]) -> Table {
    let def = tables::table("postmortems").unwrap_or(&tables::TABLES[0]);
    let via = def
        .fields
        .iter()
        .position(|f| f.name == "incident_id")
        .unwrap_or(1);
    let mut t = Table::new(def, &[via]);
    for (i, (id, parent)) in ids.iter().enumerate() {
        t.push_value(0, &Owned::Text(Cow::Borrowed(parent)));
        let line = i as u32 + 2;
        let _ = t.commit(id, Loc { file: 1, line });
    }
    t
}

fn bench_join(c: &mut Criterion) {
    let inc = tables::table("incidents").unwrap_or(&tables::TABLES[0]);
    let mut parents = Table::new(inc, &[]);
    for i in 0..PARENTS {
        let line = i as u32 + 2;
        let _ = parents.commit(&format!("INC-{i:07}"), Loc { file: 0, line });
    }
    let ids = child_ids();
    let children = child_table(&ids);
    let via = children.field_index("incident_id").unwrap_or(1);
    let mut ev = Evidence::default();
    ev.tables.insert("incidents", parents);
    ev.tables.insert("postmortems", children);
    let steps = [("postmortems", via)];
    let mut g = c.benchmark_group("join");
    g.throughput(Throughput::Elements(CHILDREN as u64));
    g.sample_size(20);
    // Every child's parent id looked up in the parent table's id index (FxHash,
    // hashbrown), then the child rows grouped by parent row (CSR).
    g.bench_function("relindex_build_100k_children", |b| {
        b.iter(|| RelIndex::build(black_box(&ev), &steps))
    });
    // Building a 100k-row table from decoded fields: one text value and one id
    // hash-table insert per row.
    g.bench_function("table_commit_100k_rows", |b| {
        b.iter(|| child_table(black_box(&ids)).len())
    });
    g.finish();
}

/// A million ids looked up in a random order: the id index (6 MB) and the ids (11
/// MB) are far larger than the caches, as in a run at 1M incidents, so this measures
/// the cache misses of a probe.
fn bench_lookup(c: &mut Criterion) {
    const N: usize = 1_000_000;
    let inc = tables::table("incidents").unwrap_or(&tables::TABLES[0]);
    let mut t = Table::new(inc, &[]);
    for i in 0..N {
        let _ = t.commit(
            &format!("INC-{i:07}"),
            Loc {
                file: 0,
                line: i as u32 + 2,
            },
        );
    }
    let mut r = Rng::new(5);
    let wanted: Vec<String> = (0..N)
        .map(|_| format!("INC-{:07}", r.below(N as u64)))
        .collect();
    let mut g = c.benchmark_group("lookup");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(10);
    g.bench_function("row_of_1m_ids_random", |b| {
        b.iter(|| {
            wanted
                .iter()
                .filter(|id| black_box(&t).row_of(id).is_some())
                .count()
        })
    });
    g.finish();
}

criterion_group!(benches, bench_csv, bench_parse_ts, bench_join, bench_lookup);
criterion_main!(benches);
